// npm, pnpm and yarn as checks use them: run a package.json script (`npm test`, `npm run lint -- --fix`,
// `pnpm run typecheck`, `yarn test`) or list packages. The script is the repository's own code; what must not
// pass unattended are the package manager's settings that swap the program it runs (--script-shell,
// --node-options, a user or global config file, a cache folder) and installs (npm ci runs install scripts).
// Arguments after `--` go to the script as text.
import type { ArgKind, FlagTable, ProgramTable, SubTable } from '../types.js';

/** package.json script names (`test`, `test:unit`, `lint-fix`). */
const SCRIPT: ArgKind = { match: /^[A-Za-z0-9][A-Za-z0-9:_.\-/]*$/, what: 'a package.json script name' };

/** Package names for `ls` (`react`, `@types/node`). */
const PACKAGE: ArgKind = { match: /^(@[a-z0-9._-]+\/)?[a-z0-9._-]+(@[A-Za-z0-9._^~<>=*-]+)?$/, what: 'a package name' };

/** The script's own arguments: text for the repository's code. */
const SCRIPT_ARGS: SubTable = { name: "the script's arguments", free: true };

const NPM_UNSAFE: Record<string, string> = {
  '--userconfig': 'reads npm settings from any file (they can set script-shell or node-options)',
  '--globalconfig': 'reads npm settings from any file (they can set script-shell or node-options)',
  '--node-options': 'passes options to node (`--require` loads any code)',
  '--script-shell': 'runs scripts with any program as the shell',
  '--shell': 'sets the shell program',
  '--cache': 'writes npm’s cache to any folder',
  '--registry': 'fetches from another registry',
  '--global': 'acts on the global install',
  '-g': 'acts on the global install',
};

const NPM_GLOBAL: FlagTable = {
  '--prefix': 'path',
  '-w': 'string',
  '--workspace': 'string',
  '--workspaces': 'none',
  '-ws': 'none',
  '--include-workspace-root': 'none',
  '--silent': 'none',
  '-s': 'none',
  '-q': 'none',
  '--quiet': 'none',
  '--loglevel': { value: { oneOf: ['silent', 'error', 'warn', 'notice', 'http', 'info', 'verbose', 'silly'] } },
  '--if-present': 'none',
  '--ignore-scripts': 'none',
  '--foreground-scripts': 'none',
  '--color': { value: { oneOf: ['true', 'false', 'always'] } },
  '--no-color': 'none',
  '--version': 'none',
  '-v': 'none',
};

const NPM_TEST: SubTable = { name: 'npm test', afterDashDash: SCRIPT_ARGS };
const NPM_RUN: SubTable = {
  name: 'npm run',
  positionals: [SCRIPT, 'string'],
  afterDashDash: SCRIPT_ARGS,
};
const NPM_LS: SubTable = {
  name: 'npm ls',
  flags: {
    '--all': 'none',
    '-a': 'none',
    '--depth': 'number',
    '--json': 'none',
    '--long': 'none',
    '-l': 'none',
    '--parseable': 'none',
    '-p': 'none',
    '--omit': { value: { oneOf: ['dev', 'optional', 'peer'] } },
    '--include': { value: { oneOf: ['prod', 'dev', 'optional', 'peer'] } },
    '--link': 'none',
    '--package-lock-only': 'none',
  },
  positionals: PACKAGE,
};

export const NPM: ProgramTable = {
  program: 'npm',
  global: NPM_GLOBAL,
  globalAnywhere: true,
  bareOk: false,
  subcommands: {
    test: NPM_TEST,
    t: NPM_TEST,
    tst: NPM_TEST,
    run: NPM_RUN,
    'run-script': NPM_RUN,
    rum: NPM_RUN,
    urn: NPM_RUN,
    ls: NPM_LS,
    list: NPM_LS,
  },
  unsafe: NPM_UNSAFE,
  pathLikeAnywhere: true,
};

const PNPM_GLOBAL: FlagTable = {
  '-C': 'path',
  '--dir': 'path',
  '-r': 'none',
  '--recursive': 'none',
  '--filter': 'string',
  '-F': 'string',
  '-w': 'none',
  '--workspace-root': 'none',
  '-s': 'none',
  '--silent': 'none',
  '--if-present': 'none',
  '--parallel': 'none',
  '--sequential': 'none',
  '--stream': 'none',
  '--no-bail': 'none',
  '--reporter': { value: { oneOf: ['default', 'append-only', 'ndjson', 'silent'] } },
  '--color': 'none',
  '--no-color': 'none',
  '--version': 'none',
  '-v': 'none',
};

// pnpm hands everything after the script name to the script, so its arguments are free text.
const PNPM_RUN: SubTable = { name: 'pnpm run', positionals: SCRIPT, maxPositionals: 1, afterDashDash: SCRIPT_ARGS };
const PNPM_TEST: SubTable = { name: 'pnpm test', afterDashDash: SCRIPT_ARGS };

export const PNPM: ProgramTable = {
  program: 'pnpm',
  global: PNPM_GLOBAL,
  globalAnywhere: true,
  subcommands: {
    run: PNPM_RUN,
    'run-script': PNPM_RUN,
    test: PNPM_TEST,
    t: PNPM_TEST,
    ls: {
      name: 'pnpm ls',
      flags: { '--depth': 'number', '--json': 'none', '--long': 'none', '--prod': 'none', '--dev': 'none' },
      positionals: PACKAGE,
    },
  },
  unsafe: {
    '--config': 'sets any pnpm setting (script-shell runs any program)',
    '--script-shell': 'runs scripts with any program as the shell',
    '--node-options': 'passes options to node (`--require` loads any code)',
    '--store-dir': 'writes the store to any folder',
    '--global': 'acts on the global install',
    '-g': 'acts on the global install',
  },
  // `--config.script-shell=sh` sets any setting
  unsafePatterns: [{ match: /^--config\./, why: 'sets any pnpm setting (script-shell runs any program)' }],
  pathLikeAnywhere: true,
};

const YARN_RUN: SubTable = { name: 'yarn run', positionals: [SCRIPT, 'string'], afterDashDash: SCRIPT_ARGS };
const YARN_TEST: SubTable = { name: 'yarn test', positionals: 'string', afterDashDash: SCRIPT_ARGS };

export const YARN: ProgramTable = {
  program: 'yarn',
  global: { '--silent': 'none', '-s': 'none', '--cwd': 'path', '--version': 'none', '-v': 'none' },
  globalAnywhere: true,
  subcommands: { run: YARN_RUN, test: YARN_TEST },
  unsafe: {
    '--use-yarnrc': 'reads yarn settings from any file',
    '--cache-folder': 'writes the cache to any folder',
    '--global-folder': 'writes global packages to any folder',
    '--modules-folder': 'installs packages to any folder',
  },
  pathLikeAnywhere: true,
};
