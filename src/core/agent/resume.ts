// Tasks after a reload, a crash or a restart, from what each kept in its evidence folder (taskLog.ts): the list of a
// workspace's tasks (a task whose owner process is gone is "interrupted"), what a view needs to redraw one, and the
// two ways on for an interrupted task: resume it (the transcript and the routing state reload; the next turn is
// routed as it would have been) or abandon it (the workspace back to its first checkpoint, keeping every file the
// user changed since the task's last action).
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { evidenceRoot } from '../evidence/taskEvidence.js';
import type { ChatMessage } from '../providers/types.js';
import type { AgentEvent, AgentStatus } from './events.js';
import { drive } from './loop.js';
import type { AgentInput, AgentPorts, AgentResult } from './ports.js';
import { isCommitId, type ShadowCheckpoints } from './checkpoints.js';
import { AgentTask } from './task.js';
import {
  EVENTS,
  INPUT,
  ORIGINALS,
  readJson,
  readLines,
  RUN_STATE,
  sha256,
  TASK_STATE,
  TaskLog,
  TRANSCRIPT,
  type RunSnapshot,
  type TaskStateFile,
} from './taskLog.js';

export { INTERRUPTED } from './taskLog.js';

export interface TaskSummary {
  task_id: string;
  instruction: string;
  status: AgentStatus | 'running';
  reason?: string;
  /** The result's message, once the task ended. */
  message?: string;
  started: string;
  updated: string;
  turns: number;
  evidence: string;
  checkpoints: { id: string; label: string; turn: number }[];
}

/**
 * The task's checkpoints made known to a workspace's checkpoints again (a new window's ShadowCheckpoints lists
 * none), so that they can be restored; those it knows already are left as they are.
 */
/**
 * A task's record lives in the workspace, which a repository could carry: its checkpoints count only when each is a
 * commit of this machine's shadow repository (so the task was run here), and its files only inside the workspace.
 */
async function checkedRecord(p: Pick<AgentPorts, 'checkpoints'>, snap: RunSnapshot, taskId: string): Promise<void> {
  const ids = [...snap.checkpoints.map((c) => c.id), ...(snap.lastTree ? [snap.lastTree] : [])];
  for (const id of ids) {
    if (!(await p.checkpoints.hasCommit(id)))
      throw new ResumeError(
        `task ${taskId}'s record names a checkpoint this machine never made (${JSON.stringify(id).slice(0, 60)}): ` +
          'it was not run here, or its evidence folder was changed; it cannot be resumed or abandoned',
      );
  }
}

export function adoptCheckpoints(
  checkpoints: Pick<ShadowCheckpoints, 'all' | 'keep'>,
  list: { id: string; label: string; at?: string }[],
): void {
  const known = new Set(checkpoints.all().map((c) => c.id));
  for (const c of list)
    if (isCommitId(c.id) && !known.has(c.id)) checkpoints.keep({ id: c.id, label: c.label, at: c.at ?? '' });
}

/** A task that cannot be resumed or abandoned (not interrupted, not found, kept before tasks could resume). */
export class ResumeError extends Error {
  override name = 'ResumeError';
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** A task id that can name a task's folder (no `/`, no `..`). */
export const isTaskId = (id: string): boolean => TASK_ID.test(id) && !id.includes('..');

/** Whether the workspace's evidence folder has a task of that id (checked before any port is made for it). */
export const taskExists = (workspace: string, id: string): boolean =>
  isTaskId(id) && summaryOf(join(evidenceRoot(workspace), id), id) !== null;

/** Whether a process is alive (EPERM: it is, but not ours). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function instructionOf(dir: string): string {
  const input = readJson<{ instruction?: string }>(dir, INPUT);
  if (typeof input?.instruction === 'string') return input.instruction;
  try {
    return readFileSync(join(dir, 'instruction.md'), 'utf8')
      .replace(/^# .*\n\n/, '')
      .trim();
  } catch {
    return '';
  }
}

/** A task's summary from its folder; null when it is not an agent task that kept a state. */
function summaryOf(dir: string, taskId: string): TaskSummary | null {
  const ts = readJson<TaskStateFile>(dir, TASK_STATE);
  const result = readJson<{ status: AgentStatus; reason?: string; message?: string; turns?: number }>(
    dir,
    'result.json',
  );
  if (!ts && !result) return null;
  const snap = readJson<RunSnapshot>(dir, RUN_STATE);
  let status: TaskSummary['status'] = ts?.status ?? result!.status;
  if (status === 'running' && ts && !alive(ts.owner.pid)) status = 'interrupted';
  const reason = ts ? ts.reason : result?.reason;
  const ended = status !== 'running' && status !== 'interrupted';
  const message = ended ? result?.message : undefined;
  let mtime = '';
  try {
    mtime = lstatSync(join(dir, ts ? TASK_STATE : 'result.json')).mtime.toISOString();
  } catch {
    /* gone meanwhile */
  }
  return {
    task_id: taskId,
    instruction: instructionOf(dir),
    status,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    started: ts?.started ?? mtime,
    updated: ts?.updated ?? mtime,
    turns: snap?.turn ?? result?.turns ?? 0,
    evidence: dir,
    checkpoints: (snap?.checkpoints ?? []).map((c) => ({ id: c.id, label: c.label, turn: c.turn })),
  };
}

/**
 * Every task of this workspace's evidence folder, newest first; a task that says running but whose owner process is
 * gone is 'interrupted'.
 */
export async function listTasks(workspace: string): Promise<TaskSummary[]> {
  const root = evidenceRoot(workspace);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const out: TaskSummary[] = [];
  for (const n of names) {
    if (!isTaskId(n)) continue;
    const s = summaryOf(join(root, n), n);
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.started < b.started ? 1 : a.started > b.started ? -1 : a.task_id < b.task_id ? 1 : -1));
}

