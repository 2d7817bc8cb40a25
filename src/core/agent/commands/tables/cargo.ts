// cargo: check, build, test, clippy, doc, fmt, tree, metadata, fetch, with the package/target/feature selection
// flags. --manifest-path and --target-dir must be inside the workspace. --config (sets a runner or linker: runs
// any program), -Z (unstable behaviour), -C (another folder) and `+toolchain` ask. After `--`, only `cargo test`
// (a small table of the test harness's flags; --logfile writes a file and asks), `cargo clippy` (lint levels) and
// `cargo fmt` (--check) take anything, since what follows goes to a program that could be told to run another.
import type { FlagTable, ProgramTable, SubTable } from '../types.js';

/** cargo's own options, read before or after the subcommand. */
const GLOBAL: FlagTable = {
  '-v': 'none',
  '-vv': 'none',
  '--verbose': 'none',
  '-q': 'none',
  '--quiet': 'none',
  '--color': { value: { oneOf: ['auto', 'always', 'never'] } },
  '--locked': 'none',
  '--offline': 'none',
  '--frozen': 'none',
  '--version': 'none',
  '-V': 'none',
  '--list': 'none',
  '--explain': { value: { match: /^E\d{4}$/, what: 'an error code like E0308' } },
  '-h': 'none',
  '--help': 'none',
};

const MANIFEST: FlagTable = {
  '--manifest-path': 'path',
  '--lockfile-path': { unsafe: 'reads and writes a lockfile anywhere' },
};

/** Package, target, feature and profile selection of the compiling subcommands. */
const BUILD: FlagTable = {
  ...MANIFEST,
  '-p': 'string',
  '--package': 'string',
  '--workspace': 'none',
  '--all': 'none',
  '--exclude': 'string',
  '--lib': 'none',
  '--bins': 'none',
  '--bin': 'string',
  '--examples': 'none',
  '--example': 'string',
  '--tests': 'none',
  '--test': 'string',
  '--benches': 'none',
  '--bench': 'string',
  '--all-targets': 'none',
  '-F': 'string',
  '--features': 'string',
  '--all-features': 'none',
  '--no-default-features': 'none',
  '-r': 'none',
  '--release': 'none',
  '--profile': 'string',
  '--target': { value: { match: /^[A-Za-z0-9_.-]+$/, what: 'a target triple' } },
  '--target-dir': 'path',
  '--message-format': 'string',
  '-j': 'number',
  '--jobs': 'number',
  '--keep-going': 'none',
  '--ignore-rust-version': 'none',
  '--timings': { value: 'string', optional: true },
};

/** The libtest harness after `cargo test --`: filters and output switches only. */
const HARNESS: SubTable = {
  name: 'the test harness (after `cargo test --`)',
  flags: {
    '--nocapture': 'none',
    '--no-capture': 'none',
    '--show-output': 'none',
    '--test-threads': 'number',
    '--exact': 'none',
    '--ignored': 'none',
    '--include-ignored': 'none',
    '-q': 'none',
    '--quiet': 'none',
    '--list': 'none',
    '--skip': 'string',
    '--color': { value: { oneOf: ['auto', 'always', 'never'] } },
    '--format': { value: { oneOf: ['pretty', 'terse'] } },
    '--test': 'none',
    '--bench': 'none',
    '--logfile': { unsafe: 'writes the test log to any file' },
    '-Z': { unsafe: 'turns on unstable harness options' },
  },
  positionals: 'string',
};

/** Lint levels after `cargo clippy --`; anything else there goes to the compiler (`-C linker=…` runs a program). */
const CLIPPY_ARGS: SubTable = {
  name: 'clippy’s lint options (after `cargo clippy --`)',
  flags: {
    '-D': 'string',
    '-W': 'string',
    '-A': 'string',
    '-F': 'string',
    '--deny': 'string',
    '--warn': 'string',
    '--allow': 'string',
    '--forbid': 'string',
    '--cap-lints': { value: { oneOf: ['allow', 'warn', 'deny', 'forbid'] } },
  },
  gluedShort: true,
};

const compile = (name: string, extra: FlagTable = {}, more: Partial<SubTable> = {}): SubTable => ({
  name,
  flags: { ...BUILD, ...extra },
  combineShort: true,
  gluedShort: true,
  ...more,
});

const TEST = compile(
  'cargo test',
  { '--no-run': 'none', '--no-fail-fast': 'none', '--doc': 'none' },
  { positionals: 'string', maxPositionals: 1, afterDashDash: HARNESS },
);
const CHECK = compile('cargo check');
const BUILD_SUB = compile('cargo build');
const DOC = compile('cargo doc', {
  '--no-deps': 'none',
  '--document-private-items': 'none',
  '--open': { unsafe: 'opens a browser program' },
});

const FMT: SubTable = {
  name: 'cargo fmt',
  flags: {
    ...MANIFEST,
    '--check': 'none',
    '--all': 'none',
    '-p': 'string',
    '--package': 'string',
    '--message-format': { value: { oneOf: ['short', 'human'] } },
  },
  gluedShort: true,
  afterDashDash: {
    name: 'rustfmt (after `cargo fmt --`)',
    flags: {
      '--check': 'none',
      '--edition': { value: { oneOf: ['2015', '2018', '2021', '2024'] } },
      '--color': { value: { oneOf: ['auto', 'always', 'never'] } },
    },
  },
};

const SELECT_FEATURES: FlagTable = {
  ...MANIFEST,
  '-F': 'string',
  '--features': 'string',
  '--all-features': 'none',
  '--no-default-features': 'none',
};

const SUBCOMMANDS: Record<string, SubTable> = {
  check: CHECK,
  c: CHECK,
  build: BUILD_SUB,
  b: BUILD_SUB,
  test: TEST,
  t: TEST,
  clippy: compile('cargo clippy', { '--no-deps': 'none' }, { afterDashDash: CLIPPY_ARGS }),
  doc: DOC,
  d: DOC,
  fmt: FMT,
  tree: {
    name: 'cargo tree',
    flags: {
      ...SELECT_FEATURES,
      '-p': 'string',
      '--package': 'string',
      '--workspace': 'none',
      '--exclude': 'string',
      '-e': 'string',
      '--edges': 'string',
      '-i': 'string',
      '--invert': 'string',
      '--depth': 'number',
      '--prefix': { value: { oneOf: ['depth', 'indent', 'none'] } },
      '--no-dedupe': 'none',
      '-d': 'none',
      '--duplicates': 'none',
      '--charset': { value: { oneOf: ['utf8', 'ascii'] } },
      '-f': 'string',
      '--format': 'string',
      '--target': 'string',
    },
    gluedShort: true,
  },
  metadata: {
    name: 'cargo metadata',
    flags: {
      ...SELECT_FEATURES,
      '--format-version': 'number',
      '--no-deps': 'none',
      '--filter-platform': 'string',
    },
  },
  fetch: { name: 'cargo fetch', flags: { ...MANIFEST, '--target': 'string' } },
};

export const CARGO: ProgramTable = {
  program: 'cargo',
  global: GLOBAL,
  globalAnywhere: true,
  subcommands: SUBCOMMANDS,
  bareOk: true,
  combineShort: true,
  gluedShort: true,
  unsafe: {
    '--config': 'sets any config value (a target runner or linker runs any program)',
    '-Z': 'turns on unstable cargo behaviour',
    '-C': 'runs cargo in another folder',
  },
  unsafePatterns: [{ match: /^\+/, why: 'a `+toolchain` runs another toolchain’s cargo and rustc' }],
  pathLikeAnywhere: true,
};
