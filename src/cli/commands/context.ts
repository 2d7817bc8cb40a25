import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Stage0 } from '../../core/retrieval/stage0.js';
import { EXIT, printJson, UsageError, io } from '../io.js';

export interface ContextOptions {
  sub?: string;
  args: string[];
  repo?: string;
  touched?: string;
  k?: string;
}

/** `switchyard context search QUERY`: Stage 0 retrieval of --repo (default: the current folder), every score explained. */
export async function contextCommand(o: ContextOptions): Promise<number> {
  if (o.sub !== 'search')
    throw new UsageError(
      `context: unknown subcommand "${o.sub ?? ''}" (context search [--repo DIR] [--touched F,F] [--k N] QUERY)`,
    );
  const query = o.args.join(' ').trim();
  if (!query) throw new UsageError('context search: missing QUERY');
  const repo = resolve(o.repo ?? io().cwd);
  if (!existsSync(repo) || !statSync(repo).isDirectory()) throw new UsageError(`--repo: ${repo} is not a directory`);
  const k = o.k === undefined ? 8 : Number(o.k);
  if (!Number.isInteger(k) || k < 1 || k > 100)
    throw new UsageError(`--k: "${o.k}" is not a whole number from 1 to 100`);
  const s = new Stage0({ root: repo });
  const stats = await s.build({
    onProgress: (p) => {
      if (p.phase === 'reading' && p.done === p.total) io().stderr.write(`read ${p.total} files\n`);
    },
  });
  const touched = o.touched
    ? o.touched
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : [];
  const r = await s.query(query, { k, touched });
  printJson({
    query,
    index: { files: stats.files, indexed: stats.indexed, terms: stats.terms, ms: stats.ms, skipped: stats.skipped },
    query_ms: r.ms,
    semantic: r.semantic,
    results: r.results,
    history: r.history,
  });
  return EXIT.ok;
}