function taskDir(workspace: string, taskId: string): string {
  if (!isTaskId(taskId)) throw new ResumeError(`"${taskId}" is not a task id`);
  return join(evidenceRoot(workspace), taskId);
}

/** What a view needs to redraw a task: its summary and its recorded events in order. */
export async function loadTask(
  workspace: string,
  taskId: string,
): Promise<{ summary: TaskSummary; events: AgentEvent[] } | null> {
  const dir = taskDir(workspace, taskId);
  const summary = summaryOf(dir, taskId);
  if (!summary) return null;
  return { summary, events: readLines<AgentEvent>(join(dir, EVENTS)) };
}

/** The task, checked to be interrupted, with what a resume or an abandon reads. */
function interruptedTask(dir: string, taskId: string, what: string): { snap: RunSnapshot; prior: TaskStateFile } {
  const s = summaryOf(dir, taskId);
  if (!s) throw new ResumeError(`no task ${taskId} in this workspace's evidence folder`);
  if (s.status !== 'interrupted') {
    const why = s.status === 'running' ? 'running (its process is still alive)' : `${s.status}, not interrupted`;
    throw new ResumeError(`task ${taskId} is ${why}: only an interrupted task can be ${what}`);
  }
  const snap = readJson<RunSnapshot>(dir, RUN_STATE);
  const prior = readJson<TaskStateFile>(dir, TASK_STATE);
  if (!snap || snap.version !== 1 || !prior)
    throw new ResumeError(`task ${taskId} kept no running state (${RUN_STATE}): it cannot be ${what}`);
  return { snap, prior };
}

/**
 * A transcript cut mid-turn: the last answer's tool calls that have no result get one saying so, so that the next
 * request is one a provider accepts and the model knows to look again.
 */
