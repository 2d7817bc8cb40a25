// Stage 0's lexical index: BM25 over two fields (the text, and the path weighted PATH_WEIGHT times), in memory,
// updated file by file. Every score can be taken apart term by term (explain), and ties break on the path, so
// the same workspace and query always give the same ranking.
import { MAX_TOKEN, MIN_TOKEN, pathText, scan, spanHash, STOP_WORDS, tokenize } from './tokenize.js';

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

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/**
 * Term ids by open addressing over a hash of the lower-cased span: a known term costs no string allocation
 * (a workspace of 20,000 files has some 20 million tokens).
 */
class TermTable {
  private slots = new Int32Array(1 << 16).fill(-1);
  readonly names: string[] = [];
  private hashes = new Uint32Array(1 << 15);
  stop = new Uint8Array(1024);

  constructor() {
    for (const w of STOP_WORDS) this.idOf(w, 0, w.length, true);
    for (let i = 0; i < this.names.length; i++) this.stop[i] = 1;
  }

  /** The id of text[s, e) lower-cased; -1 when unknown and not created. */
  idOf(text: string, s: number, e: number, create: boolean, hash = -1): number {
    const h = hash >= 0 ? hash : spanHash(text, s, e);
    const mask = this.slots.length - 1;
    let i = h & mask;
    const len = e - s;
    for (;;) {
      const id = this.slots[i]!;
      if (id < 0) break;
      if (this.hashes[id] === h) {
        const name = this.names[id]!;
        if (name.length === len) {
          let k = 0;
          while (k < len && name.charCodeAt(k) === lower(text.charCodeAt(s + k))) k++;
          if (k === len) return id;
        }
      }
      i = (i + 1) & mask;
    }
    if (!create) return -1;
    const id = this.names.length;
    this.names.push(text.slice(s, e).toLowerCase());
    if (id >= this.hashes.length) {
      const hs = new Uint32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
    }
    this.hashes[id] = h;
    this.slots[i] = id;
    if (id >= this.stop.length) {
      const st = new Uint8Array(this.stop.length * 2);
      st.set(this.stop);
      this.stop = st;
    }
    if (this.names.length * 2 > this.slots.length) this.grow();
    return id;
  }

  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.names.length; id++) {
      let i = this.hashes[id]! & mask;
      while (slots[i]! >= 0) i = (i + 1) & mask;
      slots[i] = id;
    }
    this.slots = slots;
  }
}

export interface IndexPart {
  names: string[];
  docs: { path: string; len: number; ids: Uint32Array; body: Uint16Array; inPath: Uint8Array }[];
}

export interface TermScore {
  term: string;
  tf_text: number;
  tf_path: number;
  df: number;
  idf: number;
  score: number;
}
export interface LexicalHit {
  path: string;
  score: number;
  terms: TermScore[];
}

export class LexicalIndex {
  private readonly table = new TermTable();
  private df = new Int32Array(1024);
  private docs: Doc[] = [];
  private readonly byPath = new Map<string, number>();
  private live = 0;
  private totalLen = 0;
  private dead = 0;
  /**
   * Postings, frozen: for term t, documents docs[start[t] .. start[t+1]) with their weighted term frequencies,
   * built in one pass over the documents [0, frozen). Documents added later (saved files) are scored directly
   * until the next freeze; a freeze happens before a query when that tail or the dead share grows.
   */
  private start = new Uint32Array(1);
  private pDocs = new Uint32Array(0);
  private pTf = new Uint32Array(0);
  private frozen = 0;
  private frozenDead = 0;

  get size(): number {
    return this.live;
  }
  get terms(): number {
    return this.table.names.length - STOP_WORDS.size;
  }
  has(path: string): boolean {
    return this.byPath.has(path);
  }
  paths(): string[] {
    return [...this.byPath.keys()].sort();
  }

  private known(term: string): number {
    return this.table.idOf(term, 0, term.length, false);
  }

  // Scratch counters by term id, reused for every file (no per-file maps).
  private scratchBody = new Uint32Array(1024);
  private scratchPath = new Uint32Array(1024);

  private grow(id: number): void {
    const size = Math.max(id + 1, this.scratchBody.length * 2);
    const b = new Uint32Array(size);
    b.set(this.scratchBody);
    this.scratchBody = b;
    const p = new Uint32Array(size);
    p.set(this.scratchPath);
    this.scratchPath = p;
    const d = new Int32Array(size);
    d.set(this.df);
    this.df = d;
  }

