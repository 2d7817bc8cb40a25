// A real llama.cpp llama-server for the tests: built by scripts/llm/build-llama-server.sh, serving a tiny model
// generated at test time, on a free loopback port, in its own process group (stopped as a group).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/core/runtime/machine.js';
import { writeTinyGguf } from './tinyGguf.js';

export const LLAMA_SERVER =
  process.env.SWITCHYARD_LLAMA_SERVER ?? join(process.cwd(), '.cache', 'llama', 'llama-server');

export function llamaServerMissing(): string | null {
  return existsSync(LLAMA_SERVER)
    ? null
    : `llama-server not found at ${LLAMA_SERVER}: run scripts/llm/build-llama-server.sh (npm test does)`;
}

export interface RunningLlama {
  url: string;
  port: number;
  alias: string;
  child: ChildProcess;
  log: () => string;
  saw503: boolean;
  readyMs: number;
  stop(): Promise<number | null>;
}

export async function startLlama(
  o: { alias?: string; ctx?: number; apiKey?: string; extraArgs?: string[] } = {},
): Promise<RunningLlama> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-llama-'));
  const model = join(dir, 'tiny.gguf');
  writeTinyGguf(model, { ctx: o.ctx ?? 8192 });
  const port = await freePort();
  const alias = o.alias ?? 'tiny';
  const args = [
    '-m',
    model,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-c',
    String(o.ctx ?? 8192),
    '--parallel',
    '1',
    '-ngl',
    '0',
    '-t',
    '2',
    '--alias',
    alias,
    ...(o.apiKey ? ['--api-key', o.apiKey] : []),
    ...(o.extraArgs ?? []),
  ];
  const t0 = performance.now();
  const child = spawn(LLAMA_SERVER, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => {
    log += d;
  });
  child.stderr!.on('data', (d) => {
    log += d;
  });
  let saw503 = false;
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    }
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    const code = await exited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
    return code;
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`llama-server exited early (${child.exitCode}):\n${log.slice(-2000)}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.status === 503) saw503 = true;
      if (r.status === 200)
        return { url, port, alias, child, log: () => log, saw503, readyMs: performance.now() - t0, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`llama-server did not become ready in 30 s:\n${log.slice(-2000)}`);
}
