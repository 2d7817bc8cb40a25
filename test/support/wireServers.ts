// Test servers that speak the real wire formats (PROVIDERS.md §4): OpenAI Chat Completions (JSON and SSE,
// the include_usage chunk, error bodies; also DeepSeek/Moonshot/vLLM flavours) and Anthropic Messages SSE,
// with fault injection: status codes, retry-after, delays, a slow first byte, cut streams, malformed chunks,
// error events mid-stream. The official SDKs reach them by base URL on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { CacheRequestError, PromptCache } from './promptCache.js';

export type Behaviour =
  | {
      kind: 'ok';
      text?: string;
      chunks?: string[];
      reasoning?: string[];
      usage?: Record<string, unknown>;
      firstByteMs?: number;
      chunkMs?: number;
      noUsage?: boolean;
      model?: string;
      repeat?: number;
      /** chunks per second, paced by the wall clock */ rate?: number;
      /** Native tool calls after the text: streamed as the provider does (OpenAI deltas, Anthropic tool_use blocks). */
      tools?: ScriptedToolCall[];
    }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'cut'; afterChunks: number }
  | { kind: 'malformed'; afterChunks: number }
  | { kind: 'error_event'; afterChunks: number; type: string; message?: string }
  | { kind: 'end_early'; afterChunks: number }
  | { kind: 'hang' };

export interface ScriptedToolCall {
  id?: string;
  name: string;
  /** An object is sent as its JSON; a string is sent as written (to script malformed arguments). */
  arguments: Record<string, unknown> | string;
}

const argText = (c: ScriptedToolCall) => (typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments));
/** Argument JSON in pieces of at most 7 characters, as models stream it. */
const argPieces = (c: ScriptedToolCall) => argText(c).match(/.{1,7}/gs) ?? [''];

export interface SeenRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

export interface WireServer {
  url: string; // base URL as the SDK wants it (OpenAI: .../v1; Anthropic: host root)
  requests: SeenRequest[];
  /**
   * What was asked besides the API itself (a model list, llama-server's `/props`, `/tokenize`, `/apply-template`):
   * the call path's questions about a local server, kept apart so that `requests` holds the model calls.
   */
  probes: SeenRequest[];
  /** Behaviours for the next requests, in order; after them, `fallback`. */
  queue: Behaviour[];
  fallback: Behaviour;
  /** The vector of one embeddings input (default: a toy function of the text's length). */
  embed?: (text: string) => number[];
  /** Anthropic only: the prompt cache that honours cache_control (promptCache.ts). */
  promptCache?: PromptCache;
  close(): Promise<void>;
}

const sse = (res: ServerResponse, data: unknown, event?: string) =>
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pieces(b: Extract<Behaviour, { kind: 'ok' }>): string[] {
  const base = b.chunks ?? (b.text ?? 'Hello from the test server.').match(/.{1,4}/gs) ?? [];
  if (!b.repeat) return base;
  const out: string[] = [];
  for (let i = 0; i < b.repeat; i++) out.push(...base);
  return out;
}

async function start(
  handler: (req: IncomingMessage, res: ServerResponse, s: WireServer, body: Record<string, unknown>) => Promise<void>,
  base: (port: number) => string,
): Promise<WireServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state: WireServer = {
    url: '',
    requests: [],
    probes: [],
    queue: [],
    fallback: { kind: 'ok' },
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const seen = { path: req.url ?? '', headers: req.headers, body };
      const probe = /\/(models|props|tokenize|detokenize|apply-template)(\?.*)?$/.test(seen.path);
      (probe ? state.probes : state.requests).push(seen);
      await handler(req, res, state, body);
    })().catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  state.url = base(port);
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}

function next(s: WireServer): Behaviour {
  return s.queue.shift() ?? s.fallback;
}

function statusReply(res: ServerResponse, b: Extract<Behaviour, { kind: 'status' }>, defaultBody: unknown) {
  res.writeHead(b.status, { 'content-type': 'application/json', ...(b.headers ?? {}) });
  res.end(JSON.stringify(b.body ?? defaultBody));
}

