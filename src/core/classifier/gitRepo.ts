// A RepoReader over a git working tree: the base revision through `git show`, the rest from disk.
// git runs as a child process with an argument list, never through a shell.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { RepoReader } from './types.js';

export function runGit(repo: string, args: string[], okCodes: number[] = [0]): Promise<string> {
  return new Promise((res, rej) => {
    execFile('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      if (!okCodes.includes(code)) rej(new Error(`git ${args[0]}: ${(stderr || err?.message || '').trim()}`));
      else res(stdout);
    });
  });
}

/** Reads files at `base` (a revision) and, for the current tree, at `head` or from the working tree. */
export function gitRepoReader(repo: string, base = 'HEAD', head?: string): RepoReader {
  const root = resolve(repo);
  const inside = (p: string) => { const full = resolve(root, p); return full === root || full.startsWith(root + sep) ? full : undefined; };
  const show = (rev: string, p: string) => runGit(root, ['show', `${rev}:${p}`]).catch(() => undefined);
  return {
    readBase: (p) => show(base, p),
    readCurrent: async (p) => {
      if (head) return show(head, p);
      const full = inside(p);
      return full ? readFile(full, 'utf8').catch(() => undefined) : undefined;
    },
  };
}

/** `git diff` of the repository: base against head, or against the working tree (new files included). */
export async function gitDiff(repo: string, base: string, head?: string): Promise<string> {
  const args = ['diff', '--no-color', '--no-ext-diff', '-M', '--full-index', base];
  if (head) args.push(head);
  const tracked = await runGit(resolve(repo), args);
  if (head) return tracked;
  // New files not yet added are part of "the working tree against HEAD" too; the index is left alone.
  const untracked = (await runGit(resolve(repo), ['ls-files', '--others', '--exclude-standard', '-z'])).split('\0').filter(Boolean);
  const added: string[] = [];
  for (const f of untracked) added.push(await runGit(resolve(repo), ['diff', '--no-color', '--no-index', '--', '/dev/null', f], [0, 1]));
  return tracked + added.join('');
}

