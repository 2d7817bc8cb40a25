// The router: a pure function (request, policy, state) -> decision. No I/O, no clock, no randomness (GR-004).
import { pricesFor } from '../budget/cost.js';
import type { Policy, RoleId } from '../policy/schema.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { formatAudit } from './audit.js';
import { checkBudget } from './budget.js';
import { type Lane, type Plan, type Rule, type RuleContext } from './plan.js';
import { architect } from './rules/architect.js';
import { librarian, reflector } from './rules/escalating.js';
import { implementer } from './rules/implementer.js';
import { judge } from './rules/judge.js';
import { embeddings, stage0Retrieval, stage0Synth, tutor, vision } from './rules/localRoles.js';
import type { ChainLink, DecisionTier, ModelRef, RouteDecision, RouteRequest, RouterState } from './types.js';

export const ROUTER_ID = 'switchyard-router/1';

const RULES: Record<RoleId, Rule> = {
  architect,
  implementer,
  librarian,
  tutor,
  judge,
  reflector,
  embeddings,
  vision,
  stage0_synth: stage0Synth,
  stage0_retrieval: stage0Retrieval,
};

const policyHashes = new WeakMap<Policy, string>();
export function policyHash(policy: Policy): string {
  let h = policyHashes.get(policy);
  if (!h) {
    h = sha256(canonicalJson(policy));
    policyHashes.set(policy, h);
  }
  return h;
}

export function effectiveLocalOnly(req: RouteRequest, policy: Policy, state: RouterState = {}): boolean {
  return req.local_only === true || policy.local_only || state.local_only_setting === true;
}

export function route(req: RouteRequest, policy: Policy, state: RouterState = {}): RouteDecision {
  const ctx = context(req, policy, state);
  const roleSpec = policy.roles[req.role];
  let plan = gr001(ctx) ?? RULES[req.role](ctx);
  let refs = plan.refused ? [] : resolveLanes(policy, req.role, plan.lanes);
  const reasons = [...plan.reasons];
  const guardrails = new Set<string>(['GR-004', 'GR-013', ...(plan.guardrails ?? [])]);

  ({ plan, refs } = gr009(ctx, plan, refs, reasons));
  if (ctx.localOnly) guardrails.add('GR-009');

  const primary = refs[0];
  const tier: DecisionTier =
    plan.lanes.length === 0 && !plan.refused
      ? 'deterministic'
      : (primary?.tier ?? roleSpec.primary?.tier ?? 'deterministic');

  ({ plan, refs } = gr011(ctx, state, tier, { plan, refs, reasons, guardrails }));

  const sidecar = plan.refused ? null : critic(ctx, reasons);
  const degraded = plan.degraded !== undefined && !plan.refused;
  if (degraded) guardrails.add('GR-005');
  if (plan.refused?.guardrail) guardrails.add(plan.refused.guardrail);
  if (plan.obligations?.includes('cloud_judge_required')) {
    guardrails.add('GR-002');
    guardrails.add('GR-003');
  }

  const served = plan.refused ? undefined : refs[0];
  const deterministic = tier === 'deterministic' && !plan.refused;
  const decision: RouteDecision = {
    role: req.role,
    tier,
    location: served ? (served.provider === 'local' ? 'local' : 'cloud') : 'none',
    provider: served?.provider ?? 'none',
    model: served?.model ?? (deterministic ? (roleSpec.deterministic_engine ?? 'deterministic') : null),
    ...(served?.reasoning_effort ? { reasoning_effort: served.reasoning_effort } : {}),
    fallbacks: plan.refused ? [] : refs.slice(1).map(modelRef),
    chain: plan.refused ? [] : refs,
    rule: plan.rule,
    reasons,
    guardrails: [...guardrails].sort(),
    audit: '',
    refused: plan.refused ?? null,
    local_only: ctx.localOnly,
    escalated: plan.escalated === true,
    degraded,
    obligations: plan.obligations ?? [],
    scheduling: roleSpec.scheduling,
    sidecar,
    sidecar_chain: sidecar ? [chainLink(policy, policy.consensus.critic_sidecar.model, sidecarTier(sidecar))] : [],
    provenance: {
      router: ROUTER_ID,
      policy_version: policy.policy_version,
      policy_sha256: policyHash(policy),
      request_sha256: sha256(requestFingerprint(req)),
      task_id: req.task_id ?? null,
      rule: plan.rule,
    },
  };
  decision.audit = formatAudit(decision, degraded ? plan.degraded : undefined);
  return decision;
}

