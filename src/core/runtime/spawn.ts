// How a local server process is started: under a supervisor tied to the host's life (an editor window), or on its
// own with its log in a file so that it outlives the command that started it (the CLI's `runtime start`).
import { spawn as nodeSpawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface ServerProcess {
  pid: number;
  onOutput(cb: (text: string) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  killGroup(signal: NodeJS.Signals): void;
}
export type SpawnPort = (command: string, args: string[], env: Record<string, string>) => ServerProcess;

/**
 * The supervisor, run by Node itself (`node -e`, so no file has to ship): it starts the server in its own process
 * group and ends that group when its stdin closes (the host is gone) or when it is sent SIGTERM: SIGTERM to the
 * group, SIGKILL 5 s later if anything is left. The server's exit code or signal is passed on as its own.
 */
export const SUPERVISOR = `/* switchyard: the local model server's supervisor */
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let ending = false;
const group = (sig) => { try { process.kill(-process.pid, sig); } catch {} };
const end = () => {
  if (ending) return;
  ending = true;
  group('SIGTERM');
  setTimeout(() => group('SIGKILL'), 5000);
};
process.on('SIGTERM', end);
process.on('SIGINT', end);
process.on('SIGHUP', end);
process.stdin.on('end', end);
process.stdin.on('close', end);
process.stdin.on('error', end);
process.stdin.resume();
child.on('error', (e) => {
  process.stderr.write('spawn error: ' + e.message + '\\n');
  process.exit(127);
});
child.on('exit', (code, signal) => {
  if (ending) group('SIGKILL');
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
`;

/**
 * The server of an editor window: started under the supervisor (its own process group), whose stdin is a pipe
 * from this process. The pipe is never written; when this process ends in any way (a closed window, Ctrl-C, a
 * crash, kill -9), the kernel closes it and the supervisor ends the server's whole group.
 */
export const defaultSpawn: SpawnPort = (command, args, env) => {
  const child = nodeSpawn(process.execPath, ['-e', SUPERVISOR, command, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Electron's extension host runs the supervisor as plain Node.
    env: { ...process.env, ...env, ELECTRON_RUN_AS_NODE: '1' },
  });
  child.stdin!.on('error', () => {
    /* the supervisor is gone */
  });
  const outs: ((t: string) => void)[] = [];
  const exits: ((c: number | null, s: string | null) => void)[] = [];
  child.stdout!.on('data', (d) => {
    for (const f of outs) f(String(d));
  });
  child.stderr!.on('data', (d) => {
    for (const f of outs) f(String(d));
  });
  let done = false;
  child.on('exit', (c, s) => {
    done = true;
    for (const f of exits) f(c, s);
  });
  child.on('error', (e) => {
    for (const f of outs) f(`spawn error: ${e.message}\n`);
    if (!done) {
      done = true;
      for (const f of exits) f(127, null);
    }
  });
  child.unref();
  return {
    pid: child.pid ?? -1,
    onOutput: (cb) => outs.push(cb),
    onExit: (cb) => {
      if (done || child.exitCode !== null || child.signalCode !== null) cb(child.exitCode ?? 127, child.signalCode);
      else exits.push(cb);
    },
    killGroup: (sig) => {
      try {
        process.kill(-(child.pid ?? 0), sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          /* gone */
        }
      }
    },
  };
};

/**
 * For a server that must outlive the process that started it (the CLI): output goes to a log file in the state
 * folder (a pipe would break when the CLI exits), and is followed from there.
 */
export function fileLogSpawn(logPath: string): SpawnPort {
  return (command, args, env) => {
    mkdirSync(join(logPath, '..'), { recursive: true });
    const fd = openSync(logPath, 'a');
    const start = statSync(logPath).size;
    const child = nodeSpawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...env },
    });
    closeSync(fd);
    child.unref();
    const outs: ((t: string) => void)[] = [];
    let offset = start;
    const timer = setInterval(() => {
      try {
        const size = statSync(logPath).size;
        if (size <= offset) return;
        const rfd = openSync(logPath, 'r');
        const buf = Buffer.alloc(size - offset);
        readSync(rfd, buf, 0, buf.length, offset);
        closeSync(rfd);
        offset = size;
        for (const f of outs) f(buf.toString('utf8'));
      } catch {
        /* the log was rotated or removed */
      }
    }, 50);
    timer.unref();
    let exited: [number | null, string | null] | null = null;
    const exits: ((c: number | null, s: string | null) => void)[] = [];
    child.on('exit', (c, s) => {
      exited = [c, s];
      clearInterval(timer);
      for (const f of exits) f(c, s);
    });
    child.on('error', (e) => {
      for (const f of outs) f(`spawn error: ${e.message}\n`);
      if (!exited) {
        exited = [127, null];
        clearInterval(timer);
        for (const f of exits) f(127, null);
      }
    });
    return {
      pid: child.pid ?? -1,
      onOutput: (cb) => outs.push(cb),
      onExit: (cb) => {
        if (exited) cb(exited[0], exited[1]);
        else exits.push(cb);
      },
      killGroup: (sig) => {
        try {
          process.kill(-(child.pid ?? 0), sig);
        } catch {
          /* gone */
        }
      },
      /** Stop following the log (the server keeps running). */
      detach: () => clearInterval(timer),
    } as ServerProcess & { detach(): void };
  };
}
