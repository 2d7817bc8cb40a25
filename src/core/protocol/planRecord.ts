// plan.json: what the Architect must emit (MODEL-POLICY.md §1: "Must emit plan.json + confidence"), and the
// review record kept around it. The model-facing schema is what callJson validates (GR-012).
import { z } from 'zod';
import { RiskFlag } from '../policy/schema.js';

const text = (max: number) => z.string().trim().min(1).max(max);

export const PlanStep = z.object({
  id: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .regex(/^[A-Za-z0-9_.-]+$/, 'step ids are letters, digits, _ . -'),
  title: text(200),
  description: z.string().max(4_000).default(''),
  files: z.array(text(400)).max(50).default([]),
  estimated_lines: z.int().nonnegative().max(100_000),
  risk_flags: z.array(RiskFlag).max(7).default([]),
  suggested_lane: z.enum(['local_reflex', 'local', 'cloud']),
  acceptance: z.array(text(600)).max(20).default([]),
});
export type PlanStep = z.infer<typeof PlanStep>;

export const Plan = z.object({
  goal: text(2_000),
  assumptions: z.array(text(600)).max(30).default([]),
  steps: z
    .array(PlanStep)
    .min(1)
    .max(40)
    .refine((s) => new Set(s.map((x) => x.id)).size === s.length, 'step ids must be unique'),
  acceptance_checks: z.array(text(600)).max(30).default([]),
  confidence: z.number().min(0).max(1),
});
export type Plan = z.infer<typeof Plan>;

/** The Architect's maieutic pass over its own draft (§2 pattern 3): questions it asked itself, then the final plan. */
export const SelfCritique = z.object({
  questions: z
    .array(z.object({ question: text(600), answer: text(2_000) }))
    .min(1)
    .max(12),
  changes: z.string().max(2_000).default(''),
  plan: Plan,
});
export type SelfCritique = z.infer<typeof SelfCritique>;

/** The critic-only sidecar (GR-001): notes, never a rewrite. */
export const CriticNotes = z.object({
  risks: z.array(text(600)).max(20).default([]),
  contradictions: z.array(text(600)).max(20).default([]),
  missing_requirements: z.array(text(600)).max(20).default([]),
  guardrail_conflicts: z.array(text(600)).max(20).default([]),
});
export type CriticNotes = z.infer<typeof CriticNotes>;

export const PLAN_HINT =
  `{"goal": string, "assumptions": string[], "steps": [{"id": "s1", "title": string, "description": ` +
  `string, "files": string[] (paths relative to the workspace), "estimated_lines": integer, "risk_flags": ` +
  `("unsafe_ffi"|"public_api"|"async_concurrency"|"security_sandbox"|"persistence_schema"|"build_tooling"|"cross_crate")[], ` +
  `"suggested_lane": "local_reflex"|"local"|"cloud", "acceptance": string[]}], "acceptance_checks": ` +
  `string[], "confidence": number from 0 to 1}`;
export const CRITIQUE_HINT =
  `{"questions": [{"question": string, "answer": string}], "changes": string (what you changed ` +
  `and why), "plan": ${PLAN_HINT}}`;
export const CRITIC_HINT =
  `{"risks": string[], "contradictions": string[], "missing_requirements": string[], "guardrail_conflicts": ` +
  `string[]}`;

export type StepStatus = 'pending' | 'approved' | 'rejected';

/** What running a step did: the agent's task, its evidence, and where the step stands now. */
export const StepRun = z.object({
  state: z.enum(['running', 'done', 'failed', 'skipped', 'awaiting_judge', 'unverified']),
  task_id: z.string().nullable(),
  evidence: z.string().nullable(),
  message: z.string(),
  at: z.string(),
  tries: z.int().nonnegative(),
});
export type StepRun = z.infer<typeof StepRun>;
/** A step's state as the plan shows it: its run's, else its review's. */
export type StepState = StepStatus | StepRun['state'];

/** The file Switchyard keeps for a plan under review: the plan, who wrote it and how, and the review so far. */
export const PlanRecord = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  created: z.string(),
  plan: Plan,
  author: z.object({
    provider: z.string(),
    model: z.string(),
    rule: z.string(),
    lane: z.enum(['cloud', 'local']),
    /** 'local_fast_draft': written by the local planner (offline, local_only or asked for); needs a cloud review (GR-005). */
    kind: z.enum(['cloud', 'local_fast_draft']),
    why: z.string(),
    call_ids: z.array(z.string()),
    cost_usd: z.number(),
  }),
  self_critique: z
    .object({
      provider: z.string(),
      model: z.string(),
      questions: SelfCritique.shape.questions,
      changes: z.string(),
      same_model: z.boolean(),
    })
    .nullable(),
  critic: z.discriminatedUnion('status', [
    z.object({ status: z.literal('off'), why: z.string() }),
    z.object({ status: z.literal('running'), provider: z.string(), model: z.string() }),
    z.object({ status: z.literal('done'), provider: z.string(), model: z.string(), notes: CriticNotes }),
    z.object({ status: z.literal('failed'), why: z.string() }),
  ]),
  review: z.object({
    status: z.enum(['draft', 'approved', 'rejected']),
    steps: z.record(z.string(), z.enum(['pending', 'approved', 'rejected'])),
    decided: z.string().nullable(),
    evidence: z.object({ path: z.string(), sha256: z.string() }).nullable(),
  }),
  /** Each step's run (absent: never run). */
  progress: z.record(z.string(), StepRun).optional(),
  /** A cloud review of a plan that needs one (a local fast draft, a confidence below the policy's threshold). */
  cloud_review: z
    .object({ provider: z.string(), model: z.string(), verdict: z.string(), evidence: z.string(), at: z.string() })
    .optional(),
  /** The user ran the plan without the cloud review it needed (GR-005: audited). */
  review_overridden: z.string().optional(),
});
export type PlanRecord = z.infer<typeof PlanRecord>;
