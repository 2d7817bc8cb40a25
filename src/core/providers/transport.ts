// GR-009 in the transport: while local_only is on, no connection leaves the machine, whatever the caller asked for.
import { isIP } from 'node:net';
import { CallError } from './types.js';

/** 127.0.0.0/8, ::1, ::ffff:127.x and localhost. Nothing else counts as this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(h);
  return false;
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch for the SDKs. While `localOnly()` is true it refuses any URL whose host is not loopback
 * (before a socket is opened) and refuses redirects (a loopback gateway cannot bounce a call out).
 */
export function guardedFetch(localOnly: () => boolean, base: FetchLike = globalThis.fetch): FetchLike {
  return async (input, init) => {
    if (!localOnly()) return base(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (!isLoopbackHost(url.hostname)) {
      throw new CallError(
        'transport_refused',
        `GR-009: local_only is on; the connection to ${url.host} was refused before it was opened (only loopback hosts are allowed)`,
      );
    }
    return base(input, { ...init, redirect: 'error' });
  };
}
