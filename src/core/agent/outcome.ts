// The end of a task: a finish call (a low-confidence local finish is handed to a second model; unchecked edits are
// checked first), its outcome (passed, unverified, awaiting the Judge), and the result: result.json, the sealed
// evidence folder, the result event.
import type { AgentResult } from './ports.js';
import type { AgentEvent } from './events.js';
import { checks } from './checking.js';
import { AgentTask, Done } from './task.js';

/**
 * finish: a local model below the policy's confidence threshold hands the task to the cloud (low-confidence
 * self-check); edits not yet checked are checked first; then the task ends.
 */
export async function finishCall(
  t: AgentTask,
  summary: string,
  confidence: number,
): Promise<{ content: string; ok: boolean } | Done> {
  const th = t.i.policy.escalation.implementer;
  t.p.evidence.append('finish.jsonl', { turn: t.turn, summary, confidence });
  const local = t.lastLane?.startsWith('local');
  if (confidence < th.confidence_threshold && local && t.state.lowConfidence === null) {
    t.state.lowConfidence = confidence;
    return {
      content:
        `confidence ${confidence} is below the policy's ${th.confidence_threshold}: the task is not finished; ` +
        'a second model reviews the work so far and completes it (low-confidence self-check).',
      ok: false,
    };
  }
  if (t.p.ws.changes().length === 0)
    return new Done('failed', `The agent finished without changing anything: ${summary}`);
  if (t.editedSinceCheck || !t.lastCheck) {
    const r = await checks(t);
    if (!r.ok && !t.lastCheck?.unverified)
      return { content: `${r.content}\nFix the errors, then finish again.`, ok: false };
  }
  if (t.lastCheck && !t.lastCheck.ok && !t.lastCheck.unverified)
    return { content: 'the last checks failed; fix them before you finish', ok: false };
  return outcome(t, summary);
}

export function outcome(t: AgentTask, summary: string): Done {
  if (t.lastCheck?.unverified)
    return new Done(
      'unverified',
      `${summary} — nothing checked this change (no check is configured): unverified (GR-006).`,
    );
  if (t.requiresJudge)
    return new Done(
      'awaiting_judge',
      `${summary} — the checks passed; the change is high risk: a cloud Judge must approve it (GR-002).`,
    );
  return new Done('passed', `${summary} — the checks passed.`);
}

export function finish(t: AgentTask, end: Done): AgentResult {
  const { p } = t;
  const changed = p.ws.changes().map((c) => c.path);
  const r: AgentResult = {
    status: end.status,
    ...(end.reason ? { reason: end.reason } : {}),
    message: end.message,
    turns: t.turn,
    checkpoints: p.checkpoints.all(),
    changed,
    requires_judge: t.requiresJudge,
    evidence: p.evidence.dir,
    classification: t.state.measured,
    attempts: t.attempts,
  };
  p.evidence.write('result.json', {
    ...r,
    classification: r.classification
      ? {
          lines_changed: r.classification.lines_changed,
          risk_flags: r.classification.risk_flags,
          high_risk: r.classification.high_risk,
        }
      : null,
  });
  const e: AgentEvent = {
    type: 'result',
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    message: r.message,
    turns: r.turns,
    evidence: r.evidence,
  };
  // The record is whole before the seal: the result event and the task's end are in it, then nothing is written.
  t.closed = true;
  t.save();
  t.log.event(e);
  t.log.state(r.status, r.reason);
  p.evidence.seal();
  t.report(e);
  return r;
}

/** The task's owner went away (a window reload): it stops where it is, resumable; no result, nothing sealed. */
export async function interrupted(t: AgentTask): Promise<AgentResult> {
  await t.snapshot?.catch(() => null); // no git of the task still running in the shadow repository
  t.closed = true;
  t.save();
  t.log.state('interrupted');
  return {
    status: 'interrupted',
    message: 'Interrupted: the window that ran this task went away. Resume it, or abandon it.',
    turns: t.turn,
    checkpoints: t.p.checkpoints.all(),
    changed: t.p.ws.changes().map((c) => c.path),
    requires_judge: t.requiresJudge,
    evidence: t.p.evidence.dir,
    classification: t.state.measured,
    attempts: t.attempts,
  };
}
