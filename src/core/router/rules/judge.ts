import { refuse, withFallback, type Rule } from '../plan.js';

// §1, GR-002, GR-003: the Judge is cloud-only; never run on a local model.
export const judge: Rule = ({ policy, signals, localOnly }) => {
  if (localOnly) {
    return refuse(
      'judge.local_only',
      'GR-009',
      'GR-009: local_only forbids all cloud calls, and the Judge is cloud-only: it never runs on ' +
        'a local model (GR-003: a local verdict cannot approve a merge). High-risk work cannot be approved ' +
        "while local_only is on; turn it off for the audit (setting switchyard.localOnly or the policy's " +
        'local_only).',
      ['judge is cloud-only (§1)', 'local_only=true'],
    );
  }
  if (signals.offline) {
    return refuse(
      'judge.offline',
      'GR-003',
      'The Judge is cloud-only and Switchyard is offline; a local model cannot stand in (GR-003). Run the audit when you are back online.',
      ['judge is cloud-only (§1)', 'offline=true'],
    );
  }
  return {
    rule: 'judge.cloud_only',
    lanes: withFallback(policy, 'judge', 'primary'),
    reasons: ['judge is cloud-only (§1)', 'must cite evidence (GR-008)', 'verdict as JSON (GR-012)'],
    guardrails: ['GR-002', 'GR-003'],
  };
};
