// Exact cost: prices held as integer pico-dollars per token (PROVIDERS.md), cost = Σ tokens × price.
import type { Policy } from '../policy/schema.js';
import type { ProviderId } from '../policy/schema.js';
import type { Usage } from './port.js';

export interface TokenPrices {
  input: number;
  cached_input: number;
  output: number;
  cache_write_5m: number;
  cache_write_1h: number;
}

const pico = (perMtok: number) => Math.round(perMtok * 1e6);

/** Integer pico-dollars per token for a model, or null when the price table has no row (local models cost nothing). */
export function pricesFor(policy: Policy, provider: ProviderId, model: string): TokenPrices | null {
  if (provider === 'local') return { input: 0, cached_input: 0, output: 0, cache_write_5m: 0, cache_write_1h: 0 };
  const p = policy.prices.per_mtok[model];
  if (!p) return null;
  return {
    input: pico(p.input),
    cached_input: pico(p.cached_input),
    output: pico(p.output),
    cache_write_5m: pico(p.cache_write_5m ?? p.input),
    cache_write_1h: pico(p.cache_write_1h ?? p.input),
  };
}

/** Cost in pico-dollars (an integer). */
export function costPico(u: Usage, p: TokenPrices): number {
  return (
    u.input_tokens * p.input +
    u.cached_input_tokens * p.cached_input +
    u.cache_write_5m_tokens * p.cache_write_5m +
    u.cache_write_1h_tokens * p.cache_write_1h +
    u.output_tokens * p.output
  );
}

export const picoToUsd = (n: number) => n / 1e12;

/** Worst case before a call: every prompt token uncached, every allowed output token used. */
export function worstCasePico(promptTokens: number, maxOutput: number, p: TokenPrices): number {
  return promptTokens * Math.max(p.input, p.cache_write_5m) + maxOutput * p.output;
}

/** A rough prompt token count for reservations: about 3 characters per token errs on the high side for code and English. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3) + 4;
}
