// The one human-readable line every decision carries (GR-005 for degradations).
import type { AuditedDecision, RouteDecision } from './types.js';

export function formatAudit(d: RouteDecision, degraded: string | undefined): string {
  if (d.refused) {
    return `route ${d.role}: REFUSED by ${d.refused.guardrail ?? 'policy'} (${d.rule}): ${d.refused.message}`;
  }
  const target =
    d.location === 'none'
      ? `deterministic ${d.model}`
      : `${d.provider}/${d.model}${d.reasoning_effort ? `(${d.reasoning_effort})` : ''} [${d.location}, ${d.tier}]`;
  const fb = d.fallbacks.length ? `; fallbacks ${d.fallbacks.map((f) => `${f.provider}/${f.model}`).join(' > ')}` : '';
  const lead = degraded ? `GR-005 degraded: ${degraded}. ` : d.escalated ? 'escalated: ' : '';
  const side = d.sidecar ? `; critic sidecar ${d.sidecar.provider}/${d.sidecar.model} (non-authoritative)` : '';
  const must = d.obligations.length ? `; requires ${d.obligations.join(', ')}` : '';
  return `${lead}route ${d.role} -> ${target} by ${d.rule} (${d.reasons.join('; ')})${fb}${side}${must}`;
}

/** The decision as the audit log keeps it: the contract's fields, without the chain resolved for the caller. */
export function auditedDecision(d: RouteDecision): AuditedDecision {
  const { chain: _chain, sidecar_chain: _sidecar, ...rest } = d;
  return rest;
}
