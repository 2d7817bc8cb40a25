// Issue 7: readiness detection lag, what the manager adds to a swap beyond the server's own load, and a vLLM
// sleep/wake swap beside a cold restart, on the vLLM stand-in (vLLM itself cannot run on these machines).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { Policy } from '../src/core/policy/schema.js';
import { bundledPolicy } from '../src/core/policy/store.js';
import { RuntimeManager } from '../src/core/runtime/manager.js';
import type { Figure } from './router.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const stamp = (log: string[], what: RegExp) => Number(log.map((l) => what.exec(l)?.[1]).find(Boolean));

export async function benchRuntime(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-rt-'));
  const js = join(dir, 'fake-vllm.cjs');
  buildSync({
    entryPoints: ['test/support/fakeVllm.ts'],
    outfile: js,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  const bin = join(dir, 'vllm');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${js}" "$@"\n`);
  chmodSync(bin, 0o755);
  Object.assign(process.env, {
    FAKE_VLLM_GPU_FILE: join(dir, 'gpu.json'),
    FAKE_VLLM_LOAD_MS: '500',
    FAKE_VLLM_FAIL: '',
    FAKE_VLLM_CLASH_ONCE: '',
  });
  const make = (policy: Policy) =>
    new RuntimeManager({ policy: () => policy, stateDir: mkdtempSync(join(dir, 's-')), binaries: { vllm: bin } });
  const lags: number[] = [],
    added: number[] = [];
  const plain = bundledPolicy();
  const m = make(plain);
  let s = await m.start({ engine: 'vllm' });
  for (let i = 0; i < 6; i++) {
    lags.push(s.readyAt! - stamp(s.logTail, /startup complete\. \(t=(\d+)\)/));
    const t = Date.now();
    s = await m.switchModel(i % 2 ? plain.runtime.model : plain.runtime.alternative);
    const total = Date.now() - t;
    // The server's own load: from its spawn (the manager's start of it) to the moment it could answer.
    const own = stamp(s.logTail, /startup complete\. \(t=(\d+)\)/) - (s.readyAt! - s.loadMs!);
    added.push(total - own);
  }
  await m.stop();
  // Sleep mode against cold restarts, same two models back and forth.
  const sleepy = structuredClone(plain);
  sleepy.runtime.vllm.enable_sleep_mode = true;
  sleepy.runtime.vllm.gpu_memory_utilization = 0.45;
  const z = make(sleepy);
  await z.start({ engine: 'vllm' });
  await z.switchModel(plain.runtime.alternative); // the second model's first (cold) start
  const wake: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t = Date.now();
    await z.switchModel(i % 2 ? plain.runtime.alternative : plain.runtime.model);
    wake.push(Date.now() - t);
  }
  await z.stop();
  const cold = make(plain);
  await cold.start({ engine: 'vllm' });
  const coldSwaps: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = Date.now();
    await cold.switchModel(i % 2 ? plain.runtime.model : plain.runtime.alternative);
    coldSwaps.push(Date.now() - t);
  }
  await cold.stop();
  rmSync(dir, { recursive: true, force: true });
  const lag = median(lags),
    add = median(added);
  return [
    {
      name: 'readiness seen after the server could answer (stand-in, p50 of 6)',
      value: `${lag.toFixed(0)} ms (max ${Math.max(...lags)} ms; polling every 20 ms)`,
      goal: '< 100 ms',
      ok: lag < 100 && Math.max(...lags) < 100,
    },
    {
      name: "time the manager adds to a swap beyond the new server's own load",
      value: `p50 ${add.toFixed(0)} ms (max ${Math.max(...added)} ms; stopping the old group, GPU wait, port, readiness)`,
      goal: '< 200 ms',
      ok: add < 200,
    },
    {
      name: 'swap by vLLM sleep/wake vs cold restart (stand-in, load 500 ms)',
      value: `sleep/wake p50 ${median(wake)} ms | cold restart p50 ${median(coldSwaps)} ms`,
    },
  ];
}