/** GR-009: nothing cloud survives under local_only, fallbacks included. */
function gr009(ctx: RuleContext, plan: Plan, refs: ChainLink[], reasons: string[]): { plan: Plan; refs: ChainLink[] } {
  if (!ctx.localOnly || plan.refused) return { plan, refs };
  const cloud = refs.filter((r) => r.provider !== 'local');
  if (refs[0] && refs[0].provider !== 'local') {
    // A rule must never hand a cloud primary to a local_only request; refuse rather than leak.
    const message = `local_only forbids the cloud route ${refs[0].provider}/${refs[0].model} (GR-009).`;
    return { plan: { ...plan, refused: { guardrail: 'GR-009', message } }, refs: [] };
  }
  if (!cloud.length) return { plan, refs };
  reasons.push(`local_only=true: cloud fallbacks removed (${cloud.map(refName).join(', ')})`);
  return { plan, refs: refs.filter((r) => r.provider === 'local') };
}

/** GR-011: a cloud route over a cap is refused, never moved to a cheaper model; local calls are never blocked. */
function gr011(
  ctx: RuleContext,
  state: RouterState,
  tier: DecisionTier,
  d: { plan: Plan; refs: ChainLink[]; reasons: string[]; guardrails: Set<string> },
): { plan: Plan; refs: ChainLink[] } {
  const { plan, refs, reasons, guardrails } = d;
  if (plan.refused || !refs.some((r) => r.provider !== 'local')) return { plan, refs };
  const budget = checkBudget(ctx.req, state, ctx.role, tier);
  if (!budget) return { plan, refs };
  guardrails.add('GR-011');
  const primary = refs[0];
  if (primary && primary.provider !== 'local') {
    reasons.push(budget.reason);
    const message = budget.message(`${ctx.role} call (${refName(primary)})`);
    return { plan: { ...plan, refused: { guardrail: 'GR-011', message } }, refs: [] };
  }
  const dropped = refs.filter((r) => r.provider !== 'local');
  reasons.push(
    `${budget.reason}: cloud fallbacks removed (${dropped.map(refName).join(', ')}); local calls are never blocked`,
  );
  return { plan, refs: refs.filter((r) => r.provider === 'local') };
}

const SIGNAL_KEYS = [
  'contradictions_detected',
  'tool_heavy',
  'full_sweep',
  'local_confidence',
  'requirements_ambiguous',
  'user_requests_cloud',
  'offline',
  'interesting_failure',
  'local_available',
  'critic_requested',
  'architectural_refactor',
  'fast_draft',
] as const;

/**
 * Every input the router reads, in a fixed order: what request_sha256 hashes (GR-013). Extra fields a
 * caller passes along (a classification's evidence, say) do not change a decision, so they do not count.
 */
export function requestFingerprint(req: RouteRequest): string {
  const c = req.change,
    s = req.signals,
    b = req.budget;
  return JSON.stringify([
    req.role,
    req.task_id ?? null,
    c ? [c.lines_changed ?? 0, c.high_risk ?? false, [...(c.risk_flags ?? [])].sort(), c.cross_crate ?? false] : null,
    req.scope_estimate_lines ?? null,
    req.failed_loops ?? null,
    req.context_estimate ?? null,
    s ? SIGNAL_KEYS.map((k) => s[k] ?? null) : null,
    req.pattern ?? null,
    req.local_only ?? null,
    b ? [b.spent_usd, b.cap_usd, b.estimate_usd ?? null, b.cap_id ?? null] : null,
  ]);
}

