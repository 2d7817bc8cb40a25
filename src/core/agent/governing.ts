// Which workspace files govern the agent or decide what the checks run, and which the agent never writes. A write to
// a governing file (Switchyard's policy, a Makefile, package.json's scripts, CI, a build script...) could change
// the rules or make "the checks passed" mean nothing, so it needs the user's explicit approval; the evidence,
// checkpoints and indexes are Switchyard's record of the task and are refused outright. Pure (paths and texts in,
// a reason out), so the agent's tools, the classifier and the sandbox share one list.
import picomatch from 'picomatch';
import { parse as parseToml } from 'smol-toml';

interface Rule {
  globs: string[];
  reason: string;
}

// Any folder where the tool reads the file from the folder it runs in (make, cargo, pytest, direnv, rustup, npm):
// a copy in a subfolder governs the checks run from there.
const ALWAYS: Rule[] = [
  { globs: ['.switchyard/policy.json'], reason: 'policy file changed' },
  { globs: ['**/.switchyard/**'], reason: "Switchyard's own files (rules, plans) changed" },
  { globs: ['**/.vscode/**'], reason: "the editor's settings (.vscode/) changed" },
  { globs: ['**/.envrc'], reason: 'direnv runs .envrc in the shell' },
  { globs: ['**/.devcontainer/**'], reason: "the dev container's definition changed" },
  { globs: ['**/Makefile', '**/makefile', '**/GNUmakefile'], reason: 'a Makefile (what `make test` runs) changed' },
  { globs: ['**/build.rs'], reason: 'a Cargo build script (it runs at every build) changed' },
  {
    globs: ['**/.cargo/config.toml', '**/.cargo/config'],
    reason: "Cargo's configuration (runners, aliases, flags) changed",
  },
  { globs: ['**/conftest.py', '**/pytest.ini'], reason: "pytest's configuration changed" },
  { globs: ['**/tox.ini', '**/setup.cfg', '**/noxfile.py'], reason: 'the Python test configuration changed' },
  {
    globs: [
      '.github/workflows/**',
      '.github/actions/**',
      '.gitlab-ci.yml',
      '.circleci/**',
      'azure-pipelines.yml',
      'Jenkinsfile',
      '.travis.yml',
      '.buildkite/**',
    ],
    reason: 'the CI configuration changed',
  },
  { globs: ['**/rust-toolchain', '**/rust-toolchain.toml'], reason: 'the Rust toolchain file changed' },
  {
    globs: ['**/.npmrc', '**/.yarnrc', '**/.yarnrc.*', '**/.pnpmfile.cjs'],
    reason: "the package manager's configuration changed",
  },
  { globs: ['.husky/**', '.pre-commit-config.yaml'], reason: 'the git hooks changed' },
];

/** The paths whose every change governs (the manifests below govern only when certain keys change). */
export const GOVERNING_GLOBS: readonly string[] = ALWAYS.flatMap((r) => r.globs);
/** Manifests that govern when what they say about scripts, build scripts or the toolchain changes. */
export const GOVERNING_MANIFEST_GLOBS: readonly string[] = [
  '**/package.json',
  '**/pyproject.toml',
  '**/Cargo.toml',
  '**/go.mod',
];

const FORBIDDEN: Rule[] = [
  { globs: ['**/.switchyard/evidence', '**/.switchyard/evidence/**'], reason: "Switchyard's evidence" },
  { globs: ['**/.switchyard/checkpoints', '**/.switchyard/checkpoints/**'], reason: "Switchyard's checkpoints" },
  { globs: ['**/.switchyard/index', '**/.switchyard/index/**'], reason: "Switchyard's index" },
  { globs: ['**/.switchyard-checkpoints', '**/.switchyard-checkpoints/**'], reason: "Switchyard's checkpoints" },
];
/** The paths the tools never write (and `.git` in any folder). */
export const FORBIDDEN_GLOBS: readonly string[] = [...FORBIDDEN.flatMap((r) => r.globs), '**/.git', '**/.git/**'];

// nocase: on a case-insensitive file system `.SWITCHYARD/Policy.json` is the policy file.
const compile = (rules: Rule[]) =>
  rules.map((r) => ({ test: picomatch(r.globs, { dot: true, nocase: true }), reason: r.reason }));
const ALWAYS_M = compile(ALWAYS);
const FORBIDDEN_M = compile(FORBIDDEN);

/**
 * The path as the file system may take it: `/` separators, no `./` or empty components, and each component without
 * trailing dots and spaces (Windows drops them, so `Makefile.` is the Makefile there).
 */
function canonical(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .map((c) => c.replace(/[. ]+$/, (m) => (c === m ? m : '')))
    .filter((c) => c !== '' && c !== '.')
    .join('/');
}