  private count(text: string, into: 'body' | 'path', seen: number[]): void {
    const table = this.table;
    scan(text, (st, en, h) => {
      const len = en - st;
      if (len < MIN_TOKEN || len > MAX_TOKEN) return;
      const id = table.idOf(text, st, en, true, h);
      if (table.stop[id]) return;
      if (id >= this.scratchBody.length) this.grow(id);
      if (this.scratchBody[id] === 0 && this.scratchPath[id] === 0) seen.push(id);
      if (into === 'body') this.scratchBody[id]!++;
      else this.scratchPath[id]!++;
    });
  }

  /** Adds or replaces a file. */
  add(path: string, text: string): void {
    this.remove(path);
    const seen: number[] = [];
    this.count(text, 'body', seen);
    this.count(pathText(path), 'path', seen);
    const ids = Uint32Array.from(seen).sort();
    const body = new Uint16Array(ids.length);
    const inPath = new Uint8Array(ids.length);
    let len = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      body[k] = Math.min(this.scratchBody[id]!, 65535);
      inPath[k] = Math.min(this.scratchPath[id]!, 255);
      this.scratchBody[id] = 0;
      this.scratchPath[id] = 0;
      len += body[k]! + BM25.pathWeight * inPath[k]!;
      this.df[id]!++;
    }
    this.byPath.set(path, this.docs.length);
    this.docs.push({ path, alive: true, len, ids, body, inPath });
    this.live++;
    this.totalLen += len;
  }

  /** The index's documents and term names, to hand from a worker thread to the main one (see importPart). */
  exportPart(): IndexPart {
    const docs = this.docs
      .filter((d) => d.alive)
      .map(({ path, len, ids, body, inPath }) => ({ path, len, ids, body, inPath }));
    return { names: this.table.names.slice(), docs };
  }

  /** Adds the documents of another index (a worker's), mapping its term ids onto this index's. */
  importPart(part: IndexPart): void {
    const map = new Uint32Array(part.names.length);
    let identity = true;
    for (let k = 0; k < part.names.length; k++) {
      const name = part.names[k]!;
      const id = this.table.idOf(name, 0, name.length, true);
      if (id >= this.scratchBody.length) this.grow(id);
      map[k] = id;
      if (id !== k) identity = false;
    }
    for (const d of part.docs) {
      this.remove(d.path);
      let ids = d.ids,
        body = d.body,
        inPath = d.inPath;
      if (!identity) {
        // Re-sort by the new ids, carrying the counts along: one numeric sort of (new id, position) keys.
        const keys = new Float64Array(ids.length);
        for (let k = 0; k < ids.length; k++) keys[k] = map[ids[k]!]! * 65536 + k;
        keys.sort();
        ids = new Uint32Array(keys.length);
        body = new Uint16Array(keys.length);
        inPath = new Uint8Array(keys.length);
        for (let k = 0; k < keys.length; k++) {
          const pos = keys[k]! % 65536;
          ids[k] = (keys[k]! - pos) / 65536;
          body[k] = d.body[pos]!;
          inPath[k] = d.inPath[pos]!;
        }
      }
      for (const id of ids) this.df[id]!++;
      this.byPath.set(d.path, this.docs.length);
      this.docs.push({ path: d.path, alive: true, len: d.len, ids, body, inPath });
      this.live++;
      this.totalLen += d.len;
    }
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
    this.dead++;
    if (docNo < this.frozen) this.frozenDead++;
    return true;
  }

  /** Builds the frozen postings over the live documents (dropping the dead ones and renumbering). */
  private freeze(): void {
    if (this.dead > 0) {
      this.docs = this.docs.filter((d) => d.alive);
      this.byPath.clear();
      this.docs.forEach((d, n) => this.byPath.set(d.path, n));
      this.dead = 0;
    }
    const terms = this.table.names.length;
    const start = new Uint32Array(terms + 1);
    for (const d of this.docs) for (const id of d.ids) start[id + 1]!++;
    for (let t = 0; t < terms; t++) start[t + 1]! += start[t]!;
    const fill = start.slice(0, terms);
    const pDocs = new Uint32Array(start[terms]!);
    const pTf = new Uint32Array(start[terms]!);
    this.docs.forEach((d, n) => {
      for (let k = 0; k < d.ids.length; k++) {
        const at = fill[d.ids[k]!]!++;
        pDocs[at] = n;
        pTf[at] = d.body[k]! + BM25.pathWeight * d.inPath[k]!;
      }
    });
    this.start = start;
    this.pDocs = pDocs;
    this.pTf = pTf;
    this.frozen = this.docs.length;
    this.frozenDead = 0;
  }

  /** Builds the postings now (the end of an index build) rather than at the first query. */
  prepare(): void {
    this.ensureFrozen();
  }

  private ensureFrozen(): void {
    const tail = this.docs.length - this.frozen;
    if (this.frozen === 0 ? this.docs.length > 0 : tail > 512 || this.frozenDead > Math.max(256, this.frozen / 4))
      this.freeze();
  }

  idf(df: number): number {
    return Math.log(1 + (this.live - df + 0.5) / (df + 0.5));
  }

  private tf(d: Doc, id: number): [number, number] {
    let lo = 0,
      hi = d.ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = d.ids[mid]!;
      if (v === id) return [d.body[mid]!, d.inPath[mid]!];
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return [0, 0];
  }

  /** The query's distinct terms, in query order. */
  queryTerms(query: string): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const t of tokenize(query))
      if (!seen.has(t)) {
        seen.add(t);
        out.push(t);
      }
    return out;
  }

  /** The top `n` files by BM25, best first, ties by path; each with its score taken apart term by term. */
  search(query: string, n: number): LexicalHit[] {
    const terms = this.queryTerms(query).filter((t) => this.known(t) >= 0);
    if (terms.length === 0 || this.live === 0) return [];
    this.ensureFrozen();
    const avg = this.totalLen / this.live;
    const { k1, b } = BM25;
    const acc = new Float64Array(this.docs.length);
    const touched: number[] = [];
    const add = (docNo: number, tf: number, idf: number) => {
      const d = this.docs[docNo]!;
      if (!d.alive) return;
      if (acc[docNo] === 0) touched.push(docNo);
      acc[docNo]! += (idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * d.len) / avg));
    };
    for (const t of terms) {
      const id = this.known(t);
      const df = this.df[id]!;
      if (df <= 0) continue;
      const idf = this.idf(df);
      if (id + 1 < this.start.length)
        for (let i = this.start[id]!; i < this.start[id + 1]!; i++) add(this.pDocs[i]!, this.pTf[i]!, idf);
      for (let docNo = this.frozen; docNo < this.docs.length; docNo++) {
        const [tb, tp] = this.tf(this.docs[docNo]!, id);
        if (tb + tp > 0) add(docNo, tb + BM25.pathWeight * tp, idf);
      }
    }
    const better = (x: number, y: number) =>
      acc[x]! > acc[y]! || (acc[x] === acc[y] && this.docs[x]!.path < this.docs[y]!.path);
    // The best n by a bounded selection (a sorted buffer), not a sort of every touched file.
    const top: number[] = [];
    for (const docNo of touched) {
      if (top.length === n && !better(docNo, top[n - 1]!)) continue;
      let at = top.length;
      while (at > 0 && better(docNo, top[at - 1]!)) at--;
      top.splice(at, 0, docNo);
      if (top.length > n) top.pop();
    }
    return top.map((docNo) => {
      const d = this.docs[docNo]!;
      const parts: TermScore[] = [];
      for (const t of terms) {
        const id = this.known(t);
        const [tb, tp] = this.tf(d, id);
        if (tb + tp === 0) continue;
        const df = this.df[id]!;
        const idf = this.idf(df);
        const tf = tb + BM25.pathWeight * tp;
        parts.push({
          term: t,
          tf_text: tb,
          tf_path: tp,
          df,
          idf: round(idf),
          score: round((idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * d.len) / avg))),
        });
      }
      return { path: d.path, score: round(acc[docNo]!), terms: parts };
    });
  }

  /** A file's TF-IDF vector (sparse, term ids ascending) and its norm: MMR's redundancy measure without embeddings. */
  vector(path: string): { ids: Uint32Array; w: Float64Array; norm: number } | null {
    const docNo = this.byPath.get(path);
    if (docNo === undefined) return null;
    const d = this.docs[docNo]!;
    const w = new Float64Array(d.ids.length);
    let norm = 0;
    for (let k = 0; k < d.ids.length; k++) {
      w[k] = (d.body[k]! + d.inPath[k]!) * this.idf(this.df[d.ids[k]!]!);
      norm += w[k]! * w[k]!;
    }
    return { ids: d.ids, w, norm: Math.sqrt(norm) };
  }
}

export function sparseCosine(
  x: { ids: Uint32Array; w: Float64Array; norm: number } | null,
  y: { ids: Uint32Array; w: Float64Array; norm: number } | null,
): number {
  if (!x || !y || !x.norm || !y.norm) return 0;
  let dot = 0,
    i = 0,
    j = 0;
  while (i < x.ids.length && j < y.ids.length) {
    if (x.ids[i] === y.ids[j]) {
      dot += x.w[i]! * y.w[j]!;
      i++;
      j++;
    } else if (x.ids[i]! < y.ids[j]!) i++;
    else j++;
  }
  return dot / (x.norm * y.norm);
}

export const round = (x: number) => Math.round(x * 10_000) / 10_000;