function context(req: RouteRequest, policy: Policy, state: RouterState): RuleContext {
  const signals = req.signals ?? {};
  const change = req.change;
  const hrSet = new Set<string>(policy.high_risk.flags);
  const flags = new Set<string>((change?.risk_flags ?? []).filter((f) => hrSet.has(f)));
  if (change?.cross_crate && hrSet.has('cross_crate')) flags.add('cross_crate');
  if (change?.high_risk && flags.size === 0) flags.add('classified_high_risk');
  return {
    req,
    role: req.role,
    policy,
    signals,
    localOnly: effectiveLocalOnly(req, policy, state),
    localAvailable: signals.local_available !== false,
    lines: Math.max(change?.lines_changed ?? 0, req.scope_estimate_lines ?? 0),
    highRiskFlags: [...flags].sort(),
  };
}

/** GR-001: consensus, voting and debate are refused whatever the role. */
function gr001(ctx: RuleContext): Plan | null {
  const p = ctx.req.pattern;
  if (!p || !ctx.policy.consensus.forbidden_request_patterns.includes(p)) return null;
  return {
    rule: 'consensus.forbidden',
    lanes: [],
    reasons: [`pattern=${p}`],
    guardrails: ['GR-001'],
    refused: {
      guardrail: 'GR-001',
      message:
        `GR-001: "${p}" is a consensus pattern, forbidden by the policy (§2: no debate, voting, swarm ` +
        `or committee synthesis). Use the single-owner pipeline (${ctx.policy.consensus.canonical_pipeline}); ` +
        `a critic-only sidecar is allowed when consensus.critic_sidecar.enabled is true.`,
    },
  };
}

function critic(ctx: RuleContext, reasons: string[]): RouteDecision['sidecar'] {
  const wanted = ctx.signals.critic_requested === true || ctx.req.pattern === 'critic';
  if (!wanted) return null;
  const c = ctx.policy.consensus.critic_sidecar;
  if (!c.enabled) {
    reasons.push('critic sidecar requested but disabled by policy (consensus.critic_sidecar.enabled=false)');
    return null;
  }
  const m = ctx.policy.models[c.model]!;
  if (ctx.localOnly && m.provider !== 'local') {
    reasons.push(`critic sidecar ${m.provider}/${m.id} dropped: local_only=true (GR-009)`);
    return null;
  }
  reasons.push('critic-only sidecar attached: critiques, never rewrites; non-authoritative (GR-001)');
  return { kind: 'critic', provider: m.provider, model: m.id, authoritative: false };
}

function resolveLanes(policy: Policy, role: RoleId, lanes: Lane[]): ChainLink[] {
  const spec = policy.roles[role];
  const out: ChainLink[] = [];
  const seen = new Set<string>();
  for (const lane of lanes) {
    const route = spec[lane];
    if (!route) continue;
    for (const key of route.models) {
      const link = chainLink(policy, key, route.tier);
      const id = `${link.provider}/${link.model}/${link.reasoning_effort ?? ''}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(link);
    }
  }
  return out;
}

const sidecarTier = (s: { provider: string }): DecisionTier =>
  s.provider === 'local' ? 'local_reflex' : 'cloud_quality';

const links = new WeakMap<Policy, Map<string, ChainLink>>();

/** One model of the policy, resolved for a call: its ref, spec and prices (made once per policy, then shared). */
export function chainLink(policy: Policy, key: string, tier: DecisionTier): ChainLink {
  let cache = links.get(policy);
  if (!cache) links.set(policy, (cache = new Map()));
  const id = `${key}\u0000${tier}`;
  let link = cache.get(id);
  if (!link) {
    const m = policy.models[key]!;
    const ref: ModelRef = { provider: m.provider, model: m.id, tier };
    if (m.reasoning_effort) ref.reasoning_effort = m.reasoning_effort;
    link = Object.freeze({ ...ref, key, spec: m, prices: pricesFor(policy, m.provider, m.id) });
    cache.set(id, link);
  }
  return link;
}

/** The contract's shape of a model (CONTRACTS.md): provider, model, tier and reasoning effort, nothing resolved. */
export function modelRef(l: ModelRef): ModelRef {
  const ref: ModelRef = { provider: l.provider, model: l.model, tier: l.tier };
  if (l.reasoning_effort) ref.reasoning_effort = l.reasoning_effort;
  return ref;
}

export const refName = (r: { provider: string; model: string; reasoning_effort?: string }): string =>
  `${r.provider}/${r.model}${r.reasoning_effort ? `(${r.reasoning_effort})` : ''}`;
