// The CLI's small I/O helpers: JSON out, diagnostics to stderr, exit codes of CONTRACTS.md. Every command reads
// and writes through `io()`: the process's streams, or those a caller of main() passes (tests run in-process).
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** All of standard input. */
  stdin: () => string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const PROCESS_IO: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: () => readFileSync(0, 'utf8'),
  env: process.env,
  get cwd() {
    return process.cwd();
  },
};

const current = new AsyncLocalStorage<CliIo>();

/** The streams of the command running now. */
export const io = (): CliIo => current.getStore() ?? PROCESS_IO;

export const withIo = <T>(streams: CliIo, run: () => Promise<T>): Promise<T> => current.run(streams, run);

export const EXIT = { ok: 0, badInput: 2, refused: 3, failed: 4, changesRequested: 5, cancelled: 130 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function printJson(value: unknown): void {
  io().stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON value on one line (JSON lines: a stream of events). */
export function printJsonLine(value: unknown): void {
  io().stdout.write(`${JSON.stringify(value)}\n`);
}

export function readInput(file: string, what: string): string {
  try {
    return file === '-' ? io().stdin() : readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String((e as Error).message);
    throw new UsageError(`${what}: cannot read ${file === '-' ? 'standard input' : file}: ${why}`);
  }
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const where = m ? ` at line ${text.slice(0, Number(m[1])).split('\n').length}` : '';
    throw new UsageError(`${what}: invalid JSON${where}: ${(e as Error).message}`);
  }
}
