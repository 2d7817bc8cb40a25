// One chat call fitted to the model about to serve it (fit.ts does the cutting): the window is the served model's
// (the local server's own, read from it; the policy's figure for a cloud model), minus the output it reserves; the
// prompt is measured with the serving model's tokenizer where the server has one to ask, else estimated with the
// provider's margin. What was cut is audited (GR-005); a request whose minimum does not fit is a context-length
// failure that names the model really called and its window, in words a user can act on.
import { promptTokens } from '../budget/tokens.js';
import type { RoleId } from '../policy/schema.js';
import type { ChainLink } from '../router/types.js';
import type { ServedRecord } from '../runtime/served.js';
import { cutWords, fitMessages, sendable, type Counter } from './fit.js';
import { CallError, type ChatMessage, type ProviderAdapter, type ProviderTarget, type ToolSpec } from './types.js';

export interface FitInput {
  role: RoleId;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** The output the caller asks for (already bounded by the model's own maximum). */
  maxTokens: number;
  signal: AbortSignal;
}

export interface FitPorts {
  adapter: ProviderAdapter;
  /** What the local server serves, with its window when the runtime read it. */
  served: ServedRecord | null;
  audit: (text: string) => void;
}

export interface FittedCall {
  messages: ChatMessage[];
  max_tokens: number;
  /** The window fitted to, and where it was read. */
  window: { tokens: number; from: 'server' | 'policy' } | null;
}

/** The name of the model really called: a local server's own model, with the policy's name beside it. */
export function calledName(link: ChainLink, served: ServedRecord | null): string {
  if (link.provider !== 'local' || !served || served.matches_policy) return `${link.provider}/${link.model}`;
  return `local/${served.name} (serving the policy's ${link.model})`;
}

/** The window of the model about to serve: the local server's as it runs it, else the policy's figure. */
export async function windowOf(
  link: ChainLink,
  target: ProviderTarget,
  p: Pick<FitPorts, 'adapter' | 'served'>,
  signal: AbortSignal,
): Promise<{ tokens: number; from: 'server' | 'policy' } | null> {
  if (link.provider === 'local') {
    const told = p.served?.window ?? (await p.adapter.window?.(target, signal)) ?? null;
    if (told) return { tokens: told, from: 'server' as const };
  }
  const listed = link.spec.context_tokens;
  return listed ? { tokens: listed, from: 'policy' as const } : null;
}

const asText = (messages: ChatMessage[], tools: ToolSpec[] | undefined): string =>
  [
    ...messages.map((m) =>
      m.role === 'assistant' && m.tool_calls?.length
        ? `${m.content}\n${m.tool_calls.map((c) => `${c.name}(${c.arguments})`).join('\n')}`
        : m.content,
    ),
    ...(tools?.length ? [JSON.stringify(tools)] : []),
  ].join('\n');

/** The serving model's own count where its server answers one; else the estimate with the provider's margin. */
function counter(link: ChainLink, target: ProviderTarget, i: FitInput, p: FitPorts): Counter {
  const estimate = (messages: ChatMessage[]) => promptTokens(asText(messages, i.tools), link.provider);
  if (!p.adapter.countTokens) return async (m) => estimate(m);
  let exact = true;
  return async (messages) => {
    if (!exact) return estimate(messages);
    const req = { messages, max_tokens: 1, ...(i.tools?.length ? { tools: i.tools } : {}) };
    const n = await p.adapter.countTokens!(target, req, i.signal).catch(() => null);
    if (n === null) exact = false; // the server does not count: estimates from here on, for a consistent search
    return n === null ? estimate(messages) : n + 16; // + the framing a server adds around the template
  };
}

/** The answer keeps what it asked for, up to half the window: a small local window still leaves room to ask. */
export const reserveOf = (window: number, maxTokens: number): number => Math.min(maxTokens, Math.floor(window / 2));

export async function fitCall(link: ChainLink, target: ProviderTarget, i: FitInput, p: FitPorts): Promise<FittedCall> {
  const window = await windowOf(link, target, p, i.signal);
  const named = calledName(link, p.served);
  if (!window) return { messages: i.messages, max_tokens: i.maxTokens, window: null };
  const reserve = reserveOf(window.tokens, i.maxTokens);
  const budget = window.tokens - reserve;
  // A prompt whose bytes (with room for a template's framing) fit surely fits: no tokenizer gives more tokens
  // than bytes plus its special tokens, so the server need not be asked.
  const bytes = Buffer.byteLength(asText(i.messages, i.tools)) + 32 * i.messages.length + 512;
  if (bytes <= budget) return { messages: i.messages.map(sendable), max_tokens: reserve, window };
  const fit = await fitMessages(i.messages, budget, counter(link, target, i, p));
  const where = window.from === 'server' ? 'as the server runs it' : "the policy's figure";
  if (!fit.ok) {
    const act =
      link.provider === 'local'
        ? 'start the local server with a larger context (runtime.llama_cpp.ctx_size or runtime.vllm.max_model_len ' +
          'in the policy), or set an API key so that a cloud model of the policy can serve it'
        : 'give this role a model with a larger window in the policy';
    throw new CallError(
      'context_length',
      `${named}: context length exceeded: the ${i.role}'s request needs at least ${fit.minimum} tokens with ` +
        `everything it allows cut, but ${named} has a window of ${window.tokens} tokens (${where}), ` +
        `${reserve} of them kept for the answer; ${act}`,
      { requestedTokens: fit.minimum + reserve, called: named },
    );
  }
  if (fit.cuts.length) {
    p.audit(
      `GR-005: ${i.role}: fitted to the ${window.tokens}-token window of ${named} (${where}; ${reserve} kept for ` +
        `the answer, ${fit.tokens} sent): cut ${cutWords(fit.cuts)}`,
    );
  }
  return { messages: fit.messages, max_tokens: reserve, window };
}
