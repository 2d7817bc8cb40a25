// Anthropic Messages with streaming, over the official SDK; usage read as PROVIDERS.md §2.3 says
// (message_delta usage is cumulative: keep the latest value of each field, never sum).
import { type Usage } from '../budget/port.js';
import Anthropic from '@anthropic-ai/sdk';
import { toCallError } from './errors.js';
import type { FetchLike } from './transport.js';
import { SdkClients } from './sdkClients.js';
import { CallError } from './types.js';
import type { ChatRequest, ProviderAdapter, ProviderTarget, StreamResult, StreamSink } from './types.js';

interface RawUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

export function anthropicUsage(start: RawUsage, last: RawUsage): Usage {
  const pick = <K extends keyof RawUsage>(k: K) => (last[k] ?? start[k]) as RawUsage[K];
  const creation = pick('cache_creation');
  const created = pick('cache_creation_input_tokens') ?? 0;
  const w1h = creation?.ephemeral_1h_input_tokens ?? 0;
  const w5m = creation ? (creation.ephemeral_5m_input_tokens ?? 0) : created;
  return {
    input_tokens: pick('input_tokens') ?? 0,
    cached_input_tokens: pick('cache_read_input_tokens') ?? 0,
    cache_write_5m_tokens: w5m,
    cache_write_1h_tokens: w1h,
    output_tokens: pick('output_tokens') ?? 0,
    reasoning_tokens: 0,
    reported: true,
  };
}

export class AnthropicAdapter implements ProviderAdapter {
  private readonly clients: SdkClients<Anthropic>;
  constructor(fetch: FetchLike, timeoutMs = 600_000) {
    this.clients = new SdkClients(
      (options, apiKey, baseURL) =>
        new Anthropic({ ...options, apiKey: apiKey ?? null, ...(baseURL ? { baseURL } : {}) }),
      fetch,
      timeoutMs,
    );
  }

  private client(t: ProviderTarget): Anthropic {
    return this.clients.get('anthropic', t.baseURL, t.apiKey);
  }

  async stream(t: ProviderTarget, req: ChatRequest, onEvent: StreamSink, signal: AbortSignal): Promise<StreamResult> {
    const where = `anthropic/${t.model}`;
    const system = req.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const messages = req.messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content }));
    let start: RawUsage = {};
    let last: RawUsage = {};
    let finish: string | null = null;
    let stopped = false;
    let model = t.model;
    try {
      const stream = await this.client(t).messages.create(
        {
          model: t.model,
          max_tokens: req.max_tokens,
          messages,
          stream: true,
          ...(system ? { system } : {}),
          ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        },
        { signal },
      );
      for await (const ev of stream) {
        switch (ev.type) {
          case 'message_start':
            start = ev.message.usage as RawUsage;
            model = ev.message.model;
            break;
          case 'content_block_delta':
            if (ev.delta.type === 'text_delta') onEvent({ type: 'text', text: ev.delta.text });
            else if (ev.delta.type === 'thinking_delta') onEvent({ type: 'reasoning', text: ev.delta.thinking });
            break;
          case 'message_delta':
            last = { ...last, ...(ev.usage as RawUsage) };
            finish = ev.delta.stop_reason ?? finish;
            break;
          case 'message_stop':
            stopped = true;
            break;
          default:
            break;
        }
      }
    } catch (e) {
      throw toCallError(e, where, signal);
    }
    if (signal.aborted) throw new CallError('cancelled', `${where}: cancelled`);
    if (!stopped) throw new CallError('stream_cut', `${where}: the stream ended before message_stop`);
    return { usage: anthropicUsage(start, last), finish_reason: finish, model };
  }
}
