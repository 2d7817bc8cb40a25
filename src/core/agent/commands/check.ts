// Walks an argv against a program's table (types.ts) and says which argument is not known to be safe, and why.
// It reads arguments the way the programs' own parsers do (a flag's value glued or next, combined short switches,
// `--`), because a mismatch is a bypass: an argument the checker takes as a flag's value but the program takes
// as a positional escapes the positional rules. Where the two could still disagree the checker asks: a value
// given as the next argument may not start with '-', and unsafe flags are also looked for in the raw arguments.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { looksLikePath, pathProblem } from './paths.js';
import type { ArgKind, CommandContext, FlagSpec, FlagTable, ProgramTable, SubTable } from './types.js';

const q = (s: string): string => `\`${s}\``;

/** Why `value` is not of `kind`; null when it is. `what` names it in the text ("the value of --jobs"). */
export function kindProblem(kind: ArgKind, value: string, what: string, ctx: CommandContext): string | null {
  if (kind === 'none') return `${what} takes no value`;
  if (kind === 'string') return null;
  if (kind === 'number') return /^\d+$/.test(value) ? null : `${what} must be a number, not ${q(value)}`;
  if (kind === 'path') {
    const p = pathProblem(value, ctx);
    return p && `${what}: ${p}`;
  }
  if (kind === 'ref') {
    if (value.startsWith('-')) return `${what} may not start with '-': ${q(value)}`;
    // A revision that is really a path (or a file by that name exists) is checked as one: `git diff` with a path
    // outside the work tree silently turns into `git diff --no-index` and reads any file.
    if (looksLikePath(value) || existsSync(resolve(ctx.cwd, value))) {
      const p = pathProblem(value, ctx);
      return p && `${what}: ${p}`;
    }
    return null;
  }
  if ('oneOf' in kind)
    return kind.oneOf.includes(value) ? null : `${what} must be one of ${kind.oneOf.join(', ')}, not ${q(value)}`;
  return kind.match.test(value) ? null : `${what} must be ${kind.what}, not ${q(value)}`;
}

/** A flag's value kind and whether the value may be left out; or why the flag is unsafe. */
interface Spec {
  value: ArgKind;
  optional: boolean;
  dashValue: boolean;
}

function specOf(spec: FlagSpec): Spec | { unsafe: string } {
  if (typeof spec === 'string') return { value: spec, optional: false, dashValue: false };
  if ('unsafe' in spec) return spec;
  if ('value' in spec)
    return { value: spec.value, optional: spec.optional === true, dashValue: spec.dashValue === true };
  return { value: spec, optional: false, dashValue: false };
}

interface Scope {
  label: string; // "git log", "cargo test's test harness"
  flags: FlagTable[];
  sub: SubTable;
}

interface Walk {
  table: ProgramTable;
  args: readonly string[];
  ctx: CommandContext;
}

function lookup(scope: Scope, name: string): FlagSpec | undefined {
  for (const f of scope.flags) if (Object.prototype.hasOwnProperty.call(f, name)) return f[name];
  return undefined;
}

function unsafeWhy(w: Walk, name: string, arg: string): string | null {
  const why = w.table.unsafe?.[name];
  return why === undefined ? null : `${q(arg)}: ${name} ${why}; ${w.table.program}'s ${name} is not allowed unattended`;
}

/**
 * One flag argument at args[i]: why it is not safe, or how many arguments it used (1, or 2 with a separate value).
 * `seen` collects the flag names given.
 */
