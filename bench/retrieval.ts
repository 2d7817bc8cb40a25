// Issue 11: Stage 0 indexing of a 20,000-file workspace (with its progress reports) and query latency, on the
// index as it ships (bundled by esbuild).
import { buildSync } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Stage0Module from '../src/core/retrieval/stage0.js';
import type { Figure } from './router.js';

function load(): typeof Stage0Module & { workerScript: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-stage0b-'));
  const file = join(dir, 'stage0.cjs');
  const workerScript = join(dir, 'indexWorker.js');
  buildSync({
    stdin: {
      contents: "export { Stage0 } from './src/core/retrieval/stage0.ts';",
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  buildSync({
    entryPoints: ['src/core/retrieval/indexWorker.ts'],
    outfile: workerScript,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  const mod = require(file);
  return { ...mod, workerScript, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A deterministic pseudo-random workspace: Rust, TypeScript and Markdown files built from a shared vocabulary. */
export function generateWorkspace(root: string, files: number, seed = 11): { vocab: string[] } {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const syll = [
    'par',
    'cel',
    'led',
    'ger',
    'to',
    'ken',
    'ra',
    'te',
    'lim',
    'it',
    'ca',
    'che',
    'ro',
    'ute',
    'que',
    'ue',
    'sto',
    're',
    'fe',
    'tch',
    'sig',
    'na',
    'ture',
    'ba',
    'tch',
    'win',
    'dow',
    'flu',
    'sh',
    'me',
    'tric',
  ];
  const vocab = Array.from({ length: 6000 }, () =>
    Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => syll[Math.floor(rnd() * syll.length)]).join(''),
  );
  const zipf = () => vocab[Math.floor(vocab.length * rnd() ** 3)]!;
  const ident = () => `${zipf()}_${zipf()}`;
  const camel = () => {
    const a = zipf();
    const b = zipf();
    return `${a}${b[0]!.toUpperCase()}${b.slice(1)}`;
  };
  for (let i = 0; i < files; i++) {
    const dir = join(root, `crate${Math.floor(i / 500)}`, `mod${Math.floor(i / 50) % 10}`);
    if (i % 50 === 0) mkdirSync(dir, { recursive: true });
    const kind = i % 5;
    const lines: string[] = [];
    const n = 40 + Math.floor(rnd() * 120);
    for (let l = 0; l < n; l++) {
      if (kind < 3)
        lines.push(
          l % 12 === 0
            ? `pub fn ${ident()}(${ident()}: &${camel()}) -> Result<${camel()}, Error> {`
            : `    let ${ident()} = ${ident()}.${ident()}(${zipf()}); // ${zipf()} ${zipf()}`,
        );
      else if (kind === 3)
        lines.push(
          l % 10 === 0
            ? `export function ${camel()}(${zipf()}: ${camel()}): ${camel()} {`
            : `  const ${camel()} = await ${camel()}(${zipf()}, '${zipf()}');`,
        );
      else lines.push(`${zipf()} ${zipf()} the ${zipf()} of ${zipf()} ${zipf()} and ${zipf()}.`);
    }
    writeFileSync(join(dir, `f${i}.${kind < 3 ? 'rs' : kind === 3 ? 'ts' : 'md'}`), lines.join('\n'));
  }
  writeFileSync(join(root, '.gitignore'), 'target/\n');
  return { vocab };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export async function benchRetrieval(files = 20_000, queries = 300): Promise<Figure[]> {
  const { Stage0, workerScript, cleanup } = load();
  const root = mkdtempSync(join(tmpdir(), 'sy-ws20k-'));
  try {
    const tg = performance.now();
    const { vocab } = generateWorkspace(root, files);
    const genMs = performance.now() - tg;
    const s0 = new Stage0({ root, workerScript });
    let reports = 0;
    let last = '';
    const t0 = performance.now();
    const stats = await s0.build({
      onProgress: (p) => {
        reports++;
        last = `${p.phase} ${p.done}/${p.total}`;
      },
    });
    const buildMs = performance.now() - t0;
    const t1 = performance.now();
    const again = await new Stage0({ root }).build(); // on this thread, no workers
    const rebuildMs = performance.now() - t1;
    let seed = 5;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const qs = Array.from({ length: queries }, () =>
      Array.from({ length: 2 + Math.floor(rnd() * 4) }, () => vocab[Math.floor(vocab.length * rnd() ** 2)]).join(' '),
    );
    for (const q of qs.slice(0, 20)) await s0.query(q); // warm-up
    const lat: number[] = [];
    for (const q of qs) {
      const t = performance.now();
      await s0.query(q, { k: 8 });
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    const p95 = pct(lat, 95);
    return [
      { name: `workspace generated (${files} files)`, value: `${(genMs / 1000).toFixed(1)} s` },
      {
        name: `index built (${Math.min(4, availableParallelism())} worker threads): ${stats.indexed} files, ${stats.terms} terms`,
        value: `${(buildMs / 1000).toFixed(2)} s`,
        goal: '< 20 s',
        ok: buildMs < 20_000,
      },
      {
        name: '  phases: list / read+index / postings',
        value: `${stats.phases.list_ms} / ${stats.phases.index_ms} ms`,
      },
      {
        name: 'the same build on one thread (no workers)',
        value: `${(rebuildMs / 1000).toFixed(2)} s (list ${again.phases.list_ms} ms, read+index ${again.phases.index_ms} ms)`,
      },
      { name: 'progress reports during the build (last one)', value: `${reports} (${last})` },
      { name: `query p50 (${queries} queries, k=8, MMR)`, value: `${pct(lat, 50).toFixed(2)} ms` },
      { name: 'query p95', value: `${p95.toFixed(2)} ms`, goal: '< 50 ms', ok: p95 < 50 },
      { name: 'query max', value: `${lat[lat.length - 1]!.toFixed(2)} ms` },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
    cleanup();
  }
}
