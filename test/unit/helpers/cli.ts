// The CLI in this process, as scripts use it: main() with its own streams; JSON on stdout, messages on stderr,
// the exit code returned.
import { main } from '../../../src/cli/main.js';

export async function runCli(
  args: string[],
  o: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: () => o.input ?? '',
    env: o.env ?? { ...process.env },
    cwd: o.cwd ?? process.cwd(),
  });
  return { code, out, err };
}
