import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { classifyDiff } from '../../core/classifier/classify.js';
import { gitDiff, gitRepoReader, runGit } from '../../core/classifier/gitRepo.js';
import { EXIT, printJson, readInput, UsageError, io } from '../io.js';
import { resolvePolicy } from '../policyFile.js';

export interface ClassifyOptions {
  repo?: string;
  diff?: string;
  base?: string;
  head?: string;
  policy?: string;
}

export async function classifyCommand(o: ClassifyOptions): Promise<number> {
  if (o.diff !== undefined && o.base !== undefined)
    throw new UsageError('classify: give either --diff F|- or --base REV, not both');
  if (o.diff === undefined && o.base === undefined)
    throw new UsageError('classify: missing --diff F|- (a unified diff) or --base REV (git revisions of --repo)');
  if (o.head !== undefined && o.base === undefined) throw new UsageError('classify: --head needs --base');
  const repo = o.repo ?? (o.base !== undefined ? io().cwd : undefined);
  if (repo !== undefined && (!existsSync(repo) || !statSync(repo).isDirectory()))
    throw new UsageError(`--repo: ${repo} is not a directory`);
  const { policy } = resolvePolicy(o.policy, repo ?? io().cwd);
  let diff: string;
  let reader;
  if (o.base !== undefined) {
    await runGit(resolve(repo!), ['rev-parse', '--verify', '--quiet', `${o.base}^{commit}`]).catch(() => {
      throw new UsageError(`--base: "${o.base}" is not a revision of ${repo}`);
    });
    if (o.head !== undefined)
      await runGit(resolve(repo!), ['rev-parse', '--verify', '--quiet', `${o.head}^{commit}`]).catch(() => {
        throw new UsageError(`--head: "${o.head}" is not a revision of ${repo}`);
      });
    diff = await gitDiff(repo!, o.base, o.head);
    reader = gitRepoReader(repo!, o.base, o.head);
  } else {
    diff = readInput(o.diff!, '--diff');
    // With --repo, files are read at HEAD when the hunks apply there (a diff of the working tree), else from the hunks alone.
    reader = repo ? gitRepoReader(repo, 'HEAD') : undefined;
  }
  const result = await classifyDiff(diff, { policy, repo: reader }).finally(() => reader?.close());
  printJson(result);
  for (const w of result.warnings) io().stderr.write(`warning: ${w}\n`);
  return EXIT.ok;
}
