// Which engine serves the model (MODEL-POLICY.md §6): the one asked for, else vLLM when it is installed and
// llama.cpp after it; each engine that fails to start falls back to the next, with a GR-005 audit line.
import type { Policy } from '../policy/schema.js';
import { readGguf } from './gguf.js';
import { llamaSpec, vllmSpec, type Engine, type LaunchSpec } from './launch.js';
import { engineName } from './server.js';
import { RuntimeError, type ManagerOptions } from './types.js';

export const NOT_INSTALLED =
  'no local runtime found: install vLLM (`vllm` on PATH) or llama.cpp (`llama-server`), or set ' +
  'switchyard.runtime.binaryPath, or use an external endpoint';

/** The engines to try, in order: the one asked for, or those installed (vLLM first). */
export function enginesFor(binaries: ManagerOptions['binaries'], asked?: Engine): Engine[] {
  if (asked) return [asked];
  return [...(binaries.vllm ? ['vllm' as const] : []), ...(binaries.llama ? ['llama_cpp' as const] : [])];
}

/** The command line that starts `engine` with the model on this port and key. */
export function specFor(
  engine: Engine,
  policy: Policy,
  o: Pick<ManagerOptions, 'binaries' | 'modelPath' | 'threads'> & { modelKey: string; port: number; apiKey: string },
): LaunchSpec {
  const binary = (engine === 'vllm' ? o.binaries.vllm : o.binaries.llama)!;
  const base = { binary, modelKey: o.modelKey, port: o.port, apiKey: o.apiKey };
  const model = o.modelPath ? { modelPath: o.modelPath } : {};
  if (engine === 'vllm') return vllmSpec(policy, { ...base, ...model });
  const file = o.modelPath ?? policy.runtime.llama_cpp.model_path;
  const trainedContext = file ? trainedContextOf(file) : null;
  return llamaSpec(policy, { ...base, ...model, trainedContext, ...(o.threads ? { threads: o.threads } : {}) });
}

/** A GGUF file's own context length; null when the file cannot be read (the start then says why). */
function trainedContextOf(file: string): number | null {
  try {
    return readGguf(file).contextLength;
  } catch {
    return null;
  }
}

/** Tries each engine in turn; a cancel ends the tries, every other failure is audited and falls back. */
export async function firstThatStarts<T>(
  engines: Engine[],
  start: (engine: Engine) => Promise<T>,
  audit: ManagerOptions['audit'],
): Promise<T> {
  let last: RuntimeError | null = null;
  for (let i = 0; i < engines.length; i++) {
    const engine = engines[i]!;
    try {
      return await start(engine);
    } catch (e) {
      last = e instanceof RuntimeError ? e : new RuntimeError('other', (e as Error).message);
      if (last.kind === 'cancelled') throw last;
      const next = engines[i + 1];
      audit?.(
        next ? 'fallback' : 'failure',
        `GR-005: runtime ${engine} failed to start (${last.message})` +
          (next ? `; falling back to ${next === 'llama_cpp' ? engineName(next) : next} (policy runtime.fallback)` : ''),
      );
    }
  }
  throw last ?? new RuntimeError('other', 'start failed');
}
