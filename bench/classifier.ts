// Classifier speed: time per diff and changed lines per second at 10 to 10,000 changed lines,
// beside `git diff --numstat` of the same change (the floor), and the grammar's load time.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ClassifyModule from '../src/core/classifier/classify.js';
import type * as GitRepoModule from '../src/core/classifier/gitRepo.js';
import type * as StoreModule from '../src/core/policy/store.js';
import { build, buildSync } from 'esbuild';
import type { Figure } from './router.js';
// @ts-expect-error: a plain .mjs build helper, no types
import { nodeShim, treeSitterNodeModule } from '../scripts/esbuild-shims.mjs';

/** The classifier as it ships: bundled by esbuild (tsx's loader wraps every closure it creates with a naming helper). */
function loadBundled(): typeof ClassifyModule & typeof GitRepoModule & typeof StoreModule {
  const dir = mkdtempSync(join(tmpdir(), 'sy-classify-'));
  const file = join(dir, 'classify.cjs');
  buildSync({
    stdin: {
      contents:
        "export { classifyDiff } from './src/core/classifier/classify.ts'; export { gitDiff, gitRepoReader } from './src/core/classifier/gitRepo.ts'; export { bundledPolicy } from './src/core/policy/store.ts';",
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
    ...nodeShim,
  });
  process.env.SWITCHYARD_GRAMMARS_DIR ??= join(process.cwd(), 'dist', 'grammars');
  const mod = require(file);
  rmSync(dir, { recursive: true, force: true });
  return mod;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A change of about `lines` changed lines over real Rust: edited fn bodies plus new items. */
function makeChange(repo: string, lines: number): void {
  const path = join(repo, 'crates/core/src/lib.rs');
  const text = readFileSync(path, 'utf8');
  const fns = Array.from(
    { length: Math.ceil(lines / 4) },
    (_, i) => `fn generated_${i}(x: usize) -> usize {\n    x * ${i}\n}\n`,
  ).join('\n');
  writeFileSync(path, text.replace('pub(crate) fn is_stop_word', `${fns}\npub(crate) fn is_stop_word`));
}

export async function benchClassifier(): Promise<Figure[]> {
  const figures: Figure[] = [];
  // The probe runs bundled, as the CLI and the extension do (tsx's loader would add its own time to the first load).
  const dir = mkdtempSync(join(tmpdir(), 'sy-probe-'));
  await build({
    entryPoints: ['bench/grammar-probe.ts'],
    outfile: join(dir, 'probe.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    logLevel: 'silent',
    ...nodeShim,
    plugins: [treeSitterNodeModule],
  });
  const probes = Array.from({ length: 7 }, () =>
    JSON.parse(
      execFileSync(process.execPath, [join(dir, 'probe.js')], {
        encoding: 'utf8',
        env: { ...process.env, SWITCHYARD_GRAMMARS_DIR: join(process.cwd(), 'dist', 'grammars') },
      }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
  const first = median(probes.map((p) => p.firstMs));
  figures.push({
    name: 'grammar load (runtime + Rust WASM), median of 7 fresh processes',
    value: `${first.toFixed(1)} ms (second call ${median(probes.map((p) => p.secondMs)).toFixed(2)} ms, loads=${probes[0].loads})`,
    goal: '< 50 ms, once',
    ok: first < 50 && probes.every((p) => p.loads === 1),
  });
  const { classifyDiff, gitDiff, gitRepoReader, bundledPolicy } = loadBundled();
  const policy = bundledPolicy();
  const git = (dir: string, ...a: string[]) =>
    execFileSync('git', ['-C', dir, '-c', 'user.email=b@example.invalid', '-c', 'user.name=b', ...a], {
      encoding: 'utf8',
    });
  for (const size of [10, 100, 500, 1_000, 10_000]) {
    const repo = mkdtempSync(join(tmpdir(), 'sy-bench-'));
    cpSync('test/fixtures/cargo-ws', repo, { recursive: true });
    git(repo, 'init', '-q');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'base');
    makeChange(repo, size);
    git(repo, 'commit', '-qam', 'change');
    const diff = await gitDiff(repo, 'HEAD~1', 'HEAD');
    const reader = gitRepoReader(repo, 'HEAD~1', 'HEAD');
    const runs = size >= 10_000 ? 5 : 20;
    await classifyDiff(diff, { policy, repo: reader }); // warm
    const ours: number[] = [];
    let changed = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      changed = (await classifyDiff(diff, { policy, repo: reader })).lines_changed;
      ours.push(performance.now() - t);
    }
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      execFileSync('git', ['-C', repo, 'diff', '--numstat', 'HEAD~1', 'HEAD']);
      floor.push(performance.now() - t);
    }
    const p50 = median(ours);
    figures.push({
      name: `classify ${size.toLocaleString('en-US')}-line diff (${changed} counted), p50 of ${runs}`,
      value: `${p50.toFixed(2)} ms, ${Math.round(changed / (p50 / 1000)).toLocaleString('en-US')} lines/s | git diff --numstat ${median(floor).toFixed(2)} ms`,
      ...(size === 500 ? { goal: 'p50 < 20 ms', ok: p50 < 20 } : {}),
    });
    reader.close();
    rmSync(repo, { recursive: true, force: true });
  }
  return figures;
}
