// The budget's side of the model-call path (GR-011): the usage a call reports, the spend per cap, and the port the
// caller reserves and settles through. Both the providers and the ledger import these; neither imports the other.
import type { ProviderId, RoleId } from '../policy/schema.js';

/** Usage as the provider reported it, normalised: the input counts are disjoint. */
export interface Usage {
  input_tokens: number; // uncached input
  cached_input_tokens: number; // cache reads / hits
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  output_tokens: number; // includes reasoning tokens
  reasoning_tokens: number;
  /** false when the provider sent no usage (a server without include_usage): counts are then estimates */
  reported: boolean;
}

export const ZERO_USAGE: Usage = {
  input_tokens: 0,
  cached_input_tokens: 0,
  cache_write_5m_tokens: 0,
  cache_write_1h_tokens: 0,
  output_tokens: 0,
  reasoning_tokens: 0,
  reported: false,
};

/** Spend against one cap, as the router reads it. */
export interface CapStatus {
  id: string;
  scope: 'global' | 'role' | 'tier';
  target?: string;
  period: 'day' | 'month' | 'task';
  spent_usd: number;
  cap_usd: number;
}

export type ReserveResult = { ok: true; id: string } | { ok: false; message: string };

/** Who pays for a call, and under which lane. */
export interface SpendKey {
  role: RoleId;
  tier: string;
  provider: ProviderId;
  model: string;
  task_id: string | null;
}

export interface BudgetPort {
  /** Spend per cap now, for the router (GR-011). */
  snapshot(taskId: string | null): CapStatus[];
  /** Reserves the worst case of a cloud call, or refuses naming the cap. */
  reserve(r: SpendKey & { pico: number }): Promise<ReserveResult> | ReserveResult;
  commit(id: string, pico: number, usage: Usage): void;
  release(id: string): void;
  /** A call that reserved nothing (local): it costs nothing and its tokens still count. */
  record?(r: SpendKey & { pico: number; usage: Usage }): void;
}
