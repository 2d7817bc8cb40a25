// Stage 0: the deterministic context every role starts from (MODEL-POLICY.md §1: no LLM). A lexical index of
// the workspace, optionally an embeddings index (hybrid ranking), and the git history of the files a task
// touches; `context` turns a query into a bounded, explained block of snippets for a prompt.
import { EmbeddingIndex, type Embedder } from './embeddings.js';
import { harvest, renderHistory, type History } from './git.js';
import { LexicalIndex } from './lexical.js';
import { explainLine, rank, snippet, type Ranked, type Semantic } from './rank.js';
import { IgnoreRules, listFiles, loadText, MAX_FILE_BYTES } from './walk.js';
import type { WorkerInput, WorkerMessage } from './indexWorker.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Below this many files a build runs on the caller's thread (a worker's start costs more than it saves). */
export const WORKER_MIN_FILES = 2000;

export interface Progress {
  phase: 'listing' | 'reading' | 'embedding';
  done: number;
  total: number;
}

export interface BuildStats {
  files: number;
  indexed: number;
  skipped: { binary: number; too_large: number; unreadable: number };
  terms: number;
  ms: number;
  /** Worker threads that read and tokenized (0: the caller's thread). */ threads: number;
  phases: { list_ms: number; index_ms: number; embed_ms: number };
  embedded: number;
  embeddings: { model: string; dim: number } | null;
  notes: string[];
}

export interface Stage0Options {
  root: string;
  exclude?: string[];
  maxFileBytes?: number;
  /** Embeddings are off without one. */
  embedder?: Embedder | null;
  /** Where the vectors are kept between sessions. */
  embeddingsFile?: string;
  /** Whether git may run (the harvester); off in an untrusted workspace. */
  git?: boolean;
  /**
   * The bundled worker script (dist/indexWorker.js): with it, a workspace of more than WORKER_MIN_FILES files
   * is read and tokenized by `workers` threads (default: the CPU count, at most 4), off the caller's thread.
   */
  workerScript?: string;
  workers?: number;
  /** The smallest workspace built in workers (default WORKER_MIN_FILES). */
  workerMinFiles?: number;
  /** Files read and indexed between two yields to the event loop (default 64). */
  batch?: number;
}

export interface QueryResult {
  query: string;
  results: Ranked[];
  history: History | null;
  /** Why the ranking is lexical only, when it is. */
  semantic: { model: string } | { unavailable: string };
  ms: number;
}

export interface ContextBlock extends QueryResult {
  text: string;
  chars: number;
}

export class Stage0 {
  readonly lexical = new LexicalIndex();
  readonly embeddings = new EmbeddingIndex();
  stats: BuildStats | null = null;
  private readonly rules: IgnoreRules;
  constructor(readonly o: Stage0Options) {
    this.rules = new IgnoreRules(o.root, o.exclude);
  }

  get built(): boolean {
    return this.stats !== null;
  }

  async build(o: { onProgress?: (p: Progress) => void; signal?: AbortSignal } = {}): Promise<BuildStats> {
    const t0 = performance.now();
    o.onProgress?.({ phase: 'listing', done: 0, total: 0 });
    const files = await listFiles(this.o.root, {
      exclude: this.o.exclude,
      signal: o.signal,
      onDir: (n) => o.onProgress?.({ phase: 'listing', done: n, total: 0 }),
    });
    const tList = performance.now();
    const skipped = { binary: 0, too_large: 0, unreadable: 0 };
    const notesBefore: string[] = [];
    const keepText = !!this.o.embedder;
    const texts: { path: string; text: string }[] = [];
    let done = 0;
    const seen = new Set(files);
    for (const p of this.lexical.paths()) if (!seen.has(p)) this.lexical.remove(p);
    const wantWorkers = !!this.o.workerScript && files.length >= (this.o.workerMinFiles ?? WORKER_MIN_FILES);
    const workers = wantWorkers && existsSync(this.o.workerScript!);
    if (wantWorkers && !workers)
      notesBefore.push(`the index worker ${this.o.workerScript} is missing; this build ran on one thread`);
    let threads = 0;
    if (workers) {
      threads = await this.buildInWorkers(files, skipped, o);
      done = files.length;
      if (keepText)
        for (const path of files) {
          const r = loadText(this.o.root, path, this.o.maxFileBytes ?? MAX_FILE_BYTES);
          if ('text' in r) texts.push(r);
        }
    }
    // Batches of files read and indexed synchronously, yielding to the event loop between batches so the
    // extension host stays responsive; `batch` files at a time.
    const batch = this.o.batch ?? 64;
    for (let i = done; i < files.length; i += batch) {
      if (o.signal?.aborted) throw new Error('cancelled');
      for (const path of files.slice(i, i + batch)) {
        const r = loadText(this.o.root, path, this.o.maxFileBytes ?? MAX_FILE_BYTES);
        if ('text' in r) {
          this.lexical.add(path, r.text);
          if (keepText) texts.push(r);
        } else {
          skipped[r.skipped]++;
          this.lexical.remove(path);
        }
        done++;
      }
      if (done % 256 < batch || done === files.length) o.onProgress?.({ phase: 'reading', done, total: files.length });
      await new Promise<void>((r) => setImmediate(r));
    }
    this.lexical.prepare();
    const tIndex = performance.now();
    const notes: string[] = [...notesBefore];
    const embedded = await this.embedAll(texts, notes, o);
    this.stats = {
      files: files.length,
      indexed: this.lexical.size,
      skipped,
      terms: this.lexical.terms,
      ms: Math.round(performance.now() - t0),
      threads,
      phases: {
        list_ms: Math.round(tList - t0),
        index_ms: Math.round(tIndex - tList),
        embed_ms: Math.round(performance.now() - tIndex),
      },
      embedded,
      embeddings: this.embeddings.model ? { model: this.embeddings.model, dim: this.embeddings.dim } : null,
      notes,
    };
    return this.stats;
  }

  /** The embeddings of the texts (only what changed is embedded again); a failure leaves ranking lexical, noted. */
  private async embedAll(
    texts: { path: string; text: string }[],
    notes: string[],
    o: { onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<number> {
    if (!this.o.embedder) return 0;
    let embedded = 0;
    if (this.o.embeddingsFile && this.embeddings.size === 0) await this.embeddings.load(this.o.embeddingsFile);
    texts.sort((a, b) => (a.path < b.path ? -1 : 1));
    try {
      embedded = (
        await this.embeddings.update(texts, this.o.embedder, {
          signal: o.signal,
          onProgress: (d, t) => o.onProgress?.({ phase: 'embedding', done: d, total: t }),
        })
      ).embedded;
      if (this.o.embeddingsFile) await this.embeddings.save(this.o.embeddingsFile);
    } catch (e) {
      notes.push(`embeddings not built: ${(e as Error).message}; ranking is lexical only`);
    }
    notes.push(...this.embeddings.notes.splice(0));
    return embedded;
  }

  private async buildInWorkers(
    files: string[],
    skipped: BuildStats['skipped'],
    o: { onProgress?: (p: Progress) => void; signal?: AbortSignal },
  ): Promise<number> {
    const n = Math.max(
      1,
      Math.min(
        this.o.workers ?? Math.min(4, availableParallelism()),
        Math.ceil(files.length / Math.min(1000, this.o.workerMinFiles ?? 1000)),
      ),
    );
    const size = Math.ceil(files.length / n);
    const slices = Array.from({ length: n }, (_, k) => files.slice(k * size, (k + 1) * size));
    const progress = new Array<number>(n).fill(0);
    const workers: Worker[] = [];
    const onAbort = () => {
      for (const w of workers) void w.terminate();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const parts = await Promise.all(
        slices.map(
          (slice, k) =>
            new Promise<WorkerMessage & { type: 'done' }>((resolve, reject) => {
              const w = new Worker(this.o.workerScript!, {
                workerData: {
                  root: this.o.root,
                  files: slice,
                  maxFileBytes: this.o.maxFileBytes ?? MAX_FILE_BYTES,
                } satisfies WorkerInput,
              });
              workers.push(w);
              w.on('message', (m: WorkerMessage) => {
                if (m.type === 'progress') {
                  progress[k] = m.done;
                  o.onProgress?.({ phase: 'reading', done: progress.reduce((a, b) => a + b, 0), total: files.length });
                } else resolve(m);
              });
              w.on('error', reject);
              w.on('exit', (code) =>
                reject(new Error(o.signal?.aborted ? 'cancelled' : `an index worker stopped (exit code ${code})`)),
              );
            }),
        ),
      );
      for (const p of parts) {
        this.lexical.importPart(p.part);
        for (const key of Object.keys(skipped) as (keyof typeof skipped)[]) skipped[key] += p.skipped[key];
      }
      // A file a worker skipped (now binary, too large or unreadable) leaves the index, as on one thread.
      const read = new Set(parts.flatMap((p) => p.part.docs.map((d) => d.path)));
      for (const path of files) if (!read.has(path)) this.lexical.remove(path);
      o.onProgress?.({ phase: 'reading', done: files.length, total: files.length });
      return n;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
    }
  }

  /** A file was saved, created or deleted: the lexical index follows at once (vectors at the next build). */
  async refresh(path: string): Promise<void> {
    if (path === '.gitignore' || path.endsWith('/.gitignore')) this.rules.clear();
    // A file git ignores (a build output, node_modules, .git) stays out, as in a full build.
    if (await this.rules.ignored(path)) {
      this.forget(path);
      return;
    }
    const r = loadText(this.o.root, path, this.o.maxFileBytes ?? MAX_FILE_BYTES);
    if ('text' in r) this.lexical.add(path, r.text);
    else this.lexical.remove(path);
  }
  forget(path: string): void {
    this.lexical.remove(path);
    this.embeddings.remove(path);
  }

  async query(
    query: string,
    o: { k?: number; touched?: string[]; lambda?: number; semantic?: boolean; signal?: AbortSignal } = {},
  ): Promise<QueryResult> {
    if (!this.built) await this.build({ signal: o.signal });
    const t0 = performance.now();
    const history = o.touched?.length && this.o.git !== false ? await harvest(this.o.root, o.touched) : null;
    let semantic: Semantic | undefined;
    let missing = 'embeddings are off (switchyard.context.embeddings)';
    if (this.o.embedder && o.semantic !== false) {
      if (!this.embeddings.model || this.embeddings.size === 0)
        missing = 'the embeddings index is empty (see the Stage 0 build notes)';
      else {
        try {
          const r = await this.o.embedder.embed([query], o.signal);
          if (r.model !== this.embeddings.model || r.dim !== this.embeddings.dim) {
            missing =
              `the query was embedded by ${r.provider}/${r.model} (dimension ${r.dim}), ` +
              `the index holds ${this.embeddings.provider}/${this.embeddings.model}: ` +
              `vectors of two models are never compared`;
          } else {
            semantic = {
              model: r.model,
              query: Float32Array.from(r.vectors[0]!),
              vector: (p) => this.embeddings.vector(p),
              paths: () => this.embeddings.paths(),
            };
          }
        } catch (e) {
          missing = `the query could not be embedded: ${(e as Error).message}`;
        }
      }
    }
    const results = rank(this.lexical, query, {
      k: o.k,
      lambda: o.lambda,
      ...(history ? { git: history } : {}),
      ...(semantic ? { semantic } : { semanticMissing: missing }),
    });
    return {
      query,
      results,
      history,
      semantic: semantic ? { model: semantic.model } : { unavailable: missing },
      ms: Math.round((performance.now() - t0) * 100) / 100,
    };
  }

  /** The prompt block for a role: the ranked files' best snippets within `maxChars`, and their history. */
  async context(o: {
    query: string;
    touched?: string[];
    maxChars?: number;
    k?: number;
    signal?: AbortSignal;
  }): Promise<ContextBlock> {
    const q = await this.query(o.query, { k: o.k ?? 6, touched: o.touched, signal: o.signal });
    const max = o.maxChars ?? 12_000;
    const terms = this.lexical.queryTerms(o.query);
    const parts: string[] = [
      `Stage 0 context (deterministic retrieval for: ${JSON.stringify(o.query.slice(0, 200))}; ` +
        `${'model' in q.semantic ? `hybrid with ${q.semantic.model}` : `lexical only: ${q.semantic.unavailable}`})`,
    ];
    let used = parts[0]!.length;
    for (const r of q.results) {
      const loaded = loadText(this.o.root, r.path, this.o.maxFileBytes ?? MAX_FILE_BYTES);
      if (!('text' in loaded)) continue;
      const s = snippet(loaded.text, terms, 40);
      const block = `--- ${r.path} lines ${s.start}-${s.end} (${explainLine(r)})\n${s.text}`;
      if (used + block.length > max) {
        const room = max - used - 200;
        if (room < 400) break;
        parts.push(`${block.slice(0, room)}\n[... cut to fit the context budget]`);
        used = max;
        break;
      }
      parts.push(block);
      used += block.length;
    }
    if (q.history && q.history.commits.length > 0) {
      const h = `--- recent history of ${o.touched!.join(', ')}\n${renderHistory(q.history)}`;
      if (used + h.length <= max) {
        parts.push(h);
        used += h.length;
      }
    }
    const text = parts.join('\n\n');
    return { ...q, text, chars: text.length };
  }
}
