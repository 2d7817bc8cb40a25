// Anthropic Messages with streaming, over the official SDK; usage read as PROVIDERS.md §2.3 says
// (message_delta usage is cumulative: keep the latest value of each field, never sum); cache writes and reads are
// kept apart for the ledger. A request that asks for caching gets its breakpoints (anthropicCache.ts).
import { type Usage } from '../budget/port.js';
import Anthropic from '@anthropic-ai/sdk';
import { toCallError } from './errors.js';
import type { FetchLike } from './transport.js';
import { SdkClients } from './sdkClients.js';
import { withBreakpoints, type AnthropicMessage } from './anthropicCache.js';
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

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string };
type Message = { role: 'user' | 'assistant'; content: string | Block[] };

/**
 * Our messages as Anthropic's: tool calls are `tool_use` blocks, results `tool_result` blocks of a user turn. `stable`:
 * the indexes (in the result) of the messages that end the stable prefix (`cache`).
 */
function anthropicMessages(all: ChatMessage[]): { messages: Message[]; stable: number[] } {
  const out: Message[] = [];
  const stable: number[] = [];
  for (const m of all) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      const block: Block = { type: 'tool_result', tool_use_id: m.tool_call_id, content: m.content };
      const prev = out[out.length - 1];
      if (prev?.role === 'user' && Array.isArray(prev.content) && prev.content[0]?.type === 'tool_result')
        prev.content.push(block);
      else out.push({ role: 'user', content: [block] });
    } else if (m.role === 'assistant' && m.tool_calls?.length) {
      const text: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
      const uses = m.tool_calls.map((c): Block => ({ type: 'tool_use', id: c.id, name: c.name, input: parsed(c) }));
      out.push({ role: 'assistant', content: [...text, ...uses] });
    } else {
      out.push({ role: m.role, content: m.content });
      if (m.role === 'user' && m.cache) stable.push(out.length - 1);
    }
  }
  return { messages: out, stable };
}

/** Anthropic takes a tool call's input as an object: the arguments as written, or an empty object when unparseable. */
function parsed(c: ToolCall): unknown {
  try {
    const v: unknown = JSON.parse(c.arguments || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
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
    const where = t.label ?? `anthropic/${t.model}`;
    const system = req.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const converted = anthropicMessages(req.messages);
    const parts = withBreakpoints(
      system,
      req.tools?.map((x) => ({ name: x.name, description: x.description, input_schema: x.parameters })),
      converted.messages as AnthropicMessage[],
      {
        cache: req.messages.some((m) => (m.role === 'system' || m.role === 'user') && m.cache),
        stableEnds: converted.stable,
      },
    );
    const blocks = new Map<number, ToolCall>();
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
          messages: parts.messages as never,
          stream: true,
          ...(parts.system ? { system: parts.system as never } : {}),
          ...(parts.tools?.length ? { tools: parts.tools as never } : {}),
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
          case 'content_block_start':
            if (ev.content_block.type === 'tool_use')
              blocks.set(ev.index, { id: ev.content_block.id, name: ev.content_block.name, arguments: '' });
            break;
          case 'content_block_delta':
            if (ev.delta.type === 'input_json_delta') {
              const b = blocks.get(ev.index);
              if (b) b.arguments += ev.delta.partial_json;
            } else if (ev.delta.type === 'text_delta') onEvent({ type: 'text', text: ev.delta.text });
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
    const tool_calls = [...blocks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ ...c, arguments: c.arguments || '{}' }));
    return { usage: anthropicUsage(start, last), finish_reason: finish, model, tool_calls };
  }
}