function unanswered(messages: ChatMessage[]): ChatMessage[] {
  let k = messages.length - 1;
  while (k >= 0 && messages[k]!.role !== 'assistant') k--;
  const last = messages[k];
  if (!last || last.role !== 'assistant' || !last.tool_calls?.length) return [];
  const answered = new Set(messages.slice(k + 1).flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
  return last.tool_calls
    .filter((c) => !answered.has(c.id))
    .map((c) => ({
      role: 'tool' as const,
      tool_call_id: c.id,
      name: c.name,
      content:
        "interrupted: the task stopped before this call's result was recorded; it may or may not have run. " +
        'Read the files again before you rely on them.',
    }));
}

/**
 * Continue an interrupted task: the transcript and routing state reload, the next turn is routed as it would have
 * been; same events/result as runAgent. Refuses (ResumeError) a task that is not interrupted. The restored "use
 * cloud" holds unless `userRequestsCloud` is given.
 */
export async function resumeAgent(
  p: AgentPorts,
  i: Omit<AgentInput, 'instruction'> & { task_id: string },
): Promise<AgentResult> {
  const dir = p.evidence.dir;
  if (basename(dir) !== i.task_id) throw new ResumeError(`the evidence port is not task ${i.task_id}'s folder`);
  const { snap, prior } = interruptedTask(dir, i.task_id, 'resumed');
  await checkedRecord(p, snap, i.task_id);
  const messages = readLines<ChatMessage>(join(dir, TRANSCRIPT));
  if (!messages.length) throw new ResumeError(`task ${i.task_id} kept no transcript: it cannot be resumed`);
  const input = readJson<{ instruction: string; focus?: AgentInput['focus'] }>(dir, INPUT);
  const t = new AgentTask(
    p,
    { ...i, instruction: input?.instruction ?? instructionOf(dir), ...(input?.focus ? { focus: input.focus } : {}) },
    new TaskLog(p.evidence, prior),
  );
  t.restore(snap);
  t.messages.push(...messages);
  t.push(...unanswered(messages));
  adoptCheckpoints(p.checkpoints, snap.checkpoints);
  for (const [path, before] of readJson<[string, string | null][]>(dir, ORIGINALS) ?? []) {
    const inside = (() => {
      try {
        return p.ws.rel(path, 'read');
      } catch {
        return null; // a path the guard refuses is not the task's file
      }
    })();
    if (inside && !p.ws.originals.has(inside)) p.ws.originals.set(inside, typeof before === 'string' ? before : null);
  }
  t.log.running();
  p.evidence.append('resume/resumes.jsonl', { at: new Date().toISOString(), after_turn: snap.turn, pid: process.pid });
  return drive(t);
}

type Kept = { path: string; body: Buffer | null; link: string | null };

function readNow(root: string, path: string): Kept {
  const f = join(root, path);
  try {
    const st = lstatSync(f);
    if (st.isSymbolicLink()) return { path, body: null, link: readlinkSync(f) };
    if (st.isFile()) return { path, body: readFileSync(f), link: null };
  } catch {
    /* absent */
  }
  return { path, body: null, link: null };
}

function putBack(root: string, k: Kept): void {
  const f = join(root, k.path);
  rmSync(f, { force: true });
  if (k.body === null && k.link === null) return;
  mkdirSync(dirname(f), { recursive: true });
  if (k.link !== null) symlinkSync(k.link, f);
  else writeFileSync(f, k.body!);
}

/**
 * Abandon an interrupted task: restore the workspace to its first checkpoint, keeping (not overwriting) every file
 * the user changed since the task's last action; the task ends 'abandoned'. What a command the task ran changed in
 * its last, interrupted turn counts as the user's (kept): a file is never overwritten on a guess.
 */
export async function abandonTask(
  p: Pick<AgentPorts, 'checkpoints' | 'evidence' | 'ws'>,
  workspace: string,
  taskId: string,
): Promise<{ restored: string[]; kept: string[] }> {
  const dir = taskDir(workspace, taskId);
  if (p.evidence.dir !== dir) throw new ResumeError(`the evidence port is not task ${taskId}'s folder`);
  const { snap, prior } = interruptedTask(dir, taskId, 'abandoned');
  await checkedRecord(p, snap, taskId);
  const root = p.ws.root;
  let restored: string[] = [];
  let kept: string[] = [];
  const first = snap.checkpoints[0];
  if (first) {
    adoptCheckpoints(p.checkpoints, snap.checkpoints);
    // Since the task's last action: what differs from the tree it left, less what the task itself wrote after it.
    const since = await p.checkpoints.changedSince(snap.lastTree ?? first.id);
    const mine = (f: string) => {
      if (!(f in snap.writesSince)) return false;
      const now = readNow(root, f);
      const hash = now.body ? sha256(now.body) : null;
      return now.link === null && hash === snap.writesSince[f];
    };
    kept = since.filter((f) => !mine(f)).sort();
    const saved = kept.map((f) => readNow(root, f));
    const before = await p.checkpoints.restore(first.id);
    restored = (await p.checkpoints.changedSince(before.id, first.id)).filter((f) => !kept.includes(f)).sort();
    for (const k of saved) putBack(root, k);
  }
  const message =
    `Abandoned: the workspace is back at its first checkpoint (${restored.length} file(s) restored)` +
    (kept.length ? `; kept as you changed them: ${kept.join(', ')}` : '') +
    '.';
  p.evidence.write('result.json', {
    status: 'abandoned',
    message,
    turns: snap.turn,
    checkpoints: p.checkpoints.all(),
    // Nothing of the task's is left to judge: the files still changed are the user's.
    changed: [],
    requires_judge: false,
    restored,
    kept,
    evidence: dir,
  });
  p.evidence.append(EVENTS, { type: 'result', status: 'abandoned', message, turns: snap.turn, evidence: dir });
  new TaskLog(p.evidence, prior).state('abandoned');
  p.evidence.seal();
  return { restored, kept };
}
