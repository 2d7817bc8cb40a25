import type { createHash as CreateHash } from 'node:crypto';

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  let out = '';
  const write = (v: unknown): void => {
    if (v === null || typeof v !== 'object') { out += JSON.stringify(v) ?? 'null'; return; }
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length; i++) { if (i) out += ','; write(v[i] === undefined ? null : v[i]); }
      out += ']';
      return;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    out += '{';
    let first = true;
    for (const k of keys) {
      const x = o[k];
      if (x === undefined) continue;
      if (!first) out += ',';
      first = false;
      out += JSON.stringify(k);
      out += ':';
      write(x);
    }
    out += '}';
  };
  write(value);
  return out;
}

// node:crypto initialises OpenSSL when first loaded: load it on the first hash, not when the extension starts.
let hasher: typeof CreateHash | undefined;
export const sha256 = (text: string): string => {
  hasher ??= (require('node:crypto') as typeof import('node:crypto')).createHash;
  return hasher('sha256').update(text).digest('hex');
};
