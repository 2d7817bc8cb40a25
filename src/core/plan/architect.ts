// The Architect (MODEL-POLICY.md §1, §2 pattern 3, §3): a cloud-first draft of plan.json, one maieutic
// self-critique pass by the same model, and an optional critic-only sidecar that never blocks (GR-001).
// Offline or under local_only the local planner writes a fast draft, marked as such (GR-005).
import { randomBytes } from 'node:crypto';
import { compactStamp } from '../evidence/taskEvidence.js';
import type { Policy } from '../policy/schema.js';
import { cuttableText } from '../providers/fit.js';
import type { ChatMessage } from '../providers/types.js';
import { CallFailed, CallRefused, type ModelCaller } from '../providers/call.js';
import { callJson } from '../providers/structured.js';
import { stepScope } from '../agent/scope.js';
import { initialState, routeRequest } from '../agent/state.js';
import { route } from '../router/route.js';
import type { RouteDecision, Signals } from '../router/types.js';
import {
  CRITIC_HINT,
  CRITIQUE_HINT,
  CriticNotes,
  Plan,
  PLAN_HINT,
  SelfCritique,
  type PlanRecord,
  type PlanStep,
} from '../protocol/planRecord.js';

export interface ArchitectInput {
  goal: string;
  /**
   * What the Architect may read (the selection, the open file, the workspace's layout; Stage 0 output), most
   * important first: what does not fit the serving model's window is cut from its end.
   */
  context: string;
  policy: Policy;
  task_id?: string;
  signal?: AbortSignal;
  /** The user asked for a quick local draft (then a cloud review). */
  fastDraft?: boolean;
  /** The user (setting or SPEC_KIT_CRITIC) asked for the critic-only sidecar. */
  critic?: boolean;
  onStage?: (stage: string) => void;
}

// Connection failures, refusals and timeouts: no answer came from any cloud server.
const CLOUD_UNREACHABLE = new Set(['connection', 'timeout', 'unavailable']);

export function architectSystem(policy: Policy): string {
  const t = policy.escalation.implementer;
  return [
    'You are the Architect of Switchyard, a coding agent. You plan a code change; you do not write the code.',
    'Split the work into small steps that one Implementer can do one at a time, in order. For ' +
      'each step give the files it touches (paths relative to the workspace), an honest estimate ' +
      'of the lines it changes, the risk flags it raises, and the acceptance checks that prove it ' +
      'done.',
    'Risk flags: unsafe_ffi (unsafe code, FFI, raw pointers), public_api (items visible outside ' +
      'their crate, CLI flags, config schemas), async_concurrency (async, locks, channels, atomics), ' +
      'security_sandbox (auth, credentials, crypto, sandboxing, permissions), persistence_schema ' +
      '(serialized types, on-disk formats, protocol messages), build_tooling (manifests, build scripts, ' +
      'CI), cross_crate (two or more crates).',
    `Suggested lane: "cloud" when the step is high risk or changes over ${t.direct_cloud_over_lines} ` +
      `lines; "local_reflex" under ${t.small_diff_max_lines} lines; "local" otherwise.`,
    'State your assumptions. Confidence is your honest probability (0 to 1) that the plan, followed as written, meets the goal.',
  ].join('\n');
}

const MAIEUTIC = [
  'Before this plan is final, question it as a demanding reviewer would (maieutic self-critique), then answer each question honestly:',
  '- Which assumption, if wrong, breaks the plan? Is anything asked for missing?',
  '- Is any step too large for one Implementer pass, in the wrong order, or touching files it does not name?',
  '- Are the line estimates and risk flags honest? Would a step need a cloud Judge (high risk)?',
  '- Is the confidence justified?',
  'Then give the final plan, changed where your answers require it.',
].join('\n');

export function newPlanId(now = new Date()): string {
  const d = compactStamp(now).slice(0, 13);
  return `plan-${d}-${randomBytes(3).toString('hex')}`;
}

/**
 * True when no cloud model of a failed call could be reached: every cloud attempt failed to reach its server (no
 * network, DNS, timeouts), or none could be made because no cloud model of the chain has an API key.
 */
export function cloudUnreachable(e: unknown): boolean {
  if (!(e instanceof CallFailed)) return false;
  const cloud = e.attempts.filter((a) => a.provider !== 'local');
  if (cloud.length === 0) return e.kind === 'no_key';
  return cloud.every((a) => CLOUD_UNREACHABLE.has(a.outcome));
}

