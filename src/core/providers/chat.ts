// A chat call inside the attempt loop: which models it tries (the chain, the sidecar, a preferred model first), what
// one try is (a stream, its events and its usage), how a context-length failure escalates, and what it returns.
import { estimateTokens, picoToUsd, worstCasePico } from '../budget/cost.js';
import { ZERO_USAGE, type Usage } from '../budget/port.js';
import { promptTokens } from '../budget/tokens.js';
import type { Policy, ProviderId, RoleId } from '../policy/schema.js';
import type { ChainLink, RouteDecision, RouteRequest } from '../router/types.js';
import type { Job } from './attempts.js';
import { linkName as name, type CallRecord } from './callRecord.js';
import { calledName, fitCall } from './fitCall.js';
import type { CallResult } from './outcomes.js';
import { CallError } from './types.js';
import type {
  ChatMessage,
  ChatRequest,
  ProviderAdapter,
  ProviderTarget,
  StreamEvent,
  StreamResult,
  ToolSpec,
} from './types.js';

export interface CallOptions {
  role: RoleId;
  messages: ChatMessage[];
  task_id?: string;
  parent_call?: string;
  max_tokens?: number;
  temperature?: number;
  json?: boolean;
  /** Native tool calling: the tools the model may call (the answer's calls are in `tool_calls`). */
  tools?: ToolSpec[];
  /** The rest of the RouteRequest (change, signals, failed_loops...). */
  route?: Partial<Omit<RouteRequest, 'role' | 'task_id'>>;
  signal?: AbortSignal;
  onEvent?: (e: StreamEvent) => void;
  /** Keep the whole answer in the result (default true; streaming consumers that print as they go can say false). */
  keepText?: boolean;
  /** Try this model of the decision's chain first (a second pass by the model that wrote the first). */
  prefer?: { provider: ProviderId; model: string };
  /** Call the critic-only sidecar the router attached (GR-001: critiques, never rewrites); refused when none is. */
  sidecar?: boolean;
}

const DEFAULT_MAX_TOKENS = 4096;
/** Local models and NotebookLM (the user's own MCP server and account) bill Switchyard nothing. */
const free = (l: ChainLink) => l.provider === 'local' || l.provider === 'notebooklm';

interface Answer {
  res: StreamResult;
  text: string;
  chars: number;
  ttft: number | null;
}

export class ChatJob implements Job<Answer, CallResult> {
  readonly signal: AbortSignal;
  /** Events shown to the consumer by the current try, and its characters (for the cancel line). */
  private streamed = 0;
  private chars = 0;
  /** The first context-length failure: a later, duller error (a missing key) must not hide it. */
  private tooLarge: CallError | null = null;
  readonly escalate: Job<Answer, CallResult>['escalate'];

  constructor(
    readonly record: CallRecord,
    private readonly o: CallOptions,
    private readonly promptText: string,
    private readonly adapters: Partial<Record<ProviderId, ProviderAdapter>>,
    escalate: NonNullable<Job<Answer, CallResult>['escalate']>,
  ) {
    this.signal = o.signal ?? new AbortController().signal;
    this.escalate = (link, err, rest) => {
      this.tooLarge ??= err;
      return escalate(link, err, rest);
    };
  }

  unavailable(link: ChainLink): CallError | null {
    if (this.adapters[link.provider]) return null;
    const why =
      link.provider === 'notebooklm'
        ? 'notebooklm: reached only through a user-configured MCP server, and none is configured'
        : `no adapter for provider ${link.provider}`;
    return new CallError('unavailable', why);
  }

  billed = (link: ChainLink) => !free(link);

  private maxTokens(link: ChainLink): number {
    return Math.min(this.o.max_tokens ?? DEFAULT_MAX_TOKENS, link.spec.max_output_tokens ?? Number.MAX_SAFE_INTEGER);
  }

  worstCase(link: ChainLink): number {
    return worstCasePico(promptTokens(this.promptText, link.provider), this.maxTokens(link), link.prices!);
  }

