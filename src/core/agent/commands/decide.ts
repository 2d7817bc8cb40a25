// Does the agent's run_command run unattended, ask the user, or never run? Deny by default: an allowlist prefix
// says which programs may run, and the program's argument table (tables/) says which arguments; a table always
// applies, whoever allowed the program, so a user allow of `git` still asks for `git log --output=~/.bashrc`.
// A program without a table runs with any arguments only when the user's own allowlist names it (it still runs
// in the sandbox); a repository's allowlist cannot vouch for arguments nobody checked. The OS sandbox is a second
// wall, not a reason to loosen this one: a host without a sandbox asks for everything anyway.
import { resolve } from 'node:path';
import { alwaysAsks } from './alwaysAsk.js';
import { tableProblem } from './check.js';
import { within } from './paths.js';
import { TABLES } from './tables/index.js';
import type { CommandContext } from './types.js';

export type CommandVerdict =
  { verdict: 'allow'; why: string } | { verdict: 'ask'; why: string } | { verdict: 'deny'; why: string };

export interface CommandRuleSet {
  /** argv prefixes the user allowed (user settings / the bundled policy): trusted. */
  userAllow: string[][];
  /**
   * argv prefixes that come with the repository (its policy's agent.command_allowlist, its workspace settings),
   * already checked by the caller to be approved by the user; empty when not approved.
   */
  repoAllow: string[][];
  /** argv prefixes that never run (deny wins). */
  deny: string[][];
}

/** The programs that have argument tables. */
export const PROGRAMS_WITH_TABLES: readonly string[] = [...TABLES.keys()].sort();

const shown = (argv: readonly string[]): string => `\`${argv.join(' ')}\``;

/** Is `argv` a list of strings a program can be given? Why not, when not. */
function malformed(argv: unknown): string | null {
  if (!Array.isArray(argv)) return 'the command must be an argv array of strings';
  if (argv.length === 0) return 'the command is empty';
  if (!argv.every((a) => typeof a === 'string')) return 'every argv element must be a string';
  if (argv[0] === '') return 'the program name is empty';
  if (argv.some((a: string) => a.includes('\0'))) return 'an argument contains a NUL byte';
  return null;
}

function matches(argv: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length > 0 && prefix.length <= argv.length && prefix.every((a, k) => argv[k] === a);
}

/** A program given as a path (`/usr/bin/git`, `./git`) is not the program the rules are about. */
function pathProgram(p: string): boolean {
  return p.includes('/') || p.includes('\\');
}

/** The argument table alone: are all of argv's arguments known-safe? */
export function argumentsSafe(
  argv: string[],
  ctx: { root: string; cwd: string },
): { ok: true } | { ok: false; why: string } | { ok: false; why: string; noTable: true } {
  const bad = malformed(argv);
  if (bad) return { ok: false, why: bad };
  const program = argv[0] as string;
  if (pathProgram(program))
    return { ok: false, why: `\`${program}\` is given as a path; only a bare program name has argument rules` };
  const c: CommandContext = { root: resolve(ctx.root), cwd: resolve(ctx.root, ctx.cwd) };
  if (!within(c.root, c.cwd)) return { ok: false, why: `the working folder ${c.cwd} is outside the workspace` };
  const table = TABLES.get(program);
  if (!table) return { ok: false, why: `${program} has no argument rules`, noTable: true };
  const problem = tableProblem(table, argv.slice(1), c);
  return problem ? { ok: false, why: problem } : { ok: true };
}

export function decideCommand(
  argv: string[],
  ctx: { root: string; cwd: string },
  rules: CommandRuleSet,
): CommandVerdict {
  const bad = malformed(argv);
  if (bad) return { verdict: 'deny', why: `denied: ${bad}` };
  const deny = rules.deny.find((p) => matches(argv, p));
  if (deny) return { verdict: 'deny', why: `denied: ${shown(argv)} matches the deny list entry ${shown(deny)}` };
  const program = argv[0] as string;
  if (pathProgram(program))
    return {
      verdict: 'ask',
      why: `asks: \`${program}\` is given as a path, not as a program name; allowlists and argument rules name programs, so it asks`,
    };
  const always = alwaysAsks(program, argv.slice(1));
  if (always) return { verdict: 'ask', why: `asks: ${always}` };
  const user = rules.userAllow.find((p) => matches(argv, p));
  const repo = user ? undefined : rules.repoAllow.find((p) => matches(argv, p));
  const entry = user ?? repo;
  if (!entry) return { verdict: 'ask', why: `asks: ${shown(argv)} is not in the allowlist` };
  const from = user ? 'your allowlist' : "the repository's allowlist";
  const safe = argumentsSafe(argv, ctx);
  if (safe.ok)
    return {
      verdict: 'allow',
      why: `allowed: ${shown(argv)} matches ${from} entry ${shown(entry)} and every argument is known to be safe`,
    };
  if (!('noTable' in safe)) return { verdict: 'ask', why: `asks: ${safe.why}` };
  if (user)
    return {
      verdict: 'allow',
      why:
        `allowed: ${shown(argv)} matches your allowlist entry ${shown(entry)}; ${program} has no argument rules, ` +
        'so your entry allows any arguments (it runs in the sandbox)',
    };
  return {
    verdict: 'ask',
    why:
      `asks: ${program} has no argument rules; a repository's allowlist cannot run it unattended ` +
      `(${shown(argv)} matches its entry ${shown(entry)})`,
  };
}
