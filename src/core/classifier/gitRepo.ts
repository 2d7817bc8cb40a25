// A RepoReader over a git repository: files at a revision through one long-lived `git cat-file --batch`
// (a process per file would cost more than the classification), the working tree from disk.
// git always runs as a child process with an argument list, never through a shell.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { RepoReader } from './types.js';

export function runGit(repo: string, args: string[], okCodes: number[] = [0]): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      'git',
      ['-C', repo, ...args],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        if (!okCodes.includes(code)) rej(new Error(`git ${args[0]}: ${(stderr || err?.message || '').trim()}`));
        else res(stdout);
      },
    );
  });
}

/** Answers "rev:path" questions in order over one `git cat-file --batch` process. */
class CatFile {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private buf = Buffer.alloc(0);
  private readonly waiting: { resolve: (v: string | undefined) => void }[] = [];

  constructor(private readonly repo: string) {}

  read(spec: string): Promise<string | undefined> {
    if (/[\n\r]/.test(spec)) return Promise.resolve(undefined);
    const p = this.start();
    return new Promise((res) => {
      this.waiting.push({ resolve: res });
      this.hold(true);
      p.stdin.write(`${spec}\n`);
    });
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const p = spawn('git', ['-C', this.repo, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdout.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.drain();
    });
    const fail = () => {
      for (const w of this.waiting.splice(0)) w.resolve(undefined);
      this.proc = undefined;
    };
    p.on('error', fail);
    p.on('exit', fail);
    p.stdin.on('error', fail);
    this.proc = p;
    this.hold(false);
    return p;
  }

  /** Keeps the event loop alive only while an answer is awaited: an idle helper never holds a process open. */
  private hold(on: boolean): void {
    const p = this.proc;
    if (!p) return;
    for (const h of [p, p.stdin, p.stdout, p.stderr] as unknown as { ref?: () => void; unref?: () => void }[])
      (on ? h.ref : h.unref)?.call(h);
  }

  private drain(): void {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl < 0 || this.waiting.length === 0) return;
      const header = this.buf.subarray(0, nl).toString('utf8');
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buf = this.buf.subarray(nl + 1);
        this.waiting.shift()!.resolve(undefined);
        if (this.waiting.length === 0) this.hold(false);
        continue;
      }
      const size = Number(header.split(' ')[2]);
      if (this.buf.length < nl + 1 + size + 1) return;
      const body = this.buf.subarray(nl + 1, nl + 1 + size);
      this.buf = this.buf.subarray(nl + 1 + size + 1);
      const kind = header.split(' ')[1];
      this.waiting.shift()!.resolve(kind === 'blob' ? body.toString('utf8') : undefined);
      if (this.waiting.length === 0) this.hold(false);
    }
  }
}

export interface GitRepoReader extends RepoReader {
  close(): void;
}

/** Reads files at `base` (a revision) and, for the current tree, at `head` or from the working tree. */
export function gitRepoReader(repo: string, base = 'HEAD', head?: string): GitRepoReader {
  const root = resolve(repo);
  const cat = new CatFile(root);
  // A file at a revision never changes: each is read once per reader.
  const memo = new Map<string, Promise<string | undefined>>();
  const atRev = (spec: string) => {
    let p = memo.get(spec);
    if (!p) {
      p = cat.read(spec);
      memo.set(spec, p);
    }
    return p;
  };
  const inside = (p: string) => {
    const full = resolve(root, p);
    return full === root || full.startsWith(root + sep) ? full : undefined;
  };
  return {
    readBase: (p) => atRev(`${base}:${p}`),
    readCurrent: async (p) => {
      if (head) return atRev(`${head}:${p}`);
      const full = inside(p);
      return full ? readFile(full, 'utf8').catch(() => undefined) : undefined;
    },
    close: () => cat.close(),
  };
}

/** `git diff` of the repository: base against head, or against the working tree (new files included). */
export async function gitDiff(repo: string, base: string, head?: string): Promise<string> {
  const args = ['diff', '--no-color', '--no-ext-diff', '-M', '--full-index', base];
  if (head) args.push(head);
  const tracked = await runGit(resolve(repo), args);
  if (head) return tracked;
  // New files not yet added are part of "the working tree against HEAD" too; the index is left alone.
  const untracked = (await runGit(resolve(repo), ['ls-files', '--others', '--exclude-standard', '-z']))
    .split('\0')
    .filter(Boolean);
  const added: string[] = [];
  for (const f of untracked)
    added.push(await runGit(resolve(repo), ['diff', '--no-color', '--no-index', '--', '/dev/null', f], [0, 1]));
  return tracked + added.join('');
}
