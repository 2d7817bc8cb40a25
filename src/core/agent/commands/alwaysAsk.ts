// Commands that always ask, whatever an allowlist says: they destroy work that no checkpoint may hold (a whole
// tree removed, a hard reset, a forced push, untracked files cleaned, changes checked out over). Most are outside
// every table anyway; this list makes `rm` on a user's allowlist, which has no table, still ask for `rm -r`, and
// gives the others a plain why.

interface AlwaysAsk {
  readonly program: string;
  /** The subcommand: the first argument that is not an option (git's global options skipped). */
  readonly sub?: string;
  /** Any argument matching one of these. */
  readonly when: readonly (string | RegExp)[];
  readonly why: string;
}

const RULES: readonly AlwaysAsk[] = [
  { program: 'rm', when: [/^-[^-]*[rR]/, '--recursive'], why: 'removes a whole folder tree' },
  { program: 'git', sub: 'reset', when: ['--hard', '--merge', '--keep'], why: 'throws away uncommitted changes' },
  {
    program: 'git',
    sub: 'push',
    when: ['--force', '-f', /^--force-with-lease/, /^--force-if-includes/, /^\+/, '--mirror', '--delete', '-d'],
    why: 'rewrites or deletes history on the remote',
  },
  { program: 'git', sub: 'clean', when: [/^-[^-]*f/, '--force'], why: 'deletes untracked files' },
  { program: 'git', sub: 'checkout', when: ['.', '-f', '--force', '--'], why: 'overwrites uncommitted changes' },
  { program: 'git', sub: 'restore', when: ['.', /^--source/, '-s'], why: 'overwrites uncommitted changes' },
  { program: 'git', sub: 'branch', when: ['-D', /^--delete/], why: 'deletes a branch' },
  { program: 'git', sub: 'stash', when: ['drop', 'clear'], why: 'throws away stashed changes' },
];

/** git's global options that take the next argument as their value (Codex's find_git_subcommand list). */
const GIT_GLOBAL_WITH_VALUE = new Set([
  '-C',
  '-c',
  '--config-env',
  '--exec-path',
  '--git-dir',
  '--namespace',
  '--super-prefix',
  '--work-tree',
]);

function subcommandOf(program: string, args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (program === 'git' && GIT_GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** Why `program args` always asks; null when it need not. */
export function alwaysAsks(program: string, args: readonly string[]): string | null {
  for (const r of RULES) {
    if (r.program !== program) continue;
    if (r.sub !== undefined && subcommandOf(program, args) !== r.sub) continue;
    const hit = args.find((a) => r.when.some((w) => (typeof w === 'string' ? a === w : w.test(a))));
    if (hit !== undefined) return `\`${[program, r.sub].filter(Boolean).join(' ')} ${hit}\` ${r.why}; it always asks`;
  }
  return null;
}
