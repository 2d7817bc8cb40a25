// Stage 0's lexical index: BM25 over two fields (the text, and the path weighted PATH_WEIGHT times), in memory,
// updated file by file. Every score can be taken apart term by term (explain), and ties break on the path, so
// the same workspace and query always give the same ranking.
import { pathTokens, tokenize } from './tokenize.js';

export const BM25 = { k1: 1.2, b: 0.75, pathWeight: 3 } as const;

interface Doc {
  path: string;
  alive: boolean;
  /** Weighted length (text tokens + pathWeight x path tokens). */
  len: number;
  /** Term ids, ascending, with the count of each in the text and in the path. */
  ids: Uint32Array;
  body: Uint16Array;
  inPath: Uint8Array;
}

export interface TermScore { term: string; tf_text: number; tf_path: number; df: number; idf: number; score: number }
export interface LexicalHit { path: string; score: number; terms: TermScore[] }

export class LexicalIndex {
  private readonly termIds = new Map<string, number>();
  private readonly termNames: string[] = [];
  /** Per term: flattened [doc, doc, ...]; document frequency counts live documents only. */
  private postings: number[][] = [];
  private df: number[] = [];
  private docs: Doc[] = [];
  private readonly byPath = new Map<string, number>();
  private live = 0;
  private totalLen = 0;
  private dead = 0;

  get size(): number { return this.live; }
  get terms(): number { return this.termNames.length; }
  has(path: string): boolean { return this.byPath.has(path); }
  paths(): string[] { return [...this.byPath.keys()].sort(); }

  private termId(t: string): number {
    let id = this.termIds.get(t);
    if (id === undefined) {
      id = this.termNames.length;
      this.termIds.set(t, id);
      this.termNames.push(t);
      this.postings.push([]);
      this.df.push(0);
    }
    return id;
  }

  /** Adds or replaces a file. */
  add(path: string, text: string): void {
    this.remove(path);
    const counts = new Map<number, [number, number]>();
    for (const t of tokenize(text)) { const id = this.termId(t); const c = counts.get(id); if (c) c[0]++; else counts.set(id, [1, 0]); }
    for (const t of pathTokens(path)) { const id = this.termId(t); const c = counts.get(id); if (c) c[1]++; else counts.set(id, [0, 1]); }
    const ids = Uint32Array.from([...counts.keys()].sort((a, b) => a - b));
    const body = new Uint16Array(ids.length);
    const inPath = new Uint8Array(ids.length);
    let len = 0;
    ids.forEach((id, k) => {
      const [b, p] = counts.get(id)!;
      body[k] = Math.min(b, 65535); inPath[k] = Math.min(p, 255);
      len += b + BM25.pathWeight * p;
    });
    const docNo = this.docs.length;
    this.docs.push({ path, alive: true, len, ids, body, inPath });
    this.byPath.set(path, docNo);
    for (const id of ids) { this.postings[id]!.push(docNo); this.df[id]!++; }
    this.live++;
    this.totalLen += len;
  }

  remove(path: string): boolean {
    const docNo = this.byPath.get(path);
    if (docNo === undefined) return false;
    const d = this.docs[docNo]!;
    d.alive = false;
    this.byPath.delete(path);
    for (const id of d.ids) this.df[id]!--;
    this.live--;
    this.totalLen -= d.len;
    if (++this.dead > 256 && this.dead > this.docs.length / 4) this.compact();
    return true;
  }

  /** Drops the dead documents from the postings (after many edits). */
  private compact(): void {
    const keep = this.docs.filter((d) => d.alive);
    this.docs = keep;
    this.byPath.clear();
    this.postings = this.termNames.map(() => []);
    keep.forEach((d, n) => { this.byPath.set(d.path, n); for (const id of d.ids) this.postings[id]!.push(n); });
    this.dead = 0;
  }

  idf(df: number): number { return Math.log(1 + (this.live - df + 0.5) / (df + 0.5)); }

  private tf(d: Doc, id: number): [number, number] {
    let lo = 0, hi = d.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = d.ids[mid]!;
      if (v === id) return [d.body[mid]!, d.inPath[mid]!];
      if (v < id) lo = mid + 1; else hi = mid - 1;
    }
    return [0, 0];
  }

  /** The query's distinct known terms, in query order. */
  queryTerms(query: string): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const t of [...tokenize(query), ...tokenize(query.toLowerCase())]) if (!seen.has(t)) { seen.add(t); out.push(t); }
    return out;
  }

  /** The top `n` files by BM25, best first, ties by path; each with its score taken apart term by term. */
  search(query: string, n: number): LexicalHit[] {
    const terms = this.queryTerms(query).filter((t) => this.termIds.has(t));
    if (terms.length === 0 || this.live === 0) return [];
    const avg = this.totalLen / this.live;
    const scores = new Map<number, number>();
    const { k1, b, pathWeight } = BM25;
    for (const t of terms) {
      const id = this.termIds.get(t)!;
      const df = this.df[id]!;
      if (df === 0) continue;
      const idf = this.idf(df);
      for (const docNo of this.postings[id]!) {
        const d = this.docs[docNo]!;
        if (!d.alive) continue;
        const [tb, tp] = this.tf(d, id);
        const tf = tb + pathWeight * tp;
        const s = idf * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * d.len / avg));
        scores.set(docNo, (scores.get(docNo) ?? 0) + s);
      }
    }
    const ranked = [...scores].sort((x, y) => y[1] - x[1] || (this.docs[x[0]]!.path < this.docs[y[0]]!.path ? -1 : 1)).slice(0, n);
    return ranked.map(([docNo, score]) => {
      const d = this.docs[docNo]!;
      const parts: TermScore[] = [];
      for (const t of terms) {
        const id = this.termIds.get(t)!;
        const [tb, tp] = this.tf(d, id);
        if (tb + tp === 0) continue;
        const df = this.df[id]!;
        const idf = this.idf(df);
        const tf = tb + pathWeight * tp;
        parts.push({ term: t, tf_text: tb, tf_path: tp, df, idf: round(idf), score: round(idf * (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * d.len / avg))) });
      }
      return { path: d.path, score: round(score), terms: parts };
    });
  }

  /** Cosine similarity of two files' TF-IDF vectors (MMR's redundancy measure when no embeddings exist). */
  similarity(a: string, b: string): number {
    const da = this.byPath.get(a), db = this.byPath.get(b);
    if (da === undefined || db === undefined) return 0;
    const x = this.docs[da]!, y = this.docs[db]!;
    const w = (d: Doc, k: number) => (d.body[k]! + d.inPath[k]!) * this.idf(this.df[d.ids[k]!]!);
    let dot = 0, nx = 0, ny = 0, i = 0, j = 0;
    for (let k = 0; k < x.ids.length; k++) nx += w(x, k) ** 2;
    for (let k = 0; k < y.ids.length; k++) ny += w(y, k) ** 2;
    while (i < x.ids.length && j < y.ids.length) {
      if (x.ids[i] === y.ids[j]) { dot += w(x, i) * w(y, j); i++; j++; }
      else if (x.ids[i]! < y.ids[j]!) i++; else j++;
    }
    return nx && ny ? dot / Math.sqrt(nx * ny) : 0;
  }
}

export const round = (x: number) => Math.round(x * 10_000) / 10_000;
