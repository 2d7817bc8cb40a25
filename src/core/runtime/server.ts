// A server process the manager started: its log kept (key redacted, the last 400 lines) and watched for progress,
// its whole process group ended, and why it exited during its start.
import { diagnoseLog, type LaunchSpec } from './launch.js';
import type { Exit } from './probe.js';
import type { ServerProcess } from './spawn.js';
import { RuntimeError, type Running } from './types.js';

export const engineName = (engine: LaunchSpec['engine']) => (engine === 'vllm' ? 'vLLM' : 'llama.cpp');

/** A started process with its log kept and its last output noted. */
export function watch(
  spec: LaunchSpec,
  proc: ServerProcess,
  modelKey: string,
  onLog?: (line: string) => void,
): Running {
  const now = Date.now();
  const run: Running = {
    spec,
    proc,
    modelKey,
    log: [],
    lastOutput: now,
    exited: false,
    stopping: false,
    startedAt: now,
    readyAt: null,
    model: null,
  };
  proc.onOutput((text) => {
    run.lastOutput = Date.now();
    for (const line of text.split('\n'))
      if (line.trim()) {
        run.log.push(line.replace(spec.apiKey, '[REDACTED]'));
        if (run.log.length > 400) run.log.shift();
        onLog?.(line.replace(spec.apiKey, '[REDACTED]'));
      }
  });
  return run;
}

/** Ends the server's process group: SIGTERM, SIGKILL after 10 s, and SIGKILL again for any child that survived. */
export async function killRun(run: Running): Promise<void> {
  run.stopping = true;
  if (run.exited) return;
  const gone = new Promise<void>((r) => run.proc.onExit(() => r()));
  run.proc.killGroup('SIGTERM');
  const t = setTimeout(() => run.proc.killGroup('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
  // vLLM's EngineCore children share the group; make sure none survived the parent.
  run.proc.killGroup('SIGKILL');
}

/** Why a server exited during its start, from its log: a port already taken (the caller retries), or an error. */
export function startFailure(run: Running, exit: Exit): 'port_in_use' | RuntimeError {
  const d = diagnoseLog(run.log.join('\n'));
  if (d.kind === 'port_in_use') return 'port_in_use';
  return new RuntimeError(
    d.kind,
    `${engineName(run.spec.engine)} exited with ${exit.code ?? exit.signal} during start: ${d.message}`,
    run.log.slice(-15),
  );
}
