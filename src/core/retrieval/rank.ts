// Stage 0's ranking: BM25 (lexical), optionally cosine similarity of embeddings (semantic) and git co-change,
// combined with fixed weights into one relevance in [0, 1]; then MMR picks a diverse top k. Every number that
// went into a file's place is kept in its `why`, and ties break on the path: the same inputs, the same list.
import type { History } from './git.js';
import { round, sparseCosine, type LexicalIndex, type TermScore } from './lexical.js';

export const WEIGHTS = {
  hybrid: { lexical: 0.6, semantic: 0.3, git: 0.1 },
  lexicalOnly: { lexical: 0.9, semantic: 0, git: 0.1 },
} as const;

export interface Semantic {
  model: string;
  query: Float32Array;
  vector: (path: string) => Float32Array | undefined;
  paths: () => Iterable<string>;
}

export interface RankOptions {
  k?: number;
  candidates?: number;
  /** MMR: 1 = relevance only, 0 = diversity only. */
  lambda?: number;
  git?: History;
  semantic?: Semantic;
  /** Why there is no semantic part, when there is none (said in every result's why). */
  semanticMissing?: string;
}

export interface Ranked {
  rank: number;
  path: string;
  /** Combined relevance in [0, 1] before the MMR penalty. */
  relevance: number;
  /** The MMR objective the file was chosen with. */
  mmr: number;
  why: {
    lexical: { bm25: number; normalized: number; weight: number; terms: TermScore[] };
    semantic: { cosine: number; weight: number; model: string } | { unavailable: string };
    git: { cochange: number; normalized: number; weight: number } | null;
    redundancy: { similarity: number; to: string | null; lambda: number; measure: 'embedding' | 'tfidf' };
  };
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The `n` files nearest the query by embedding (only files the lexical index holds). */
function semanticTop(index: LexicalIndex, o: RankOptions, n: number): Map<string, number> {
  const semantic = new Map<string, number>();
  if (!o.semantic) return semantic;
  {
    const all: [string, number][] = [];
    for (const p of o.semantic.paths()) {
      const v = o.semantic.vector(p);
      if (v && index.has(p)) all.push([p, cosine(o.semantic.query, v)]);
    }
    all.sort((x, y) => y[1] - x[1] || byPath(x[0], y[0]));
    for (const [p, c] of all.slice(0, n)) semantic.set(p, c);
  }
  return semantic;
}

type Candidate = Omit<Ranked['why'], 'redundancy'> & { path: string; relevance: number };

/** Maximal marginal relevance over the pool: each pick trades relevance against similarity to those picked. */
function mmr(cand: Candidate[], index: LexicalIndex, o: RankOptions, k: number, lambda: number): Ranked[] {
  const chosen: Ranked[] = [];
  const left = cand.sort((a, b) => b.relevance - a.relevance || byPath(a.path, b.path));
  const measure: 'embedding' | 'tfidf' = o.semantic ? 'embedding' : 'tfidf';
  const sparse = new Map<string, ReturnType<LexicalIndex['vector']>>();
  const tfidf = (p: string) => {
    if (!sparse.has(p)) sparse.set(p, index.vector(p));
    return sparse.get(p)!;
  };
  const pairs = new Map<string, number>();
  const sim = (a: string, b: string) => {
    const key = `${a}\0${b}`;
    let v = pairs.get(key);
    if (v === undefined) {
      const va = o.semantic?.vector(a),
        vb = o.semantic?.vector(b);
      v = va && vb ? cosine(va, vb) : sparseCosine(tfidf(a), tfidf(b));
      pairs.set(key, v);
    }
    return v;
  };
  while (chosen.length < k && left.length > 0) {
    let best = -1,
      bestScore = -Infinity,
      bestSim = 0,
      bestTo: string | null = null;
    for (let i = 0; i < left.length; i++) {
      const c = left[i]!;
      let maxSim = 0,
        to: string | null = null;
      for (const s of chosen) {
        const v = sim(c.path, s.path);
        if (v > maxSim) {
          maxSim = v;
          to = s.path;
        }
      }
      const score = lambda * c.relevance - (1 - lambda) * maxSim;
      if (
        score > bestScore + 1e-12 ||
        (Math.abs(score - bestScore) <= 1e-12 && best >= 0 && c.path < left[best]!.path)
      ) {
        best = i;
        bestScore = score;
        bestSim = maxSim;
        bestTo = to;
      }
    }
    const c = left.splice(best, 1)[0]!;
    chosen.push({
      rank: chosen.length + 1,
      path: c.path,
      relevance: round(c.relevance),
      mmr: round(bestScore),
      why: {
        lexical: c.lexical,
        semantic: c.semantic,
        git: c.git,
        redundancy: { similarity: round(bestSim), to: bestTo, lambda, measure },
      },
    });
  }
  return chosen;
}

export function rank(index: LexicalIndex, query: string, o: RankOptions = {}): Ranked[] {
  const k = o.k ?? 8;
  const n = o.candidates ?? 50;
  const lambda = o.lambda ?? 0.7;
  const w = o.semantic ? WEIGHTS.hybrid : WEIGHTS.lexicalOnly;

  const lexical = new Map(index.search(query, n).map((h) => [h.path, h]));
  const semantic = semanticTop(index, o, n);
  const cochange = new Map<string, number>();
  for (const c of o.git?.cochange ?? []) if (index.has(c.path) && cochange.size < n) cochange.set(c.path, c.count);

  const pool = [...new Set([...lexical.keys(), ...semantic.keys(), ...cochange.keys()])].sort(byPath);
  const maxBm25 = Math.max(0, ...[...lexical.values()].map((h) => h.score));
  const maxCo = Math.max(0, ...cochange.values());
  const cand = pool
    .map((path) => {
      const lx = lexical.get(path);
      const lexNorm = lx && maxBm25 > 0 ? lx.score / maxBm25 : 0;
      let cos = semantic.get(path);
      if (cos === undefined && o.semantic) {
        const v = o.semantic.vector(path);
        cos = v ? cosine(o.semantic.query, v) : 0;
      }
      const co = cochange.get(path) ?? 0;
      const coNorm = maxCo > 0 ? co / maxCo : 0;
      const relevance = w.lexical * lexNorm + w.semantic * Math.max(0, cos ?? 0) + w.git * coNorm;
      return {
        path,
        relevance,
        lexical: { bm25: lx?.score ?? 0, normalized: round(lexNorm), weight: w.lexical, terms: lx?.terms ?? [] },
        semantic: o.semantic
          ? { cosine: round(cos ?? 0), weight: w.semantic, model: o.semantic.model }
          : { unavailable: o.semanticMissing ?? 'no embeddings index' },
        git: o.git ? { cochange: co, normalized: round(coNorm), weight: w.git } : null,
      };
    })
    .filter((c) => c.relevance > 0);

  return mmr(cand, index, o, k, lambda);
}

/** One line per file: how its place was reached. */
export function explainLine(r: Ranked): string {
  const w = r.why;
  const terms = w.lexical.terms.map((t) => `${t.term} ${t.score}`).join(', ');
  const parts = [
    `bm25 ${w.lexical.bm25} (${terms || 'no term'}) x${w.lexical.weight} normalized ${w.lexical.normalized}`,
  ];
  if ('cosine' in w.semantic) parts.push(`cosine ${w.semantic.cosine} (${w.semantic.model}) x${w.semantic.weight}`);
  else parts.push(`no semantic score: ${w.semantic.unavailable}`);
  if (w.git) parts.push(`git co-change ${w.git.cochange} x${w.git.weight}`);
  if (w.redundancy.to)
    parts.push(`MMR: ${w.redundancy.measure} similarity ${w.redundancy.similarity} to ${w.redundancy.to}`);
  return `#${r.rank} ${r.path}: relevance ${r.relevance}, mmr ${r.mmr}; ${parts.join('; ')}`;
}

/** The lines of `text` most dense in the query's terms: a window of at most `maxLines`, earliest on ties. */
export function snippet(text: string, terms: string[], maxLines = 40): { start: number; end: number; text: string } {
  const lines = text.split(/\r?\n/);
  if (lines.length <= maxLines) return { start: 1, end: lines.length, text };
  const set = terms.map((t) => t.toLowerCase());
  const hits = lines.map((l) => {
    const low = l.toLowerCase();
    let h = 0;
    for (const t of set) if (low.includes(t)) h++;
    return h;
  });
  let sum = 0;
  for (let i = 0; i < maxLines; i++) sum += hits[i]!;
  let best = sum,
    at = 0;
  for (let i = maxLines; i < lines.length; i++) {
    sum += hits[i]! - hits[i - maxLines]!;
    if (sum > best) {
      best = sum;
      at = i - maxLines + 1;
    }
  }
  return { start: at + 1, end: at + maxLines, text: lines.slice(at, at + maxLines).join('\n') };
}
