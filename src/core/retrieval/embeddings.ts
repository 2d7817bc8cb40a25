// Stage 0's embeddings index: one vector per file, from one model only. The model id and the dimension are
// stored with the vectors; a different model (a fallback served, or the policy changed) rebuilds the index,
// so vectors of two models never meet in one ranking. Stable: a file's vector is reused while its text's
// sha256 is unchanged.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256 } from '../util/hash.js';

export const EMBED_CHARS = 2000;
export const EMBED_BATCH = 32;

export interface Embedder {
  embed(
    input: string[],
    signal?: AbortSignal,
  ): Promise<{ provider: string; model: string; dim: number; vectors: number[][]; audit: string[] }>;
}

interface Entry {
  sha: string;
  v: Float32Array;
}
interface Saved {
  version: 1;
  provider: string;
  model: string;
  dim: number;
  entries: Record<string, { sha: string; v: string }>;
}

/** What the embedder sees of a file: its path and the head of its text. */
export function embedInput(path: string, text: string): string {
  return `${path}\n${text.slice(0, EMBED_CHARS)}`;
}

export class EmbeddingIndex {
  provider: string | null = null;
  model: string | null = null;
  dim = 0;
  private entries = new Map<string, Entry>();
  /** Lines for the audit and the user: rebuilds and why. */
  readonly notes: string[] = [];

  get size(): number {
    return this.entries.size;
  }
  vector(path: string): Float32Array | undefined {
    return this.entries.get(path)?.v;
  }
  paths(): Iterable<string> {
    return this.entries.keys();
  }
  remove(path: string): void {
    this.entries.delete(path);
  }

  /** Keeps the vectors of files whose text is unchanged; returns the files that need a vector. */
  stale(files: { path: string; text: string }[]): { path: string; text: string }[] {
    const live = new Set(files.map((f) => f.path));
    for (const p of [...this.entries.keys()]) if (!live.has(p)) this.entries.delete(p);
    return files.filter((f) => this.entries.get(f.path)?.sha !== sha256(embedInput(f.path, f.text)));
  }

  /** Adopts vectors from `model`; a model or dimension other than the index's clears the index first. */
  private accept(provider: string, model: string, dim: number): 'same' | 'first' | 'changed' {
    if (this.model === model && this.dim === dim) return 'same';
    const was = this.model;
    if (was !== null)
      this.notes.push(
        `embeddings index rebuilt: vectors were from ${this.provider}/${this.model} (dimension ${this.dim}), ` +
          `now ${provider}/${model} (dimension ${dim})`,
      );
    this.entries.clear();
    this.provider = provider;
    this.model = model;
    this.dim = dim;
    return was === null ? 'first' : 'changed';
  }

  /** Embeds the stale files in batches; when the serving model changes, starts over with it. */
  async update(
    files: { path: string; text: string }[],
    e: Embedder,
    o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ embedded: number; rebuilt: boolean }> {
    let rebuilt = false;
    let embedded = 0;
    if (this.model !== null && files.length > 0) {
      // Which model serves now? One real input tells; another model than the stored one rebuilds the index.
      const f = files[0]!;
      const input = embedInput(f.path, f.text);
      const wasFresh = this.entries.get(f.path)?.sha === sha256(input);
      const r = await e.embed([input], o.signal);
      if (this.accept(r.provider, r.model, r.dim) === 'changed') rebuilt = true;
      this.entries.set(f.path, { sha: sha256(input), v: Float32Array.from(r.vectors[0]!) });
      if (rebuilt || !wasFresh) embedded++;
    }
    for (let round = 0; round < 3; round++) {
      const todo = this.stale(files);
      const kept = files.length - todo.length;
      let restart = false;
      for (let i = 0; i < todo.length; i += EMBED_BATCH) {
        const batch = todo.slice(i, i + EMBED_BATCH);
        const r = await e.embed(
          batch.map((f) => embedInput(f.path, f.text)),
          o.signal,
        );
        const how = this.accept(r.provider, r.model, r.dim);
        if (how === 'changed') {
          rebuilt = true;
          if (i > 0 || kept > 0) {
            restart = true;
            break;
          }
        }
        if (how === 'first' && (i > 0 || kept > 0)) {
          restart = true;
          break;
        }
        batch.forEach((f, k) =>
          this.entries.set(f.path, { sha: sha256(embedInput(f.path, f.text)), v: Float32Array.from(r.vectors[k]!) }),
        );
        embedded += batch.length;
        o.onProgress?.(Math.min(i + EMBED_BATCH, todo.length), todo.length);
      }
      if (!restart) return { embedded, rebuilt };
    }
    throw new Error(
      'the embeddings model kept changing while the index was built; try again once the local server is steady',
    );
  }

  async save(file: string): Promise<void> {
    if (!this.model) return;
    const out: Saved = { version: 1, provider: this.provider!, model: this.model, dim: this.dim, entries: {} };
    for (const [p, e] of [...this.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      out.entries[p] = { sha: e.sha, v: Buffer.from(e.v.buffer, e.v.byteOffset, e.v.byteLength).toString('base64') };
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(out));
    await rename(tmp, file);
  }

  /** Loads a saved index; a missing, unreadable or foreign file leaves the index empty (it is rebuilt). */
  async load(file: string): Promise<void> {
    let raw: Saved;
    try {
      raw = JSON.parse(await readFile(file, 'utf8')) as Saved;
    } catch {
      return;
    }
    if (
      raw?.version !== 1 ||
      typeof raw.model !== 'string' ||
      !Number.isInteger(raw.dim) ||
      typeof raw.entries !== 'object'
    ) {
      this.notes.push(`embeddings index at ${file} is not readable; it will be rebuilt`);
      return;
    }
    this.provider = raw.provider;
    this.model = raw.model;
    this.dim = raw.dim;
    for (const [p, e] of Object.entries(raw.entries)) {
      const buf = Buffer.from(e.v, 'base64');
      const v = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      if (v.length === raw.dim) this.entries.set(p, { sha: e.sha, v });
    }
  }
}

/** The embedder of the one model-call path (routing, budget, fallbacks, audit lines). */
export function callerEmbedder(caller: {
  embed(o: {
    input: string[];
    task_id?: string;
    signal?: AbortSignal;
  }): Promise<{ provider: string; model: string; dim: number; vectors: number[][]; audit: string[] }>;
}): Embedder {
  return { embed: (input, signal) => caller.embed({ input, ...(signal ? { signal } : {}) }) };
}
