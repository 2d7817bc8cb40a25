// The plan review's message table, shared by the host and media/.
import { z } from 'zod';
import { PlanRecord } from './planRecord.js';

export const StepLaneView = z.object({
  lane: z.enum(['local_reflex', 'local', 'cloud', 'refused']),
  rule: z.string(),
  route: z.string(),
  high_risk: z.boolean(),
  why: z.string(),
});

/** Host -> webview. */
export const ToPlanView = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    record: PlanRecord,
    lanes: z.record(z.string(), StepLaneView),
    path: z.string(),
    notice: z.object({ level: z.enum(['info', 'error']), text: z.string() }).nullable(),
    /** A step of the plan is running now. */
    running: z.boolean().optional(),
    /** Why the plan needs a cloud review before it runs (null: it does not, or it has one). */
    review_needed: z.string().nullable().optional(),
  }),
  z.object({ type: z.literal('empty'), text: z.string() }),
]);
export type ToPlanView = z.infer<typeof ToPlanView>;

const id = z.string().min(1).max(40);

/** Webview -> host: validated before anything is done with it; unknown fields are refused. */
export const FromPlanView = z.discriminatedUnion('type', [
  /** `ms`: how long the view took to load, from its document's start (the panel-open figure). */
  z.strictObject({ type: z.literal('ready'), ms: z.number().nonnegative().max(600_000).optional() }),
  z.strictObject({
    type: z.literal('editStep'),
    id,
    field: z.enum(['title', 'description', 'files', 'estimated_lines']),
    value: z.string().max(4_000),
  }),
  z.strictObject({ type: z.literal('moveStep'), id, direction: z.enum(['up', 'down']) }),
  z.strictObject({ type: z.literal('setStep'), id, status: z.enum(['pending', 'approved', 'rejected']) }),
  z.strictObject({ type: z.literal('setPlan'), status: z.enum(['approved', 'rejected', 'draft']) }),
  /** "Run step" (the Implementer on one approved step). */
  z.strictObject({ type: z.literal('implementStep'), id }),
  z.strictObject({ type: z.literal('runPlan') }),
  z.strictObject({ type: z.literal('skipStep'), id }),
  z.strictObject({ type: z.literal('acceptStep'), id }),
  z.strictObject({ type: z.literal('judgeStep'), id }),
  z.strictObject({ type: z.literal('reviewPlan') }),
  z.strictObject({ type: z.literal('overrideReview') }),
  z.strictObject({ type: z.literal('openFile'), path: z.string().min(1).max(400) }),
]);
export type FromPlanView = z.infer<typeof FromPlanView>;
