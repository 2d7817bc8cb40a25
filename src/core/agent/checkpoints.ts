// Checkpoints of a task, outside the user's git history: a shadow repository (its own git dir in the extension's
// storage, the workspace as its work tree, the workspace's .gitignore respected). A checkpoint is a commit of the
// whole work tree; restoring one first checkpoints the present (so a restore can itself be undone), then makes the
// work tree match it: changed files put back, files created since removed. git's index keeps later checkpoints
// cheap on a large workspace (only what changed is hashed again).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Checkpoint {
  id: string;
  label: string;
  at: string;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const EXCLUDES = ['.git/', 'node_modules/', 'target/', '.switchyard/evidence/', '.switchyard/checkpoints/'];

/** A full commit id (SHA-1 or SHA-256): what a checkpoint is, and all a file may name as one. */
export const isCommitId = (id: string): boolean => /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(id);

export class ShadowCheckpoints {
  private readonly list: Checkpoint[] = [];

  /** `gitDir`: the shadow repository, one per workspace (created on first use); `root`: the workspace. */
  constructor(
    private readonly gitDir: string,
    private readonly root: string,
  ) {}

  all(): Checkpoint[] {
    return [...this.list];
  }

  /**
   * Whether `id` is a commit of this shadow repository. A checkpoint named by a file (a task's record in the
   * workspace, which a repository could carry) counts only if it is: never a git option, never another revision.
   */
  async hasCommit(id: string): Promise<boolean> {
    if (!isCommitId(id)) return false;
    await this.init();
    return this.git(['cat-file', '-e', `${id}^{commit}`]).then(
      () => true,
      () => false,
    );
  }

