import { refuse, type Plan, type RuleContext } from '../plan.js';

/**
 * Local roles that escalate to Kimi only on named predicates (librarian, reflector).
 * Kimi is escalation-only: never a plain fallback, so a dead local server on routine work is refused.
 */
export function escalating(ctx: RuleContext, predicates: string[], routine: string): Plan {
  const role = ctx.role;
  const title = ctx.policy.roles[role].title;
  if (predicates.length > 0) {
    const rule = `${role}.escalate`;
    if (ctx.localOnly) {
      if (!ctx.localAvailable) {
        return refuse(
          `${rule}.local_only`,
          'GR-009',
          `The ${title} would escalate to Kimi but local_only forbids it (GR-009), and the local runtime ` +
            `is unavailable. Start the local model server.`,
          predicates,
        );
      }
      return {
        rule: `${rule}.local_only`,
        lanes: ['primary'],
        guardrails: ['GR-009'],
        reasons: [...predicates, 'local_only=true: escalation to Kimi suppressed (GR-009)'],
        degraded: `the ${title} stays on the local model although ${predicates.join(', ')} call for Kimi`,
      };
    }
    return { rule, lanes: ['fallback'], reasons: predicates, escalated: true };
  }
  const reasons = [routine];
  if (!ctx.localAvailable) {
    return refuse(
      `${role}.local_unavailable`,
      ctx.localOnly ? 'GR-009' : null,
      `The local runtime is unavailable, and the ${title} escalates to Kimi only on its escalation ` +
        `predicates (§3), none of which holds. Start the local model server (Switchyard: Start Local ` +
        `Model Server).`,
      [...reasons, 'local_available=false'],
    );
  }
  return { rule: `${role}.routine`, lanes: ['primary'], reasons };
}

export function librarian(ctx: RuleContext): Plan {
  const t = ctx.policy.escalation.librarian;
  const s = ctx.signals;
  const held: string[] = [];
  const context = ctx.req.context_estimate ?? 0;
  if (context > t.context_tokens_over) held.push(`context_estimate=${context} > ${t.context_tokens_over}`);
  if (t.on_contradictions_detected && s.contradictions_detected) held.push('contradictions_detected=true');
  if (t.on_tool_heavy && s.tool_heavy) held.push('tool_heavy=true');
  if (t.on_full_sweep && s.full_sweep) held.push('full_sweep=true');
  if (s.local_confidence !== undefined && s.local_confidence < t.confidence_threshold) {
    held.push(`local_synth_confidence=${s.local_confidence} < ${t.confidence_threshold}`);
  }
  return escalating(ctx, held, 'routine cleanup and structure stay local (no §3 predicate holds)');
}

export function reflector(ctx: RuleContext): Plan {
  const held =
    ctx.policy.escalation.reflector.on_interesting_failure && ctx.signals.interesting_failure
      ? ['interesting_failure=true']
      : [];
  return escalating(ctx, held, 'routine curation stays local');
}
