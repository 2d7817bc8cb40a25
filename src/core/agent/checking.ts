// Checks and commands: each asks first where the sandbox or the rules say so, runs with its output streamed, has
// what it wrote to governing files undone (GR-010), and is kept as evidence; a failed check loop is counted for
// the router, and the loop that reaches the policy's maximum is audited as an escalation (GR-005).
import { checkpointBefore } from './editing.js';
import { streamedChecks } from './checkBatch.js';
import { route } from '../router/route.js';
import { routeRequest } from './state.js';
import { governingSnapshot, undoGoverningChanges, undoneNote } from './governingWatch.js';
import { permitChecks, permitCommand } from './permits.js';
import { AgentTask, CANCELLED, pad } from './task.js';

export async function checks(t: AgentTask): Promise<{ content: string; ok: boolean }> {
  const refused = await permitChecks(t.p);
  if (refused) {
    t.lastCheck = { ok: false, unverified: true };
    t.editedSinceCheck = false;
    t.p.evidence.write(`checks/turn-${pad(t.turn)}.log`, `[not run: ${refused}; the user did not approve]\n`);
    return { content: `the checks did not run: ${refused}, and the user did not approve running them`, ok: false };
  }
  await checkpointBefore(t, `before the checks of turn ${t.turn}`);
  t.snapshot = null; // the checks may write files (reports, generated code)
  t.changedSinceCheckpoint = true;
  const gov = governingSnapshot(t.p.ws);
  const r = await streamedChecks(t.p, t.state.measured, t.signal, t.turn);
  const undone = await undoGoverning(t, gov, 'the checks');
  if (r.cancelled) throw CANCELLED();
  if (undone) r.log += `\n[${(t.undoneByChecks = undone)}]\n`;
  const unverified = r.steps.length === 0;
  t.p.evidence.write(`checks/turn-${pad(t.turn)}.log`, r.log || '(no check is configured for this workspace)');
  t.editedSinceCheck = false;
  t.lastCheck = { ok: r.ok && !unverified, unverified };
  const errors = r.errors.map((e) => e.rendered || e.message);
  t.p.emit({
    type: 'check',
    turn: t.turn,
    ok: r.ok && !unverified,
    steps: r.steps.map((s) => s.name),
    errors: errors.slice(0, 5),
    unverified,
  });
  if (unverified) return { content: 'no check is configured for this workspace: the change is unverified', ok: false };
  if (r.ok) {
    t.attempt('passed', r.steps.map((s) => s.name).join(', '));
    return { content: `checks passed: ${r.steps.map((s) => s.name).join(', ')}`, ok: true };
  }
  t.attempt(
    'check_failed',
    r.errors
      .map((e) => e.message)
      .slice(0, 5)
      .join('; ') || r.log.slice(-500),
  );
  t.state.failedLoops++;
  await noteFailedLoop(t);
  const timed = r.timedOut ? ' (timed out)' : '';
  return {
    content: `checks failed${timed} (${t.state.failedLoops} failed loop(s)):\n${errors.join('\n').slice(0, 8_000)}`,
    ok: false,
  };
}

export async function noteFailedLoop(t: AgentTask): Promise<void> {
  const max = t.i.policy.escalation.implementer.max_failed_loops;
  if (t.state.failedLoops !== max) return;
  const next = route({ role: 'implementer', ...routeRequest(t.state) }, t.i.policy, {
    local_only_setting: t.i.localOnly,
  });
  const to = next.refused
    ? `no escalation: ${next.refused.message}`
    : `escalating by ${next.rule} to ${next.provider}/${next.model}`;
  await t.p.caller.note(
    'escalation',
    `GR-005: implementer: ${max} failed compile/test loops (policy max ${max}); ${to}`,
    {
      role: 'implementer',
      task_id: t.i.task_id,
    },
  );
}

export async function command(
  t: AgentTask,
  argv: string[],
  cwd: string,
  timeoutS: number,
): Promise<{ content: string; ok: boolean }> {
  const rules = t.i.commandRules ?? {
    userAllow: t.i.policy.agent?.command_allowlist ?? [],
    repoAllow: [],
    deny: [],
  };
  const refused = await permitCommand(t.p, rules, argv, cwd);
  if (refused) return { content: refused, ok: false };
  await checkpointBefore(t, `before turn ${t.turn}: ${argv.join(' ').slice(0, 120)}`);
  t.snapshot = null; // a command may change the workspace
  t.changedSinceCheckpoint = true;
  const gov = governingSnapshot(t.p.ws);
  const r = await t.p.runCommand(argv, cwd, timeoutS * 1000, t.signal);
  const undone = await undoGoverning(t, gov, argv[0] ?? 'the command');
  if (r.cancelled) throw CANCELLED();
  if (undone) r.stderr += `\n[${undone}]`;
  t.p.evidence.append('commands.jsonl', {
    turn: t.turn,
    argv,
    cwd,
    code: r.code,
    ms: r.ms,
    timedOut: r.timedOut,
  });
  const out = `${r.stdout}${r.stderr ? `\n[stderr]\n${r.stderr}` : ''}`;
  const status = r.timedOut ? `timed out after ${timeoutS} s` : `exit ${r.code ?? r.signal}`;
  return { content: `${argv.join(' ')}: ${status}\n${out}`, ok: r.code === 0 };
}

/** What a command or check wrote to governing files is undone, said to the model and in the audit log (GR-005). */
export async function undoGoverning(t: AgentTask, before: Map<string, Buffer>, what: string): Promise<string | null> {
  const undone = undoGoverningChanges(t.p.ws, before);
  if (!undone.length) return null;
  const note = undoneNote(what, undone);
  t.p.evidence.append('undone.jsonl', { turn: t.turn, what, undone });
  await t.p.caller.note('refusal', `GR-010: implementer: ${note}`, {
    role: 'implementer',
    task_id: t.i.task_id,
  });
  return note;
}