/** OpenAI Chat Completions; `flavour` picks the usage fields of OpenAI, DeepSeek or Moonshot. */
export function openAiServer(flavour: 'openai' | 'deepseek' | 'moonshot' = 'openai'): Promise<WireServer> {
  return start(
    async (req, res, s, body) => {
      const path = (req.url ?? '').replace(/\?.*$/, '');
      if (req.method === 'GET' && /\/models$/.test(path)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model' }] }));
        return;
      }
      if (!/\/(chat\/completions|embeddings)$/.test(path)) {
        // What OpenAI answers for a path it does not have (llama-server's /props or /tokenize, say).
        const error = { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', code: null };
        statusReply(res, { kind: 'status', status: 404 }, { error });
        return;
      }
      if (/\/embeddings$/.test(path)) {
        const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
        if (s.queue[0]?.kind === 'status') {
          const b = next(s) as Extract<Behaviour, { kind: 'status' }>;
          statusReply(res, b, {
            error: {
              message: `injected ${b.status}`,
              type: b.status === 429 ? 'rate_limit_error' : 'server_error',
              param: null,
              code: null,
            },
          });
          return;
        }
        const vec = s.embed ?? ((t: string) => Array.from({ length: 8 }, (_, k) => ((t.length * (k + 1)) % 7) / 7));
        const tokens = Math.ceil(input.join(' ').length / 4);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            model: body.model,
            data: input.map((t, index) => ({ object: 'embedding', index, embedding: vec(t) })),
            usage: { prompt_tokens: tokens, total_tokens: tokens },
          }),
        );
        return;
      }
      if (!/\/chat\/completions$/.test(path)) {
        statusReply(
          res,
          { kind: 'status', status: 404 },
          { error: { message: `no route ${path}`, type: 'invalid_request_error' } },
        );
        return;
      }
      const b = next(s);
      if (b.kind === 'status') {
        statusReply(res, b, {
          error: {
            message: `injected ${b.status}`,
            type: b.status === 429 ? 'rate_limit_error' : 'server_error',
            param: null,
            code: null,
          },
        });
        return;
      }
      if (b.kind === 'hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        await new Promise((r) => req.socket.once('close', r));
        return;
      }
      const model = (b.kind === 'ok' && b.model) || String(body.model ?? 'test-model');
      const id = 'chatcmpl-test';
      const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
        id,
        object: 'chat.completion.chunk',
        created: 1760000000,
        model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
        usage: null,
      });
      const ok =
        b.kind === 'ok' ? b : { kind: 'ok' as const, text: 'partial answer that will be cut off here and there' };
      const parts = pieces(ok);
      const prompt = JSON.stringify(body.messages ?? '').length;
      const usage =
        ok.usage ??
        (flavour === 'deepseek'
          ? {
              prompt_tokens: prompt,
              completion_tokens: parts.length,
              total_tokens: prompt + parts.length,
              prompt_cache_hit_tokens: 0,
              prompt_cache_miss_tokens: prompt,
              completion_tokens_details: { reasoning_tokens: (ok.reasoning ?? []).length },
            }
          : flavour === 'moonshot'
            ? {
                prompt_tokens: prompt,
                completion_tokens: parts.length,
                total_tokens: prompt + parts.length,
                cached_tokens: 0,
              }
            : {
                prompt_tokens: prompt,
                completion_tokens: parts.length,
                total_tokens: prompt + parts.length,
                prompt_tokens_details: { cached_tokens: 0 },
                completion_tokens_details: { reasoning_tokens: 0 },
              });
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id,
            object: 'chat.completion',
            created: 1760000000,
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: parts.join('') }, finish_reason: 'stop' }],
            usage,
          }),
        );
        return;
      }
      if (ok.firstByteMs) await sleep(ok.firstByteMs);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      sse(res, chunk({ role: 'assistant', content: '' }));
      for (const r of ok.reasoning ?? []) sse(res, chunk({ reasoning_content: r }));
      const paced = performance.now();
      for (let i = 0; i < parts.length; i++) {
        if (ok.rate) {
          const due = paced + (i * 1000) / ok.rate - performance.now();
          if (due > 1) await sleep(due);
        }
        if (b.kind !== 'ok' && i === b.afterChunks) {
          if (b.kind === 'cut') {
            await sleep(30);
            res.socket?.destroy();
            return;
          }
          if (b.kind === 'malformed') {
            res.write('data: {"id":"chatcmpl-test","choices":[{"delta":{"content":"x"\n\n');
            res.end();
            return;
          }
          if (b.kind === 'error_event') {
            sse(res, { error: { message: b.message ?? 'injected', type: b.type, code: null } });
            res.end();
            return;
          }
          if (b.kind === 'end_early') {
            res.end();
            return;
          }
        }
        sse(res, chunk({ content: parts[i] }));
        if (ok.chunkMs) await sleep(ok.chunkMs);
      }
      (ok.tools ?? []).forEach((c, index) => {
        const first = {
          index,
          id: c.id ?? `call_${index}`,
          type: 'function',
          function: { name: c.name, arguments: '' },
        };
        sse(res, chunk({ tool_calls: [first] }));
        for (const a of argPieces(c)) sse(res, chunk({ tool_calls: [{ index, function: { arguments: a } }] }));
      });
      sse(res, chunk({}, ok.tools?.length ? 'tool_calls' : 'stop'));
      const opts = body.stream_options as { include_usage?: boolean } | undefined;
      if (opts?.include_usage && !ok.noUsage)
        sse(res, { id, object: 'chat.completion.chunk', created: 1760000000, model, choices: [], usage });
      sse(res, '[DONE]');
      res.end();
    },
    (port) => `http://127.0.0.1:${port}/v1`,
  );
}

