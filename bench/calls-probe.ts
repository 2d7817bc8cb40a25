// Issue 5 figures, in one process run with --expose-gc: the Switchyard call path against a bare SDK call to
// the same local server, side by side, interleaved: time to first token, time added per chunk, memory over
// a 100,000-token stream.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { bundledPolicy } from '../src/core/policy/store.js';
import { composeCaller } from '../src/core/providers/compose.js';
import { startLlama } from '../test/support/llamaServer.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function wireChild(chunks: number, script: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, CHUNKS: String(chunks) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d).trim())));
  return { url, stop: () => child.kill() };
}

async function main() {
  const wireScript = process.argv[2]!;
  const policy = bundledPolicy();
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-calls-'));
  const llama = await startLlama();
  const out: Record<string, number> = {};
  try {
    const make = (url: string) =>
      composeCaller({
        policy: () => policy,
        source: 'cli',
        stateDir: dir,
        localOnlySetting: () => true,
        key: () => undefined,
        baseUrl: () => url,
      });
    const sy = make(`${llama.url}/v1`);
    const bare = new OpenAI({ baseURL: `${llama.url}/v1`, apiKey: 'none', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Tell me about lifetimes.' }];
    const bareRun = async (client: OpenAI, maxTokens: number) => {
      const t0 = performance.now();
      let first = 0;
      let n = 0;
      const s = await client.chat.completions.create({
        model: 'tiny',
        messages,
        max_tokens: maxTokens,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const c of s) {
        if (c.choices[0]?.delta?.content) {
          if (!n) first = performance.now() - t0;
          n++;
        }
      }
      return { ttft: first, total: performance.now() - t0, n };
    };
    const syRun = async (caller: ReturnType<typeof make>, maxTokens: number) => {
      const t0 = performance.now();
      let first = 0;
      let n = 0;
      await caller.call({
        role: 'tutor',
        messages,
        max_tokens: maxTokens,
        temperature: 0,
        keepText: false,
        onEvent: (e) => {
          if (e.type === 'text') {
            if (!n) first = performance.now() - t0;
            n++;
          }
        },
      });
      return { ttft: first, total: performance.now() - t0, n };
    };
    for (let i = 0; i < 5; i++) {
      await bareRun(bare, 4);
      await syRun(sy, 4);
    } // warm both
    const tb: number[] = [],
      ts: number[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 2) {
        tb.push((await bareRun(bare, 4)).ttft);
        ts.push((await syRun(sy, 4)).ttft);
      } else {
        ts.push((await syRun(sy, 4)).ttft);
        tb.push((await bareRun(bare, 4)).ttft);
      }
    }
    out.ttft_bare_ms = median(tb);
    out.ttft_sy_ms = median(ts);

    // Per chunk, against llama-server: (total - ttft) / chunks, interleaved.
    const pb: number[] = [],
      ps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const b = await bareRun(bare, 400);
      pb.push((b.total - b.ttft) / Math.max(1, b.n - 1));
      const s = await syRun(sy, 400);
      ps.push((s.total - s.ttft) / Math.max(1, s.n - 1));
    }
    out.chunk_llama_bare_ms = median(pb);
    out.chunk_llama_sy_ms = median(ps);

    // Per chunk against a wire server in another process, 20,000 chunks per stream: the path's own cost shows.
    const fast = await wireChild(20_000, wireScript);
    try {
      const syFast = make(fast.url);
      const bareFast = new OpenAI({ baseURL: fast.url, apiKey: 'none', maxRetries: 0 });
      await bareRun(bareFast, 10);
      await syRun(syFast, 10);
      const fb: number[] = [],
        fs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const b = await bareRun(bareFast, 10);
        fb.push(b.total / b.n);
        const s = await syRun(syFast, 10);
        fs.push(s.total / s.n);
      }
      out.chunk_wire_bare_ms = median(fb);
      out.chunk_wire_sy_ms = median(fs);
    } finally {
      fast.stop();
    }

    // Memory over a 100,000-token stream through the Switchyard path.
    const long = await wireChild(100_000, wireScript);
    try {
      const syLong = make(long.url);
      const samples: number[] = [];
      let n = 0;
      gc();
      await syLong.call({
        role: 'tutor',
        messages,
        max_tokens: 200_000,
        keepText: false,
        onEvent: (e) => {
          if (e.type === 'text' && ++n % 10_000 === 0) {
            gc();
            samples.push(process.memoryUsage().heapUsed);
          }
        },
      });
      out.mem_tokens = n;
      out.mem_first_mb = samples[0]! / 2 ** 20;
      out.mem_last_mb = samples.at(-1)! / 2 ** 20;
      out.mem_max_mb = Math.max(...samples) / 2 ** 20;
    } finally {
      long.stop();
    }
  } finally {
    await llama.stop();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
void main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
