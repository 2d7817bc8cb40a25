import type { createHash as CreateHash } from 'node:crypto';

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, parts);
  return parts.join('');
}

// A module-level function (no closure per call): the router hashes every request it decides.
function writeCanonical(v: unknown, out: string[]): void {
  if (v === null || typeof v !== 'object') {
    out.push(JSON.stringify(v) ?? 'null');
    return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      writeCanonical(v[i] === undefined ? null : v[i], out);
    }
    out.push(']');
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  out.push('{');
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    writeCanonical(x, out);
  }
  out.push('}');
}

// node:crypto initialises OpenSSL when first loaded: load it on the first hash, not when the extension starts.
let hasher: typeof CreateHash | undefined;
export const sha256 = (text: string): string => {
  hasher ??= (require('node:crypto') as typeof import('node:crypto')).createHash;
  return hasher('sha256').update(text).digest('hex');
};
