// What the runtime reports (the status bar, `switchyard runtime status`): an external endpoint as is, or the
// server this manager runs with its state, endpoint (only when ready), load time and log tail.
import type { ServedModel } from './served.js';
import type { Running, RuntimeState, RuntimeStatus } from './types.js';

export function externalStatus(endpoint: string, model: ServedModel | null): RuntimeStatus {
  return {
    state: 'external',
    engine: 'external',
    modelKey: null,
    served: null,
    endpoint,
    pid: null,
    port: null,
    loadMs: null,
    message: null,
    logTail: [],
    sleeping: [],
    readyAt: null,
    model,
  };
}

export function runStatus(
  state: RuntimeState,
  c: Running | null,
  message: string | null,
  sleeping: string[],
): RuntimeStatus {
  return {
    state,
    engine: c?.spec.engine ?? null,
    modelKey: c?.modelKey ?? null,
    served: c?.spec.served ?? null,
    endpoint: c && state === 'ready' ? `http://127.0.0.1:${c.spec.port}/v1` : null,
    pid: c?.proc.pid ?? null,
    port: c?.spec.port ?? null,
    loadMs: c?.readyAt ? c.readyAt - c.startedAt : null,
    message,
    logTail: c?.log.slice(-20) ?? [],
    sleeping,
    readyAt: c?.readyAt ?? null,
    model: c?.model ?? null,
  };
}
