// The one path of every model call: route -> reserve -> guard -> call (retries, fallback chain) -> commit -> record.
// Every retry, fallback, escalation, refusal and failure leaves an audit line (GR-005); each call leaves a
// provenance record (GR-013). Nothing here knows of VS Code: keys, endpoints, logs and budget are ports.
// The loop itself is attempts.ts; this file says what a chat call and an embeddings call are.
import { estimateTokens } from '../budget/cost.js';
import type { BudgetPort } from '../budget/port.js';
import type { AuditEntry, AuditKind } from '../evidence/auditLog.js';
import { Redactor } from '../evidence/redact.js';
import type { Policy, ProviderId, RoleId } from '../policy/schema.js';
import { parseRouteRequest } from '../router/request.js';
import { route } from '../router/route.js';
import type { ChainLink, RouteDecision, RouteRequest } from '../router/types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import { abortableSleep, DEFAULT_RETRY, runChain, type LoopPorts, type RetryPolicy } from './attempts.js';
import { CallRecord } from './callRecord.js';
import { ChatJob, chatChain, contextEscalation, type CallOptions } from './chat.js';
import { EmbedJob, type EmbedOptions } from './embed.js';
import { reserveOf, windowOf } from './fitCall.js';
import { CallRefused, type CallResult, type EmbedResult, type ProvenanceRecord } from './outcomes.js';
import type { CallError, ProviderAdapter } from './types.js';
import type { ServedRecord } from '../runtime/served.js';

export type { CallOptions } from './chat.js';
export type { EmbedOptions } from './embed.js';
export type { Attempt, CallResult, EmbedResult, ProvenanceRecord } from './outcomes.js';
export { CallFailed, CallRefused } from './outcomes.js';

export interface CallPorts {
  policy: () => Policy;
  source: 'extension' | 'cli';
  localOnlySetting: () => boolean;
  /** The API key of a cloud provider (SecretStorage in the editor, environment variables in the CLI). */
  key: (provider: ProviderId) => Promise<string | undefined> | string | undefined;
  /** Base URL overrides; for `local`, the runtime's endpoint (undefined: no local server). */
  baseUrl: (provider: ProviderId) => string | undefined | Promise<string | undefined>;
  adapters: Partial<Record<ProviderId, ProviderAdapter>>;
  /** Lines may be queued; `flush` (awaited before a call returns or throws) makes them durable. */
  audit: { append(e: AuditEntry): void; flush?(): Promise<void> };
  provenance: { append(r: ProvenanceRecord): void; flush?(): Promise<void> };
  budget: BudgetPort;
  retry?: RetryPolicy;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  redactor?: Redactor;
  /** What the local server really serves (the runtime reads it from the model); named in local calls' provenance. */
  servedModel?: () => ServedRecord | null;
}

/** The routing request, validated at the door: a caller's mistake is a refusal before anything is called. */
function validRequest(raw: unknown): RouteRequest {
  const r = parseRouteRequest(raw);
  if (r.ok) return r.request;
  const why = r.errors.map((e) => `${e.field}: ${e.reason}`).join('; ');
  throw new CallRefused(null, `invalid routing request (${why}); no model was called`, null, []);
}

export class ModelCaller {
  readonly redactor: Redactor;
  constructor(private readonly p: CallPorts) {
    this.redactor = p.redactor ?? new Redactor();
  }

  /** An audit line about a call made by a workflow around the path (a JSON repair, a verdict check). */
  async note(kind: AuditKind, text: string, ctx: { role: RoleId; task_id?: string | null; call_id?: string }) {
    const entry: AuditEntry = {
      ts: new Date().toISOString(),
      kind,
      source: this.p.source,
      audit: this.redactor.redact(text),
      role: ctx.role,
      task_id: ctx.task_id ?? null,
    };
    if (ctx.call_id) entry.call_id = ctx.call_id;
    this.p.audit.append(entry);
    await this.p.audit.flush?.();
  }

  /**
   * The room a caller that fits its own prompt (the agent's transcript) has on the model of `link`: the window it
   * serves (the local server's as it runs, else the policy's) minus the output a call keeps for the answer.
   */
  async room(link: ChainLink, maxTokens: number): Promise<{ window: number; prompt: number } | null> {
    const adapter = this.p.adapters[link.provider];
    if (!adapter) return null;
    const local = link.provider === 'local';
    const target = {
      provider: link.provider,
      model: link.model,
      baseURL: local ? await this.p.baseUrl('local') : undefined,
      apiKey: local ? await this.p.key('local') : undefined,
    };
    const served = local ? (this.p.servedModel?.() ?? null) : null;
    const w = await windowOf(link, target, { adapter, served }, AbortSignal.timeout(10_000)).catch(() => null);
    return w ? { window: w.tokens, prompt: w.tokens - reserveOf(w.tokens, maxTokens) } : null;
  }

