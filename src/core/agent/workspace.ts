// The agent's view of the workspace: every path a tool names goes through one guard here, and is refused with a
// message for the model when it leaves the workspace (`..`, an absolute path, a symlink that points out or
// dangles), names `.git/`, is too long, or passes through a file. A tool call is untrusted input (a hostile
// AGENTS.md can steer the model), so the guard walks the path component by component with lstat instead of trusting
// a resolved path: reads may follow a link that stays inside, writes never go through a link at all, and the write
// itself opens with O_NOFOLLOW so a link planted between the check and the write is not followed either. Every file
// system error becomes a ToolRefusal (an answer for the model), never a raw throw. The files the task changed are
// remembered with their text before the task (for the running diff, the classification and undo).
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { forbiddenReason } from './governing.js';

/** A tool call the workspace refuses: the message goes back to the model as the tool's answer. */
export class ToolRefusal extends Error {
  override name = 'ToolRefusal';
}

/** A refusal, also when it comes from a second copy of this module (a bundle, a test loading both .ts and .js). */
export const isRefusal = (e: unknown): e is ToolRefusal =>
  e instanceof ToolRefusal || (e instanceof Error && e.name === 'ToolRefusal');

/** Files larger than this are not read whole by the agent (the model is told how to read a range). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** A path longer than this is refused before any file system call (the OS limit is 4,096 on Linux, 1,024 on macOS). */
export const MAX_PATH_CHARS = 1024;
/** A path component longer than this (in UTF-8 bytes) is refused: no common file system stores one. */
export const MAX_NAME_BYTES = 255;
const ALWAYS_SKIPPED = new Set(['.git', 'node_modules', 'target', '.switchyard-checkpoints']);
// O_NOFOLLOW: the final component is never followed; O_NONBLOCK: a FIFO planted in the repository cannot hang the
// agent on open. Windows has neither (0 leaves the flags as they were).
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

export type Intent = 'read' | 'write';

const isGitName = (c: string) => c.replace(/[. ]+$/, '').toLowerCase() === '.git';
const shorten = (p: string) => (p.length > 120 ? `${p.slice(0, 100)}…(${p.length} characters)` : p);

/** A file system error as a message for the model, the path named as the model gave it. */
export function fsRefusal(e: unknown, shown: string): ToolRefusal {
  if (isRefusal(e)) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const what: Record<string, string> = {
    ENOENT: 'does not exist',
    ENOTDIR: 'passes through a file that is not a folder',
    EISDIR: 'is a folder',
    ENAMETOOLONG: 'is too long for the file system',
    EACCES: 'is not accessible (permission denied)',
    EPERM: 'is not accessible (operation not permitted)',
    ELOOP: 'is a symlink loop, or a symlink where none is followed',
    EEXIST: 'already exists',
    ENXIO: 'is not a regular file',
    EIO: 'could not be read or written (I/O error)',
  };
  const msg = (code && what[code]) ?? `could not be used (${code ?? (e as Error)?.message ?? String(e)})`;
  return new ToolRefusal(`${shorten(shown)} ${msg}`);
}

export class Workspace {
  readonly root: string;
  /** The text each changed file had before the task touched it (null: the task created it). */
  readonly originals = new Map<string, string | null>();

  constructor(root: string) {
    this.root = realpathSync(root);
  }

