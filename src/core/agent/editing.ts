// Edits: a checkpoint before the turn's first (the snapshot taken while the model answered, when it is still the
// workspace), the user's approval (and the owner's for files that govern the agent), the write, and the whole
// change so far measured again by the classifier; the risk it once had stays in the task's scope (sticky routing).
import type { Classification } from '../classifier/types.js';
import { unifiedDiff } from './edits/answer.js';
import type { ProposedChange } from './tools.js';
import { isRefusal } from './workspace.js';
import { permitGoverning } from './permits.js';
import { AgentTask, pad } from './task.js';
import { sha256 } from './taskLog.js';

/** Edits: a checkpoint before the turn's first, approval, the write, and the whole change measured again. */
export async function edit(
  t: AgentTask,
  changes: ProposedChange[],
  summary: string,
): Promise<{ content: string; ok: boolean }> {
  const { p } = t;
  const governed = await permitGoverning(p, changes);
  if (governed) {
    t.attempt('rejected', summary);
    return { content: governed, ok: false };
  }
  const decision = await p.approveEdits(changes, summary);
  if (decision === 'reject') {
    t.attempt('rejected', summary);
    const content = `the user rejected this edit (${summary}); nothing was written. Ask or try another way.`;
    return { content, ok: false };
  }
  if (t.checkpointedTurn !== t.turn) {
    await checkpointBefore(t, `before turn ${t.turn}: ${summary}`);
    t.checkpointedTurn = t.turn;
  }
  t.snapshot = null; // the workspace changes now
  t.changedSinceCheckpoint = true;
  // Every path is checked before any is written: one refused path leaves the whole batch unwritten.
  try {
    p.ws.apply(changes);
  } catch (e) {
    if (!isRefusal(e)) throw e;
    return { content: `not written: ${(e as Error).message}`, ok: false };
  } finally {
    noteWrites(t, changes);
  }
  t.editedSinceCheck = true;
  const before = t.state.measured;
  const c = await measure(t);
  const lane = c
    ? ` The change so far: ${c.lines_changed} lines, ${c.risk_flags.length ? `risk flags ${c.risk_flags.join(', ')}` : 'no risk flag'}.`
    : '';
  const grew = c && c.high_risk && !before?.high_risk ? ' It now measures as high risk.' : '';
  return { content: `applied: ${summary}.${lane}${grew}`, ok: true };
}

/**
 * A checkpoint of the work tree before an action that may change it (an edit, a command, the checks), so that
 * Restore brings back what a command or a check wrote too. Nothing changed since the last one: it still holds.
 */
export async function checkpointBefore(t: AgentTask, label: string): Promise<void> {
  if (!t.changedSinceCheckpoint) return;
  const { p } = t;
  const ready = await t.snapshot?.catch(() => null);
  const cp = ready ? p.checkpoints.keep(ready, label) : await p.checkpoints.create(label);
  t.checkpoints.push({ ...cp, turn: t.turn });
  t.lastTree = cp.id; // the work tree just before this action
  t.writesSince = {};
  t.changedSinceCheckpoint = false;
  p.emit({ type: 'checkpoint', turn: t.turn, id: cp.id, label: cp.label });
}

/** The task's whole diff so far, measured by the classifier (only the files the task touched are read). */
export async function measure(t: AgentTask): Promise<Classification | null> {
  const changes = t.p.ws.changes();
  if (changes.length === 0) {
    t.state.measured = null;
    t.requiresJudge = false;
    return null;
  }
  const diff = unifiedDiff(changes);
  const asFile = changes.map((c) => ({ path: c.path, before: c.before, after: c.after ?? '' }));
  const c = await t.p.classify(diff, asFile);
  t.state.measured = c;
  t.requiresJudge = c.high_risk;
  // Routing is sticky within a task: a risk the change once had keeps later turns where it sent them (no bouncing
  // back to the local lane because the cloud model undid the risky lines).
  const scope = t.state.scope;
  scope.flags = [...new Set([...(scope.flags ?? []), ...c.risk_flags])].sort() as typeof c.risk_flags;
  scope.cross_crate ||= c.cross_crate;
  t.p.evidence.write(`diffs/turn-${pad(t.turn)}.diff`, diff);
  t.p.evidence.write(`classifications/turn-${pad(t.turn)}.json`, c);
  return c;
}

/** What the task wrote, kept for a resume (its originals) and for Abandon (the task's own writes since its last tree). */
function noteWrites(t: AgentTask, changes: ProposedChange[]): void {
  for (const c of changes) {
    const now = t.p.ws.current(c.path);
    t.writesSince[c.path] = now === undefined ? null : sha256(now);
  }
  t.log.originals(t.p.ws.originals);
  t.save();
}