  private git(args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        [`--git-dir=${this.gitDir}`, `--work-tree=${this.root}`, '-c', 'core.autocrlf=false', ...args],
        {
          cwd: this.root,
          maxBuffer: 256 * 1024 * 1024,
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 'Switchyard',
            GIT_AUTHOR_EMAIL: 'checkpoints@switchyard.invalid',
            GIT_COMMITTER_NAME: 'Switchyard',
            GIT_COMMITTER_EMAIL: 'checkpoints@switchyard.invalid',
            GIT_CONFIG_NOSYSTEM: '1',
            GIT_TERMINAL_PROMPT: '0',
          },
        },
        (err, stdout, stderr) => {
          if (err) reject(new CheckpointError(`git ${args[0]}: ${(stderr || err.message).trim().slice(0, 500)}`));
          else resolve(stdout);
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  private async init(): Promise<void> {
    if (existsSync(join(this.gitDir, 'HEAD'))) return;
    mkdirSync(this.gitDir, { recursive: true });
    await this.git(['init', '-q']);
    // The shadow repository never runs the user's hooks or filters, and keeps what the user's repo ignores out.
    await this.git(['config', 'core.hooksPath', '/dev/null']);
    await this.git(['config', 'commit.gpgsign', 'false']);
    mkdirSync(join(this.gitDir, 'info'), { recursive: true });
    writeFileSync(join(this.gitDir, 'info', 'exclude'), EXCLUDES.join('\n') + '\n');
    this.seedFromUserRepo();
  }

  /**
   * A workspace that is a git repository already has every file hashed, in its index and object store: the shadow
   * repository borrows both (objects as an alternate, read-only; a copy of the index), so its first checkpoint
   * hashes only what differs from the user's index instead of the whole tree. The user's repository is not written.
   */
  private seedFromUserRepo(): void {
    const userGit = join(this.root, '.git');
    try {
      if (!statSync(userGit).isDirectory() || !existsSync(join(userGit, 'index'))) return;
      mkdirSync(join(this.gitDir, 'objects', 'info'), { recursive: true });
      writeFileSync(join(this.gitDir, 'objects', 'info', 'alternates'), `${join(userGit, 'objects')}\n`);
      copyFileSync(join(userGit, 'index'), join(this.gitDir, 'index'));
    } catch {
      /* no seed: the first checkpoint hashes the tree */
    }
  }

  /** `git add -A`; a seeded index git cannot use (a split or sparse index of the user's) is dropped, then retried. */
  private async addAll(): Promise<void> {
    try {
      await this.addSkippingEmptyRepos();
    } catch (e) {
      if (!existsSync(join(this.gitDir, 'index'))) throw e;
      rmSync(join(this.gitDir, 'index'), { force: true });
      await this.addSkippingEmptyRepos();
    }
  }

  /**
   * `git add -A`, leaving out a nested repository without a commit (git cannot add it: "does not have a commit
   * checked out"); a repository can ship one, or a check can make one, and it must not stop every checkpoint.
   */
  private async addSkippingEmptyRepos(): Promise<void> {
    const skipped: string[] = [];
    for (let i = 0; i < 20; i++) {
      try {
        await this.git(['add', '-A', '--', '.', ...skipped.map((d) => `:(exclude,literal)${d}`)]);
        return;
      } catch (e) {
        const m = /'([^']+)' does not have a commit checked out/.exec((e as Error).message);
        if (!m || skipped.includes(m[1]!)) throw e;
        skipped.push(m[1]!.replace(/\/$/, ''));
      }
    }
  }

  /** A commit of the work tree as it is now, listed as one of the task's checkpoints. */
  async create(label: string): Promise<Checkpoint> {
    return this.keep(await this.snapshot(label));
  }

  /**
   * A commit of the work tree as it is now, not listed yet: the agent takes one while the model is answering and
   * keeps it (`keep`) only when the answer edits, so the checkpoint costs the turn nothing.
   */
  async snapshot(label: string): Promise<Checkpoint> {
    await this.init();
    await this.addAll();
    const tree = (await this.git(['write-tree'])).trim();
    const parent = this.list.length ? ['-p', this.list[this.list.length - 1]!.id] : [];
    const id = (await this.git(['commit-tree', tree, ...parent, '-m', label])).trim();
    return { id, label, at: new Date().toISOString() };
  }

  keep(cp: Checkpoint, label?: string): Checkpoint {
    if (!isCommitId(cp.id)) throw new CheckpointError(`not a checkpoint id: ${JSON.stringify(cp.id).slice(0, 90)}`);
    const kept = label ? { ...cp, label } : cp;
    this.list.push(kept);
    return kept;
  }

  /** The work tree made to match `id`; returns the checkpoint of what was there before. */
  async restore(id: string): Promise<Checkpoint> {
    const target = this.list.find((c) => c.id === id || c.id.startsWith(id));
    if (!target) throw new CheckpointError(`no checkpoint ${id} in this task`);
    const before = await this.create(`before restoring "${target.label}"`);
    // The index holds `before`: read-tree -u moves the work tree from it to the target (removing what is new).
    await this.git(['read-tree', '-u', '--reset', target.id]);
    return before;
  }

  /** The files that differ between a checkpoint and the work tree now (or another checkpoint). */
  async changedSince(from: string, to?: string): Promise<string[]> {
    for (const id of to === undefined ? [from] : [from, to])
      if (!isCommitId(id)) throw new CheckpointError(`not a checkpoint id: ${JSON.stringify(id).slice(0, 90)}`);
    await this.init();
    const args = ['diff', '--name-only', '--no-renames', '-z', '--no-ext-diff'];
    if (to) return split0(await this.git([...args, from, to]));
    await this.addAll();
    return split0(await this.git([...args, '--cached', from]));
  }

  /** The diff between two checkpoints (or a checkpoint and the work tree now). */
  async diff(from: string, to?: string): Promise<string> {
    await this.init();
    if (to) return this.git(['diff', '--no-color', '--no-ext-diff', from, to]);
    await this.addAll();
    return this.git(['diff', '--no-color', '--no-ext-diff', '--cached', from]);
  }
}

const split0 = (out: string): string[] => out.split('\0').filter(Boolean);
