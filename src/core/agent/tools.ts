// The agent's tools, run against the workspace. A tool call is untrusted input (a hostile file in the repository can
// steer the model): one with bad arguments, a refused path, a failed match or a file system error is an answer for
// the model (what went wrong, what to do), never a crash. Reads run at once; an edit is computed here, bounded,
// marked when it touches a file that governs the agent or the checks, and written only when the loop's approval
// says so; commands and checks go through the loop's ports.
import picomatch from 'picomatch';
import type { z } from 'zod';
import { TOOL_ARGS, TOOL_NAMES, type ToolName } from './toolSpecs.js';
import { applyEdit } from './edits/editMatch.js';
import { forbiddenReason, governingReason } from './governing.js';
import { applyPatchText } from './edits/applyPatch.js';
import { isRefusal, MAX_FILE_BYTES, Workspace } from './workspace.js';

/** A change a tool wants to make: the whole file before and after (null: absent). */
export interface ProposedChange {
  path: string;
  before: string | null;
  after: string | null;
  /** How the edit matched (exact, or which tolerance). */
  how: string;
  /**
   * Why this file governs the agent or the checks (governing.ts): set, the write needs the user's explicit
   * approval (a headless `--yes` does not give it).
   */
  governs?: string;
}

export type ToolOutcome =
  | { kind: 'answer'; content: string; ok: boolean }
  | { kind: 'edit'; changes: ProposedChange[]; summary: string }
  | { kind: 'port'; args: PortArgs };

export type PortArgs =
  | { name: 'run_checks' }
  | { name: 'run_command'; argv: string[]; cwd: string; timeout_s: number }
  | { name: 'ask_user'; question: string }
  | { name: 'finish'; summary: string; confidence: number };

/** What a single tool result may hold for the model before it is cut (the loop cuts again to fit the context). */
export const READ_MAX_LINES = 400;
export const READ_MAX_CHARS = 40_000;

export interface ToolEnv {
  ws: Workspace;
  /** Stage 0's ranked files for a query (search mode "context"); absent where no index is at hand. */
  context?: (query: string, max: number) => Promise<string>;
  /** The largest file an edit may leave (write_file's content, edit_file's and apply_patch's result); default 2 MiB. */
  maxWriteBytes?: number;
}

const answer = (content: string, ok = true): ToolOutcome => ({ kind: 'answer', content, ok });
const shortName = (n: string) => JSON.stringify(n.length > 64 ? `${n.slice(0, 64)}…` : n);

/**
 * The changes as the loop gets them: a forbidden path (the evidence, `.git`) or a file over the write limit is a
 * refusal; each other change is marked with why it governs, if it does. The loop runs its text-answer edits (search
 * and replace blocks) through this too.
 */
export function reviewChanges(
  changes: readonly Omit<ProposedChange, 'governs'>[],
  maxWriteBytes = MAX_FILE_BYTES,
): { ok: true; changes: ProposedChange[] } | { ok: false; message: string } {
  const out: ProposedChange[] = [];
  for (const c of changes) {
    const forbidden = forbiddenReason(c.path);
    if (forbidden) return { ok: false, message: `${c.path}: ${forbidden}` };
    const bytes = c.after === null ? 0 : Buffer.byteLength(c.after, 'utf8');
    if (bytes > maxWriteBytes) return { ok: false, message: tooLarge(c.path, bytes, maxWriteBytes) };
    const governs = governingReason(c.path, c.before, c.after);
    out.push(governs ? { ...c, governs } : { ...c });
  }
  return { ok: true, changes: out };
}

const tooLarge = (path: string, bytes: number, max: number) =>
  `${path} would be ${bytes} bytes, over the agent's write limit of ${max} bytes (${mib(max)}); ` +
  'write a smaller file, or ask the user to raise agent.max_write_bytes in .switchyard/policy.json';
