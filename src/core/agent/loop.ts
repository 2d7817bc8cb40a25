// The Implementer as a tool-using agent (MODEL-POLICY.md §1, §3; GR-002, GR-005, GR-006, GR-010). Each turn: the
// router decides again from the task's running state (state.ts), the transcript is fitted to the serving model's
// window (transcript.ts), one model call goes through the one call path with the tools, and each tool call runs
// (tools.ts): reads at once, edits on approval after a checkpoint, commands on approval or by the policy's
// allowlist. After every edit the whole change so far is measured again; a lane change is audited and the new
// model gets the transcript so far. The task ends when the model finishes and the checks pass (or nothing could
// check it: "unverified"; or a high-risk change: "awaiting_judge"), when it gives up, is refused or is stopped.
// The rooms: task.ts (what a running task holds), turn.ts (the turn loop), toolCalls.ts, editing.ts, checking.ts,
// textAnswer.ts, outcome.ts (the end of a task); this file starts a task.
import { openingMessages, projectRules } from './prompt.js';
import { noteNoSandbox } from './permits.js';
import type { AgentInput, AgentPorts, AgentResult } from './ports.js';
import { AgentTask, Done, isCancel } from './task.js';
import { runTurns } from './turn.js';
import { finish, interrupted } from './outcome.js';
import { INPUT, INTERRUPTED } from './taskLog.js';

export type { CommandAsk } from './permits.js';
export type { AgentEvent, AgentStatus } from './events.js';
export type { AgentInput, AgentPorts, AgentResult, EditDecision } from './ports.js';
export { DEFAULT_MAX_WRITE_BYTES } from './task.js';

export async function runAgent(p: AgentPorts, i: AgentInput): Promise<AgentResult> {
  const t = new AgentTask(p, i);
  const rules = projectRules(p.ws);
  p.evidence.write('instruction.md', `# ${i.task_id}\n\n${i.instruction}\n`);
  for (const r of rules) p.evidence.write(`rules/${r.path.replace(/\//g, '_')}`, r.text);
  if (i.scope?.why.length) p.evidence.write('scope.json', i.scope);
  if (i.planStep) p.evidence.write('plan-step.json', i.planStep);
  p.evidence.write(INPUT, { instruction: i.instruction, ...(i.focus ? { focus: i.focus } : {}) });
  t.log.running();
  // The project's files are data in the user's role, delimited and labelled, never the system's instructions; the
  // opening messages are the stable start of the prompt-cache prefix (prompt.ts).
  t.push(...openingMessages(i.policy, rules, i));
  await noteNoSandbox(t.p, i.task_id, (n, b) => p.evidence.write(n, b));
  return drive(t);
}

/** The turns of a task, to its end (or to an interruption, which leaves it resumable: resume.ts). */
export async function drive(t: AgentTask): Promise<AgentResult> {
  let end: Done;
  try {
    end = await runTurns(t);
  } catch (e) {
    // A fault of the host (not the model's: those are answers) leaves the task where it was, resumable.
    if (!isCancel(e)) {
      await interrupted(t).catch(() => null);
      throw e;
    }
    if (t.signal.reason === INTERRUPTED) return interrupted(t);
    end = new Done('cancelled', 'Stopped. The edits made so far stay; restore a checkpoint to undo them.');
  }
  return finish(t, end);
}
