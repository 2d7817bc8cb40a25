#!/usr/bin/env node
// The `switchyard` command (package bin dist/cli.js): main() with the process's streams and exit code.
import { main } from './main.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