function flagAt(w: Walk, scope: Scope, i: number, seen: Set<string>): string | number {
  const arg = w.args[i] as string;
  const single = w.table.singleDashLong === true;
  const norm = single && arg.startsWith('--') ? arg.slice(1) : arg;
  const eq = norm.indexOf('=');
  const name = eq > 0 && (norm.startsWith('--') || single) ? norm.slice(0, eq) : norm;
  const inline = name === norm ? undefined : norm.slice(eq + 1);
  const bad = unsafeWhy(w, name, arg);
  if (bad) return bad;
  const found = lookup(scope, name);
  if (found !== undefined) {
    const spec = specOf(found);
    if ('unsafe' in spec)
      return `${q(arg)}: ${name} ${spec.unsafe}; ${name} is not allowed unattended in ${scope.label}`;
    seen.add(name);
    if (spec.value === 'none') {
      if (inline === undefined) return 1;
      // go's switches take an explicit true/false
      if (single && (inline === 'true' || inline === 'false')) return 1;
      return `${q(arg)}: ${name} takes no value`;
    }
    if (inline !== undefined) return kindProblem(spec.value, inline, `the value of ${name}`, w.ctx) ?? 1;
    if (spec.optional) return 1;
    const next = w.args[i + 1];
    if (next === undefined) return `${q(arg)} needs a value, and none follows`;
    if (next.startsWith('-') && next !== '-' && !spec.dashValue)
      return `${q(arg)} ${q(next)}: the value of ${name} starts with '-'; give it glued (${name}=…) if it is meant`;
    return kindProblem(spec.value, next, `the value of ${name}`, w.ctx) ?? 2;
  }
  const sub = scope.sub;
  if (sub.numericShort && /^-\d+$/.test(arg)) return 1;
  // A cluster of short flags (`-qv`, `-n5`, `-pcore`), read the way getopt reads it.
  if (!arg.startsWith('--') && arg.length > 2 && (sub.combineShort || sub.gluedShort)) {
    for (let j = 1; j < arg.length; j++) {
      const ch = `-${arg[j]}`;
      const unsafe = unsafeWhy(w, ch, arg);
      if (unsafe) return unsafe;
      const f = lookup(scope, ch);
      if (f === undefined) return `${q(arg)}: ${ch} is not a known flag of ${scope.label}; unknown flags ask`;
      const spec = specOf(f);
      if ('unsafe' in spec) return `${q(arg)}: ${ch} ${spec.unsafe}; ${ch} is not allowed unattended in ${scope.label}`;
      seen.add(ch);
      const rest = arg.slice(j + 1);
      if (spec.value === 'none') {
        if (rest !== '' && !sub.combineShort) return `${q(arg)}: ${ch} takes no value`;
        continue;
      }
      if (rest !== '') {
        if (!sub.gluedShort) return `${q(arg)}: ${ch} takes a value; give it separately`;
        return kindProblem(spec.value, rest, `the value of ${ch}`, w.ctx) ?? 1;
      }
      if (spec.optional) return 1;
      const next = w.args[i + 1];
      if (next === undefined) return `${q(arg)} needs a value for ${ch}, and none follows`;
      if (next.startsWith('-') && next !== '-' && !spec.dashValue)
        return `${q(arg)} ${q(next)}: the value of ${ch} starts with '-'`;
      return kindProblem(spec.value, next, `the value of ${ch}`, w.ctx) ?? 2;
    }
    return 1;
  }
  return `${q(arg)} is not a known flag of ${scope.label}; unknown flags ask`;
}

function positionalKind(sub: SubTable, n: number): ArgKind | undefined {
  const p = sub.positionals;
  if (p === undefined || typeof p === 'string' || !Array.isArray(p)) return p as ArgKind | undefined;
  return p[Math.min(n, p.length - 1)];
}

/** Walk args[i..] in one scope; stop (returning the index) at the first positional when `stopAtPositional`. */
function walkScope(w: Walk, scope: Scope, start: number, stopAtPositional: boolean): string | number {
  const sub = scope.sub;
  const seen = new Set<string>();
  let positionals = 0;
  let i = start;
  const args = w.args;
  while (i < args.length) {
    const arg = args[i] as string;
    if (arg === '--' && !sub.free) {
      if (stopAtPositional) return `${q('--')} before a subcommand: ${w.table.program} needs a known subcommand first`;
      if (!sub.afterDashDash) return `${q('--')}: ${scope.label} takes nothing after \`--\` unattended`;
      const after = sub.afterDashDash;
      const r = walkScope(
        w,
        { label: after.name ?? `${scope.label} (after --)`, flags: after.flags ? [after.flags] : [], sub: after },
        i + 1,
        false,
      );
      if (typeof r === 'string') return r;
      break;
    }
    if (sub.free) {
      i++;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const r = flagAt(w, scope, i, seen);
      if (typeof r === 'string') return r;
      i += r;
      continue;
    }
    if (stopAtPositional) return i;
    const kind = positionalKind(sub, positionals);
    if (kind === undefined) return `${q(arg)}: ${scope.label} takes no positional arguments unattended`;
    if (sub.maxPositionals !== undefined && positionals >= sub.maxPositionals)
      return `${q(arg)}: ${scope.label} takes at most ${sub.maxPositionals} positional argument(s) unattended`;
    if (sub.positionalsNeed && !sub.positionalsNeed.some((f) => seen.has(f)))
      return (
        `${q(arg)}: ${scope.label} takes a positional only with ${sub.positionalsNeed.join(' or ')} ` +
        '(it could change something otherwise)'
      );
    const p = kindProblem(kind, arg, `an argument of ${scope.label}`, w.ctx);
    if (p) return p;
    positionals++;
    i++;
  }
  if (stopAtPositional) return args.length;
  if (sub.needOneOf && !sub.needOneOf.some((f) => seen.has(f)))
    return `${scope.label} runs unattended only with one of ${sub.needOneOf.join(', ')}`;
  return args.length;
}

