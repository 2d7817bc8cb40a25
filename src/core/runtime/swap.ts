// Switching models, one at a time: the key must name a local chat model of the policy; with vLLM sleep mode
// (policy runtime.vllm.enable_sleep_mode) the old server sleeps (POST /sleep) and a sleeping one wakes (POST /wake_up).
import type { Policy } from '../policy/schema.js';
import { RuntimeError, type Running } from './types.js';

/** Refuses a key that is not a local model of the policy, naming the local models there are. */
export function assertLocalModel(policy: Policy, modelKey: string): void {
  if (policy.models[modelKey]?.provider === 'local') return;
  const local = Object.entries(policy.models)
    .filter(([, m]) => m.provider === 'local' && m.kind === 'chat')
    .map(([k]) => k);
  throw new RuntimeError(
    'bad_model',
    `"${modelKey}" is not a local model of the policy (local models: ${local.join(', ')})`,
  );
}

const post = (run: Running, path: string): Promise<boolean> =>
  fetch(`http://127.0.0.1:${run.spec.port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${run.spec.apiKey}` },
  })
    .then((r) => r.ok)
    .catch(() => false);

/** Puts a vLLM server to sleep (level 1: weights offloaded); false when it refuses. */
export const putToSleep = (run: Running) => post(run, '/sleep?level=1');

/** Wakes a sleeping vLLM server; false when it does not wake. */
export const wakeUp = (run: Running) => post(run, '/wake_up');
