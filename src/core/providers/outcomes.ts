// What a model call leaves behind: its attempts, its provenance record (GR-013), its result, or a typed refusal or
// failure that carries the audit lines written on the way.
import type { Usage } from '../budget/port.js';
import type { ProviderId, RoleId } from '../policy/schema.js';
import type { RouteDecision } from '../router/types.js';
import type { ServedRecord } from '../runtime/served.js';
import type { CallError, ToolCall } from './types.js';

export interface Attempt {
  provider: ProviderId;
  model: string;
  try: number;
  outcome: 'ok' | string;
  ms: number;
  error?: string;
}

export interface Timings {
  ttft_ms: number | null;
  total_ms: number;
}

export interface ProvenanceRecord {
  ts: string;
  call_id: string;
  task_id: string | null;
  parent_call: string | null;
  role: RoleId;
  rule: string;
  provider: ProviderId | null;
  model: string | null;
  request_sha256: string;
  route_sha256: string;
  policy_sha256: string;
  inputs: Record<string, unknown>;
  outcome: 'ok' | 'failed' | 'refused' | 'cancelled';
  attempts: Attempt[];
  escalations: { from: string; to: string; why: string }[];
  usage: Usage | null;
  cost_usd: number;
  cost_pico: number;
  timings: Timings;
  error?: string;
  /** A local call: what the server really served, read from the model (GR-013), and whether it is the policy's. */
  served_model?: ServedRecord;
}

export interface CallResult {
  call_id: string;
  decision: RouteDecision;
  provider: ProviderId;
  model: string;
  served_model: string;
  /** A local call: the served model's own identity (null for the cloud, or when the runtime could not tell). */
  served: ServedRecord | null;
  text: string;
  /** The answer's native tool calls (empty when the model answered in text). */
  tool_calls: ToolCall[];
  chars: number;
  finish_reason: string | null;
  usage: Usage;
  cost_usd: number;
  cost_pico: number;
  timings: Timings;
  attempts: Attempt[];
  audit: string[];
  escalated: boolean;
}

export interface EmbedResult {
  call_id: string;
  decision: RouteDecision;
  provider: ProviderId;
  model: string;
  served_model: string;
  dim: number;
  vectors: number[][];
  usage: Usage;
  cost_usd: number;
  audit: string[];
  fallback: boolean;
}

/** A guardrail refused the call (exit 3 in the CLI). */
export class CallRefused extends Error {
  constructor(
    readonly guardrail: string | null,
    message: string,
    readonly decision: RouteDecision | null,
    readonly audit: string[],
  ) {
    super(message);
    this.name = 'CallRefused';
  }
}

/** Every allowed model failed (exit 4), or the call was cancelled (kind 'cancelled', exit 130). */
export class CallFailed extends Error {
  constructor(
    readonly kind: CallError['kind'],
    message: string,
    readonly attempts: Attempt[],
    readonly audit: string[],
    readonly decision: RouteDecision | null,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}