/**
 * Anthropic Messages: SSE events in the documented order, errors in Anthropic's body shape, and the prompt cache
 * (promptCache.ts): cache_control honoured, the input tokens counted and split into cache reads, cache writes and
 * the rest. A scripted `usage` replaces the counted one.
 */
export async function anthropicServer(cache = new PromptCache()): Promise<WireServer> {
  const server = await start(
    async (req, res, s, body) => {
      const path = (req.url ?? '').replace(/\?.*$/, '');
      if (path !== '/v1/messages') {
        statusReply(
          res,
          { kind: 'status', status: 404 },
          { type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } },
        );
        return;
      }
      try {
        cache.check(body); // an invalid request is refused before anything is generated
      } catch (e) {
        if (!(e instanceof CacheRequestError)) throw e;
        statusReply(
          res,
          { kind: 'status', status: 400 },
          { type: 'error', error: { type: 'invalid_request_error', message: e.message }, request_id: 'req_test' },
        );
        return;
      }
      const b = next(s);
      if (b.kind === 'status') {
        const type =
          b.status === 429
            ? 'rate_limit_error'
            : b.status === 529
              ? 'overloaded_error'
              : b.status === 401
                ? 'authentication_error'
                : b.status >= 500
                  ? 'api_error'
                  : 'invalid_request_error';
        statusReply(res, b, {
          type: 'error',
          error: { type, message: b.status === 529 ? 'Overloaded' : `injected ${b.status}` },
          request_id: 'req_test',
        });
        return;
      }
      if (b.kind === 'hang') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.flushHeaders();
        await new Promise((r) => req.socket.once('close', r));
        return;
      }
      const ok =
        b.kind === 'ok' ? b : { kind: 'ok' as const, text: 'partial answer that will be cut off here and there' };
      const parts = pieces(ok);
      const model = ok.model ?? String(body.model);
      const counted = cache.account(body);
      const startUsage = { ...counted, output_tokens: 1, service_tier: 'standard' };
      if (ok.firstByteMs) await sleep(ok.firstByteMs);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      sse(
        res,
        {
          type: 'message_start',
          message: {
            id: 'msg_test',
            type: 'message',
            role: 'assistant',
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: ok.usage?.start ?? startUsage,
          },
        },
        'message_start',
      );
      sse(
        res,
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        'content_block_start',
      );
      sse(res, { type: 'ping' }, 'ping');
      const paced = performance.now();
      for (let i = 0; i < parts.length; i++) {
        if (ok.rate) {
          const due = paced + (i * 1000) / ok.rate - performance.now();
          if (due > 1) await sleep(due);
        }
        if (b.kind !== 'ok' && i === b.afterChunks) {
          if (b.kind === 'cut') {
            await sleep(30);
            res.socket?.destroy();
            return;
          }
          if (b.kind === 'malformed') {
            res.write(
              'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_del\n\n',
            );
            res.end();
            return;
          }
          if (b.kind === 'error_event') {
            sse(res, { type: 'error', error: { type: b.type, message: b.message ?? 'Overloaded' } }, 'error');
            res.end();
            return;
          }
          if (b.kind === 'end_early') {
            res.end();
            return;
          }
        }
        sse(
          res,
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: parts[i] } },
          'content_block_delta',
        );
        if (ok.chunkMs) await sleep(ok.chunkMs);
      }
      sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
      (ok.tools ?? []).forEach((c, k) => {
        const index = k + 1;
        const block = { type: 'tool_use', id: c.id ?? `toolu_${index}`, name: c.name, input: {} };
        sse(res, { type: 'content_block_start', index, content_block: block }, 'content_block_start');
        for (const a of argPieces(c))
          sse(
            res,
            { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: a } },
            'content_block_delta',
          );
        sse(res, { type: 'content_block_stop', index }, 'content_block_stop');
      });
      // message_delta usage is cumulative; send two to prove the client keeps the latest, not the sum.
      // Output: a token per streamed text piece, and the tool calls' JSON as the tokenizer counts it.
      const out = parts.length + (ok.tools ?? []).reduce((n, c) => n + countTokens(c.name + argText(c)), 0);
      const mid = { output_tokens: Math.max(1, Math.floor(out / 2)) };
      sse(
        res,
        { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: mid },
        'message_delta',
      );
      sse(
        res,
        {
          type: 'message_delta',
          delta: { stop_reason: ok.tools?.length ? 'tool_use' : 'end_turn', stop_sequence: null },
          usage: ok.usage?.final ?? {
            input_tokens: counted.input_tokens,
            cache_creation_input_tokens: counted.cache_creation_input_tokens,
            cache_read_input_tokens: counted.cache_read_input_tokens,
            output_tokens: out,
          },
        },
        'message_delta',
      );
      sse(res, { type: 'message_stop' }, 'message_stop');
      res.end();
    },
    (port) => `http://127.0.0.1:${port}`,
  );
  server.promptCache = cache;
  return server;
}
