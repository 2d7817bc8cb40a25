// The GPU memory a server holds (nvidia-smi where present), so that a swap waits until the next model fits.
import { spawn as nodeSpawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { sleep, type GpuProbe } from './types.js';

/** Waits (at most a minute) until these pids hold no GPU memory; at once without a probe. */
export async function gpuFree(probe: GpuProbe | undefined, pids: number[]): Promise<void> {
  if (!probe) return;
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const used = await probe(pids);
    if (used === null || used === 0) return;
    await sleep(50);
  }
}

/** The process group of a pid, from /proc; NaN when it is gone. */
function pgrp(pid: number): number {
  try {
    return Number(
      readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ')[2],
    );
  } catch {
    return NaN;
  }
}

/** nvidia-smi's view of the memory these pids hold, where nvidia-smi exists. */
export function nvidiaSmiProbe(): GpuProbe | undefined {
  const candidates = ['/usr/bin/nvidia-smi', '/usr/local/bin/nvidia-smi'];
  const bin = candidates.find((c) => existsSync(c));
  if (!bin) return undefined;
  return async (pids) =>
    new Promise((resolve) => {
      const p = nodeSpawn(bin, ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits']);
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.on('error', () => resolve(null));
      p.on('exit', () => {
        let used = 0;
        // A server's GPU memory is often held by its children (vLLM's EngineCore): count every process of its group.
        for (const line of out.split('\n')) {
          const [pid, mem] = line.split(',').map((x) => x.trim());
          if (pid && (pids.includes(Number(pid)) || pids.includes(pgrp(Number(pid))))) used += Number(mem) || 0;
        }
        resolve(used);
      });
    });
}
