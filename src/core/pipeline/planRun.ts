// Running a plan (MODEL-POLICY.md §2 "Stage 0 → Single Architect → Single Implementer → Single Judge"): the
// approved steps in order, each by the agent with its estimate, flags and suggested lane routing its first turn.
// A step ends done (its checks passed), awaiting the Judge (high risk, GR-002), unverified (nothing could check it,
// GR-006), failed or stopped; anything but done stops the run and says why. The plan file keeps every step's state,
// the task that did it and its evidence. A draft plan cannot run; a plan that needs a cloud review (a local fast
// draft, a confidence under the policy's threshold) runs only after one, or when the user overrides (GR-005).
import type { AgentInput, AgentStatus } from '../agent/loop.js';
import { taskScope } from '../agent/scope.js';
import type { Workspace } from '../agent/workspace.js';
import type { Policy } from '../policy/schema.js';
import type { PlanRecord, PlanStep, StepRun, StepState } from '../protocol/planRecord.js';
import type { GateStatus } from './gate.js';

export interface StepOutcome {
  status: AgentStatus;
  task_id: string;
  evidence: string;
  message: string;
}

export interface PlanRunPorts {
  save(r: PlanRecord): void;
  /** Runs one step with the agent (the instruction and scope come from the step). */
  runStep(r: PlanRecord, step: PlanStep): Promise<StepOutcome>;
  /** The Judge gate of a task that awaited it. */
  gate(taskId: string): GateStatus;
  /** GR-005 lines (an override of a needed cloud review, an unverified step accepted). */
  note(line: string): Promise<void>;
}

export const stepState = (r: PlanRecord, id: string): StepState =>
  r.progress?.[id]?.state ?? r.review.steps[id] ?? 'pending';

/** Why the plan needs a cloud review before it runs, or null. */
export function reviewNeeded(r: PlanRecord, policy: Policy): string | null {
  if (r.cloud_review) return null;
  const threshold = policy.escalation.implementer.confidence_threshold;
  if (r.author.kind === 'local_fast_draft') return 'it is a local fast draft: the cloud reviews it before it runs (§3)';
  if (r.plan.confidence < threshold)
    return `its confidence ${r.plan.confidence} is below the policy's threshold ${threshold} (§3)`;
  return null;
}

/** Why the plan cannot run now, or null. */
export function cannotRun(r: PlanRecord, policy: Policy): string | null {
  if (r.review.status === 'draft') return 'the plan is a draft: approve it (or its steps) before it runs';
  if (r.review.status === 'rejected') return 'the plan was rejected';
  const review = reviewNeeded(r, policy);
  if (review && !r.review_overridden)
    return `the plan needs a cloud review before it runs: ${review}. Ask the Judge to review the plan, or run it anyway (audited, GR-005)`;
  return null;
}

const now = () => new Date().toISOString();

function setRun(r: PlanRecord, id: string, run: Omit<StepRun, 'at' | 'tries'>, tries?: number): PlanRecord {
  const prev = r.progress?.[id];
  return {
    ...r,
    progress: { ...(r.progress ?? {}), [id]: { ...run, at: now(), tries: tries ?? prev?.tries ?? 0 } },
  };
}

const STOP_WORDS: Partial<Record<AgentStatus, string>> = {
  awaiting_judge: 'is high risk and waits for the cloud Judge (GR-002): ask the Judge, then run the plan again',
  unverified:
    'changed files but nothing could check them (unverified, GR-006): add a check and retry, or accept it as unverified',
  failed: 'failed',
  refused: 'was refused',
  cancelled: 'was stopped',
  gave_up: 'gave up',
  interrupted: 'was interrupted',
};

const STATE_OF: Record<AgentStatus, StepRun['state']> = {
  passed: 'done',
  awaiting_judge: 'awaiting_judge',
  unverified: 'unverified',
  failed: 'failed',
  refused: 'failed',
  cancelled: 'failed',
  interrupted: 'failed',
  abandoned: 'failed',
  gave_up: 'failed',
};

export interface RunReport {
  record: PlanRecord;
  /** Why the run stopped before the end (null: every step is done or skipped). */
  stopped: string | null;
  ran: string[];
}

