// The CLI's one model caller: the policy, the state folder and the environment's keys and endpoints.
import type { Policy } from '../core/policy/schema.js';
import { composeCaller, envPorts } from '../core/providers/compose.js';
import { io } from './io.js';
import { stateDir } from './state.js';

export function cliCaller(policy: Policy, o: { state?: string; localOnly?: boolean }) {
  const dir = stateDir(o.state);
  const env = envPorts(io().env, () => policy, dir);
  const caller = composeCaller({
    policy: () => policy,
    source: 'cli',
    stateDir: dir,
    localOnlySetting: () => o.localOnly === true,
    ...env,
  });
  return { caller, dir, env };
}
