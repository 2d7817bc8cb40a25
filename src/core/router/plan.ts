// What a role's rule returns: which lanes serve, in order, and why. The engine turns it into a decision.
import type { Policy, RoleId } from '../policy/schema.js';
import type { Refusal, RouteRequest, Signals } from './types.js';

export type Lane = 'primary' | 'local' | 'fallback';

export interface Plan {
  rule: string;
  /** Lanes in order: the first model of the first lane serves, the rest are fallbacks. Empty for deterministic lanes. */
  lanes: Lane[];
  reasons: string[];
  guardrails?: string[];
  /** Set when the route is worse than the policy's default for this role (GR-005 requires an audit line). */
  degraded?: string;
  escalated?: boolean;
  obligations?: string[];
  refused?: Refusal;
}

export interface RuleContext {
  req: RouteRequest;
  role: RoleId;
  policy: Policy;
  signals: Signals;
  localOnly: boolean;
  localAvailable: boolean;
  /** Changed lines: the change's, or the scope estimate for work not yet written. */
  lines: number;
  highRiskFlags: string[];
}

export type Rule = (ctx: RuleContext) => Plan;

export const refuse = (rule: string, guardrail: string | null, message: string, reasons: string[] = []): Plan => ({
  rule,
  lanes: [],
  reasons,
  refused: { guardrail, message },
  guardrails: guardrail ? [guardrail] : [],
});

/** The lanes after the one chosen, per the role's fallback_use. */
export function withFallback(policy: Policy, role: RoleId, first: Lane): Lane[] {
  const r = policy.roles[role];
  return r.fallback_use === 'on_failure' && first !== 'fallback' && r.fallback ? [first, 'fallback'] : [first];
}
