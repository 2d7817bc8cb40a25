// The OS sandbox every agent command and check runs in (bubblewrap on Linux): its public API.
export { cleanEnv, isSecretName, secretValues } from './env.js';
export { detectSandbox, findOnPath, resetSandboxDetection, type SandboxSupport } from './detect.js';
export {
  bwrapArgs,
  PLACEHOLDER_DIRS,
  planSandbox,
  prepareProfile,
  refuseWritable,
  type SandboxOptions,
  type SandboxPlan,
  type SandboxProfile,
} from './profile.js';
export { hostAllowed, proxyEnv, startProxy, type SandboxProxy } from './proxy.js';
export { runSandboxed, sandboxHint, type SandboxedResult, type SandboxedRun } from './run.js';