  async attempt(link: ChainLink, target: ProviderTarget): Promise<{ value: Answer; usage: Usage }> {
    const { o, record } = this;
    const adapter = this.adapters[link.provider]!;
    const served = link.provider === 'local' ? record.servedModel() : null;
    const called = { ...target, label: calledName(link, served) };
    const fitted = await fitCall(
      link,
      called,
      { role: o.role, messages: o.messages, maxTokens: this.maxTokens(link), signal: this.signal, ...tools(o) },
      { adapter, served, audit: (text) => record.audit('fit', text, { from: name(link) }) },
    );
    const req: ChatRequest = { messages: fitted.messages, max_tokens: fitted.max_tokens };
    if (o.temperature !== undefined) req.temperature = o.temperature;
    if (o.json) req.json = true;
    if (o.tools?.length) req.tools = o.tools;
    if (link.reasoning_effort) req.reasoning_effort = link.reasoning_effort;
    const keep = o.keepText !== false;
    const answer = { text: '', chars: 0, ttft: null as number | null };
    this.streamed = 0;
    this.chars = 0;
    const onEvent = (e: StreamEvent) => {
      if (e.type === 'text') {
        answer.ttft ??= record.sinceStart();
        answer.chars += e.text.length;
        this.chars = answer.chars;
        if (keep) answer.text += e.text;
      }
      this.streamed++;
      o.onEvent?.(e);
    };
    const res = await adapter.stream(called, req, onEvent, this.signal);
    const estimated = {
      ...ZERO_USAGE,
      input_tokens: estimateTokens(this.promptText),
      output_tokens: Math.ceil(answer.chars / 3),
    };
    return { value: { res, ...answer }, usage: res.usage.reported ? res.usage : estimated };
  }

  failedTry(err: CallError, next: string): void {
    if (this.streamed > 0) this.o.onEvent?.({ type: 'reset', reason: err.message, next });
  }

  discarded = () => this.streamed > 0;

  cancelNote(link: ChainLink): string {
    return `${this.o.role}: ${name(link)} cancelled by the user after ${this.chars} characters; nothing was kept`;
  }

  succeeded(link: ChainLink, a: Answer, usage: Usage, cost: number, step: number): CallResult {
    const { record, o } = this;
    const total = record.elapsed();
    const timings = { ttft_ms: a.ttft === null ? null : Math.round(a.ttft), total_ms: total };
    if (!a.res.usage.reported) record.audit('call', `${name(link)} reported no usage; token counts are estimates`);
    const tokens = `${usage.input_tokens + usage.cached_input_tokens} in, ${usage.output_tokens} out`;
    const after = step > 0 ? ` after ${step} fallback step(s)` : '';
    const figures = `${tokens}, $${picoToUsd(cost).toFixed(6)}, ttft ${timings.ttft_ms ?? '-'} ms, ${total} ms`;
    const line = `${o.role}: ${name(link)} answered (${figures})${after}`;
    return {
      ...record.served(link, line, { usage, cost, timings }),
      served_model: a.res.model,
      text: a.text,
      tool_calls: a.res.tool_calls,
      chars: a.chars,
      finish_reason: a.res.finish_reason,
      cost_pico: cost,
      timings,
      attempts: record.attempts,
      audit: record.lines,
      escalated: step > 0 || record.escalations.length > 0,
    };
  }

  exhausted(last: CallError | null): string {
    const { record, o } = this;
    const cloud = record.decision.chain.filter((l) => l.provider !== 'local' && l.provider !== 'notebooklm');
    if (last?.kind === 'no_key' && record.attempts.length === 0 && cloud.length > 0) {
      // No model could even be tried: say which keys would let one be, not the last of them.
      const envs = [...new Set(cloud.map((l) => `${l.provider.toUpperCase()}_API_KEY`))];
      return (
        `no API key for any cloud model the policy allows for ${o.role} ` +
        `(${cloud.map((l) => name(l)).join(', ')}): run "Switchyard: Set API Key" for one of them ` +
        `(or set ${envs.join(' or ')} for the CLI)`
      );
    }
    const first = this.tooLarge && this.tooLarge !== last ? `; first, ${this.tooLarge.message}` : '';
    return `every model the policy allows for ${o.role} failed; last error: ${last?.message ?? 'none available'}${first}`;
  }
}

