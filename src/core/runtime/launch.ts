// The command lines of the two runtimes, from the policy (MODEL-POLICY.md §6): vLLM first, llama.cpp as fallback.
import type { Policy } from '../policy/schema.js';

export type Engine = 'vllm' | 'llama_cpp';

export interface LaunchSpec {
  engine: Engine;
  command: string;
  args: string[];
  env: Record<string, string>;
  served: string;
  /** The model it loads: the GGUF file (llama.cpp), or the path or Hugging Face id (vLLM). */
  model: string;
  port: number;
  apiKey: string;
}

export interface LaunchOptions {
  binary: string;
  modelKey?: string;
  modelPath?: string;
  port: number;
  apiKey: string;
  threads?: number;
  /** The model file's own context length (GGUF metadata): the server is never started with more. */
  trainedContext?: number | null;
}

/** `vllm serve` with the policy's model, AWQ quantization, served name, max length and GPU share, on loopback. */
export function vllmSpec(policy: Policy, o: LaunchOptions): LaunchSpec {
  const v = policy.runtime.vllm;
  const model = policy.models[o.modelKey ?? policy.runtime.model]!;
  const served = o.modelKey && o.modelKey !== policy.runtime.model ? model.id : v.served_model_name;
  const loads = o.modelPath ?? model.id;
  const args = [
    'serve',
    loads,
    '--host',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--served-model-name',
    served,
    '--max-model-len',
    String(v.max_model_len),
    '--gpu-memory-utilization',
    String(v.gpu_memory_utilization),
  ];
  if (v.quantization) args.push('--quantization', v.quantization);
  // The agent calls tools natively: vLLM parses the Qwen3-Coder tool-call format into OpenAI tool_calls.
  args.push('--enable-auto-tool-choice', '--tool-call-parser', 'qwen3_coder');
  if (v.enable_sleep_mode) args.push('--enable-sleep-mode');
  // The key goes through the environment (VLLM_API_KEY), not the command line that `ps` shows everyone.
  return {
    engine: 'vllm',
    command: o.binary,
    args,
    env: { VLLM_API_KEY: o.apiKey, ...(v.enable_sleep_mode ? { VLLM_SERVER_DEV_MODE: '1' } : {}) },
    served,
    model: loads,
    port: o.port,
    apiKey: o.apiKey,
  };
}

/**
 * `llama-server` with its model file, alias, context size and GPU layers, on loopback. One slot (`--parallel 1`):
 * each request gets the whole context (llama-server divides `-c` among its slots), and that is the window the
 * call path fits prompts to (`/props`, window.ts). The context is the policy's, never more than the model's own.
 */
export function llamaSpec(policy: Policy, o: LaunchOptions): LaunchSpec {
  const l = policy.runtime.llama_cpp;
  const path = o.modelPath ?? l.model_path;
  if (!path)
    throw new Error(
      'llama.cpp needs a model file: set runtime.llama_cpp.model_path in the policy or give --model-path',
    );
  const served = l.alias;
  const args = [
    '-m',
    path,
    '--host',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--alias',
    served,
    '-c',
    String(Math.min(l.ctx_size, o.trainedContext ?? Number.MAX_SAFE_INTEGER)),
    '--parallel',
    '1',
    '-ngl',
    String(l.n_gpu_layers),
    // The model's own chat template (Jinja): what makes llama-server accept `tools` and return tool_calls.
    '--jinja',
  ];
  if (o.threads) args.push('-t', String(o.threads));
  return {
    engine: 'llama_cpp',
    command: o.binary,
    args,
    env: { LLAMA_API_KEY: o.apiKey },
    served,
    model: path,
    port: o.port,
    apiKey: o.apiKey,
  };
}

/** What a failed start's log says, in words a user can act on. */
export function diagnoseLog(log: string): {
  kind: 'port_in_use' | 'oom' | 'engine' | 'model_missing' | 'other';
  message: string;
} {
  if (/spawn error: .*(ENOENT|EACCES)/.test(log))
    return {
      kind: 'other',
      message:
        `the runtime program could not be run (${/ENOENT/.test(log) ? 'not found' : 'not executable'}); ` +
        `check switchyard.runtime.binaryPath or --binary`,
    };
  if (/Address already in use|EADDRINUSE|couldn't bind|bind: address/i.test(log))
    return { kind: 'port_in_use', message: 'the port was taken by another process' };
  if (
    /out of memory|CUDA error: out of memory|less than desired GPU memory utilization|cudaMalloc failed|failed to allocate/i.test(
      log,
    )
  )
    return { kind: 'oom', message: 'the GPU does not have enough free memory for this model' };
  if (/Engine core initialization failed|RuntimeError/i.test(log))
    return { kind: 'engine', message: 'the inference engine failed to start' };
  if (/failed to load model|No such file|does not exist|unable to open|error loading model/i.test(log))
    return { kind: 'model_missing', message: 'the model could not be loaded (missing or unreadable file)' };
  return { kind: 'other', message: 'the server exited during start' };
}
