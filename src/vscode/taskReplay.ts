// The task view's state from the agent's events: the one update the live path applies to each event as it comes,
// and the same update over a task's recorded events (src/core/agent/resume.ts) after a reload, a crash of the
// extension host or a restart. No vscode import: what the view shows of a recorded task is a pure function of it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent } from '../core/agent/events.js';
import type { TaskSummary } from '../core/agent/resume.js';
import { appendCheckOutput, endCheckLogs } from '../core/protocol/checkLog.js';
import type { TaskListItem, TaskState } from '../core/protocol/task.js';

export function emptyTask(taskId: string, instruction: string, autoApprove: boolean, cloud: boolean): TaskState {
  return {
    task_id: taskId,
    instruction,
    status: 'running',
    message: 'The agent is working.',
    use_cloud: cloud,
    auto_approve: autoApprove,
    turns: [],
    tools: [],
    routes: [],
    checks: [],
    checkpoints: [],
    pending: null,
    streaming: '',
    diff: '',
    evidence: '',
  };
}

/**
 * One event into the task's state, as the view shows it. `diff`: the whole change so far, read after a tool call.
 * Side effects (notifications, the output channel, the batch sent alone to the view) are the caller's.
 */
export function applyEvent(t: TaskState, e: AgentEvent, diff: () => string): void {
  switch (e.type) {
    case 'text':
      t.streaming += e.text;
      return;
    case 'turn':
      t.streaming = '';
      t.turns.push(e);
      return;
    case 'tool':
      t.tools.push(e);
      t.diff = diff();
      return;
    case 'route':
      t.routes.push(e);
      return;
    case 'check':
      t.checks.push(e);
      if (t.check_logs) endCheckLogs(t.check_logs, e);
      return;
    case 'check_output':
      appendCheckOutput((t.check_logs ??= []), e);
      return;
    case 'checkpoint':
      t.checkpoints.push(e);
      return;
    case 'result':
      if (t.check_logs) endCheckLogs(t.check_logs, 'stopped');
      t.streaming = '';
      t.status = e.status;
      t.message = e.message;
      t.evidence = e.evidence;
      if (e.status === 'awaiting_judge')
        t.gate = { status: 'awaiting_judge', why: 'the change is high risk: a cloud Judge must approve it (GR-002)' };
      return;
  }
}

/** What the status means for someone reading the view after a reload, where the result said nothing. */
const RECORDED_MESSAGE: Partial<Record<TaskState['status'], string>> = {
  interrupted:
    'The task stopped when its window or process went away (a reload, a crash, a restart). Resume it, or abandon it ' +
    'to put the workspace back as it was before the task.',
  running: 'Running in another window or process (the CLI). It shows as interrupted if that process ends.',
};

/** A recorded task redrawn: its events replayed through `applyEvent`, then its state as the summary says it is. */
export function replayTask(summary: TaskSummary, events: AgentEvent[]): TaskState {
  const t = emptyTask(summary.task_id, summary.instruction, false, false);
  t.restored_from_disk = true;
  const dir = summary.evidence;
  for (const e of events) applyEvent(t, e, () => '');
  t.streaming = '';
  t.diff = lastDiff(dir);
  // The summary is the truth about the end (a running task whose owner is gone is "interrupted"); the checkpoints
  // are the ones on record, with the turns they were taken at.
  t.status = summary.status;
  if (summary.reason) t.reason = summary.reason;
  else delete t.reason;
  const said = RECORDED_MESSAGE[summary.status];
  if (said) t.message = said;
  else if (summary.message) t.message = summary.message;
  else if (!events.some((e) => e.type === 'result')) t.message = `The task is ${summary.status}.`;
  if (t.status !== 'running' && t.check_logs) endCheckLogs(t.check_logs, 'stopped');
  const seen = new Set(t.checkpoints.map((c) => c.id));
  for (const c of summary.checkpoints) if (!seen.has(c.id)) t.checkpoints.push(c);
  t.evidence = dir;
  return t;
}

/** The task's whole change at its last edit: the newest `diffs/turn-NN.diff` of its evidence folder. */
function lastDiff(dir: string): string {
  try {
    const names = readdirSync(join(dir, 'diffs'))
      .filter((n) => /^turn-\d+\.diff$/.test(n))
      .sort();
    const last = names.at(-1);
    return last ? readFileSync(join(dir, 'diffs', last), 'utf8').slice(0, 200_000) : '';
  } catch {
    return '';
  }
}

/** The picker's row of a task. */
export const listItem = (s: TaskSummary): TaskListItem => ({
  task_id: s.task_id,
  instruction: s.instruction.slice(0, 300),
  status: s.status,
  ...(s.reason ? { reason: s.reason } : {}),
  updated: s.updated,
});
