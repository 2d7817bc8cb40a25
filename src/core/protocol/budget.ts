// The Budget view's message table, shared by the host and media/.
import { z } from 'zod';

const Money = z.number().finite();
const CapLine = z.object({
  id: z.string(),
  scope: z.string(),
  target: z.string().nullable(),
  period: z.string(),
  cap_usd: Money,
  spent_usd: Money,
  reserved_usd: Money,
  ratio: z.number(),
});

/** Host -> webview: the report of src/core/budget/report.ts. */
export const ToBudgetView = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    ledger: z.string(),
    report: z.object({
      as_of: z.string(),
      caps: z.array(CapLine),
      tightest: CapLine.nullable(),
      today: z.object({
        day: z.string(),
        spent_usd: Money,
        by_role: z.record(z.string(), Money),
        by_provider: z.record(z.string(), Money),
      }),
      month: z.object({
        month: z.string(),
        spent_usd: Money,
        by_role: z.record(z.string(), Money),
        by_provider: z.record(z.string(), Money),
        tokens_in: z.number(),
        tokens_out: z.number(),
        local_tokens: z.number(),
      }),
      per_day: z.array(z.object({ day: z.string(), spent_usd: Money })),
      top_tasks: z.array(z.object({ task: z.string(), spent_usd: Money, calls: z.number() })),
      in_flight: z.array(
        z.object({
          id: z.string(),
          role: z.string(),
          provider: z.string(),
          model: z.string(),
          reserved_usd: Money,
          age_s: z.number(),
        }),
      ),
      projection: z.object({ month_end_usd: Money, method: z.string(), monthly_cap_usd: Money.nullable() }),
    }),
  }),
]);
export type ToBudgetView = z.infer<typeof ToBudgetView>;

/** Webview -> host: validated before anything is done with it. */
export const FromBudgetView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('refresh') }),
  z.object({ type: z.literal('editCaps') }),
]);
export type FromBudgetView = z.infer<typeof FromBudgetView>;