/** Why the cloud could not be reached, for the audit line: the attempts, or the keys that are missing. */
function unreachableWhy(e: CallFailed): string {
  if (e.attempts.length) return e.attempts.map((a) => `${a.provider}/${a.model} ${a.outcome}`).join(', ');
  const cloud = (e.decision?.chain ?? []).filter((l) => l.provider !== 'local');
  return `no API key for any of its cloud models: ${cloud.map((l) => `${l.provider}/${l.model}`).join(', ')}`;
}

/** The lane the router would give a step (the Implementer's rules, §1/§3/§7), for the review's badges. */
export function stepRoute(step: PlanStep, policy: Policy, localOnly: boolean): RouteDecision {
  // The request the agent's first turn on this step sends (agent/state.ts), so that the badge is the lane taken.
  return route({ role: 'implementer', ...routeRequest(initialState(stepScope(step))) }, policy, {
    local_only_setting: localOnly,
  });
}

export interface ArchitectResult {
  record: PlanRecord;
  /** The critic sidecar's notes, when it runs: resolves later and never rejects. */
  critic: Promise<PlanRecord['critic']>;
}

type Ask = {
  base: { role: 'architect'; task_id?: string; signal?: AbortSignal; max_tokens: number };
  ask: ChatMessage[];
  signals: Signals;
};

/** The draft: cloud-first; when the cloud cannot be reached, the policy's local planner writes a fast draft (§3). */
async function draftPlan(caller: ModelCaller, input: ArchitectInput, a: Ask, stage: (s: string) => void) {
  const { base, ask } = a;
  let signals = a.signals;
  let draft;
  try {
    draft = await callJson(caller, Plan, { ...base, messages: ask, route: { signals }, schemaHint: PLAN_HINT });
  } catch (e) {
    if (!cloudUnreachable(e)) throw e;
    // Offline: the policy's local planner writes a fast draft (§3), and says so (GR-005).
    await caller.note(
      'fallback',
      `GR-005: architect: the cloud could not be reached (${unreachableWhy(e as CallFailed)}); ` +
        `the local planner writes a fast draft instead, marked as such; review it in the cloud before ` +
        `implementing high-risk work`,
      { role: 'architect', task_id: input.task_id ?? null },
    );
    signals = { ...signals, offline: true };
    stage('Architect: offline, local fast draft…');
    draft = await callJson(caller, Plan, { ...base, messages: ask, route: { signals }, schemaHint: PLAN_HINT });
  }
  return { ...draft, signals };
}

/** One maieutic self-critique by the drafting model; a failure leaves the unreviewed draft, said so (GR-005). */
async function selfCritique(caller: ModelCaller, input: ArchitectInput, a: Ask, draft: Drafted) {
  const { base, ask, signals } = a;
  let callId: string | null = null;
  let cost = 0;
  let plan = draft.value;
  let self: PlanRecord['self_critique'] = null;
  try {
    const c = await callJson(caller, SelfCritique, {
      ...base,
      parent_call: draft.result.call_id,
      route: { signals },
      schemaHint: CRITIQUE_HINT,
      prefer: { provider: draft.result.provider, model: draft.result.model },
      messages: [
        ...ask,
        { role: 'assistant', content: JSON.stringify(draft.value) },
        { role: 'user', content: MAIEUTIC },
      ],
    });
    plan = c.value.plan;
    callId = c.result.call_id;
    cost = c.result.cost_usd;
    const same = c.result.provider === draft.result.provider && c.result.model === draft.result.model;
    self = {
      provider: c.result.provider,
      model: c.result.model,
      questions: c.value.questions,
      changes: c.value.changes,
      same_model: same,
    };
    if (!same)
      await caller.note(
        'fallback',
        `GR-005: architect: the self-critique was served by ${c.result.provider}/${c.result.model}, ` +
          `not by the drafting model ${draft.result.provider}/${draft.result.model} (it was unavailable)`,
        { role: 'architect', task_id: input.task_id ?? null, call_id: c.result.call_id },
      );
  } catch (e) {
    if (e instanceof CallFailed && e.kind === 'cancelled') throw e;
    await caller.note(
      'failure',
      `GR-005: architect: the self-critique pass failed (${(e as Error).message}); the plan is the unreviewed draft and says so`,
      { role: 'architect', task_id: input.task_id ?? null },
    );
  }

  return { plan, self, callId, cost };
}