function beforeDashDash(args: readonly string[]): readonly string[] {
  const dd = args.indexOf('--');
  return dd < 0 ? args : args.slice(0, dd);
}

/** Argument shapes that never run unattended (checked first: `+nightly` would otherwise read as a subcommand). */
function patternProblem(w: Walk): string | null {
  for (const arg of beforeDashDash(w.args))
    for (const u of w.table.unsafePatterns ?? []) if (u.match.test(arg)) return `${q(arg)}: ${u.why}`;
  return null;
}

/**
 * Raw checks after the walk: unsafe flag names anywhere before `--` (in case the walk took one for another flag's
 * value and the program does not), and path-like arguments wherever they stand.
 */
function rawProblem(w: Walk): string | null {
  const t = w.table;
  for (const arg of beforeDashDash(w.args)) {
    if (!arg.startsWith('-')) continue;
    const norm = t.singleDashLong && arg.startsWith('--') ? arg.slice(1) : arg;
    const name = norm.includes('=') ? norm.slice(0, norm.indexOf('=')) : norm;
    const bad = unsafeWhy(w, name, arg);
    if (bad) return bad;
    // a glued short unsafe flag (`-Zunstable-options`)
    if (!norm.startsWith('--') && !t.singleDashLong && norm.length > 2) {
      const bad2 = unsafeWhy(w, norm.slice(0, 2), arg);
      if (bad2) return bad2;
    }
  }
  if (t.pathLikeAnywhere) {
    for (const arg of w.args) {
      const eq = arg.indexOf('=');
      const candidates = arg.startsWith('-') && eq > 0 ? [arg.slice(eq + 1)] : [arg];
      for (const c of candidates) {
        if (!looksLikePath(c)) continue;
        const p = pathProblem(c, w.ctx);
        if (p) return `${q(arg)}: ${p}; ${t.program} takes no paths outside the workspace unattended`;
      }
    }
  }
  return null;
}

/** Why `args` (argv without the program) are not all known-safe by `table`; null when they are. */
export function tableProblem(table: ProgramTable, args: readonly string[], ctx: CommandContext): string | null {
  const lead = table.lead ?? [];
  if (!lead.every((a, k) => args[k] === a)) {
    const shown = args.slice(0, Math.max(lead.length, 1)).join(' ');
    return `${q(`${table.program} ${shown}`.trim())}: ${table.program} runs unattended only as \`${table.program} ${lead.join(' ')} …\``;
  }
  const w: Walk = { table, args, ctx };
  return patternProblem(w) ?? walkProblem(w) ?? rawProblem(w);
}

function walkProblem(w: Walk): string | null {
  const { table, args } = w;
  const lead = table.lead ?? [];
  const self = table.program;
  if (!table.subcommands) {
    const own: Scope = { label: table.name ?? self, flags: table.flags ? [table.flags] : [], sub: table };
    const r = walkScope(w, own, lead.length, false);
    return typeof r === 'string' ? r : null;
  }
  const global: Scope = { label: self, flags: table.global ? [table.global] : [], sub: table };
  const at = walkScope(w, global, lead.length, true);
  if (typeof at === 'string') return at;
  if (at >= args.length) return table.bareOk ? null : `${self} needs a subcommand; none was given`;
  const name = args[at] as string;
  const sub = Object.prototype.hasOwnProperty.call(table.subcommands, name) ? table.subcommands[name] : undefined;
  if (!sub) {
    const known = Object.keys(table.subcommands).join(', ');
    return `${q(`${self} ${name}`)}: ${q(name)} is not a subcommand known to be safe (known: ${known})`;
  }
  const flags = [sub.flags ?? {}];
  if (table.globalAnywhere && table.global) flags.push(table.global);
  const r = walkScope(w, { label: sub.name ?? `${self} ${name}`, flags, sub }, at + 1, false);
  return typeof r === 'string' ? r : null;
}