const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 100) / 100} MiB`;

/** Parses and runs one tool call. */
export async function runAgentTool(env: ToolEnv, name: string, argsText: string): Promise<ToolOutcome> {
  // Own properties only: `__proto__`, `constructor`, `toString` are names in every object's prototype chain.
  if (typeof name !== 'string' || !Object.hasOwn(TOOL_ARGS, name))
    return answer(`unknown tool ${shortName(String(name))}; the tools are ${TOOL_NAMES.join(', ')}`, false);
  let raw: unknown;
  try {
    raw = JSON.parse(argsText || '{}');
  } catch (e) {
    return answer(`${name}: the arguments are not valid JSON (${(e as Error).message}); send a JSON object`, false);
  }
  const parsed = TOOL_ARGS[name as ToolName].safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
    return answer(`${name}: bad arguments: ${issues}`, false);
  }
  try {
    const out = await dispatch(env, name as ToolName, parsed.data as never);
    if (out.kind !== 'edit') return out;
    const reviewed = reviewChanges(out.changes, env.maxWriteBytes);
    return reviewed.ok ? { ...out, changes: reviewed.changes } : answer(`${name}: ${reviewed.message}`, false);
  } catch (e) {
    if (isRefusal(e)) return answer(`${name}: ${e.message}`, false);
    // Anything else is still the tool's answer: the model's input reached a case the tools did not foresee.
    return answer(`${name}: failed: ${(e as Error)?.message ?? String(e)}`, false);
  }
}

async function dispatch(env: ToolEnv, name: ToolName, a: Record<string, unknown>): Promise<ToolOutcome> {
  const { ws } = env;
  switch (name) {
    case 'read_file':
      return answer(readFile(ws, a as z.infer<typeof TOOL_ARGS.read_file>));
    case 'list_files':
      return answer(listFiles(ws, a as z.infer<typeof TOOL_ARGS.list_files>));
    case 'search':
      return search(env, a as z.infer<typeof TOOL_ARGS.search>);
    case 'edit_file':
      return editFile(ws, a as z.infer<typeof TOOL_ARGS.edit_file>, env.maxWriteBytes ?? MAX_FILE_BYTES);
    case 'write_file': {
      const p = ws.writable(a.path as string);
      // Before reading the old text: a 50 MB content is refused without more work.
      const bytes = Buffer.byteLength(a.content as string, 'utf8');
      const max = env.maxWriteBytes ?? MAX_FILE_BYTES;
      if (bytes > max) return answer(`write_file: ${tooLarge(p, bytes, max)}`, false);
      const before = ws.exists(p) ? ws.read(p) : null;
      const how = before === null ? 'new file' : 'whole file';
      const changes = [{ path: p, before, after: a.content as string, how }];
      return { kind: 'edit', changes, summary: `${how} ${p}` };
    }
    case 'apply_patch':
      return applyPatch(ws, a.patch as string, env.maxWriteBytes ?? MAX_FILE_BYTES);
    case 'run_checks':
      return { kind: 'port', args: { name } };
    case 'run_command': {
      const cwd = a.cwd ? ws.rel(a.cwd) : '.';
      const args = { name, argv: a.argv as string[], cwd, timeout_s: (a.timeout_s as number | undefined) ?? 120 };
      return { kind: 'port', args };
    }
    case 'ask_user':
      return { kind: 'port', args: { name, question: a.question as string } };
    case 'finish':
      return { kind: 'port', args: { name, summary: a.summary as string, confidence: a.confidence as number } };
  }
}

function readFile(ws: Workspace, a: z.infer<typeof TOOL_ARGS.read_file>): string {
  const p = ws.rel(a.path);
  const lines = ws.read(p).split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const start = Math.min(a.start_line ?? 1, Math.max(1, lines.length));
  let end = Math.min(a.end_line ?? lines.length, lines.length, start + READ_MAX_LINES - 1);
  const out: string[] = [];
  let chars = 0;
  for (let i = start; i <= end; i++) {
    const l = `${i}\t${lines[i - 1]}`;
    if (chars + l.length > READ_MAX_CHARS && out.length > 0) {
      end = i - 1;
      break;
    }
    out.push(l);
    chars += l.length + 1;
  }
  const head = `${p} (lines ${start}-${end} of ${lines.length})`;
  const more = end < lines.length ? `\n[cut at line ${end}: call read_file with start_line=${end + 1} for more]` : '';
  return `${head}\n${out.join('\n')}${more}`;
}

function listFiles(ws: Workspace, a: z.infer<typeof TOOL_ARGS.list_files>): string {
  const dir = ws.rel(a.path ?? '.');
  const match = a.glob ? picomatch(a.glob, { dot: true }) : null;
  const all = ws.files(dir).filter((f) => !match || match(f) || match(f.split('/').pop()!));
  const max = a.max ?? 200;
  const shown = all.slice(0, max);
  const more = all.length > max ? `\n[${all.length - max} more: narrow with path or glob]` : '';
  return shown.length ? `${shown.join('\n')}${more}` : `no files under ${dir}${a.glob ? ` matching ${a.glob}` : ''}`;
}

async function search(env: ToolEnv, a: z.infer<typeof TOOL_ARGS.search>): Promise<ToolOutcome> {
  const max = a.max ?? 50;
  if (a.mode === 'context') {
    if (!env.context) return answer('search: context mode needs the Stage 0 index, which is not available here', false);
    return answer(await env.context(a.query, Math.min(max, 20)));
  }
  let test: (line: string) => boolean;
  if (a.mode === 'regex') {
    // JavaScript's regex engine backtracks and cannot be interrupted: a pattern that can take exponential time
    // (a quantified group holding a quantifier, a back-reference) would freeze the agent, so it is refused, and
    // each line is tested on its first REGEX_LINE_MAX characters.
    const unsafe = unsafeRegex(a.query);
    if (unsafe) return answer(`search: ${unsafe}; use a simpler pattern or mode "text"`, false);
    let re: RegExp;
    try {
      re = new RegExp(a.query);
    } catch (e) {
      return answer(`search: not a valid regular expression: ${(e as Error).message}`, false);
    }
    test = (l) => re.test(l.length > REGEX_LINE_MAX ? l.slice(0, REGEX_LINE_MAX) : l);
  } else {
    // Smart case: a query in lower case matches any case.
    const q = a.query;
    const lower = q === q.toLowerCase();
    test = lower ? (l) => l.toLowerCase().includes(q) : (l) => l.includes(q);
  }
  const match = a.glob ? picomatch(a.glob, { dot: true }) : null;
  const hits: string[] = [];
  let total = 0;
  for (const f of env.ws.files()) {
    if (match && !match(f) && !match(f.split('/').pop()!)) continue;
    let text: string;
    try {
      text = env.ws.read(f);
    } catch {
      continue; // binary or too large
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!test(lines[i]!)) continue;
      total++;
      if (hits.length < max) hits.push(`${f}:${i + 1}: ${lines[i]!.trim().slice(0, 200)}`);
    }
  }
  if (total === 0) return answer(`no line matches ${JSON.stringify(a.query)}`);
  const more = total > max ? `\n[${total - max} more matches: narrow with glob or a longer query]` : '';
  return answer(`${hits.join('\n')}${more}`);
}

function editFile(ws: Workspace, a: z.infer<typeof TOOL_ARGS.edit_file>, maxBytes: number): ToolOutcome {
  const p = ws.writable(a.path);
  if (!ws.exists(p)) return answer(`edit_file: ${p} does not exist; use write_file to create it`, false);
  const before = ws.read(p);
  const r = applyEdit(before, a.old_text, a.new_text, a.replace_all === true);
  if (!r.ok) return answer(`edit_file ${p}: ${r.message}`, false);
  if (r.text === before) return answer(`edit_file ${p}: new_text equals old_text; nothing would change`, false);
  // The result, not the arguments: a short new_text with replace_all can multiply a file past the limit.
  const bytes = Buffer.byteLength(r.text, 'utf8');
  if (bytes > maxBytes) return answer(`edit_file: ${tooLarge(p, bytes, maxBytes)}`, false);
  const how = r.how === 'exact' ? 'exact match' : `matched with ${r.how}`;
  const changes = [{ path: p, before, after: r.text, how }];
  return {
    kind: 'edit',
    changes,
    summary: `edit ${p} at line ${r.line} (${how}${r.count > 1 ? `, ${r.count}×` : ''})`,
  };
}

function applyPatch(ws: Workspace, patch: string, maxBytes: number): ToolOutcome {
  const r = applyPatchText(
    patch,
    (p) => (ws.exists(p) ? ws.read(p) : null),
    (p) => ws.writable(p),
  );
  if (!r.ok) return answer(`apply_patch: ${r.message}`, false);
  // Every path the headers name passes the write guard, even one the parsed files do not use: a rename's target
  // that leaves the workspace refuses the whole patch.
  for (const h of r.headerPaths) ws.writable(h);
  for (const c of r.changes) {
    const bytes = c.after === null ? 0 : Buffer.byteLength(c.after, 'utf8');
    if (bytes > maxBytes) return answer(`apply_patch: ${tooLarge(c.path, bytes, maxBytes)}`, false);
  }
  return { kind: 'edit', changes: r.changes, summary: `patch ${r.changes.map((c) => c.path).join(', ')}` };
}

const REGEX_LINE_MAX = 2_000;

/** Why a pattern could backtrack without end (nested quantifiers, back-references), or null. */
export function unsafeRegex(q: string): string | null {
  if (q.length > 500) return 'the pattern is over 500 characters';
  if (/\\[1-9]|\\k</.test(q)) return 'back-references are not allowed in a search pattern';
  // A group that holds a quantifier and is itself quantified: (a+)+, (a|aa)*, (\w+\s?)*, (x{2,})+ ...
  if (/\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/.test(q))
    return 'a quantified group that holds a quantifier can take exponential time';
  if (/\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/.test(q))
    return 'a quantified alternation can take exponential time';
  return null;
}