const tools = (o: CallOptions) => (o.tools?.length ? { tools: o.tools } : {});

/** The models a chat call tries: the decision's chain, the sidecar alone, or the preferred model first. */
export function chatChain(record: CallRecord, o: CallOptions): ChainLink[] {
  const d = record.decision;
  if (d.refused) throw record.refused(d.refused.guardrail, d.refused.message);
  if (d.location === 'none' || !d.model) {
    throw record.refused(null, `${o.role} is a deterministic role: it makes no model call (rule ${d.rule})`);
  }
  const kind = d.chain[0]?.spec.kind ?? 'chat';
  if (kind === 'embedding' || kind === 'vision') {
    const scheduling = kind === 'vision' ? ' (kept out of LLM scheduling, §1)' : '';
    const msg =
      `${o.role} is served by a ${kind} model (${d.provider}/${d.model}), not a chat model: ` +
      `it takes no chat call${scheduling}`;
    throw record.refused(null, msg);
  }
  if (o.sidecar) {
    if (d.sidecar) return d.sidecar_chain;
    const why = d.reasons.find((r) => r.startsWith('critic sidecar')) ?? 'no critic sidecar is attached to this route';
    const msg = `the critic sidecar does not run: ${why}`;
    record.audit('refusal', `GR-001: ${msg}`, { guardrail: 'GR-001' });
    throw record.refused('GR-001', msg);
  }
  const same = (r: ChainLink) => r.provider === o.prefer?.provider && r.model === o.prefer.model;
  const k = o.prefer ? d.chain.findIndex(same) : -1;
  return k > 0 ? [d.chain[k]!, ...d.chain.slice(0, k), ...d.chain.slice(k + 1)] : d.chain;
}

/**
 * A context-length failure is never answered by truncating: the router decides again with the size the provider
 * reported (else at least past the policy's long-context threshold, §3), and the models that fit are tried next.
 */
export function contextEscalation(
  record: CallRecord,
  policy: Policy,
  request: RouteRequest,
  failed: { link: ChainLink; err: CallError; rest: ChainLink[] },
  decide: (r: RouteRequest) => RouteDecision,
): { request: RouteRequest; chain: ChainLink[] } {
  const { link, err, rest } = failed;
  const needed =
    err.opts.requestedTokens ??
    Math.max(request.context_estimate ?? 0, policy.escalation.librarian.context_tokens_over + 1);
  const larger = { ...request, context_estimate: needed };
  const again = decide(larger);
  const fits = (r: ChainLink) => (r.spec.context_tokens ?? Infinity) >= needed;
  const fresh = again.refused || !again.model ? [] : again.chain.filter(fits);
  const same = (a: ChainLink, b: ChainLink) => a.provider === b.provider && a.model === b.model;
  const chain = [...fresh, ...rest.filter(fits)].filter(
    (r, k, all) => all.findIndex((x) => same(x, r)) === k && !same(r, link),
  );
  const to = chain[0] ? name(chain[0]) : null;
  const how = again.rule !== record.decision.rule ? `policy rule ${again.rule}` : 'next model with a larger context';
  const called = err.opts.called ?? name(link);
  const why =
    `context length exceeded on ${called} (about ${needed} tokens needed); ${how}; ` +
    `the next model gets the request as the role wrote it, fitted to its own window`;
  record.audit('escalation', `GR-005: ${name(link)} -> ${to ?? 'none'}: ${why}`, { from: name(link), to });
  record.escalations.push({ from: name(link), to: to ?? 'none', why });
  if (!again.refused) record.decision = again;
  return { request: larger, chain };
}
