// What every provider adapter speaks: one request shape, one stream of events, one usage shape, one error shape.
import type { Usage } from '../budget/port.js';
import type { ProviderId } from '../policy/schema.js';

/** A tool call as the model made it: `arguments` is the JSON text it wrote (parsed, and refused if bad, by the tool). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A tool the model may call: its JSON Schema parameters (OpenAI `tools[].function`, Anthropic `tools[]`). */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ChatMessage =
  | {
      role: 'system' | 'user';
      content: string;
      /**
       * The stable prefix ends with this message: every later request of the conversation repeats everything up to
       * here unchanged. It asks for prompt caching: Anthropic's adapter marks a cache breakpoint here, on the tools,
       * the system prompt and the latest turn; OpenAI and DeepSeek cache such a prefix on their own.
       */
      cache?: boolean;
      /** What the call path may cut from this message when the served model's window is too small (fit.ts). */
      cut?: CutSpec;
    }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[]; cut?: CutSpec }
  /** The result of one tool call, for the model (errors included: a failed tool call is an answer). */
  | { role: 'tool'; tool_call_id: string; name: string; content: string };

/**
 * A role's declaration of what may be cut to fit a window, and in which order (lowest `order` first). With `parts`,
 * the message's content is `head` followed by the parts joined by `sep`, and the parts are dropped from the end (the
 * least relevant last, as retrieval ranks them). Without, the whole message goes, oldest first, with every message
 * of the same `group` (a question and its answer). A message without `cut` (the instruction, the output schema) is
 * never cut.
 */
export interface CutSpec {
  order: number;
  /** What it is, for the audit line and the note the model reads ("retrieved context", "older history"). */
  label: string;
  head?: string;
  parts?: string[];
  sep?: string;
  group?: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  max_tokens: number;
  temperature?: number;
  /** Ask for a JSON object (GR-012); adapters use the provider's JSON mode where it has one. */
  json?: boolean;
  reasoning_effort?: 'none' | 'low' | 'medium' | 'high';
  /** Native tool calling: the tools the model may call this turn. */
  tools?: ToolSpec[];
}

export type StreamEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  /** What was streamed so far is void: the stream failed and another attempt or model follows. */
  | { type: 'reset'; reason: string; next: string };

/** Where an adapter sends each piece of a stream. */
export type StreamSink = (e: StreamEvent) => void;

export interface ProviderTarget {
  provider: ProviderId;
  model: string;
  /** The name errors and audit lines give the model: the one really called (a local server's served model). */
  label?: string;
  baseURL: string | undefined;
  apiKey: string | undefined;
}

export interface StreamResult {
  usage: Usage;
  finish_reason: string | null;
  model: string;
  /** The tool calls of the answer, whole (streamed deltas joined), in the order the model made them. */
  tool_calls: ToolCall[];
}

/** One adapter: streams a chat completion, calling `onEvent` per piece; throws CallError. */
export interface ProviderAdapter {
  stream(
    target: ProviderTarget,
    req: ChatRequest,
    onEvent: (e: StreamEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamResult>;
  /** The prompt's size in the served model's own tokens (its chat template and tokenizer); null when it cannot say. */
  countTokens?(target: ProviderTarget, req: ChatRequest, signal: AbortSignal): Promise<number | null>;
  /** The context window the server runs with, where it says (a local server); null when it does not. */
  window?(target: ProviderTarget, signal: AbortSignal): Promise<number | null>;
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
    readonly opts: { status?: number; retryAfterMs?: number; requestedTokens?: number; called?: string } = {},
  ) {
    super(message);
    this.name = 'CallError';
    this.retryable = RETRYABLE.has(kind);
  }
}