  /**
   * The workspace-relative, `/`-separated form of `given`, or a refusal saying why the path cannot be used. `read`:
   * a symlink on the way may be followed when it resolves inside the workspace; `write`: no component may be a
   * symlink (the write would land wherever it points, now or after the model changes it).
   */
  rel(given: unknown, intent: Intent = 'read'): string {
    if (typeof given !== 'string' || given.trim() === '') throw new ToolRefusal('path must be a non-empty string');
    if (given.includes('\0')) throw new ToolRefusal('path contains a NUL character');
    if (given.length > MAX_PATH_CHARS)
      throw new ToolRefusal(`the path is ${given.length} characters, over the ${MAX_PATH_CHARS}-character limit`);
    const shown = shorten(given);
    let p = given;
    if (isAbsolute(p)) {
      const inside = relative(this.root, p);
      if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
        throw new ToolRefusal(`${shown} is outside the workspace; paths are relative to the workspace root`);
      p = inside;
    }
    // Lexical: `a/../b` is `b` here, and every later call uses this form, so the OS never resolves a `..` after a
    // link (where it would climb from the link's target).
    const norm = relative(this.root, join(this.root, p)).split(sep).join('/');
    if (norm === '') return '.';
    if (norm === '..' || norm.startsWith('../') || isAbsolute(norm))
      throw new ToolRefusal(`${shown} is outside the workspace; paths are relative to the workspace root`);
    const parts = norm.split('/');
    // `.GIT` is `.git` on a case-insensitive file system, `.git.` on Windows.
    if (parts.some(isGitName)) throw new ToolRefusal(`${shown}: .git/ is not for the agent to read or write`);
    const long = parts.find((c) => Buffer.byteLength(c) > MAX_NAME_BYTES);
    if (long !== undefined)
      throw new ToolRefusal(
        `${shown}: a path component is ${Buffer.byteLength(long)} bytes, over the ${MAX_NAME_BYTES}-byte limit`,
      );
    if (intent === 'write' && /[/\\]$/.test(given))
      throw new ToolRefusal(`${shown} names a folder; give the path of a file`);
    this.walkGuard(parts, intent, shown);
    return norm;
  }

  abs(rel: string): string {
    return rel === '.' ? this.root : join(this.root, rel);
  }