  call(o: CallOptions): Promise<CallResult> {
    return this.flushed(() => this.chat(o));
  }

  /**
   * Embeddings through the same path: the router's chain for the embeddings role (bge-m3 on the local runtime,
   * OpenAI embeddings as fallback unless local_only), the worst case reserved for a cloud model, every fallback
   * audited. The result names the model that served: vectors of different models never mix.
   */
  embed(o: EmbedOptions): Promise<EmbedResult> {
    return this.flushed(() => this.embedding(o));
  }

  private async flushed<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } finally {
      await this.p.audit.flush?.();
      await this.p.provenance.flush?.();
    }
  }

  /** The router's decision; the ledger is read only when a cloud model is in the chain. */
  private decide(request: RouteRequest, policy: Policy): RouteDecision {
    const caps = () => this.p.budget.snapshot(request.task_id ?? null);
    return route(request, policy, { local_only_setting: this.p.localOnlySetting(), caps });
  }

  private loopPorts(decision: RouteDecision): LoopPorts {
    return {
      key: this.p.key,
      baseUrl: this.p.baseUrl,
      budget: this.p.budget,
      redactor: this.redactor,
      localOnly: decision.local_only,
      retry: this.p.retry ?? DEFAULT_RETRY,
      sleep: this.p.sleep ?? abortableSleep,
      random: this.p.random ?? Math.random,
      now: this.now,
    };
  }

  private readonly now = () => (this.p.now ?? performance.now.bind(performance))();

  private record(call: ConstructorParameters<typeof CallRecord>[1]): CallRecord {
    const { source, audit, provenance, servedModel } = this.p;
    const ports = { source, audit, provenance, redactor: this.redactor, now: this.now };
    return new CallRecord(servedModel ? { ...ports, servedModel } : ports, call);
  }

  private async chat(o: CallOptions): Promise<CallResult> {
    const policy = this.p.policy();
    const promptText = promptOf(o);
    const context_estimate = o.route?.context_estimate ?? estimateTokens(promptText);
    let request = validRequest({ ...o.route, role: o.role, task_id: o.task_id, context_estimate });
    const { messages, max_tokens, temperature, json } = o;
    const shaOf = { messages, max_tokens: max_tokens ?? null, temperature: temperature ?? null, json: !!json };
    const requestSha = sha256(canonicalJson(o.tools?.length ? { ...shaOf, tools: o.tools } : shaOf));
    const record = this.record({
      role: o.role,
      taskId: o.task_id ?? null,
      parentCall: o.parent_call ?? null,
      requestSha,
      inputs: () => ({ ...request }),
    });
    record.decided(this.decide(request, policy));
    const chain = chatChain(record, o);
    const escalate = (link: ChainLink, err: CallError, rest: ChainLink[]) => {
      const failed = { link, err, rest };
      const escalation = contextEscalation(record, policy, request, failed, (r) => this.decide(r, policy));
      request = escalation.request;
      return escalation.chain;
    };
    const job = new ChatJob(record, o, promptText, this.p.adapters, escalate);
    return runChain(this.loopPorts(record.decision), job, chain);
  }

  private async embedding(o: EmbedOptions): Promise<EmbedResult> {
    const policy = this.p.policy();
    const text = o.input.join('\n');
    const request = validRequest({ role: 'embeddings', task_id: o.task_id, context_estimate: estimateTokens(text) });
    const record = this.record({
      role: 'embeddings',
      taskId: o.task_id ?? null,
      parentCall: null,
      requestSha: sha256(canonicalJson({ input: o.input })),
      inputs: () => ({ ...request, inputs: o.input.length }),
    });
    record.decided(this.decide(request, policy));
    const d = record.decision;
    if (d.refused || !d.model) {
      const msg = d.refused?.message ?? `no embeddings model (rule ${d.rule})`;
      throw record.refused(d.refused?.guardrail ?? null, msg);
    }
    return runChain(this.loopPorts(d), new EmbedJob(record, o, text, this.p.adapters), d.chain);
  }
}

/** What a chat request sends, as text for the estimates: the messages, their tool calls and the tools' schemas. */
function promptOf(o: CallOptions): string {
  const parts = o.messages.map((m) =>
    m.role === 'assistant' && m.tool_calls?.length
      ? `${m.content}\n${m.tool_calls.map((c) => `${c.name}(${c.arguments})`).join('\n')}`
      : m.content,
  );
  if (o.tools?.length) parts.push(JSON.stringify(o.tools));
  return parts.join('\n');
}
