import { refuse, withFallback, type Rule } from '../plan.js';

// §1/§3: cloud-first; the local planner only for fast drafts (then cloud reviews) and offline mode.
export const architect: Rule = ({ policy, signals, localOnly, localAvailable }) => {
  const offline = localOnly || signals.offline === true;
  if (offline) {
    const why = localOnly ? 'local_only=true (GR-009)' : 'offline=true';
    if (!localAvailable) {
      return refuse(
        'architect.no_route',
        localOnly ? 'GR-009' : null,
        `The Architect is cloud-first and ${why} rules out the cloud, but the local runtime is unavailable. ` +
          `Start the local model server (Switchyard: Start Local Model Server) and try again.`,
        [why, 'local_available=false'],
      );
    }
    return {
      rule: localOnly ? 'architect.local_only' : 'architect.offline',
      lanes: ['local'],
      reasons: [why, 'architect is cloud-first; the local planner is used only offline or for fast drafts'],
      guardrails: localOnly ? ['GR-009'] : [],
      degraded:
        `the cloud-first Architect runs on the local planner because ${why}; review the plan in the ` +
        `cloud before implementing high-risk work`,
      obligations: ['cloud_review_of_plan'],
    };
  }
  if (signals.fast_draft === true && localAvailable) {
    return {
      rule: 'architect.fast_draft',
      lanes: ['local', 'primary'],
      reasons: ['fast_draft=true: a local draft, then a cloud review'],
      obligations: ['cloud_review_of_plan'],
    };
  }
  return {
    rule: 'architect.cloud_first',
    lanes: withFallback(policy, 'architect', 'primary'),
    reasons: ['architect is cloud-first for quality (§3)', 'must emit plan.json with a confidence'],
  };
};
