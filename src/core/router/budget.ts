// GR-011 as the router sees it: a snapshot of spend per cap, compared before a cloud route is chosen.
import type { CapStatus } from '../budget/port.js';
import type { DecisionTier, RouteRequest, RouterState } from './types.js';
import { usd } from '../util/money.js';

export interface BudgetBreach {
  reason: string;
  message: (what: string) => string;
}

const PERIOD_WORD: Record<CapStatus['period'], string> = { day: 'daily', month: 'monthly', task: 'per-task' };

/** The first cap (in a fixed order) that a cloud call would pass, or null. */
export function checkBudget(
  req: RouteRequest,
  state: RouterState,
  role: string,
  tier: DecisionTier,
): BudgetBreach | null {
  const estimate = req.budget?.estimate_usd ?? 0;
  const caps: CapStatus[] = req.budget
    ? [
        {
          id: req.budget.cap_id ?? 'request',
          scope: 'global',
          period: 'task',
          spent_usd: req.budget.spent_usd,
          cap_usd: req.budget.cap_usd,
        },
      ]
    : (typeof state.caps === 'function' ? state.caps() : (state.caps ?? [])).filter(
        (c) =>
          c.scope === 'global' ||
          (c.scope === 'role' && c.target === role) ||
          (c.scope === 'tier' && c.target === tier),
      );
  for (const cap of caps) {
    if (cap.spent_usd + estimate > cap.cap_usd || cap.spent_usd >= cap.cap_usd) {
      const scope = cap.scope === 'global' ? '' : ` ${cap.target}`;
      const label =
        req.budget && !req.budget.cap_id ? 'budget cap' : `${PERIOD_WORD[cap.period]}${scope} cloud budget "${cap.id}"`;
      const tail = estimate > 0 ? ` plus this call's worst case ${usd(estimate)}` : '';
      return {
        reason: `GR-011: ${label} ${usd(cap.cap_usd)}: spent ${usd(cap.spent_usd)}${tail}`,
        message: (what) =>
          `GR-011: ${label} of ${usd(cap.cap_usd)} reached (${usd(cap.spent_usd)} spent${tail}). ` +
          `The ${what} is refused, not moved to a cheaper model. Raise the cap in .switchyard/policy.json ` +
          `(budget.caps), wait for the next ${cap.period === 'task' ? 'task' : cap.period}, or use the ` +
          `local lane.`,
      };
    }
  }
  return null;
}
