// What every provider adapter speaks: one request shape, one stream of events, one usage shape, one error shape.
import type { ProviderId } from '../policy/schema.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens: number;
  temperature?: number;
  /** Ask for a JSON object (GR-012); adapters use the provider's JSON mode where it has one. */
  json?: boolean;
  reasoning_effort?: 'none' | 'low' | 'medium' | 'high';
}

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

export type StreamEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** What was streamed so far is void: the stream failed and another attempt or model follows. */
  | { type: 'reset'; reason: string; next: string };

export interface ProviderTarget {
  provider: ProviderId;
  model: string;
  baseURL: string | undefined;
  apiKey: string | undefined;
}

export interface StreamResult {
  usage: Usage;
  finish_reason: string | null;
  model: string;
}

/** One adapter: streams a chat completion, calling `onEvent` per piece; throws CallError. */
export interface ProviderAdapter {
  stream(
    target: ProviderTarget,
    req: ChatRequest,
    onEvent: (e: StreamEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamResult>;
  embed?(
    target: ProviderTarget,
    input: string[],
    signal: AbortSignal,
  ): Promise<{ vectors: number[][]; usage: Usage; model: string }>;
}

export type ErrorKind =
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'connection'
  | 'timeout'
  | 'stream_cut'
  | 'malformed_stream'
  | 'context_length'
  | 'auth'
  | 'quota'
  | 'bad_request'
  | 'not_found'
  | 'no_key'
  | 'unavailable'
  | 'transport_refused'
  | 'cancelled'
  | 'invalid_output';

const RETRYABLE = new Set<ErrorKind>([
  'rate_limit',
  'overloaded',
  'server',
  'connection',
  'timeout',
  'stream_cut',
  'malformed_stream',
]);

export class CallError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number; requestedTokens?: number } = {},
  ) {
    super(message);
    this.name = 'CallError';
    this.retryable = RETRYABLE.has(kind);
  }
}