type Drafted = Awaited<ReturnType<typeof draftPlan>>;

/** The plan's record: who wrote it under which rule, its self-critique, and a review that starts as a draft. */
function planRecord(
  plan: Drafted['value'],
  result: Drafted['result'],
  self: PlanRecord['self_critique'],
  callIds: string[],
  cost: number,
): PlanRecord {
  const local = result.provider === 'local';
  const d = result.decision;
  const draft = { result };
  return {
    id: newPlanId(),
    created: new Date().toISOString(),
    plan,
    author: {
      provider: draft.result.provider,
      model: draft.result.model,
      rule: d.rule,
      lane: local ? 'local' : 'cloud',
      kind: local ? 'local_fast_draft' : 'cloud',
      why: local
        ? `local fast draft (${d.rule}): ${d.reasons.join('; ')}; needs a cloud review before high-risk work`
        : `${d.rule}: ${d.reasons.join('; ')}`,
      call_ids: callIds,
      cost_usd: cost,
    },
    self_critique: self,
    critic: { status: 'off', why: 'not requested (enable switchyard.plan.critic or SPEC_KIT_CRITIC=true)' },
    review: {
      status: 'draft',
      steps: Object.fromEntries(plan.steps.map((s) => [s.id, 'pending' as const])),
      decided: null,
      evidence: null,
    },
  };
}

export async function createPlan(caller: ModelCaller, input: ArchitectInput): Promise<ArchitectResult> {
  const stage = input.onStage ?? (() => {});
  const base = {
    role: 'architect' as const,
    ...(input.task_id ? { task_id: input.task_id } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    max_tokens: 8_000,
  };
  const ask = [
    { role: 'system' as const, content: architectSystem(input.policy) },
    cuttableText('user', `Goal: ${input.goal}\n\nWhat you can see of the workspace:\n`, input.context, {
      order: 1,
      label: 'workspace context',
    }),
  ];
  let signals: Signals = input.fastDraft ? { fast_draft: true } : {};

  stage(input.fastDraft ? 'Architect: local fast draft…' : 'Architect: drafting the plan…');
  const draft = await draftPlan(caller, input, { base, ask, signals }, stage);
  signals = draft.signals;
  const callIds = [draft.result.call_id];
  let cost = draft.result.cost_usd;

  stage('Architect: self-critique…');
  const critique = await selfCritique(caller, input, { base, ask, signals }, draft);
  const plan = critique.plan;
  if (critique.callId) callIds.push(critique.callId);
  cost += critique.cost;
  const record = planRecord(plan, draft.result, critique.self, callIds, cost);
  if (!input.critic) return { record, critic: Promise.resolve(record.critic) };
  const sidecar = route({ role: 'architect', signals: { ...signals, critic_requested: true } }, input.policy, {
    local_only_setting: false,
  }).sidecar;
  if (sidecar) record.critic = { status: 'running', provider: sidecar.provider, model: sidecar.model };
  return { record, critic: runCritic(caller, plan, input, signals) };
}

async function runCritic(
  caller: ModelCaller,
  plan: Plan,
  input: ArchitectInput,
  signals: Signals,
): Promise<PlanRecord['critic']> {
  try {
    const r = await callJson(caller, CriticNotes, {
      role: 'architect',
      sidecar: true,
      route: { signals: { ...signals, critic_requested: true } },
      schemaHint: CRITIC_HINT,
      max_tokens: 4_000,
      ...(input.task_id ? { task_id: input.task_id } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      messages: [
        {
          role: 'system',
          content:
            "You are a critic-only reviewer (you never rewrite the plan). List the plan's risks, contradictions, " +
            "missing requirements and conflicts with the team's guardrails (no consensus, high-risk work " +
            'needs a cloud Judge, local_only forbids cloud calls, budget caps, evidence required). Empty ' +
            'lists where there is nothing to say.',
        },
        { role: 'user', content: `Goal: ${input.goal}\n\nPlan:\n${JSON.stringify(plan, null, 2)}` },
      ],
    });
    return { status: 'done', provider: r.result.provider, model: r.result.model, notes: r.value };
  } catch (e) {
    if (e instanceof CallRefused) return { status: 'off', why: e.message };
    return { status: 'failed', why: (e as Error).message };
  }
}
