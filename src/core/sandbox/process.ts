// GR-010: the tool executor. Commands are argv arrays run without a shell (model output is never
// interpolated into a command line), in the workspace, with a timeout, cancellation that ends the whole
// process group, and their output captured (bounded) for the user and the evidence.
import { spawn } from 'node:child_process';

export interface ToolRun {
  argv: string[];
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each chunk as it arrives, decoded (a character split between reads is held until it is whole). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  maxBytes?: number;
  env?: NodeJS.ProcessEnv;
}
export interface ToolResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  stdout: string;
  stderr: string;
  truncated: boolean;
  ms: number;
}

const NOT_RUN: Omit<ToolResult, 'argv'> = {
  code: null,
  signal: null,
  timedOut: false,
  cancelled: false,
  stdout: '',
  stderr: '',
  truncated: false,
  ms: 0,
};

/** SIGTERM to the whole process group, then SIGKILL to what is left after two seconds. */
function killGroup(pid: number): void {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* gone */
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), 2_000).unref();
}

export function runTool(r: ToolRun): Promise<ToolResult> {
  const t0 = performance.now();
  const max = r.maxBytes ?? 8 * 1024 * 1024;
  return new Promise((resolve) => {
    const [cmd, ...args] = r.argv;
    if (!cmd) {
      resolve({ ...NOT_RUN, argv: r.argv, stderr: 'empty command' });
      return;
    }
    let stdout = '';
    let stderr = '';
    let truncated = false;
    let timedOut = false;
    let cancelled = false;
    const child = spawn(cmd, args, {
      cwd: r.cwd,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: r.env ?? process.env,
    });
    const kill = () => killGroup(child.pid!);
    const take = (which: 'out' | 'err') => (s: string) => {
      r.onOutput?.(s, which === 'out' ? 'stdout' : 'stderr');
      if (stdout.length + stderr.length + s.length > max) {
        truncated = true;
        return;
      }
      if (which === 'out') stdout += s;
      else stderr += s;
    };
    child.stdout!.setEncoding('utf8').on('data', take('out'));
    child.stderr!.setEncoding('utf8').on('data', take('err'));
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, r.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    if (r.signal?.aborted) onAbort();
    else r.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (code: number | null, sig: string | null) => {
      clearTimeout(timer);
      r.signal?.removeEventListener('abort', onAbort);
      resolve({
        argv: r.argv,
        code,
        signal: sig,
        timedOut,
        cancelled,
        stdout,
        stderr,
        truncated,
        ms: Math.round(performance.now() - t0),
      });
    };
    child.on('error', (e) => {
      stderr += `${e.message}\n`;
      done(null, null);
    });
    child.on('close', (code, sig) => done(code, sig));
  });
}
