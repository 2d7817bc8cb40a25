// The one path of every model call: route -> reserve -> guard -> call (retries, fallback chain) -> commit -> record.
// Every retry, fallback, escalation, refusal and failure leaves an audit line (GR-005); each call leaves a
// provenance record (GR-013). Nothing here knows of VS Code: keys, endpoints, logs and budget are ports.
import { randomUUID } from 'node:crypto';
import { costPico, estimateTokens, picoToUsd, pricesFor, worstCasePico } from '../budget/cost.js';
import { promptTokens } from '../budget/tokens.js';
import type { AuditEntry, AuditKind } from '../evidence/auditLog.js';
import { Redactor } from '../evidence/redact.js';
import type { Policy, ProviderId, RoleId } from '../policy/schema.js';
import { effectiveLocalOnly, route } from '../router/route.js';
import type { CapStatus, ModelRef, RouteDecision, RouteRequest } from '../router/types.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import {
  CallError,
  ZERO_USAGE,
  type ChatMessage,
  type ChatRequest,
  type ProviderAdapter,
  type ProviderTarget,
  type StreamEvent,
  type Usage,
} from './types.js';

export type ReserveResult = { ok: true; id: string } | { ok: false; message: string };

export interface BudgetPort {
  /** Spend per cap now, for the router (GR-011). */
  snapshot(taskId: string | null): CapStatus[];
  /** Reserves the worst case of a cloud call, or refuses naming the cap. */
  reserve(r: {
    role: RoleId;
    tier: string;
    provider: ProviderId;
    model: string;
    task_id: string | null;
    pico: number;
  }): Promise<ReserveResult> | ReserveResult;
  commit(id: string, pico: number, usage: Usage): void;
  release(id: string): void;
  /** A call that reserved nothing (local): it costs nothing and its tokens still count. */
  record?(r: {
    role: RoleId;
    tier: string;
    provider: ProviderId;
    model: string;
    task_id: string | null;
    pico: number;
    usage: Usage;
  }): void;
}

export interface ProvenanceRecord {
  ts: string;
  call_id: string;
  task_id: string | null;
  parent_call: string | null;
  role: RoleId;
  rule: string;
  provider: ProviderId | null;
  model: string | null;
  request_sha256: string;
  route_sha256: string;
  policy_sha256: string;
  inputs: Record<string, unknown>;
  outcome: 'ok' | 'failed' | 'refused' | 'cancelled';
  attempts: Attempt[];
  escalations: { from: string; to: string; why: string }[];
  usage: Usage | null;
  cost_usd: number;
  cost_pico: number;
  timings: { ttft_ms: number | null; total_ms: number };
  error?: string;
}

export interface Attempt {
  provider: ProviderId;
  model: string;
  try: number;
  outcome: 'ok' | string;
  ms: number;
  error?: string;
}

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
  retry?: { max: number; baseMs: number; capMs: number; maxRetryAfterMs: number };
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  redactor?: Redactor;
}

export interface CallOptions {
  role: RoleId;
  messages: ChatMessage[];
  task_id?: string;
  parent_call?: string;
  max_tokens?: number;
  temperature?: number;
  json?: boolean;
  /** The rest of the RouteRequest (change, signals, failed_loops...). */
  route?: Partial<Omit<RouteRequest, 'role' | 'task_id'>>;
  signal?: AbortSignal;
  onEvent?: (e: StreamEvent) => void;
  /** Keep the whole answer in the result (default true; streaming consumers that print as they go can say false). */
  keepText?: boolean;
  /** Try this model of the decision's chain first (a second pass by the model that wrote the first). */
  prefer?: { provider: ProviderId; model: string };
  /** Call the critic-only sidecar the router attached (GR-001: critiques, never rewrites); refused when none is attached. */
  sidecar?: boolean;
}

export interface CallResult {
  call_id: string;
  decision: RouteDecision;
  provider: ProviderId;
  model: string;
  served_model: string;
  text: string;
  chars: number;
  finish_reason: string | null;
  usage: Usage;
  cost_usd: number;
  cost_pico: number;
  timings: { ttft_ms: number | null; total_ms: number };
  attempts: Attempt[];
  audit: string[];
  escalated: boolean;
}