  /**
   * Each existing component of the path, with lstat (the last one too, when it exists): a link is refused for a
   * write; for a read it must resolve to an existing place inside the workspace that is not `.git`. The walk stops
   * at the first missing component (what follows is created by a write, or "does not exist" for a read).
   */
  private walkGuard(parts: string[], intent: Intent, shown: string, cache?: Map<string, boolean>): void {
    let cur = this.root;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]!);
      const prefix = parts.slice(0, i + 1).join('/');
      if (cache?.get(prefix)) continue;
      let st: Stats;
      try {
        st = lstatSync(cur);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        if ((e as NodeJS.ErrnoException).code === 'ENOTDIR')
          throw new ToolRefusal(`${shown}: ${parts.slice(0, i).join('/')} is a file, not a folder`);
        throw fsRefusal(e, shown);
      }
      if (i < parts.length - 1 && !st.isDirectory() && !st.isSymbolicLink())
        throw new ToolRefusal(`${shown}: ${prefix} is a file, not a folder`);
      if (st.isSymbolicLink()) {
        if (intent === 'write')
          throw new ToolRefusal(
            `${shown}: ${prefix} is a symlink: the agent does not write through links (edit the file it points to)`,
          );
        this.linkInside(cur, prefix, shown);
      }
      cache?.set(prefix, true);
    }
  }

  /** A link followed for a read: it must resolve, inside the workspace, and not into `.git`. */
  private linkInside(abs: string, prefix: string, shown: string): void {
    let real: string;
    try {
      real = realpathSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new ToolRefusal(`${shown}: ${prefix} is a dangling symlink`);
      throw fsRefusal(e, shown);
    }
    const inside = relative(this.root, real);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside))
      throw new ToolRefusal(`${shown} resolves (through a symlink) outside the workspace`);
    if (inside.split(sep).some(isGitName))
      throw new ToolRefusal(`${shown}: .git/ is not for the agent to read or write (${prefix} links there)`);
  }

  /** Whether `rel` passes the guard (the listing's filter): a refusal is a no. */
  private passes(rel: string, cache: Map<string, boolean>): boolean {
    const parts = rel.split('/');
    if (parts.some(isGitName)) return false;
    try {
      this.walkGuard(parts, 'read', rel, cache);
      return lstatSync(this.abs(rel)) !== undefined;
    } catch {
      return false;
    }
  }

  /** A text file's content, or a refusal (missing, a folder, binary, too large, a link out of the workspace). */
  read(rel: string): string {
    const p = this.rel(rel, 'read');
    // Again at the moment of reading: the resolved path must still be inside (a link may have changed since).
    let real: string;
    try {
      real = realpathSync(this.abs(p));
    } catch (e) {
      throw fsRefusal(e, p);
    }
    const inside = relative(this.root, real);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside) || inside.split(sep).some(isGitName))
      throw new ToolRefusal(`${p} resolves (through a symlink) outside the workspace`);
    let fd: number;
    try {
      fd = openSync(real, constants.O_RDONLY | NOFOLLOW | NONBLOCK);
    } catch (e) {
      throw fsRefusal(e, p);
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new ToolRefusal(`${p} is a folder; use list_files`);
      if (!st.isFile()) throw new ToolRefusal(`${p} is not a regular file`);
      if (st.size > MAX_FILE_BYTES) throw new ToolRefusal(`${p} is ${st.size} bytes, over the agent's 2 MiB limit`);
      const buf = readAtMost(fd, MAX_FILE_BYTES + 1);
      if (buf.length > MAX_FILE_BYTES) throw new ToolRefusal(`${p} is over the agent's 2 MiB limit`);
      if (isBinary(buf)) throw new ToolRefusal(`${p} is a binary file; the agent reads and edits text only`);
      return buf.toString('utf8');
    } catch (e) {
      throw fsRefusal(e, p);
    } finally {
      closeSync(fd);
    }
  }

  /** Whether there is an entry at `rel` (a dangling link is one: a write there must not pass it for absent). */
  exists(rel: string): boolean {
    try {
      lstatSync(this.abs(rel));
      return true;
    } catch {
      return false;
    }
  }

  /** The text now, or undefined when the file does not exist. */
  current(rel: string): string | undefined {
    return this.exists(rel) ? this.read(rel) : undefined;
  }

  /**
   * Whether `rel` may be written: the guard with write intent, not a forbidden path (the evidence, `.git`), not a
   * folder. Returns the normalized path.
   */
  writable(rel: string): string {
    const p = this.rel(rel, 'write');
    const why = forbiddenReason(p);
    if (why) throw new ToolRefusal(`${p}: ${why}`);
    if (p === '.') throw new ToolRefusal('. is the workspace folder, not a file');
    return p;
  }

  /** Writes a file, remembering what it was before the task's first change to it. */
  write(rel: string, text: string): void {
    const p = this.writable(rel);
    if (!this.originals.has(p)) this.originals.set(p, this.exists(p) ? this.read(p) : null);
    const parts = p.split('/');
    // Folders one at a time, each checked with lstat and made without `recursive` (which would follow a link).
    let dir = this.root;
    for (const c of parts.slice(0, -1)) {
      dir = join(dir, c);
      this.ensureFolder(dir, p);
    }
    const f = this.abs(p);
    let fd: number;
    try {
      const st = lstatOrNull(f);
      if (st?.isSymbolicLink()) throw new ToolRefusal(`${p} is a symlink: the agent does not write through links`);
      if (st?.isDirectory()) throw new ToolRefusal(`${p} is a folder`);
      if (st && !st.isFile()) throw new ToolRefusal(`${p} is not a regular file`);
      fd = openSync(f, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NOFOLLOW | NONBLOCK, 0o666);
    } catch (e) {
      throw fsRefusal(e, p);
    }
    try {
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      throw fsRefusal(e, p);
    } finally {
      closeSync(fd);
    }
  }

  private ensureFolder(dir: string, shown: string): void {
    const name = relative(this.root, dir).split(sep).join('/');
    try {
      let st = lstatOrNull(dir);
      if (!st) {
        try {
          mkdirSync(dir);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        st = lstatSync(dir); // made by us, or by someone in between: what it is now decides
      }
      if (st.isSymbolicLink())
        throw new ToolRefusal(`${shown}: ${name} is a symlink: the agent does not write through links`);
      if (!st.isDirectory()) throw new ToolRefusal(`${shown}: ${name} is a file, not a folder`);
    } catch (e) {
      throw fsRefusal(e, shown);
    }
  }

  /** Deletes a file, remembering what it was (a link is refused: deleting it is a write through the guard). */
  remove(rel: string): void {
    const p = this.writable(rel);
    const st = lstatOrNull(this.abs(p));
    if (!st) return;
    if (st.isSymbolicLink()) throw new ToolRefusal(`${p} is a symlink: the agent does not write through links`);
    if (st.isDirectory()) throw new ToolRefusal(`${p} is a folder; the agent deletes files only`);
    if (!this.originals.has(p)) this.originals.set(p, this.read(p));
    try {
      unlinkSync(this.abs(p));
    } catch (e) {
      throw fsRefusal(e, p);
    }
  }

  /**
   * Writes (after: text) and deletes (after: null) several files, every path checked before the first is touched,
   * so one refused path leaves the others unwritten. A refusal is a ToolRefusal: the tool's answer.
   */
  apply(changes: readonly { path: string; after: string | null }[]): void {
    for (const c of changes) this.writable(c.path);
    for (const c of changes) {
      if (c.after === null) this.remove(c.path);
      else this.write(c.path, c.after);
    }
  }

  /** The files the task changed: before and after, for the running diff (unchanged ones left out). */
  changes(): { path: string; before: string | null; after: string | null }[] {
    const out: { path: string; before: string | null; after: string | null }[] = [];
    for (const [path, before] of [...this.originals].sort(([a], [b]) => a.localeCompare(b))) {
      let after: string | null = null;
      if (this.exists(path))
        try {
          after = this.read(path);
        } catch (e) {
          // Replaced since by something the guard refuses (a link out, a binary): its content is not for the diff.
          after = `[not readable: ${(e as Error).message}]\n`;
        }
      if (after !== before) out.push({ path, before, after });
    }
    return out;
  }

  /**
   * Files under `dir` (workspace-relative), `.gitignore` respected: git's own list in a repository, else a walk.
   * A link that dangles or resolves outside the workspace (or into `.git`) is left out, as is anything below one.
   */
  files(dir = '.'): string[] {
    const cache = new Map<string, boolean>();
    const all = (this.gitFiles() ?? this.walk()).filter((f) => this.passes(f, cache));
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
      return [...new Set(out.split('\0').filter(Boolean))].sort();
    } catch {
      return null;
    }
  }

  /** Without git: a walk, each folder's .gitignore applied to the paths below it (relative to that folder). */
  private walk(): string[] {
    const out: string[] = [];
    const visit = (dir: string, rules: { base: string; ig: Ignore }[]) => {
      const gi = join(this.abs(dir), '.gitignore');
      let here = rules;
      if (lstatOrNull(gi)?.isFile())
        try {
          here = [...rules, { base: dir, ig: ignore().add(readFileSync(gi, 'utf8')) }];
        } catch {
          /* unreadable: no rules from it */
        }
      let entries;
      try {
        entries = readdirSync(this.abs(dir), { withFileTypes: true });
      } catch {
        return; // unreadable folder: nothing listed from it
      }
      for (const e of entries) {
        if (ALWAYS_SKIPPED.has(e.name) || isGitName(e.name)) continue;
        const rel = dir === '.' ? e.name : `${dir}/${e.name}`;
        const ignored = here.some(({ base, ig }) => {
          const under = base === '.' ? rel : rel.slice(base.length + 1);
          return ig.ignores(e.isDirectory() ? `${under}/` : under);
        });
        if (ignored) continue;
        // A linked folder is not descended (it may loop, or lead out); a link is listed as git lists it, and the
        // guard in files() drops it when it dangles or points out.
        if (e.isDirectory()) visit(rel, here);
        else if (e.isFile() || e.isSymbolicLink()) out.push(rel);
      }
    };
    visit('.', []);
    return out.sort();
  }
}

function lstatOrNull(f: string): Stats | null {
  try {
    return lstatSync(f);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Up to `max` bytes from an open file (its size may have changed since fstat). */
function readAtMost(fd: number, max: number): Buffer {
  const buf = Buffer.alloc(Math.min(max, 64 * 1024));
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < max) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, max - total), null);
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks);
}

/** NUL in the first 8 KB, as git decides. */
export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}
