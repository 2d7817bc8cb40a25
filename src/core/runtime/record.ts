// The runtime record (`runtime.json` in the state folder, mode 0600): the server that runs, its port and key, so that
// a later window or CLI run can find it (adopt.ts).
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { servedRecord } from './served.js';
import type { Running, RuntimeRecord } from './types.js';

export const recordPath = (stateDir: string) => join(stateDir, 'runtime.json');

export function readRecord(stateDir: string): RuntimeRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(stateDir), 'utf8')) as RuntimeRecord;
  } catch {
    return null;
  }
}

export function writeRecord(stateDir: string, r: Running): void {
  mkdirSync(stateDir, { recursive: true });
  const rec: RuntimeRecord = {
    pid: r.proc.pid,
    port: r.spec.port,
    engine: r.spec.engine,
    modelKey: r.modelKey,
    served: r.spec.served,
    apiKey: r.spec.apiKey,
    started_at: new Date(r.startedAt).toISOString(),
    last_load_ms: r.readyAt ? r.readyAt - r.startedAt : null,
    model: r.model ? servedRecord(r.model) : null,
  };
  const path = recordPath(stateDir);
  writeFileSync(path, JSON.stringify(rec, null, 2), { mode: 0o600 });
  chmodSync(path, 0o600);
}

export const removeRecord = (stateDir: string) => rmSync(recordPath(stateDir), { force: true });

/** Whether a process of this pid exists (signal 0). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
