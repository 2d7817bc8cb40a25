// The agent's view of the workspace: every path a tool names is resolved here, and refused with a message for the
// model when it leaves the workspace (`..`, an absolute path, a symlink that points out), names `.git/`, or is a
// binary file. The files the task changed are remembered with their text before the task (for the running diff,
// the classification and undo).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** A tool call the workspace refuses: the message goes back to the model as the tool's answer. */
export class ToolRefusal extends Error {
  override name = 'ToolRefusal';
}

/** Files larger than this are not read whole by the agent (the model is told how to read a range). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', 'target', '.switchyard-checkpoints']);

export class Workspace {
  readonly root: string;
  /** The text each changed file had before the task touched it (null: the task created it). */
  readonly originals = new Map<string, string | null>();

  constructor(root: string) {
    this.root = realpathSync(root);
  }

  /** The workspace-relative, `/`-separated form of `p`, or a refusal saying why the path cannot be used. */
  rel(given: unknown): string {
    if (typeof given !== 'string' || given.trim() === '') throw new ToolRefusal('path must be a non-empty string');
    let p: string = given;
    if (p.includes('\0')) throw new ToolRefusal('path contains a NUL character');
    if (isAbsolute(p)) {
      const inside = relative(this.root, p);
      if (inside.startsWith('..') || isAbsolute(inside))
        throw new ToolRefusal(`${p} is outside the workspace; paths are relative to the workspace root`);
      p = inside;
    }
    const norm = relative(this.root, join(this.root, p)).split(sep).join('/');
    if (norm === '') return '.';
    if (norm === '..' || norm.startsWith('../'))
      throw new ToolRefusal(`${p} is outside the workspace; paths are relative to the workspace root`);
    if (norm.split('/').includes('.git')) throw new ToolRefusal(`${p}: .git/ is not for the agent to read or write`);
    this.realInside(norm, p);
    return norm;
  }

  abs(rel: string): string {
    return rel === '.' ? this.root : join(this.root, rel);
  }

  /** The nearest existing ancestor (or the path itself), resolved through symlinks, must stay in the workspace. */
  private realInside(norm: string, shown: string): void {
    let probe = this.abs(norm);
    while (!existsSync(probe) && probe !== this.root) probe = dirname(probe);
    let real: string;
    try {
      real = realpathSync(probe);
    } catch {
      return; // a dangling link: lstat below tells, when it is read
    }
    const inside = relative(this.root, real);
    if (inside.startsWith('..') || isAbsolute(inside))
      throw new ToolRefusal(`${shown} resolves (through a symlink) outside the workspace`);
  }

  /** A text file's content, or a refusal (missing, a folder, binary, too large). */
  read(rel: string): string {
    const f = this.abs(rel);
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new ToolRefusal(`${rel} does not exist`);
    }
    if (st.isDirectory()) throw new ToolRefusal(`${rel} is a folder; use list_files`);
    if (st.size > MAX_FILE_BYTES) throw new ToolRefusal(`${rel} is ${st.size} bytes, over the agent's 2 MiB limit`);
    const buf = readFileSync(f);
    if (isBinary(buf)) throw new ToolRefusal(`${rel} is a binary file; the agent reads and edits text only`);
    return buf.toString('utf8');
  }

  exists(rel: string): boolean {
    return existsSync(this.abs(rel));
  }

  /** The text now, or undefined when the file does not exist. */
  current(rel: string): string | undefined {
    return this.exists(rel) ? this.read(rel) : undefined;
  }

  /** Writes a file, remembering what it was before the task's first change to it. */
  write(rel: string, text: string): void {
    const f = this.abs(rel);
    if (existsSync(f) && lstatSync(f).isSymbolicLink()) throw new ToolRefusal(`${rel} is a symlink; edit its target`);
    if (!this.originals.has(rel)) this.originals.set(rel, this.exists(rel) ? this.read(rel) : null);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }

  /** Deletes a file, remembering what it was. */
  remove(rel: string): void {
    if (!this.exists(rel)) return;
    if (!this.originals.has(rel)) this.originals.set(rel, this.read(rel));
    rmSync(this.abs(rel));
  }

  /** The files the task changed: before and after, for the running diff (unchanged ones left out). */
  changes(): { path: string; before: string | null; after: string | null }[] {
    const out: { path: string; before: string | null; after: string | null }[] = [];
    for (const [path, before] of [...this.originals].sort(([a], [b]) => a.localeCompare(b))) {
      const after = this.exists(path) ? readFileSync(this.abs(path), 'utf8') : null;
      if (after !== before) out.push({ path, before, after });
    }
    return out;
  }

  /** Files under `dir` (workspace-relative), `.gitignore` respected: git's own list in a repository, else a walk. */
  files(dir = '.'): string[] {
    const all = this.gitFiles() ?? this.walk();
    if (dir === '.') return all;
    return all.filter((f) => f === dir || f.startsWith(`${dir}/`));
  }

  private gitFiles(): string[] | null {
    if (!existsSync(join(this.root, '.git'))) return null;
    try {
      const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        cwd: this.root,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return [...new Set(out.split('\0').filter(Boolean))].filter((f) => existsSync(this.abs(f))).sort();
    } catch {
      return null;
    }
  }

  /** Without git: a walk, each folder's .gitignore applied to the paths below it (relative to that folder). */
  private walk(): string[] {
    const out: string[] = [];
    const visit = (dir: string, rules: { base: string; ig: Ignore }[]) => {
      const gi = join(this.abs(dir), '.gitignore');
      const here = existsSync(gi) ? [...rules, { base: dir, ig: ignore().add(readFileSync(gi, 'utf8')) }] : rules;
      for (const e of readdirSync(this.abs(dir), { withFileTypes: true })) {
        if (ALWAYS_SKIPPED.has(e.name)) continue;
        const rel = dir === '.' ? e.name : `${dir}/${e.name}`;
        const ignored = here.some(({ base, ig }) => {
          const under = base === '.' ? rel : rel.slice(base.length + 1);
          return ig.ignores(e.isDirectory() ? `${under}/` : under);
        });
        if (ignored) continue;
        if (e.isDirectory()) visit(rel, here);
        else if (e.isFile()) out.push(rel);
      }
    };
    visit('.', []);
    return out.sort();
  }
}

/** NUL in the first 8 KB, as git decides. */
export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}
