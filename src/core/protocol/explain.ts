// The Explain Routing Decisions webview's message table, shared by the host and media/.
import { z } from 'zod';

export const ExplainRow = z.object({
  role: z.string(),
  title: z.string(),
  rule: z.string(),
  route: z.string(),
  fallbacks: z.string(),
  reasons: z.string(),
  guardrails: z.string(),
  refused: z.string().nullable(),
  audit: z.string(),
});
export type ExplainRow = z.infer<typeof ExplainRow>;

export const ExplainRecent = z.object({ ts: z.string(), audit: z.string(), rule: z.string(), role: z.string() });

/** Host -> webview. */
export const ToExplainView = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    policySource: z.string(),
    policyVersion: z.string(),
    localOnly: z.boolean(),
    rejected: z.string().nullable(),
    roles: z.array(ExplainRow),
    recent: z.array(ExplainRecent),
  }),
]);
export type ToExplainView = z.infer<typeof ToExplainView>;

/** Webview -> host: validated before anything is done with it. */
export const FromExplainView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('openPolicy') }),
]);
export type FromExplainView = z.infer<typeof FromExplainView>;
