import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as RouterModule from '../src/core/router/route.js';
import type * as StoreModule from '../src/core/policy/store.js';
import { sampleRequests } from '../test/unit/helpers/requests.js';

/** The router as it ships: bundled by esbuild (a transpile-on-the-fly loader adds its own cost to every closure). */
function loadBundledRouter(): { route: typeof RouterModule.route; bundledPolicy: typeof StoreModule.bundledPolicy } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-router-'));
  const file = join(dir, 'router.cjs');
  buildSync({
    stdin: {
      contents:
        "export { route } from './src/core/router/route.ts'; export { bundledPolicy } from './src/core/policy/store.ts';",
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
  const mod = require(file);
  rmSync(dir, { recursive: true, force: true });
  return mod;
}

export interface Figure {
  name: string;
  value: string;
  goal?: string;
  ok?: boolean;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Router decisions per second and per-decision latency over 10,000 generated requests, warm. */
export function benchRouter(n = 10_000): Figure[] {
  const { route, bundledPolicy } = loadBundledRouter();
  const policy = bundledPolicy();
  const reqs = sampleRequests(n, 7);
  for (let i = 0; i < 3; i++) for (const r of reqs) route(r, policy); // warm-up: JIT and policy hash cache
  const lat = new Array<number>(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    route(reqs[i]!, policy);
    lat[i] = Number(process.hrtime.bigint() - s) / 1e6;
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  lat.sort((a, b) => a - b);
  const p99 = pct(lat, 99);
  return [
    {
      name: 'router decisions/s (10,000 generated requests, warm)',
      value: Math.round(n / (totalMs / 1000)).toLocaleString('en-US'),
    },
    { name: 'router p50 latency', value: `${pct(lat, 50).toFixed(4)} ms` },
    { name: 'router p99 latency', value: `${p99.toFixed(4)} ms`, goal: '< 0.1 ms', ok: p99 < 0.1 },
    { name: 'router max latency', value: `${lat[lat.length - 1]!.toFixed(4)} ms` },
  ];
}
