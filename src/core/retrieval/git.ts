// Stage 0's git harvester: the recent history of the files a task touches, and the files that changed with
// them (co-change), from `git log` run as a child process without a shell.
import { execFile } from 'node:child_process';

export interface Commit {
  sha: string;
  date: string;
  author: string;
  subject: string;
  files: string[];
}
export interface History {
  commits: Commit[];
  /** Other files changed in the same commits, with how many times; most first, ties by path. */
  cochange: { path: string; count: number }[];
  /** Why there is no history (not a repository, git missing, timeout). */
  unavailable?: string;
}

const SEP_COMMIT = '\x1e';
const SEP_FIELD = '\x1f';

function git(cwd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              String(stderr || err.message)
                .trim()
                .split('\n')[0],
            ),
          );
        else resolve(stdout);
      },
    );
  });
}

export function parseLog(out: string): Commit[] {
  const commits: Commit[] = [];
  for (const block of out.split(SEP_COMMIT)) {
    const lines = block.split('\n');
    const head = lines.shift();
    if (!head) continue;
    const [sha, date, author, subject] = head.split(SEP_FIELD);
    if (!sha || !date) continue;
    commits.push({
      sha,
      date,
      author: author ?? '',
      subject: subject ?? '',
      files: lines.map((l) => l.trim()).filter(Boolean),
    });
  }
  return commits;
}

/** The last `max` commits that touched any of `files` (workspace-relative), newest first. */
export async function harvest(
  root: string,
  files: string[],
  o: { max?: number; timeoutMs?: number } = {},
): Promise<History> {
  if (files.length === 0) return { commits: [], cochange: [] };
  let out: string;
  try {
    out = await git(
      root,
      [
        'log',
        `-n${o.max ?? 30}`,
        '--no-merges',
        '--no-renames',
        '--full-diff',
        `--format=${SEP_COMMIT}%H${SEP_FIELD}%aI${SEP_FIELD}%an${SEP_FIELD}%s`,
        '--name-only',
        '--',
        ...files,
      ],
      o.timeoutMs ?? 10_000,
    );
  } catch (e) {
    return { commits: [], cochange: [], unavailable: `git log failed: ${(e as Error).message}` };
  }
  const commits = parseLog(out);
  const touched = new Set(files);
  const counts = new Map<string, number>();
  for (const c of commits) for (const f of c.files) if (!touched.has(f)) counts.set(f, (counts.get(f) ?? 0) + 1);
  const cochange = [...counts]
    .map(([path, count]) => ({ path, count }))
    .sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1));
  return { commits, cochange };
}

export function renderHistory(h: History, maxCommits = 10): string {
  if (h.unavailable) return `(no git history: ${h.unavailable})`;
  if (h.commits.length === 0) return '(no commits touch these files)';
  return h.commits
    .slice(0, maxCommits)
    .map(
      (c) =>
        `${c.sha.slice(0, 10)} ${c.date.slice(0, 10)} ${c.subject} [${c.files.slice(0, 6).join(', ')}${c.files.length > 6 ? ', ...' : ''}]`,
    )
    .join('\n');
}
