// Asking a local server how it is: its /health (200 when ready, refused while vLLM loads), and the wait for
// readiness that never cuts a load whose log keeps moving. What else is read from a ready server (what it serves,
// the context it runs with) is read right after this wait, in the manager's ready step.
import { RuntimeError, sleep, type Running } from './types.js';

/** The HTTP status of the server's /health; 0 when refused or silent (vLLM while it loads). */
export const healthCode = (port: number): Promise<number> =>
  fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.status)
    .catch(() => 0);

/** Whether the server answers /health with a 2xx. */
export const healthy = async (port: number): Promise<boolean> => {
  const code = await healthCode(port);
  return code >= 200 && code < 300;
};

export type Exit = { code: number | null; signal: string | null };
export type Readiness =
  { kind: 'ready' } | { kind: 'cancelled' } | { kind: 'exited'; exit: Exit } | { kind: 'stalled' };

/**
 * Polls /health until the server is ready, it exits, the caller cancels, or it stalls: not ready after `timeoutMs`
 * and its log has not moved for `stallMs`.
 */
export async function waitReady(
  run: Running,
  o: {
    signal?: AbortSignal | undefined;
    exited: () => Exit | null;
    timeoutMs: number;
    stallMs: number;
    pollMs: number;
  },
): Promise<Readiness> {
  for (;;) {
    if (o.signal?.aborted) return { kind: 'cancelled' };
    const exit = o.exited();
    if (exit) return { kind: 'exited', exit };
    if ((await healthCode(run.spec.port)) === 200) return { kind: 'ready' };
    const now = Date.now();
    if (now - run.startedAt > o.timeoutMs && now - run.lastOutput > o.stallMs) return { kind: 'stalled' };
    await sleep(o.pollMs);
  }
}

/** The error of a load that stalled, with its last log lines. */
export const stalled = (run: Running, stallMs: number): RuntimeError =>
  new RuntimeError(
    'timeout',
    `no progress: not ready after ${Math.round((Date.now() - run.startedAt) / 1000)} s and its log has ` +
      `not moved for ${Math.round(stallMs / 1000)} s`,
    run.log.slice(-15),
  );
