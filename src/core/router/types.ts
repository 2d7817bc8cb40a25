// RouteRequest (input) and RouteDecision (output): the shapes of CONTRACTS.md, extended, never renamed.
import { z } from 'zod';
import type { TokenPrices } from '../budget/cost.js';
import type { CapStatus } from '../budget/port.js';
import { RiskFlag, RoleId, type Model, type ProviderId, type RoleId as Role } from '../policy/schema.js';

const count = z.int().nonnegative();
const usd = z.number().finite().nonnegative();

export const CONSENSUS_PATTERNS = [
  'single',
  'critic',
  'consensus',
  'vote',
  'debate',
  'swarm',
  'committee',
  'synthesizer',
] as const;

export const RouteRequestSchema = z.strictObject({
  role: RoleId,
  task_id: z.string().min(1).max(200).optional(),
  // Loose: the output of `classify` fits here as is; only these fields are read.
  change: z
    .looseObject({
      lines_changed: count.default(0),
      high_risk: z.boolean().default(false),
      risk_flags: z.array(RiskFlag).default([]),
      cross_crate: z.boolean().default(false),
    })
    .optional(),
  scope_estimate_lines: count.optional(),
  failed_loops: count.optional(),
  context_estimate: count.optional(),
  signals: z
    .strictObject({
      contradictions_detected: z.boolean().optional(),
      tool_heavy: z.boolean().optional(),
      full_sweep: z.boolean().optional(),
      local_confidence: z.number().min(0).max(1).optional(),
      requirements_ambiguous: z.boolean().optional(),
      user_requests_cloud: z.boolean().optional(),
      offline: z.boolean().optional(),
      interesting_failure: z.boolean().optional(),
      local_available: z.boolean().optional(),
      critic_requested: z.boolean().optional(),
      // Extensions of CONTRACTS.md:
      architectural_refactor: z.boolean().optional(),
      fast_draft: z.boolean().optional(),
    })
    .optional(),
  /** Extension: the multi-agent pattern asked for; consensus patterns are refused (GR-001). */
  pattern: z.enum(CONSENSUS_PATTERNS).optional(),
  local_only: z.boolean().optional(),
  budget: z
    .strictObject({
      spent_usd: usd,
      cap_usd: usd,
      estimate_usd: usd.optional(),
      cap_id: z.string().optional(),
    })
    .optional(),
});
export type RouteRequest = z.infer<typeof RouteRequestSchema>;
export type Signals = NonNullable<RouteRequest['signals']>;

/** What the router knows besides the request: never read from disk by the router itself. */
export interface RouterState {
  /** The user's switchyard.localOnly setting; the stricter of it and the policy wins (GR-009). */
  local_only_setting?: boolean;
  /**
   * Budget snapshot from the ledger; a request's own `budget` takes precedence. A function is asked only when a
   * cloud model is in the chain, so a route that can only be local costs no ledger read.
   */
  caps?: CapStatus[] | (() => CapStatus[]);
}

export type DecisionTier = 'local_reflex' | 'cloud_quality' | 'cloud_escalation' | 'premium_judge' | 'deterministic';
export type Location = 'local' | 'cloud' | 'none';

export interface ModelRef {
  provider: ProviderId;
  model: string;
  tier: DecisionTier;
  reasoning_effort?: 'none' | 'low' | 'medium' | 'high';
}

/** One model of a decision's chain, resolved once by the router: the caller only iterates over the chain. */
export interface ChainLink extends ModelRef {
  /** The model's key in the policy's `models`. */
  key: string;
  spec: Model;
  /** Integer pico-dollars per token; null: the price table has no row (such a cloud model cannot be capped). */
  prices: TokenPrices | null;
}

export interface Refusal {
  guardrail: string | null;
  message: string;
}

export interface RouteDecision {
  role: Role;
  tier: DecisionTier;
  location: Location;
  provider: ProviderId | 'none';
  model: string | null;
  reasoning_effort?: ModelRef['reasoning_effort'];
  fallbacks: ModelRef[];
  /** Extension: the serving model and its fallbacks in order, with their specs and prices (not in the audit log). */
  chain: ChainLink[];
  rule: string;
  reasons: string[];
  guardrails: string[];
  audit: string;
  refused: Refusal | null;
  // Extensions of CONTRACTS.md:
  local_only: boolean;
  escalated: boolean;
  degraded: boolean;
  obligations: string[];
  scheduling: 'llm' | 'separate';
  sidecar: { kind: 'critic'; provider: ProviderId; model: string; authoritative: false } | null;
  /** Extension: the sidecar's model resolved like the chain (empty when no sidecar is attached; not audited). */
  sidecar_chain: ChainLink[];
  provenance: {
    router: string;
    policy_version: string;
    policy_sha256: string;
    request_sha256: string;
    task_id: string | null;
    rule: string;
  };
}

/** A decision as the audit log keeps it: the contract's fields, without what the router resolved for the caller. */
export type AuditedDecision = Omit<RouteDecision, 'chain' | 'sidecar_chain'>;
