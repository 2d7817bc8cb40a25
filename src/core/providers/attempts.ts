// The attempt loop every model call goes through, chat and embeddings alike: for each model of the decision's chain
// in order, guard (local_only, adapter, key, endpoint), reserve (GR-011), attempt with retries, settle (commit or
// release), and record each step (GR-005). What differs between kinds of call is a Job.
import { costPico } from '../budget/cost.js';
import type { BudgetPort, Usage } from '../budget/port.js';
import type { Redactor } from '../evidence/redact.js';
import type { ProviderId } from '../policy/schema.js';
import type { ChainLink } from '../router/types.js';
import { linkName as name, type CallRecord } from './callRecord.js';
import { CallError, type ProviderTarget } from './types.js';

export interface RetryPolicy {
  max: number;
  baseMs: number;
  capMs: number;
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { max: 2, baseMs: 500, capMs: 8_000, maxRetryAfterMs: 60_000 };

export interface LoopPorts {
  key: (provider: ProviderId) => Promise<string | undefined> | string | undefined;
  baseUrl: (provider: ProviderId) => string | undefined | Promise<string | undefined>;
  budget: BudgetPort;
  redactor: Redactor;
  localOnly: boolean;
  retry: RetryPolicy;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
}

/** One kind of call inside the shared loop. */
export interface Job<V, R> {
  readonly record: CallRecord;
  readonly signal: AbortSignal;
  /** Why this model cannot serve the job before any key or budget is looked at (no adapter), or null. */
  unavailable(link: ChainLink): CallError | null;
  /** Whether Switchyard pays for this model: it needs an API key, and its worst case is reserved, then settled. */
  billed(link: ChainLink): boolean;
  /** The worst-case cost of one call on this model, in pico-dollars. */
  worstCase(link: ChainLink): number;
  /** One try; throws a CallError (or anything, which counts as a server error). */
  attempt(link: ChainLink, target: ProviderTarget): Promise<{ value: V; usage: Usage }>;
  /** A try failed: `next` says what comes after it (a retry or another model). */
  failedTry?(err: CallError, next: string): void;
  /** Whether the failed try had already shown part of an answer (the retry line says it was discarded). */
  discarded?(): boolean;
  /** The audit line of a cancel during a try. */
  cancelNote?(link: ChainLink): string;
  /** A context-length failure: the models to try instead of the rest of the chain, or null to move on as usual. */
  escalate?(link: ChainLink, err: CallError, rest: ChainLink[]): ChainLink[] | null;
  succeeded(link: ChainLink, value: V, usage: Usage, cost: number, step: number): R;
  /** The failure message once every model failed. */
  exhausted(last: CallError | null): string;
}

export const abortableSleep = (ms: number, signal: AbortSignal) =>
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

const asCallError = (raw: unknown) =>
  raw instanceof CallError ? raw : new CallError('server', String((raw as Error)?.message ?? raw));

const NO_LOCAL_SERVER =
  'local: no local model server is running and no endpoint is configured (start it with "Switchyard: Start Local ' +
  'Model Server" or set switchyard.runtime.endpoint / SWITCHYARD_LOCAL_BASE_URL)';

/** What a 401/403 of the local lane's endpoint means, and which key fixes it. */
export function localKeyRefused(t: ProviderTarget, status: number | undefined): string {
  const sent = t.apiKey ? 'refused the key it was sent' : 'wants an API key and none is set';
  return (
    `local: the endpoint ${t.baseURL} ${sent} (${status ?? 'auth'}). Set the team endpoint's key with ` +
    `"Switchyard: Set API Key" > "Team endpoint (local lane)", or SWITCHYARD_LOCAL_API_KEY for the CLI. ` +
    `No cloud model was tried instead.`
  );
}

type Guarded = { ok: true; target: ProviderTarget } | { ok: false; why: string; error: CallError | null };

/** Whether a model may be tried at all, and with which endpoint and key. */
async function guard<V, R>(p: LoopPorts, job: Job<V, R>, link: ChainLink): Promise<Guarded> {
  if (p.localOnly && link.provider !== 'local') {
    return { ok: false, why: 'GR-009 local_only forbids a cloud model', error: null };
  }
  const missing = job.unavailable(link);
  if (missing) return { ok: false, why: missing.message, error: missing };
  const apiKey = await p.key(link.provider);
  p.redactor.add(apiKey);
  if (job.billed(link) && !apiKey) {
    const error = new CallError(
      'no_key',
      `${link.provider}: no API key (run "Switchyard: Set API Key", or set ` +
        `${link.provider.toUpperCase()}_API_KEY for the CLI)`,
    );
    return { ok: false, why: error.message, error };
  }
  const baseURL = await p.baseUrl(link.provider);
  if (link.provider === 'local' && !baseURL) {
    const error = new CallError('unavailable', NO_LOCAL_SERVER);
    return { ok: false, why: error.message, error };
  }
  return { ok: true, target: { provider: link.provider, model: link.model, baseURL, apiKey } };
}

/**
 * GR-011: the worst case reserved before a billed call; over a cap the call is refused (thrown), never moved to a
 * cheaper model. A billed model without a price cannot be capped: the next model is tried (the error returned).
 */
async function reserve<V, R>(p: LoopPorts, job: Job<V, R>, link: ChainLink): Promise<string | null | CallError> {
  if (!job.billed(link)) return null;
  if (!link.prices) {
    return new CallError(
      'bad_request',
      `${name(link)}: no price in the policy's price table, so its spend cannot be capped`,
    );
  }
  const { record } = job;
  const r = await p.budget.reserve({ ...spendKey(job, link), pico: job.worstCase(link) });
  if (r.ok) return r.id;
  record.audit('refusal', r.message, { guardrail: 'GR-011', from: name(link) });
  throw record.refused('GR-011', r.message, link);
}

const spendKey = <V, R>(job: Job<V, R>, link: ChainLink) => ({
  role: job.record.call.role,
  tier: link.tier,
  provider: link.provider,
  model: link.model,
  task_id: job.record.call.taskId,
});

/** The reservation replaced by the cost of the reported usage (or a free call recorded with its tokens). */
function settle<V, R>(p: LoopPorts, job: Job<V, R>, link: ChainLink, reservation: string | null, usage: Usage) {
  const cost = link.prices ? costPico(usage, link.prices) : 0;
  if (reservation) p.budget.commit(reservation, cost, usage);
  else p.budget.record?.({ ...spendKey(job, link), pico: cost, usage });
  return cost;
}

type Tried<R> = { ok: true; result: R } | { ok: false; err: CallError; tries: number };

/** One model, tried until it answers, fails for good, or its retries are spent. Cancels and GR-009 throw. */
async function attempt<V, R>(
  p: LoopPorts,
  job: Job<V, R>,
  at: {
    link: ChainLink;
    next: ChainLink | undefined;
    step: number;
    target: ProviderTarget;
    reservation: string | null;
  },
): Promise<Tried<R>> {
  const { link, reservation, record } = { ...at, record: job.record };
  const release = () => reservation && p.budget.release(reservation);
  for (let tryNo = 0; ; tryNo++) {
    const ta = p.now();
    try {
      const { value, usage } = await job.attempt(link, at.target);
      const cost = settle(p, job, link, reservation, usage);
      const ms = Math.round(p.now() - ta);
      record.attempts.push({ provider: link.provider, model: link.model, try: tryNo + 1, outcome: 'ok', ms });
      return { ok: true, result: job.succeeded(link, value, usage, cost, at.step) };
    } catch (raw) {
      const err = asCallError(raw);
      const willRetry = err.retryable && tryNo < p.retry.max;
      if (err.kind !== 'cancelled') {
        job.failedTry?.(err, willRetry ? `retry ${tryNo + 2} of ${name(link)}` : at.next ? name(at.next) : 'none');
      }
      record.attempts.push({
        provider: link.provider,
        model: link.model,
        try: tryNo + 1,
        outcome: err.kind,
        ms: Math.round(p.now() - ta),
        error: p.redactor.redact(err.message),
      });
      if (err.kind === 'cancelled' || job.signal.aborted) {
        release();
        if (job.cancelNote) record.audit('cancelled', job.cancelNote(link), { from: name(link) });
        throw record.cancelled(link);
      }
      if (err.kind === 'transport_refused') {
        release();
        record.audit('refusal', err.message, { guardrail: 'GR-009', from: name(link) });
        throw record.refused('GR-009', err.message, link);
      }
      const backoff = Math.min(p.retry.capMs, p.retry.baseMs * 2 ** tryNo) * (0.5 + p.random());
      const wait = err.opts.retryAfterMs ?? backoff;
      if (!willRetry || wait > p.retry.maxRetryAfterMs) {
        release();
        return { ok: false, err, tries: tryNo + 1 };
      }
      record.audit('retry', retryLine(link, err, tryNo, p.retry.max, wait, job.discarded?.() ?? false), {
        from: name(link),
        to: name(link),
      });
      try {
        await p.sleep(wait, job.signal);
      } catch {
        release();
        const who = record.call.role;
        record.audit('cancelled', `${who}: cancelled by the user while waiting to retry ${name(link)}`, {
          from: name(link),
        });
        throw record.cancelled(link);
      }
    }
  }
}

function retryLine(link: ChainLink, err: CallError, tryNo: number, max: number, wait: number, discarded: boolean) {
  const status = err.opts.status ? ` (${err.opts.status})` : '';
  const mid = discarded ? ' mid-stream; the partial answer was discarded' : '';
  const after = err.opts.retryAfterMs !== undefined ? ' (retry-after)' : '';
  return `GR-005: ${name(link)} ${err.kind}${status}${mid}; retry ${tryNo + 1} of ${max} in ${Math.round(wait)} ms${after}`;
}

/** The whole chain, in order: the first model that answers serves; every step past the first is audited. */
export async function runChain<V, R>(p: LoopPorts, job: Job<V, R>, first: ChainLink[]): Promise<R> {
  const { record } = job;
  let chain = first;
  let last: CallError | null = null;
  for (let i = 0; i < chain.length; i++) {
    const link = chain[i]!;
    const next = chain[i + 1];
    const moveOn = (why: string) => {
      const to = next ? name(next) : null;
      record.audit('fallback', `GR-005: ${name(link)} -> ${to ?? 'none (chain exhausted)'}: ${why}`, {
        from: name(link),
        to,
      });
    };
    const guarded = await guard(p, job, link);
    if (!guarded.ok) {
      last = guarded.error ?? last;
      moveOn(guarded.why);
      continue;
    }
    const reservation = await reserve(p, job, link);
    if (reservation instanceof CallError) {
      last = reservation;
      moveOn(reservation.message);
      continue;
    }
    const tried = await attempt(p, job, { link, next, step: i, target: guarded.target, reservation });
    if (tried.ok) return tried.result;
    last = tried.err;
    // A local endpoint that refuses its key is a setting to fix, not a reason to pay for the cloud.
    if (link.provider === 'local' && tried.err.kind === 'auth')
      throw record.failed('auth', localKeyRefused(guarded.target, tried.err.opts.status));
    const instead = tried.err.kind === 'context_length' ? job.escalate?.(link, tried.err, chain.slice(i + 1)) : null;
    if (instead) {
      chain = [...chain.slice(0, i + 1), ...instead];
      continue;
    }
    moveOn(`${tried.err.kind}: ${tried.err.message}${tried.err.retryable ? ` (after ${tried.tries} tries)` : ''}`);
  }
  throw record.failed(last?.kind ?? 'unavailable', job.exhausted(last));
}
