// A stand-in for bge-m3 (which cannot run on these machines): words map to concepts through a small
// synonym table, the rest are hashed into buckets; the vector is the normalised bag of concepts. Like a real
// embedding model it ranks "login credentials" near code about tokens and sessions with no word in common.
const CONCEPTS: Record<string, string[]> = {
  auth: [
    'login',
    'credential',
    'credentials',
    'token',
    'tokens',
    'session',
    'sessions',
    'signature',
    'sign',
    'secret',
    'hmac',
    'auth',
    'password',
    'signed',
  ],
  money: ['money', 'currency', 'cents', 'dollars', 'price', 'budget', 'spend', 'amount', 'amounts', 'cost'],
  durability: ['crash', 'durable', 'fsync', 'sync', 'ledger', 'replay', 'torn', 'append', 'persist', 'disk'],
  network: ['retry', 'backoff', 'timeout', 'carrier', 'http', 'request', 'requests', 'network', 'flaky', 'jitter'],
  speed: ['latency', 'histogram', 'metrics', 'slow', 'fast', 'seconds', 'prometheus'],
};
const WORD_TO = new Map<string, number>();
Object.values(CONCEPTS).forEach((words, i) => {
  for (const w of words) WORD_TO.set(w, i);
});
export const DIM = 32;

export function conceptEmbedding(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    const c = WORD_TO.get(w);
    if (c !== undefined) v[c]! += 3;
    else {
      let h = 7;
      for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      v[5 + (h % (DIM - 5))]! += 0.2;
    }
  }
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / n);
}