/** Paths the tools never write, approval or not (the evidence, checkpoints, indexes). */
export function forbiddenReason(path: string): string | null {
  const p = canonical(path);
  if (p.split('/').some((c) => c.toLowerCase() === '.git')) return '.git/ is not for the agent to read or write';
  const hit = FORBIDDEN_M.find((r) => r.test(p));
  return hit ? `${hit.reason} is not for the agent to write` : null;
}

/** Why writing this file changes what governs the agent or what the checks run (null: an ordinary file). */
export function governingReason(path: string, before: string | null, after: string | null): string | null {
  const p = canonical(path);
  if (before === after) return null;
  const always = ALWAYS_M.find((r) => r.test(p));
  if (always) return always.reason;
  const name = (p.split('/').pop() ?? '').toLowerCase();
  switch (name) {
    case 'package.json':
      return manifest(before, after, packageKeys, "package.json's");
    case 'pyproject.toml':
      return manifest(before, after, pyprojectKeys, "pyproject.toml's");
    case 'cargo.toml':
      return manifest(before, after, cargoKeys, "Cargo.toml's");
    case 'go.mod':
      return manifest(before, after, goKeys, "go.mod's");
    case 'pnpm-lock.yaml':
    case 'yarn.lock':
    case 'bun.lock':
    case 'bun.lockb':
      // The checks pick the package manager by the lockfile at the root: adding or removing one switches it.
      return p === name && (before === null || after === null) ? 'which package manager runs the checks changed' : null;
  }
  return null;
}

/** The governing parts of a manifest, by key; throws when the text does not parse. */
type Keys = (text: string) => Record<string, unknown>;

/** Compares the governing parts before and after; a manifest that no longer parses governs (it is unknowable). */
function manifest(before: string | null, after: string | null, keys: Keys, whose: string): string | null {
  let a: Record<string, unknown>;
  try {
    a = after === null ? {} : keys(after);
  } catch {
    return `${whose} text does not parse, so what it runs cannot be told`;
  }
  let b: Record<string, unknown>;
  try {
    b = before === null ? {} : keys(before);
  } catch {
    b = {}; // it did not parse before: every governing key it has now is a change
  }
  const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => stable(a[k]) !== stable(b[k]))
    .sort();
  return changed.length ? `${whose} ${changed.join(', ')} changed` : null;
}

/** JSON with object keys sorted, so a reordering is not a change. */
function stable(v: unknown): string {
  return (
    JSON.stringify(v, (_k, x: unknown) =>
      x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => p.localeCompare(q)))
        : x,
    ) ?? 'undefined'
  );
}

const pick = (o: unknown, ks: string[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  if (o && typeof o === 'object')
    for (const k of ks) if (Object.hasOwn(o, k)) out[k] = (o as Record<string, unknown>)[k];
  return out;
};

// The scripts are what `npm test` runs; config feeds them; pnpm's field and packageManager pick the tool and its
// hooks; the test runners' own sections decide which tests run.
const packageKeys: Keys = (text) => {
  const j = JSON.parse(text) as unknown;
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error('not an object');
  return pick(j, ['scripts', 'config', 'pnpm', 'packageManager', 'jest', 'mocha', 'ava', 'c8', 'nyc']);
};

// [build-system] runs at install and build; the test runners' and task runners' tables decide what runs.
const pyprojectKeys: Keys = (text) => {
  const t = parseToml(text) as Record<string, unknown>;
  const tool = pick(t.tool, ['pytest', 'tox', 'nox', 'hatch', 'pdm', 'poe', 'coverage']);
  return {
    ...pick(t, ['build-system']),
    ...Object.fromEntries(Object.entries(tool).map(([k, v]) => [`tool.${k}`, v])),
  };
};

// `build` names the build script (it runs at every build); `links` ties it to a native library; the targets'
// test/harness switches and the workspace's exclusions decide which tests `cargo test` runs.
const cargoKeys: Keys = (text) => {
  const t = parseToml(text) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pick(t.package, ['build', 'links']))) out[`package.${k}`] = v;
  const testKeys = ['test', 'harness', 'doctest', 'proc-macro', 'path'];
  if (t.lib) out.lib = pick(t.lib, testKeys);
  for (const k of ['bin', 'test', 'bench', 'example'])
    if (Array.isArray(t[k])) out[`[[${k}]]`] = (t[k] as unknown[]).map((x) => pick(x, ['name', ...testKeys]));
  for (const [k, v] of Object.entries(pick(t.workspace, ['exclude', 'default-members']))) out[`workspace.${k}`] = v;
  return out;
};

// `go` and `toolchain` pick (and with GOTOOLCHAIN=auto, download) the Go toolchain that runs the checks.
const goKeys: Keys = (text) => {
  const out: Record<string, unknown> = {};
  for (const m of text.matchAll(/^\s*(go|toolchain)\s+(\S+)/gm)) out[m[1]!] = m[2];
  return out;
};
