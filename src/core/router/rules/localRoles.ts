import { refuse, withFallback, type Plan, type Rule, type RuleContext } from '../plan.js';

/** A local role when the local runtime is down: its on-failure fallback, or a refusal. */
function localUnavailable(ctx: RuleContext, reasons: string[]): Plan {
  const r = ctx.policy.roles[ctx.role];
  const why = [...reasons, 'local_available=false'];
  if (ctx.localOnly) {
    return refuse(
      `${ctx.role}.local_unavailable`,
      'GR-009',
      `The local runtime is unavailable and local_only forbids cloud fallbacks (GR-009). Start the ` +
        `local model server (Switchyard: Start Local Model Server).`,
      why,
    );
  }
  if (r.fallback_use !== 'on_failure' || !r.fallback) {
    return refuse(
      `${ctx.role}.local_unavailable`,
      null,
      `The local runtime is unavailable and the ${r.title} has no on-failure fallback (${r.table.fallback}). ` +
        `Start the local model server (Switchyard: Start Local Model Server).`,
      why,
    );
  }
  return {
    rule: `${ctx.role}.local_unavailable`,
    lanes: ['fallback'],
    reasons: why,
    degraded: `the local ${r.title} is unavailable; served by its fallback`,
  };
}

// §1: the Tutor is always local, with Haiku as fallback.
export const tutor: Rule = (ctx) => {
  const reasons = ['tutor is always local (§1)'];
  if (ctx.signals.user_requests_cloud) reasons.push('user_requests_cloud ignored: the Tutor is local by policy');
  if (!ctx.localAvailable) return localUnavailable(ctx, reasons);
  return { rule: 'tutor.local', lanes: withFallback(ctx.policy, 'tutor', 'primary'), reasons };
};

// §1: embeddings local (bge-m3), OpenAI embeddings as fallback.
export const embeddings: Rule = (ctx) => {
  const reasons = ['embeddings are always local (§1)'];
  if (!ctx.localAvailable) return localUnavailable(ctx, reasons);
  return { rule: 'embeddings.local', lanes: withFallback(ctx.policy, 'embeddings', 'primary'), reasons };
};

// §1: CV/camera is local and kept out of LLM scheduling.
export const vision: Rule = (ctx) => {
  const reasons = ['CV/camera is local and separate from LLM scheduling (§1)'];
  if (!ctx.localAvailable) return localUnavailable(ctx, reasons);
  return { rule: 'vision.local', lanes: ['primary'], reasons };
};

// §1: Stage0 retrieval is deterministic: no model at all.
export const stage0Retrieval: Rule = () => ({
  rule: 'stage0_retrieval.deterministic',
  lanes: [],
  reasons: ['stage0 retrieval is deterministic (BM25/TF-IDF + MMR), no LLM (§1)'],
});

// §1: Stage0 tier-2 synthesis is NotebookLM (cloud), the local summariser as fallback.
export const stage0Synth: Rule = (ctx) => {
  if (ctx.localOnly || ctx.signals.offline) {
    const why = ctx.localOnly ? 'local_only=true (GR-009)' : 'offline=true';
    if (!ctx.localAvailable) {
      return refuse(
        'stage0_synth.no_route',
        ctx.localOnly ? 'GR-009' : null,
        `NotebookLM is out of reach (${why}) and the local summariser is unavailable. Start the local model server.`,
        [why, 'local_available=false'],
      );
    }
    return {
      rule: ctx.localOnly ? 'stage0_synth.local_only' : 'stage0_synth.offline',
      lanes: ['fallback'],
      reasons: [why],
      guardrails: ctx.localOnly ? ['GR-009', 'GR-008'] : ['GR-008'],
      degraded: `NotebookLM synthesis replaced by the local summariser because ${why}; citations are still verified`,
    };
  }
  return {
    rule: 'stage0_synth.notebooklm',
    lanes: withFallback(ctx.policy, 'stage0_synth', 'primary'),
    reasons: ['citation-grounded synthesis (GR-008)'],
    guardrails: ['GR-008'],
  };
};
