// The Tutor chat's message table, shared by the host and media/. Every field the webview sends is bounded.
import { z } from 'zod';

export const Served = z.object({
  provider: z.string(),
  model: z.string(),
  label: z.string(),
  lane: z.enum(['local', 'cloud']),
  fallback: z.boolean(),
  why: z.string().nullable(),
  cost_usd: z.number(),
  ms: z.number(),
  output_tokens: z.number(),
  /** The local server served another model than the policy names (GR-005). */
  warning: z.string().nullable().optional(),
});
export type Served = z.infer<typeof Served>;

export const Turn = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  attachments: z.array(z.string()),
  status: z.enum(['done', 'streaming', 'stopped', 'failed']),
  served: Served.nullable(),
  error: z.string().nullable(),
});
export type Turn = z.infer<typeof Turn>;

export const Meter = z.object({
  used: z.number(),
  short: z.number(),
  window: z.number(),
  level: z.enum(['ok', 'warning', 'full']),
});
export type Meter = z.infer<typeof Meter>;

/** Host -> webview. */
export const ToTutorView = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    turns: z.array(Turn),
    attachments: z.array(z.object({ id: z.string(), label: z.string(), tokens: z.number() })),
    meter: Meter,
    busy: z.boolean(),
    lane: z.string(),
    /** The local lane serves another model than the policy names: shown as a warning in the header. */
    laneWarning: z.string().nullable().optional(),
    notice: z.string().nullable(),
    /** The local server is stopped or failed and this window may start it. */
    canStart: z.boolean(),
  }),
  /** Text of the streaming answer, in order: `seq` counts batches so that a lost one would show. */
  z.object({ type: z.literal('delta'), id: z.string(), seq: z.number(), text: z.string() }),
  /** The partial answer was voided (a retry or the next model follows). */
  z.object({ type: z.literal('reset'), id: z.string(), reason: z.string() }),
]);
export type ToTutorView = z.infer<typeof ToTutorView>;

const MAX_TEXT = 20_000;
const MAX_CODE = 200_000;

/** Webview -> host: validated before anything is done with it; unknown fields are refused. */
export const FromTutorView = z.discriminatedUnion('type', [
  /** `ms`: how long the view took to load, from its document's start (the panel-open figure). */
  z.strictObject({ type: z.literal('ready'), ms: z.number().nonnegative().max(600_000).optional() }),
  z.strictObject({ type: z.literal('send'), text: z.string().trim().min(1).max(MAX_TEXT) }),
  z.strictObject({ type: z.literal('stop') }),
  z.strictObject({ type: z.literal('startServer') }),
  z.strictObject({ type: z.literal('newSession') }),
  /** "Start a Task": the pipeline from a sentence (the host runs the command). */
  z.strictObject({ type: z.literal('startTask') }),
  z.strictObject({ type: z.literal('attachSelection') }),
  z.strictObject({ type: z.literal('attachFile') }),
  z.strictObject({ type: z.literal('removeAttachment'), id: z.string().max(64) }),
  z.strictObject({ type: z.literal('copy'), text: z.string().max(MAX_CODE) }),
  z.strictObject({ type: z.literal('insert'), text: z.string().max(MAX_CODE) }),
  z.strictObject({ type: z.literal('openLink'), href: z.string().max(2_048) }),
  /** What the view rendered of an answer (chars and batches), so the host can tell a dropped batch. */
  z.strictObject({
    type: z.literal('rendered'),
    id: z.string().max(64),
    chars: z.int().nonnegative(),
    batches: z.int().nonnegative(),
    frames: z.int().nonnegative(),
  }),
]);
export type FromTutorView = z.infer<typeof FromTutorView>;
