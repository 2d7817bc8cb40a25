import type { createHash as CreateHash } from 'node:crypto';

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

// node:crypto initialises OpenSSL when first loaded: load it on the first hash, not when the extension starts.
let hasher: typeof CreateHash | undefined;
export const sha256 = (text: string): string => {
  hasher ??= (require('node:crypto') as typeof import('node:crypto')).createHash;
  return hasher('sha256').update(text).digest('hex');
};
