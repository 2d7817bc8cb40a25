// OpenAI, DeepSeek, Moonshot (Kimi) and the local runtime (vLLM, llama.cpp, any OpenAI-compatible endpoint):
// one adapter over the official openai SDK, with each provider's usage fields read exactly (PROVIDERS.md §2).
import { ZERO_USAGE, type Usage } from '../budget/port.js';
import OpenAI from 'openai';
import type { ProviderId } from '../policy/schema.js';
import { toCallError } from './errors.js';
import { SdkClients } from './sdkClients.js';
import { ServerTokens } from './serverTokens.js';
import type { FetchLike } from './transport.js';
import { CallError } from './types.js';
import type {
  ChatMessage,
  ChatRequest,
  ProviderAdapter,
  ProviderTarget,
  StreamResult,
  StreamSink,
  ToolCall,
} from './types.js';

export const DEFAULT_BASE_URL: Partial<Record<ProviderId, string>> = {
  openai: 'https://api.openai.com/v1',
  deepseek: 'https://api.deepseek.com',
  moonshot: 'https://api.moonshot.ai/v1',
};

type RawUsage = Record<string, unknown> & {
  prompt_tokens?: number;
  completion_tokens?: number;
  cached_tokens?: number;
  prompt_cache_hit_tokens?: number;
  prompt_cache_miss_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
};

/** Chat Completions usage to disjoint counts; `prompt_tokens` includes the cached part everywhere. */
export function openAiUsage(provider: ProviderId, u: RawUsage): Usage {
  const prompt = u.prompt_tokens ?? 0;
  const cached =
    provider === 'deepseek'
      ? (u.prompt_cache_hit_tokens ?? 0)
      : provider === 'moonshot'
        ? (u.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0)
        : (u.prompt_tokens_details?.cached_tokens ?? 0);
  const input =
    provider === 'deepseek' && u.prompt_cache_miss_tokens !== undefined
      ? u.prompt_cache_miss_tokens
      : Math.max(0, prompt - cached);
  return {
    input_tokens: input,
    cached_input_tokens: cached,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    output_tokens: u.completion_tokens ?? 0,
    reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0,
    reported: true,
  };
}

type Delta = {
  content?: string | null;
  reasoning_content?: string | null;
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
};

/** Streamed tool calls: the first delta of each index carries its id and name, the rest pieces of its arguments. */
class ToolCallDeltas {
  private readonly byIndex = new Map<number, ToolCall>();
  add(d: NonNullable<Delta['tool_calls']>[number]): void {
    const k = d.index ?? this.byIndex.size;
    let c = this.byIndex.get(k);
    if (!c) {
      c = { id: '', name: '', arguments: '' };
      this.byIndex.set(k, c);
    }
    if (d.id) c.id = d.id;
    if (d.function?.name) c.name += d.function.name;
    if (d.function?.arguments) c.arguments += d.function.arguments;
  }
  done(): ToolCall[] {
    return [...this.byIndex.entries()].sort(([a], [b]) => a - b).map(([k, c]) => ({ ...c, id: c.id || `call_${k}` }));
  }
}

/** Our message shape to Chat Completions': tool calls as `function` calls, tool results as `tool` messages. */
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: m.content };
  if (m.role === 'assistant' && m.tool_calls?.length)
    return {
      role: 'assistant',
      content: m.content || null,
      tool_calls: m.tool_calls.map((c) => ({
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      })),
    };
  return { role: m.role, content: m.content };
}

export class OpenAiCompatAdapter implements ProviderAdapter {
  private readonly clients: SdkClients<OpenAI>;
  private readonly server: ServerTokens;
  constructor(fetch: FetchLike, timeoutMs = 600_000) {
    this.server = new ServerTokens(fetch, wireMessage);
    this.clients = new SdkClients(
      (options, apiKey, baseURL) => new OpenAI({ ...options, apiKey: apiKey ?? 'no-key', baseURL }),
      fetch,
      timeoutMs,
    );
  }

