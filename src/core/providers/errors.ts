// SDK errors (OpenAI-compatible and Anthropic) mapped to one CallError with the retry signals of PROVIDERS.md §3.
import { CallError } from './types.js';

const CONTEXT_RE = new RegExp(
  String.raw`prompt is too long|exceed context limit|maximum context length|exceeded model token limit|` +
    String.raw`context_length_exceeded|context size|exceeds the available context`,
  'i',
);

interface SdkLikeError {
  name?: string;
  message?: string;
  status?: number;
  headers?: Headers | Record<string, string> | null;
  error?: unknown;
  code?: string | null;
  type?: string | null;
  cause?: unknown;
}

function header(h: SdkLikeError['headers'], name: string): string | null {
  if (!h) return null;
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name);
  return (h as Record<string, string>)[name] ?? null;
}

/** retry-after-ms, then retry-after as seconds or an HTTP date. */
export function retryAfterMs(h: SdkLikeError['headers'], now = Date.now()): number | undefined {
  const ms = Number(header(h, 'retry-after-ms'));
  if (header(h, 'retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const ra = header(h, 'retry-after');
  if (ra === null) return undefined;
  const s = Number(ra);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(ra);
  return Number.isFinite(d) ? Math.max(0, d - now) : undefined;
}

/** The provider's own error text, wherever the SDK put it. */
function bodyOf(e: SdkLikeError): { type: string; code: string; message: string; detail: string } {
  const body = (e.error ?? {}) as Record<string, unknown>;
  const inner = (typeof body.error === 'object' && body.error ? body.error : body) as Record<string, unknown>;
  const details = (inner.details ?? {}) as Record<string, unknown>;
  return {
    type: String(inner.type ?? e.type ?? ''),
    code: String(inner.code ?? e.code ?? ''),
    message: String(inner.message ?? e.message ?? ''),
    detail: String(details.error_code ?? ''),
  };
}

/** Also matches the fact that a requested-token count is in the message, for escalation. */
const REQUESTED_TOKENS = new RegExp(
  String.raw`(\d{4,})\s*tokens?\s*>\s*\d+|requested:?\s*(\d{4,})|you requested (\d{4,}) tokens|` +
    String.raw`(\d{4,})\s*\+\s*\d+\s*>`,
  'i',
);

function requestedTokens(message: string): number | undefined {
  const m = REQUESTED_TOKENS.exec(message);
  const n = m ? Number(m[1] ?? m[2] ?? m[3] ?? m[4]) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function toCallError(err: unknown, where: string, signal?: AbortSignal): CallError {
  if (err instanceof CallError) return err;
  const e = (err ?? {}) as SdkLikeError;
  if (e.cause instanceof CallError) return e.cause;
  if (signal?.aborted || e.name === 'AbortError' || /UserAbort/.test(e.name ?? ''))
    return new CallError('cancelled', `${where}: cancelled`);
  if (/Timeout/.test(`${e.name ?? ''} ${(err as { constructor?: { name?: string } } | null)?.constructor?.name ?? ''}`))
    return new CallError('timeout', `${where}: timed out`);
  const cls = `${e.name ?? ''} ${(err as { constructor?: { name?: string } } | null)?.constructor?.name ?? ''}`;
  if (
    /ConnectionError/.test(cls) ||
    (e.name === 'TypeError' && /fetch failed|terminated|socket|other side closed/i.test(e.message ?? ''))
  ) {
    const cause = e.cause as
      { code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
    const detail =
      cause?.code ??
      cause?.cause?.code ??
      ([cause?.message, cause?.cause?.message].filter(Boolean).join(': ') || e.message || '');
    if (
      /ECONNREFUSED/.test(String(detail)) ||
      /ECONNREFUSED/.test(String((cause as { cause?: { code?: string } })?.cause?.code ?? ''))
    ) {
      return new CallError('unavailable', `${where}: connection refused (is the server running?)`);
    }
    return new CallError('connection', `${where}: connection failed${detail ? ` (${detail})` : ''}`);
  }
  if (e.name === 'SyntaxError')
    return new CallError('malformed_stream', `${where}: malformed chunk in the stream (${e.message})`);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const b = bodyOf(e);
  const text = `${b.type ? `${b.type}: ` : ''}${b.message}`.slice(0, 300);
  const after = retryAfterMs(e.headers);
  const o = { status, ...(after !== undefined ? { retryAfterMs: after } : {}) };
  if (status === undefined) {
    // An error event inside a stream that began with 200 (Anthropic `event: error`, OpenAI `{"error":...}` chunk).
    if (/overloaded/i.test(b.type))
      return new CallError('overloaded', `${where}: overloaded (error event in the stream): ${text}`, o);
    if (/rate_limit/i.test(b.type))
      return new CallError('rate_limit', `${where}: rate limited (error event in the stream): ${text}`, o);
    if (b.message) return new CallError('server', `${where}: error event in the stream: ${text}`, o);
    return new CallError('connection', `${where}: ${e.message ?? String(err)}`);
  }
  if (status === 400 || status === 413 || status === 422) {
    if (CONTEXT_RE.test(b.message) || CONTEXT_RE.test(b.code)) {
      const n = requestedTokens(b.message);
      return new CallError('context_length', `${where}: context length exceeded: ${text}`, {
        ...o,
        called: where,
        ...(n ? { requestedTokens: n } : {}),
      });
    }
    return new CallError('bad_request', `${where}: request rejected (${status}): ${text}`, o);
  }
  if (status === 401 || status === 403)
    return new CallError('auth', `${where}: authentication failed (${status}): check the API key`, o);
  if (status === 402) return new CallError('quota', `${where}: insufficient balance (402): ${text}`, o);
  if (status === 404) return new CallError('not_found', `${where}: not found (404): ${text}`, o);
  if (status === 429) {
    if (b.detail === 'enforced_spend_limit_reached' || /insufficient_quota/.test(b.code + b.type))
      return new CallError('quota', `${where}: the provider account's spend limit or quota is reached: ${text}`, o);
    return new CallError('rate_limit', `${where}: rate limited (429): ${text}`, o);
  }
  if (status === 529 || /overloaded/i.test(b.type))
    return new CallError('overloaded', `${where}: overloaded (${status}): ${text}`, o);
  if (status === 503 && /loading/i.test(b.message))
    return new CallError('unavailable', `${where}: the server is still loading its model (503)`, o);
  if (status >= 500) return new CallError('server', `${where}: server error (${status}): ${text}`, o);
  return new CallError('bad_request', `${where}: unexpected status ${status}: ${text}`, o);
}
