// A server left by an earlier window or CLI run (its runtime record): adopted when it answers, stopped when it does
// not; found or stopped from another process (the CLI's `runtime status` and `runtime stop`).
import { healthy } from './probe.js';
import { alive, readRecord, removeRecord } from './record.js';
import { sleep, type ManagerOptions, type RuntimeRecord } from './types.js';

/** The recorded server when it is alive and healthy; an unresponsive one is stopped and its record removed. */
export async function adoptOrClean(stateDir: string, audit?: ManagerOptions['audit']): Promise<RuntimeRecord | null> {
  const rec = readRecord(stateDir);
  if (!rec) return null;
  if (!alive(rec.pid)) {
    removeRecord(stateDir);
    return null;
  }
  if (await healthy(rec.port)) return rec;
  try {
    process.kill(-rec.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  audit?.('stop', `runtime: stopped an unresponsive ${rec.engine} server (pid ${rec.pid}) left by an earlier session`);
  removeRecord(stateDir);
  return null;
}

/** Stops the server a runtime record names (another process started it): its whole group, then the record. */
export async function stopRecorded(stateDir: string): Promise<RuntimeRecord | null> {
  const rec = readRecord(stateDir);
  if (!rec) return null;
  if (alive(rec.pid)) {
    try {
      process.kill(-rec.pid, 'SIGTERM');
    } catch {
      try {
        process.kill(rec.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const end = Date.now() + 10_000;
    while (alive(rec.pid) && Date.now() < end) await sleep(50);
    if (alive(rec.pid)) {
      try {
        process.kill(-rec.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  removeRecord(stateDir);
  return rec;
}

/** The recorded server, if it is alive, and whether it answers /health. */
export async function recordedServer(stateDir: string): Promise<(RuntimeRecord & { healthy: boolean }) | null> {
  const rec = readRecord(stateDir);
  if (!rec || !alive(rec.pid)) return null;
  return { ...rec, healthy: await healthy(rec.port) };
}
