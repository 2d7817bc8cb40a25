// Issue 5: the Switchyard call path beside a bare SDK call to the same local llama-server (bundled, fresh process).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Figure } from './router.js';

export async function benchCalls(): Promise<Figure[]> {
  execFileSync('bash', ['scripts/llm/build-llama-server.sh'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-calls-'));
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node20',
    mainFields: ['module', 'main'],
    logLevel: 'silent' as const,
  };
  await build({ ...common, entryPoints: ['bench/calls-probe.ts'], outfile: join(dir, 'probe.js') });
  await build({ ...common, entryPoints: ['bench/wire-child.ts'], outfile: join(dir, 'wire.js') });
  const r = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', join(dir, 'probe.js'), join(dir, 'wire.js')], {
      encoding: 'utf8',
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  ) as Record<string, number>;
  rmSync(dir, { recursive: true, force: true });
  const ratio = r.ttft_sy_ms! / r.ttft_bare_ms!;
  const addedLlama = r.chunk_llama_sy_ms! - r.chunk_llama_bare_ms!;
  const addedWire = r.chunk_wire_sy_ms! - r.chunk_wire_bare_ms!;
  const grew = r.mem_last_mb! - r.mem_first_mb!;
  return [
    {
      name: 'time to first token, llama-server, p50 of 40 interleaved',
      value: `Switchyard ${r.ttft_sy_ms!.toFixed(2)} ms | bare SDK ${r.ttft_bare_ms!.toFixed(2)} ms | ratio ${ratio.toFixed(3)}`,
      goal: '<= 1.05x bare',
      ok: ratio <= 1.05,
    },
    {
      name: 'time per chunk, llama-server (400 tokens), p50 of 8',
      value: `Switchyard ${r.chunk_llama_sy_ms!.toFixed(4)} ms | bare ${r.chunk_llama_bare_ms!.toFixed(4)} ms | added ${addedLlama.toFixed(4)} ms`,
    },
    {
      name: 'time per chunk, wire server (20,000 chunks), p50 of 5',
      value: `Switchyard ${r.chunk_wire_sy_ms!.toFixed(4)} ms | bare ${r.chunk_wire_bare_ms!.toFixed(4)} ms | added ${addedWire.toFixed(4)} ms`,
      goal: '< 0.2 ms added per chunk',
      ok: addedWire < 0.2 && addedLlama < 0.2,
    },
    {
      name: `heap over a ${r.mem_tokens!.toLocaleString('en-US')}-token stream (after GC, every 10k)`,
      value: `at 10k ${r.mem_first_mb!.toFixed(1)} MB, at end ${r.mem_last_mb!.toFixed(1)} MB, max ${r.mem_max_mb!.toFixed(1)} MB (grew ${grew.toFixed(2)} MB)`,
      goal: 'flat (< 2 MB growth)',
      ok: grew < 2,
    },
  ];
}
