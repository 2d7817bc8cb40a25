// The files Stage 0 indexes: the workspace as git sees it (.gitignore at every level, and .git/info/exclude),
// without .git, node_modules, Switchyard's own evidence, binaries and very large files.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';

export const ALWAYS_SKIPPED = ['.git', 'node_modules', '.switchyard/evidence', '.switchyard/index'];
export const MAX_FILE_BYTES = 512 * 1024;

export interface WalkOptions {
  maxFileBytes?: number;
  /** Extra patterns in .gitignore syntax (the user's exclusions). */
  exclude?: string[];
  signal?: AbortSignal;
  onDir?: (files: number) => void;
}

interface Scope {
  base: string;
  ig: Ignore;
}

async function rules(dir: string, files: string[]): Promise<Ignore | null> {
  const ig = ignore();
  let any = false;
  for (const f of files) {
    try {
      ig.add(await readFile(join(dir, f), 'utf8'));
      any = true;
    } catch {
      /* not there */
    }
  }
  return any ? ig : null;
}

function ignored(rel: string, isDir: boolean, scopes: Scope[]): boolean {
  for (const s of scopes) {
    const sub = s.base ? rel.slice(s.base.length + 1) : rel;
    if (s.ig.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}

/** Workspace-relative paths (forward slashes) of the files to index, sorted. */
export async function listFiles(root: string, o: WalkOptions = {}): Promise<string[]> {
  const out: string[] = [];
  const base = ignore()
    .add(ALWAYS_SKIPPED)
    .add(o.exclude ?? []);
  const top = await rules(root, ['.gitignore', '.git/info/exclude']);
  const scopes: Scope[] = [{ base: '', ig: base }, ...(top ? [{ base: '', ig: top }] : [])];
  const walk = async (rel: string, inherited: Scope[]): Promise<void> => {
    if (o.signal?.aborted) throw new Error('cancelled');
    const dir = rel ? join(root, rel) : root;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    let scopesHere = inherited;
    if (rel && entries.some((e) => e.name === '.gitignore' && e.isFile())) {
      const ig = await rules(dir, ['.gitignore']);
      if (ig) scopesHere = [...inherited, { base: rel, ig }];
    }
    const dirs: string[] = [];
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!ignored(path, true, scopesHere)) dirs.push(path);
      } else if (e.isFile() && !ignored(path, false, scopesHere)) out.push(path);
    }
    o.onDir?.(out.length);
    for (const d of dirs.sort()) await walk(d, scopesHere);
  };
  await walk('', scopes);
  return out.sort();
}

export type Loaded = { path: string; text: string } | { path: string; skipped: 'binary' | 'too_large' | 'unreadable' };

/**
 * Reads a file for the index: text only (no NUL byte in the first 8 KB), at most maxFileBytes. Synchronous:
 * the build reads files in small batches between which it yields (many small synchronous reads cost a
 * fraction of as many promise round trips through the thread pool), and a single read is as quick.
 */
export function loadText(root: string, path: string, maxFileBytes = MAX_FILE_BYTES): Loaded {
  let fd = -1;
  try {
    fd = openSync(join(root, path), 'r');
    const size = fstatSync(fd).size;
    if (size > maxFileBytes) return { path, skipped: 'too_large' };
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    const data = buf.subarray(0, off);
    if (data.subarray(0, 8192).includes(0)) return { path, skipped: 'binary' };
    return { path, text: data.toString('utf8') };
  } catch {
    return { path, skipped: 'unreadable' };
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * The same rules as listFiles, for one path at a time (a file saved, created or deleted after the build):
 * the .gitignore files of the root and of every folder on the way down, cached per folder.
 */
export class IgnoreRules {
  private readonly cache = new Map<string, Ignore | null>();
  private readonly base: Ignore;
  constructor(
    private readonly root: string,
    exclude: string[] = [],
  ) {
    this.base = ignore().add(ALWAYS_SKIPPED).add(exclude);
  }

  /** A .gitignore changed: forget what was read. */
  clear(): void {
    this.cache.clear();
  }

  private async rulesOf(dir: string): Promise<Ignore | null> {
    if (!this.cache.has(dir))
      this.cache.set(
        dir,
        await rules(dir ? join(this.root, dir) : this.root, dir ? ['.gitignore'] : ['.gitignore', '.git/info/exclude']),
      );
    return this.cache.get(dir)!;
  }

  async ignored(path: string): Promise<boolean> {
    const parts = path.split('/');
    const scopes: Scope[] = [{ base: '', ig: this.base }];
    for (let k = 0; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      const ig = await this.rulesOf(dir);
      if (ig) scopes.push({ base: dir, ig });
      // A folder on the way that is ignored hides everything under it.
      const here = parts.slice(0, k + 1).join('/');
      if (ignored(here, k < parts.length - 1, scopes)) return true;
    }
    return false;
  }
}
