#!/usr/bin/env node
// The `switchyard` command (package bin dist/cli.js): main() with the process's streams and exit code.
import { main } from './main.js';

// A reader that stops early (`switchyard policy schema | head -c 100`) closes the pipe: the command ends quietly,
// as Unix tools do, with no stack trace; what it had to say was read as far as the reader wanted.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    process.exit(e.code === 'EPIPE' ? 0 : 1);
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