  private client(t: ProviderTarget): OpenAI {
    const baseURL = t.baseURL ?? DEFAULT_BASE_URL[t.provider];
    if (!baseURL) throw new CallError('unavailable', `${t.provider}: no endpoint configured`);
    return this.clients.get(t.provider, baseURL, t.apiKey);
  }

  /** A local server's count of the prompt in its own tokens (its template and tokenizer); null elsewhere. */
  countTokens(t: ProviderTarget, req: ChatRequest, signal: AbortSignal): Promise<number | null> {
    return this.server.count(t, req, signal);
  }

  /** A local server's window as it runs; null elsewhere. */
  window(t: ProviderTarget, signal: AbortSignal): Promise<number | null> {
    return this.server.window(t, signal);
  }

  async stream(t: ProviderTarget, req: ChatRequest, onEvent: StreamSink, signal: AbortSignal): Promise<StreamResult> {
    const where = t.label ?? `${t.provider}/${t.model}`;
    const body: Record<string, unknown> = {
      model: t.model,
      messages: req.messages.map(wireMessage),
      stream: true,
      stream_options: { include_usage: true },
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.json ? { response_format: { type: 'json_object' } } : {}),
    };
    // OpenAI's reasoning models take max_completion_tokens; the compatible servers take max_tokens.
    if (t.provider === 'openai') body.max_completion_tokens = req.max_tokens;
    else body.max_tokens = req.max_tokens;
    if (req.reasoning_effort && t.provider === 'openai') body.reasoning_effort = req.reasoning_effort;
    if (req.tools?.length)
      body.tools = req.tools.map((x) => ({
        type: 'function',
        function: { name: x.name, description: x.description, parameters: x.parameters },
      }));
    const calls = new ToolCallDeltas();
    let usage: Usage | null = null;
    let finish: string | null = null;
    let model = t.model;
    try {
      const stream = (await this.client(t).chat.completions.create(body as never, {
        signal,
      })) as unknown as AsyncIterable<Record<string, unknown>>;
      for await (const chunk of stream) {
        if (typeof chunk.model === 'string') model = chunk.model;
        const choices = chunk.choices as { delta?: Delta; finish_reason?: string | null }[] | null | undefined;
        const c = choices?.[0];
        if (c) {
          const r = c.delta?.reasoning_content;
          if (r) onEvent({ type: 'reasoning', text: r });
          const text = c.delta?.content;
          if (text) onEvent({ type: 'text', text });
          for (const d of c.delta?.tool_calls ?? []) calls.add(d);
          if (c.finish_reason) finish = c.finish_reason;
        }
        if (chunk.usage) usage = openAiUsage(t.provider, chunk.usage as RawUsage);
      }
    } catch (e) {
      throw toCallError(e, where, signal);
    }
    // The SDK ends quietly on abort and on a body that stops without [DONE]: tell them apart here.
    if (signal.aborted) throw new CallError('cancelled', `${where}: cancelled`);
    if (!finish)
      throw new CallError('stream_cut', `${where}: the stream ended before the answer was complete (no finish_reason)`);
    return { usage: usage ?? { ...ZERO_USAGE }, finish_reason: finish, model, tool_calls: calls.done() };
  }

  async embed(
    t: ProviderTarget,
    input: string[],
    signal: AbortSignal,
  ): Promise<{ vectors: number[][]; usage: Usage; model: string }> {
    try {
      const r = await this.client(t).embeddings.create({ model: t.model, input, encoding_format: 'float' }, { signal });
      const vectors = [...r.data].sort((a, b) => a.index - b.index).map((d) => d.embedding as number[]);
      const u = r.usage as unknown as RawUsage | undefined;
      return {
        vectors,
        usage: u ? openAiUsage(t.provider, { ...u, completion_tokens: 0 }) : { ...ZERO_USAGE },
        model: r.model ?? t.model,
      };
    } catch (e) {
      throw toCallError(e, `${t.provider}/${t.model}`, signal);
    }
  }
}
