// What a local server can say about a prompt before it is sent: its window (runtime/window.ts) and the prompt's
// size in its own tokens, through its chat template (llama-server: `/apply-template` then `/tokenize`; vLLM:
// `/tokenize` with the messages). Only the local lane is asked, through the transport guard like every call.
import { readWindow, serverRoot } from '../runtime/window.js';
import type { FetchLike } from './transport.js';
import type { ChatMessage, ChatRequest, ProviderTarget } from './types.js';

type Dialect = 'llama' | 'vllm' | 'none';
const WINDOW_TTL_MS = 60_000;

export class ServerTokens {
  private readonly windows = new Map<string, { at: number; tokens: number | null }>();
  private readonly dialects = new Map<string, Dialect>();

  constructor(
    private readonly fetch: FetchLike,
    private readonly wire: (m: ChatMessage) => Record<string, unknown>,
  ) {}

  async window(t: ProviderTarget, signal: AbortSignal): Promise<number | null> {
    if (t.provider !== 'local' || !t.baseURL) return null;
    const known = this.windows.get(t.baseURL);
    if (known && Date.now() - known.at < WINDOW_TTL_MS) return known.tokens;
    const tokens = await readWindow(t.baseURL, t.apiKey, signal, this.fetch as typeof fetch).catch(() => null);
    this.windows.set(t.baseURL, { at: Date.now(), tokens });
    return tokens;
  }

  async count(t: ProviderTarget, req: ChatRequest, signal: AbortSignal): Promise<number | null> {
    if (t.provider !== 'local' || !t.baseURL) return null;
    const root = serverRoot(t.baseURL);
    const post = async (path: string, body: unknown): Promise<Record<string, unknown> | null> => {
      const res = await this.fetch(`${root}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      });
      return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
    };
    const messages = req.messages.map(this.wire);
    const tools = req.tools?.length
      ? req.tools.map((x) => ({
          type: 'function',
          function: { name: x.name, description: x.description, parameters: x.parameters },
        }))
      : undefined;
    const dialect = this.dialects.get(root);
    try {
      if (dialect !== 'vllm' && dialect !== 'none') {
        const templ = await post('/apply-template', { messages, ...(tools ? { tools } : {}) });
        if (typeof templ?.prompt === 'string') {
          const tok = await post('/tokenize', { content: templ.prompt, add_special: true });
          if (Array.isArray(tok?.tokens)) {
            this.dialects.set(root, 'llama');
            return tok.tokens.length;
          }
        }
      }
      if (dialect !== 'none') {
        const tok = await post('/tokenize', {
          model: t.model,
          messages,
          add_generation_prompt: true,
          ...(tools ? { tools } : {}),
        });
        if (typeof tok?.count === 'number') {
          this.dialects.set(root, 'vllm');
          return tok.count;
        }
      }
    } catch (e) {
      if (signal.aborted) throw e;
    }
    this.dialects.set(root, 'none');
    return null;
  }
}
