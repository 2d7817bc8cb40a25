import { refuse, withFallback, type Plan, type Rule, type RuleContext } from '../plan.js';

// §1, §3 and §7: local first for small-to-medium diffs; direct to cloud or escalated on the listed triggers.
export const implementer: Rule = (ctx) => {
  const { policy, signals, req, lines, highRiskFlags } = ctx;
  const t = policy.escalation.implementer;
  const failed = req.failed_loops ?? 0;

  // Direct to cloud (skip local).
  if (lines > t.direct_cloud_over_lines) {
    return toCloud(
      ctx,
      'implementer.direct_cloud.large_scope',
      [`lines=${lines} > ${t.direct_cloud_over_lines}`],
      false,
    );
  }
  if (t.direct_cloud_on_ambiguous_requirements && signals.requirements_ambiguous === true) {
    return toCloud(ctx, 'implementer.direct_cloud.ambiguous', ['requirements_ambiguous=true'], false);
  }
  if (t.direct_cloud_on_architectural_refactor && signals.architectural_refactor === true) {
    return toCloud(
      ctx,
      'implementer.direct_cloud.architectural',
      ['architectural_refactor=true (multi-file architectural refactor)'],
      false,
    );
  }
  // Escalate (local -> cloud).
  if (t.cloud_on_high_risk && highRiskFlags.length > 0) {
    const plan = toCloud(ctx, 'implementer.high_risk', [`high_risk=true (${highRiskFlags.join(', ')})`], true);
    return {
      ...plan,
      obligations: [...(plan.obligations ?? []), 'cloud_judge_required'],
      guardrails: [...(plan.guardrails ?? []), 'GR-002'],
    };
  }
  if (failed >= t.max_failed_loops) {
    return toCloud(ctx, 'implementer.failed_loops', [`failed_loops=${failed} >= ${t.max_failed_loops}`], true);
  }
  if (signals.local_confidence !== undefined && signals.local_confidence < t.confidence_threshold) {
    return toCloud(
      ctx,
      'implementer.low_confidence',
      [`local_confidence=${signals.local_confidence} < ${t.confidence_threshold}`],
      true,
    );
  }
  if (signals.user_requests_cloud === true) {
    return toCloud(ctx, 'implementer.user_request', ['user_requests_cloud=true'], true);
  }
  // Local reflex lane.
  const size =
    lines < t.small_diff_max_lines
      ? { rule: 'implementer.small_diff', why: `lines=${lines} < ${t.small_diff_max_lines}` }
      : {
          rule: 'implementer.medium_diff',
          why: `${t.small_diff_max_lines} <= lines=${lines} <= ${t.direct_cloud_over_lines}`,
        };
  const reasons = [size.why, 'high_risk=false', `failed_loops=${failed} < ${t.max_failed_loops}`];
  if (!ctx.localAvailable) {
    if (ctx.localOnly) {
      return refuse(
        'implementer.local_unavailable',
        'GR-009',
        'The local runtime is unavailable and local_only forbids the cloud fallbacks (GR-009). Start the local model server.',
        [...reasons, 'local_available=false', 'local_only=true'],
      );
    }
    return {
      rule: 'implementer.local_unavailable',
      lanes: ['fallback'],
      escalated: true,
      reasons: [...reasons, 'local_available=false'],
      degraded: 'the local Implementer is unavailable; the patch goes to the cloud fallback chain',
    };
  }
  return { rule: size.rule, lanes: withFallback(policy, 'implementer', 'primary'), reasons };
};

/** The cloud chain (DeepSeek, then Sonnet/GPT-5.1); under local_only the work stays local, said out loud. */
function toCloud(ctx: RuleContext, rule: string, reasons: string[], escalation: boolean): Plan {
  if (ctx.localOnly) {
    if (!ctx.localAvailable) {
      return refuse(
        `${rule}.local_only`,
        'GR-009',
        'This change calls for the cloud, local_only forbids it (GR-009) and the local runtime is ' +
          'unavailable. Start the local model server or turn local_only off.',
        [...reasons, 'local_available=false'],
      );
    }
    return {
      rule: `${rule}.local_only`,
      lanes: ['primary'],
      reasons: [...reasons, 'local_only=true: cloud escalation suppressed (GR-009)'],
      guardrails: ['GR-009'],
      degraded: `the policy sends this change to the cloud (${rule}) but local_only keeps it on the local model`,
    };
  }
  return { rule, lanes: ['fallback'], reasons, escalated: escalation };
}