/** Runs the plan's steps in order from the first not done (or only `only`). */
export async function runPlan(
  p: PlanRunPorts,
  record: PlanRecord,
  policy: Policy,
  o: { only?: string } = {},
): Promise<RunReport> {
  let r = record;
  const blocked = cannotRun(r, policy);
  if (blocked) return { record: r, stopped: blocked, ran: [] };
  const ran: string[] = [];
  const steps = o.only ? r.plan.steps.filter((s) => s.id === o.only) : r.plan.steps;
  if (o.only && steps.length === 0) return { record: r, stopped: `the plan has no step "${o.only}"`, ran };
  for (const step of steps) {
    const state = stepState(r, step.id);
    if (state === 'done' || state === 'skipped' || state === 'rejected') continue;
    if (state === 'awaiting_judge') {
      const task = r.progress?.[step.id]?.task_id;
      if (task && p.gate(task) === 'approved') {
        r = setRun(r, step.id, { ...r.progress![step.id]!, state: 'done', message: 'approved by the cloud Judge' });
        p.save(r);
        continue;
      }
      return { record: r, stopped: `step ${step.id} ${STOP_WORDS.awaiting_judge}`, ran };
    }
    if (state === 'pending') return { record: r, stopped: `step ${step.id} is not approved`, ran };
    if (state === 'running') return { record: r, stopped: `step ${step.id} is already running`, ran };
    const tries = (r.progress?.[step.id]?.tries ?? 0) + 1;
    r = setRun(r, step.id, { state: 'running', task_id: null, evidence: null, message: 'running' }, tries);
    p.save(r);
    let out: StepOutcome;
    try {
      out = await p.runStep(r, step);
    } catch (e) {
      out = { status: 'failed', task_id: '', evidence: '', message: `the step could not run: ${(e as Error).message}` };
    }
    ran.push(step.id);
    const next = STATE_OF[out.status];
    r = setRun(r, step.id, {
      state: next,
      task_id: out.task_id || null,
      evidence: out.evidence || null,
      message: out.message,
    });
    p.save(r);
    if (next !== 'done')
      return { record: r, stopped: `step ${step.id} ${STOP_WORDS[out.status]}: ${out.message}`, ran };
  }
  return { record: r, stopped: null, ran };
}

/** The user's decisions on a step that stopped the run: skip it, or accept an unverified one (GR-005/GR-006). */
export async function settleStep(
  p: Pick<PlanRunPorts, 'note' | 'save'>,
  r: PlanRecord,
  id: string,
  how: 'skip' | 'accept_unverified',
): Promise<{ ok: true; record: PlanRecord } | { ok: false; error: string }> {
  const step = r.plan.steps.find((s) => s.id === id);
  if (!step) return { ok: false, error: `the plan has no step "${id.slice(0, 40)}"` };
  const state = stepState(r, id);
  if (state === 'running') return { ok: false, error: `step ${id} is running` };
  const prev = r.progress?.[id];
  let next: PlanRecord;
  if (how === 'skip') {
    if (state === 'done') return { ok: false, error: `step ${id} is done` };
    next = setRun(r, id, {
      state: 'skipped',
      task_id: prev?.task_id ?? null,
      evidence: prev?.evidence ?? null,
      message: 'skipped by the user',
    });
    await p.note(`plan ${r.id}: step ${id} skipped by the user (was ${state})`);
  } else {
    if (state !== 'unverified') return { ok: false, error: `step ${id} is ${state}, not unverified` };
    next = setRun(r, id, {
      state: 'done',
      task_id: prev?.task_id ?? null,
      evidence: prev?.evidence ?? null,
      message: 'accepted by the user UNVERIFIED: nothing checked this change (GR-006)',
    });
    await p.note(`GR-006: plan ${r.id}: step ${id} accepted unverified by the user; nothing checked its change`);
  }
  p.save(next);
  return { ok: true, record: next };
}

/** The user runs a plan that needs a cloud review without one: allowed, and audited (GR-005). */
export async function overrideReview(
  p: Pick<PlanRunPorts, 'note' | 'save'>,
  r: PlanRecord,
  policy: Policy,
): Promise<PlanRecord> {
  const why = reviewNeeded(r, policy);
  if (!why) return r;
  const next = { ...r, review_overridden: now() };
  await p.note(`GR-005: plan ${r.id} runs without the cloud review it needs (${why}): the user overrode it`);
  p.save(next);
  return next;
}

/** The agent's instruction for a step: what it is, what proves it done, and where it sits in the plan. */
export function stepInstruction(r: PlanRecord, step: PlanStep): string {
  const n = r.plan.steps.findIndex((s) => s.id === step.id) + 1;
  return [
    `Step ${step.id} (${n} of ${r.plan.steps.length}) of the plan "${r.plan.goal}": ${step.title}`,
    step.description,
    step.files.length ? `Files: ${step.files.join(', ')}` : '',
    step.acceptance.length ? `Done when: ${step.acceptance.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The agent's input for a step: its instruction, its scope (estimate, flags, suggested lane) and its evidence. */
export function stepTask(
  r: PlanRecord,
  step: PlanStep,
  ws: Workspace,
): Pick<AgentInput, 'instruction' | 'scope' | 'planStep'> {
  const instruction = stepInstruction(r, step);
  return {
    instruction,
    // Crates named by the step itself (not the plan's goal, which may name every crate of the plan).
    scope: taskScope(ws, { instruction: `${step.title}\n${step.description}`, step }),
    planStep: { plan_id: r.id, step },
  };
}