export interface EmbedResult {
  call_id: string;
  decision: RouteDecision;
  provider: ProviderId;
  model: string;
  served_model: string;
  dim: number;
  vectors: number[][];
  usage: Usage;
  cost_usd: number;
  audit: string[];
  fallback: boolean;
}

/** A guardrail refused the call (exit 3 in the CLI). */
export class CallRefused extends Error {
  constructor(
    readonly guardrail: string | null,
    message: string,
    readonly decision: RouteDecision | null,
    readonly audit: string[],
  ) {
    super(message);
    this.name = 'CallRefused';
  }
}
/** Every allowed model failed (exit 4), or the call was cancelled (kind 'cancelled', exit 130). */
export class CallFailed extends Error {
  constructor(
    readonly kind: CallError['kind'],
    message: string,
    readonly attempts: Attempt[],
    readonly audit: string[],
    readonly decision: RouteDecision | null,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}

const DEFAULT_RETRY = { max: 2, baseMs: 500, capMs: 8_000, maxRetryAfterMs: 60_000 };
const DEFAULT_MAX_TOKENS = 4096;

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new CallError('cancelled', 'cancelled'));
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CallError('cancelled', 'cancelled'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const name = (r: { provider: string; model: string | null }) => `${r.provider}/${r.model}`;

export class ModelCaller {
  readonly redactor: Redactor;
  constructor(private readonly p: CallPorts) {
    this.redactor = p.redactor ?? new Redactor();
  }

  /**
   * The router's decision. The budget snapshot (ledger I/O) only matters where a cloud model may serve: a route
   * that can only be local (local_only, or no cloud model in its chain) is decided without it, the same way.
   */
  private decide(request: RouteRequest, policy: Policy, taskId: string | null): RouteDecision {
    const state = { local_only_setting: this.p.localOnlySetting() };
    const first = route(request, policy, state);
    const cloud =
      (first.provider !== 'local' && first.provider !== 'none') || first.fallbacks.some((f) => f.provider !== 'local');
    return cloud || first.refused?.guardrail === 'GR-011'
      ? route(request, policy, { ...state, caps: this.p.budget.snapshot(taskId) })
      : first;
  }

  /** An audit line about a call made by a workflow around the path (a JSON repair, a verdict check). */
  async note(
    kind: AuditKind,
    text: string,
    ctx: { role: RoleId; task_id?: string | null; call_id?: string },
  ): Promise<void> {
    this.p.audit.append({
      ts: new Date().toISOString(),
      kind,
      source: this.p.source,
      audit: this.redactor.redact(text),
      role: ctx.role,
      task_id: ctx.task_id ?? null,
      ...(ctx.call_id ? { call_id: ctx.call_id } : {}),
    });
    await this.p.audit.flush?.();
  }

  /**
   * A failed attempt, for both paths (chat and embeddings): the error as a CallError, recorded with the attempt.
   * A cancel or a GR-009 refusal by the transport guard ends the whole call (the reservation released, the
   * audit and provenance written); otherwise the caller decides between a retry and the next model.
   */
  private failedAttempt(
    raw: unknown,
    x: {
      ref: ModelRef;
      attempt: number;
      ms: number;
      attempts: Attempt[];
      reservation: string | null;
      lines: string[];
      decision: RouteDecision;
      signal: AbortSignal;
      audit: (kind: AuditKind, text: string, extra?: Partial<AuditEntry>) => void;
      provenance: (outcome: ProvenanceRecord['outcome'], extra: Partial<ProvenanceRecord>) => void;
      onCancel?: () => void;
    },
  ): CallError {
    const err = raw instanceof CallError ? raw : new CallError('server', String((raw as Error)?.message ?? raw));
    const { ref } = x;
    x.attempts.push({
      provider: ref.provider,
      model: ref.model,
      try: x.attempt + 1,
      outcome: err.kind,
      ms: x.ms,
      error: this.redactor.redact(err.message),
    });
    if (err.kind === 'cancelled' || x.signal.aborted) {
      if (x.reservation) this.p.budget.release(x.reservation);
      x.onCancel?.();
      x.provenance('cancelled', { provider: ref.provider, model: ref.model, error: 'cancelled' });
      throw new CallFailed('cancelled', 'cancelled', x.attempts, x.lines, x.decision);
    }
    if (err.kind === 'transport_refused') {
      if (x.reservation) this.p.budget.release(x.reservation);
      x.audit('refusal', err.message, { guardrail: 'GR-009', from: name(ref) });
      x.provenance('refused', { provider: ref.provider, model: ref.model, error: err.message });
      throw new CallRefused('GR-009', err.message, x.decision, x.lines);
    }
    return err;
  }

  /**
   * Embeddings through the same path: the router's chain for the embeddings role (bge-m3 on the local runtime,
   * OpenAI embeddings as fallback unless local_only), the worst case reserved for a cloud model, every fallback
   * audited. The result names the model that served: vectors of different models never mix.
   */
  async embed(o: { input: string[]; task_id?: string; signal?: AbortSignal }): Promise<EmbedResult> {
    try {
      return await this.runEmbed(o);
    } finally {
      await this.p.audit.flush?.();
      await this.p.provenance.flush?.();
    }
  }

  private async runEmbed(o: { input: string[]; task_id?: string; signal?: AbortSignal }): Promise<EmbedResult> {
    const now = this.p.now ?? (() => performance.now());
    const t0 = now();
    const policy = this.p.policy();
    const callId = randomUUID();
    const taskId = o.task_id ?? null;
    const role: RoleId = 'embeddings';
    const lines: string[] = [];
    const attempts: Attempt[] = [];
    const signal = o.signal ?? new AbortController().signal;
    const text = o.input.join('\n');
    const audit = (kind: AuditKind, t: string, extra: Partial<AuditEntry> = {}) => {
      const line = this.redactor.redact(t);
      lines.push(line);
      this.p.audit.append({
        ts: new Date().toISOString(),
        kind,
        source: this.p.source,
        audit: line,
        call_id: callId,
        task_id: taskId,
        role,
        ...extra,
      });
    };
    const request = {
      role,
      ...(o.task_id ? { task_id: o.task_id } : {}),
      context_estimate: estimateTokens(text),
    } as RouteRequest;
    const decision = this.decide(request, policy, taskId);
    audit('decision', decision.audit, { decision });
    const provenance = (outcome: ProvenanceRecord['outcome'], extra: Partial<ProvenanceRecord>) =>
      this.p.provenance.append(
        this.redactor.deep({
          ts: new Date().toISOString(),
          call_id: callId,
          task_id: taskId,
          parent_call: null,
          role,
          rule: decision.rule,
          provider: null,
          model: null,
          request_sha256: sha256(canonicalJson({ input: o.input })),
          route_sha256: decision.provenance.request_sha256,
          policy_sha256: decision.provenance.policy_sha256,
          inputs: { ...request, inputs: o.input.length, local_only: decision.local_only },
          outcome,
          attempts,
          escalations: [],
          usage: null,
          cost_usd: 0,
          cost_pico: 0,
          timings: { ttft_ms: null, total_ms: Math.round(now() - t0) },
          ...extra,
        }),
      );
    if (decision.refused || !decision.model) {
      const msg = decision.refused?.message ?? `no embeddings model (rule ${decision.rule})`;
      provenance('refused', { error: msg });
      throw new CallRefused(decision.refused?.guardrail ?? null, msg, decision, lines);
    }
    const localOnly = effectiveLocalOnly(request, policy, { local_only_setting: this.p.localOnlySetting() });
    const retry = this.p.retry ?? DEFAULT_RETRY;
    const sleep = this.p.sleep ?? abortableSleep;
    const random = this.p.random ?? Math.random;
    const chain: ModelRef[] = [
      { provider: decision.provider as ProviderId, model: decision.model, tier: decision.tier },
      ...decision.fallbacks,
    ];
    let lastError: CallError | null = null;
    for (let i = 0; i < chain.length; i++) {
      const ref = chain[i]!;
      const next = chain[i + 1];
      const moveOn = (why: string) =>
        audit('fallback', `GR-005: ${name(ref)} -> ${next ? name(next) : 'none (chain exhausted)'}: ${why}`, {
          from: name(ref),
          to: next ? name(next) : null,
        });
      if (localOnly && ref.provider !== 'local') {
        moveOn('GR-009 local_only forbids a cloud model');
        continue;
      }
      const adapter = this.p.adapters[ref.provider];
      if (!adapter?.embed) {
        lastError = new CallError('unavailable', `${ref.provider}: no embeddings adapter`);
        moveOn(lastError.message);
        continue;
      }
      const apiKey = await this.p.key(ref.provider);
      this.redactor.add(apiKey);
      if (ref.provider !== 'local' && !apiKey) {
        lastError = new CallError(
          'no_key',
          `${ref.provider}: no API key (run "Switchyard: Set API Key", or set ${ref.provider.toUpperCase()}_API_KEY for the CLI)`,
        );
        moveOn(lastError.message);
        continue;
      }
      const baseURL = await this.p.baseUrl(ref.provider);
      if (ref.provider === 'local' && !baseURL) {
        lastError = new CallError(
          'unavailable',
          'local: no local model server is running and no endpoint is configured',
        );
        moveOn(lastError.message);
        continue;
      }
      const prices = pricesFor(policy, ref.provider, ref.model);
      let reservation: string | null = null;
      if (ref.provider !== 'local') {
        if (!prices) {
          lastError = new CallError(
            'bad_request',
            `${name(ref)}: no price in the policy's price table, so its spend cannot be capped`,
          );
          moveOn(lastError.message);
          continue;
        }
        const r = await this.p.budget.reserve({
          role,
          tier: ref.tier,
          provider: ref.provider,
          model: ref.model,
          task_id: taskId,
          pico: worstCasePico(promptTokens(text, ref.provider), 0, prices),
        });
        if (!r.ok) {
          audit('refusal', r.message, { guardrail: 'GR-011', from: name(ref) });
          provenance('refused', { provider: ref.provider, model: ref.model, error: r.message });
          throw new CallRefused('GR-011', r.message, decision, lines);
        }
        reservation = r.id;
      }
      for (let attempt = 0; ; attempt++) {
        const ta = now();
        try {
          const res = await adapter.embed(
            { provider: ref.provider, model: ref.model, baseURL, apiKey },
            o.input,
            signal,
          );
          if (
            res.vectors.length !== o.input.length ||
            res.vectors.some((v) => v.length === 0 || v.length !== res.vectors[0]!.length)
          ) {
            throw new CallError(
              'invalid_output',
              `${name(ref)} returned ${res.vectors.length} vectors for ${o.input.length} inputs, or vectors of differing sizes`,
            );
          }
          const usage = res.usage.reported ? res.usage : { ...ZERO_USAGE, input_tokens: estimateTokens(text) };
          const cost = prices ? costPico(usage, prices) : 0;
          if (reservation) this.p.budget.commit(reservation, cost, usage);
          else
            this.p.budget.record?.({
              role,
              tier: ref.tier,
              provider: ref.provider,
              model: ref.model,
              task_id: taskId,
              pico: cost,
              usage,
            });
          attempts.push({
            provider: ref.provider,
            model: ref.model,
            try: attempt + 1,
            outcome: 'ok',
            ms: Math.round(now() - ta),
          });
          const dim = res.vectors[0]!.length;
          audit(
            'call',
            `embeddings: ${name(ref)} embedded ${o.input.length} input(s) (dimension ${dim}, ${usage.input_tokens} tokens, $${picoToUsd(cost).toFixed(6)}, ${Math.round(now() - t0)} ms)${i > 0 ? ` after ${i} fallback step(s)` : ''}`,
            { from: name(ref) },
          );
          provenance('ok', {
            provider: ref.provider,
            model: ref.model,
            usage,
            cost_pico: cost,
            cost_usd: picoToUsd(cost),
            timings: { ttft_ms: null, total_ms: Math.round(now() - t0) },
          });
          return {
            call_id: callId,
            decision,
            provider: ref.provider,
            model: ref.model,
            served_model: res.model,
            dim,
            vectors: res.vectors,
            usage,
            cost_usd: picoToUsd(cost),
            audit: lines,
            fallback: i > 0,
          };
        } catch (raw) {
          const err = this.failedAttempt(raw, {
            ref,
            attempt,
            ms: Math.round(now() - ta),
            attempts,
            reservation,
            lines,
            decision,
            signal,
            audit,
            provenance,
          });
          lastError = err;
          const wait = err.opts.retryAfterMs ?? Math.min(retry.capMs, retry.baseMs * 2 ** attempt) * (0.5 + random());
          if (err.retryable && attempt < retry.max && wait <= retry.maxRetryAfterMs) {
            audit(
              'retry',
              `GR-005: ${name(ref)} ${err.kind}${err.opts.status ? ` (${err.opts.status})` : ''}; retry ${attempt + 1} of ${retry.max} in ${Math.round(wait)} ms`,
              { from: name(ref), to: name(ref) },
            );
            try {
              await sleep(wait, signal);
            } catch {
              if (reservation) this.p.budget.release(reservation);
              provenance('cancelled', { provider: ref.provider, model: ref.model, error: 'cancelled' });
              throw new CallFailed('cancelled', 'cancelled', attempts, lines, decision);
            }
            continue;
          }
          if (reservation) this.p.budget.release(reservation);
          moveOn(`${err.kind}: ${err.message}`);
          break;
        }
      }
    }
    const msg = `every embeddings model the policy allows failed; last error: ${lastError?.message ?? 'none available'}`;
    audit('failure', `GR-005: ${msg}`);
    provenance('failed', { error: msg });
    throw new CallFailed(lastError?.kind ?? 'unavailable', msg, attempts, lines, decision);
  }

  async call(o: CallOptions): Promise<CallResult> {
    try {
      return await this.run(o);
    } finally {
      await this.p.audit.flush?.();
      await this.p.provenance.flush?.();
    }
  }

  private async run(o: CallOptions): Promise<CallResult> {
    const now = this.p.now ?? (() => performance.now());
    const t0 = now();
    const policy = this.p.policy();
    const callId = randomUUID();
    const taskId = o.task_id ?? null;
    const lines: string[] = [];
    const attempts: Attempt[] = [];
    const escalations: ProvenanceRecord['escalations'] = [];
    const signal = o.signal ?? new AbortController().signal;
    const promptText = o.messages.map((m) => m.content).join('\n');
    const requestSha = sha256(
      canonicalJson({
        messages: o.messages,
        max_tokens: o.max_tokens ?? null,
        temperature: o.temperature ?? null,
        json: o.json ?? false,
      }),
    );
    const audit = (kind: AuditKind, text: string, extra: Partial<AuditEntry> = {}) => {
      const line = this.redactor.redact(text);
      lines.push(line);
      this.p.audit.append({
        ts: new Date().toISOString(),
        kind,
        source: this.p.source,
        audit: line,
        call_id: callId,
        task_id: taskId,
        role: o.role,
        ...extra,
      });
    };

    let request: RouteRequest = {
      ...(o.route ?? {}),
      role: o.role,
      ...(o.task_id ? { task_id: o.task_id } : {}),
      context_estimate: o.route?.context_estimate ?? estimateTokens(promptText),
    } as RouteRequest;
    let decision = this.decide(request, policy, taskId);
    audit('decision', decision.audit, { decision });
    const provenance = (outcome: ProvenanceRecord['outcome'], extra: Partial<ProvenanceRecord>) =>
      this.p.provenance.append(
        this.redactor.deep({
          ts: new Date().toISOString(),
          call_id: callId,
          task_id: taskId,
          parent_call: o.parent_call ?? null,
          role: o.role,
          rule: decision.rule,
          provider: null,
          model: null,
          request_sha256: requestSha,
          route_sha256: decision.provenance.request_sha256,
          policy_sha256: decision.provenance.policy_sha256,
          inputs: { ...request, local_only: decision.local_only },
          outcome,
          attempts,
          escalations,
          usage: null,
          cost_usd: 0,
          cost_pico: 0,
          timings: { ttft_ms: null, total_ms: Math.round(now() - t0) },
          ...extra,
        }),
      );

    if (decision.refused) {
      provenance('refused', { error: decision.refused.message });
      throw new CallRefused(decision.refused.guardrail, decision.refused.message, decision, lines);
    }
    if (decision.location === 'none' || !decision.model) {
      const msg = `${o.role} is a deterministic role: it makes no model call (rule ${decision.rule})`;
      provenance('refused', { error: msg });
      throw new CallRefused(null, msg, decision, lines);
    }
    const primaryKind =
      Object.values(policy.models).find((m) => m.provider === decision.provider && m.id === decision.model)?.kind ??
      'chat';
    if (primaryKind === 'embedding' || primaryKind === 'vision') {
      const msg = `${o.role} is served by a ${primaryKind} model (${decision.provider}/${decision.model}), not a chat model: it takes no chat call${primaryKind === 'vision' ? ' (kept out of LLM scheduling, §1)' : ''}`;
      provenance('refused', { error: msg });
      throw new CallRefused(null, msg, decision, lines);
    }
    const localOnly = effectiveLocalOnly(request, policy, { local_only_setting: this.p.localOnlySetting() });
    const retry = this.p.retry ?? DEFAULT_RETRY;
    const sleep = this.p.sleep ?? abortableSleep;
    const random = this.p.random ?? Math.random;
    const modelInfo = (r: ModelRef) =>
      Object.values(policy.models).find((m) => m.provider === r.provider && m.id === r.model);
    let chain: ModelRef[] = [
      {
        provider: decision.provider as ProviderId,
        model: decision.model,
        tier: decision.tier,
        ...(decision.reasoning_effort ? { reasoning_effort: decision.reasoning_effort } : {}),
      },
      ...decision.fallbacks,
    ];
    if (o.sidecar) {
      if (!decision.sidecar) {
        const why =
          decision.reasons.find((r) => r.startsWith('critic sidecar')) ?? 'no critic sidecar is attached to this route';
        const msg = `the critic sidecar does not run: ${why}`;
        audit('refusal', `GR-001: ${msg}`, { guardrail: 'GR-001' });
        provenance('refused', { error: msg });
        throw new CallRefused('GR-001', msg, decision, lines);
      }
      chain = [
        {
          provider: decision.sidecar.provider,
          model: decision.sidecar.model,
          tier: decision.sidecar.provider === 'local' ? 'local_reflex' : 'cloud_quality',
        },
      ];
    } else if (o.prefer) {
      const k = chain.findIndex((r) => r.provider === o.prefer!.provider && r.model === o.prefer!.model);
      if (k > 0) chain = [chain[k]!, ...chain.slice(0, k), ...chain.slice(k + 1)];
    }
    let lastError: CallError | null = null;
    let streamed = 0; // characters shown to the consumer by the current attempt

    for (let i = 0; i < chain.length; i++) {
      const ref = chain[i]!;
      const next = chain[i + 1];
      const moveOn = (why: string) => {
        audit('fallback', `GR-005: ${name(ref)} -> ${next ? name(next) : 'none (chain exhausted)'}: ${why}`, {
          from: name(ref),
          to: next ? name(next) : null,
        });
      };
      if (localOnly && ref.provider !== 'local') {
        moveOn('GR-009 local_only forbids a cloud model');
        continue;
      }
      const adapter = this.p.adapters[ref.provider];
      if (!adapter) {
        lastError = new CallError(
          'unavailable',
          ref.provider === 'notebooklm'
            ? 'notebooklm: reached only through a user-configured MCP server, and none is configured'
            : `no adapter for provider ${ref.provider}`,
        );
        moveOn(lastError.message);
        continue;
      }
      const apiKey = ref.provider === 'local' ? await this.p.key('local') : await this.p.key(ref.provider);
      this.redactor.add(apiKey);
      if (ref.provider !== 'local' && ref.provider !== 'notebooklm' && !apiKey) {
        lastError = new CallError(
          'no_key',
          `${ref.provider}: no API key (run "Switchyard: Set API Key", or set ${ref.provider.toUpperCase()}_API_KEY for the CLI)`,
        );
        moveOn(lastError.message);
        continue;
      }
      const baseURL = await this.p.baseUrl(ref.provider);
      if (ref.provider === 'local' && !baseURL) {
        lastError = new CallError(
          'unavailable',
          'local: no local model server is running and no endpoint is configured (start it with "Switchyard: Start Local Model Server" or set switchyard.runtime.endpoint / SWITCHYARD_LOCAL_BASE_URL)',
        );
        moveOn(lastError.message);
        continue;
      }
      const info = modelInfo(ref);
      const maxTokens = Math.min(
        o.max_tokens ?? DEFAULT_MAX_TOKENS,
        info?.max_output_tokens ?? Number.MAX_SAFE_INTEGER,
      );
      // GR-011: reserve the worst case before a cloud call; over a cap the call is refused, never moved to a cheaper model.
      const prices = pricesFor(policy, ref.provider, ref.model);
      let reservation: string | null = null;
      // NotebookLM is reached through the user's own MCP server and account: Switchyard is billed nothing for it.
      if (ref.provider !== 'local' && ref.provider !== 'notebooklm') {
        if (!prices) {
          lastError = new CallError(
            'bad_request',
            `${name(ref)}: no price in the policy's price table, so its spend cannot be capped`,
          );
          moveOn(lastError.message);
          continue;
        }
        const r = await this.p.budget.reserve({
          role: o.role,
          tier: ref.tier,
          provider: ref.provider,
          model: ref.model,
          task_id: taskId,
          pico: worstCasePico(promptTokens(promptText, ref.provider), maxTokens, prices),
        });
        if (!r.ok) {
          audit('refusal', r.message, { guardrail: 'GR-011', from: name(ref) });
          provenance('refused', { provider: ref.provider, model: ref.model, error: r.message });
          throw new CallRefused('GR-011', r.message, decision, lines);
        }
        reservation = r.id;
      }
      const target: ProviderTarget = { provider: ref.provider, model: ref.model, baseURL, apiKey };
      const req: ChatRequest = {
        messages: o.messages,
        max_tokens: maxTokens,
        ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
        ...(o.json ? { json: true } : {}),
        ...(ref.reasoning_effort ? { reasoning_effort: ref.reasoning_effort } : {}),
      };

      for (let attempt = 0; ; attempt++) {
        const ta = now();
        let ttft: number | null = null;
        let text = '';
        let chars = 0;
        streamed = 0;
        const keep = o.keepText !== false;
        const onEvent = (e: StreamEvent) => {
          if (e.type === 'text') {
            if (ttft === null) ttft = now() - t0;
            chars += e.text.length;
            if (keep) text += e.text;
          }
          streamed++;
          o.onEvent?.(e);
        };
        try {
          const res = await adapter.stream(target, req, onEvent, signal);
          const usage = res.usage.reported
            ? res.usage
            : { ...ZERO_USAGE, input_tokens: estimateTokens(promptText), output_tokens: Math.ceil(chars / 3) };
          const cost = prices ? costPico(usage, prices) : 0;
          if (reservation) this.p.budget.commit(reservation, cost, usage);
          else
            this.p.budget.record?.({
              role: o.role,
              tier: ref.tier,
              provider: ref.provider,
              model: ref.model,
              task_id: taskId,
              pico: cost,
              usage,
            });
          attempts.push({
            provider: ref.provider,
            model: ref.model,
            try: attempt + 1,
            outcome: 'ok',
            ms: Math.round(now() - ta),
          });
          const total = Math.round(now() - t0);
          const timings = { ttft_ms: ttft === null ? null : Math.round(ttft), total_ms: total };
          if (!res.usage.reported) audit('call', `${name(ref)} reported no usage; token counts are estimates`);
          audit(
            'call',
            `${o.role}: ${name(ref)} answered (${usage.input_tokens + usage.cached_input_tokens} in, ${usage.output_tokens} out, $${picoToUsd(cost).toFixed(6)}, ttft ${timings.ttft_ms ?? '-'} ms, ${total} ms)${i > 0 ? ` after ${i} fallback step(s)` : ''}`,
            { from: name(ref) },
          );
          provenance('ok', {
            provider: ref.provider,
            model: ref.model,
            usage,
            cost_pico: cost,
            cost_usd: picoToUsd(cost),
            timings,
          });
          return {
            call_id: callId,
            decision,
            provider: ref.provider,
            model: ref.model,
            served_model: res.model,
            text,
            chars,
            finish_reason: res.finish_reason,
            usage,
            cost_usd: picoToUsd(cost),
            cost_pico: cost,
            timings,
            attempts,
            audit: lines,
            escalated: i > 0 || escalations.length > 0,
          };
        } catch (raw) {
          const e = raw instanceof CallError ? raw : new CallError('server', String((raw as Error)?.message ?? raw));
          if (streamed > 0 && e.kind !== 'cancelled')
            o.onEvent?.({
              type: 'reset',
              reason: e.message,
              next:
                e.retryable && attempt < retry.max
                  ? `retry ${attempt + 2} of ${name(ref)}`
                  : next
                    ? name(next)
                    : 'none',
            });
          const err = this.failedAttempt(e, {
            ref,
            attempt,
            ms: Math.round(now() - ta),
            attempts,
            reservation,
            lines,
            decision,
            signal,
            audit,
            provenance,
            onCancel: () =>
              audit(
                'cancelled',
                `${o.role}: ${name(ref)} cancelled by the user after ${chars} characters; nothing was kept`,
                { from: name(ref) },
              ),
          });
          lastError = err;
          const wait = err.opts.retryAfterMs ?? Math.min(retry.capMs, retry.baseMs * 2 ** attempt) * (0.5 + random());
          if (err.retryable && attempt < retry.max && wait <= retry.maxRetryAfterMs) {
            audit(
              'retry',
              `GR-005: ${name(ref)} ${err.kind}${err.opts.status ? ` (${err.opts.status})` : ''}${streamed ? ' mid-stream; the partial answer was discarded' : ''}; retry ${attempt + 1} of ${retry.max} in ${Math.round(wait)} ms${err.opts.retryAfterMs !== undefined ? ' (retry-after)' : ''}`,
              { from: name(ref), to: name(ref) },
            );
            try {
              await sleep(wait, signal);
            } catch {
              if (reservation) this.p.budget.release(reservation);
              audit('cancelled', `${o.role}: cancelled by the user while waiting to retry ${name(ref)}`, {
                from: name(ref),
              });
              provenance('cancelled', { provider: ref.provider, model: ref.model, error: 'cancelled' });
              throw new CallFailed('cancelled', 'cancelled', attempts, lines, decision);
            }
            continue;
          }
          if (reservation) this.p.budget.release(reservation);
          if (err.kind === 'context_length') {
            // Never truncate: follow the policy's escalation with the size the provider reported.
            // The size the provider reported; else at least past the policy's long-context threshold (§3).
            const needed =
              err.opts.requestedTokens ??
              Math.max(request.context_estimate ?? 0, policy.escalation.librarian.context_tokens_over + 1);
            request = { ...request, context_estimate: needed };
            const again = this.decide(request, policy, taskId);
            const fits = (r: ModelRef) => (modelInfo(r)?.context_tokens ?? Infinity) >= needed;
            const rest = chain.slice(i + 1).filter(fits);
            const fresh =
              again.refused || !again.model
                ? []
                : [
                    { provider: again.provider as ProviderId, model: again.model, tier: again.tier },
                    ...again.fallbacks,
                  ].filter(fits);
            const newChain = [...fresh, ...rest].filter(
              (r, k, all) =>
                all.findIndex((x) => x.provider === r.provider && x.model === r.model) === k &&
                !(r.provider === ref.provider && r.model === ref.model),
            );
            const to = newChain[0];
            const why = `context length exceeded on ${name(ref)} (about ${needed} tokens needed); ${again.rule !== decision.rule ? `policy rule ${again.rule}` : 'next model with a larger context'}; nothing was truncated`;
            audit('escalation', `GR-005: ${name(ref)} -> ${to ? name(to) : 'none'}: ${why}`, {
              from: name(ref),
              to: to ? name(to) : null,
            });
            escalations.push({ from: name(ref), to: to ? name(to) : 'none', why });
            if (!again.refused) decision = again;
            chain = [...chain.slice(0, i + 1), ...newChain];
            break;
          }
          moveOn(`${err.kind}: ${err.message}${err.retryable ? ` (after ${attempt + 1} tries)` : ''}`);
          break;
        }
      }
    }
    const msg = `every model the policy allows for ${o.role} failed; last error: ${lastError?.message ?? 'none available'}`;
    audit('failure', `GR-005: ${msg}`);
    provenance('failed', { error: msg });
    throw new CallFailed(lastError?.kind ?? 'unavailable', msg, attempts, lines, decision);
  }
}
