// "How does each role route right now?": one representative request per role, routed by the real router.
import { ROLE_IDS } from '../policy/constants.js';
import type { Policy, RoleId } from '../policy/schema.js';
import { route } from './route.js';
import type { RouteDecision, RouterState } from './types.js';

export interface RoleExplanation {
  role: RoleId;
  title: string;
  decision: RouteDecision;
}

export function explainRoles(policy: Policy, state: RouterState = {}): RoleExplanation[] {
  return ROLE_IDS.map((role) => ({ role, title: policy.roles[role].title, decision: route({ role }, policy, state) }));
}
