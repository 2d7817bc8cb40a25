// Writes the tiny random-weight GGUF of test/support/tinyGguf.ts to a file (for `npm start` and the UI tests).
// Usage: tsx scripts/llm/make-tiny-model.ts OUT.gguf
import { writeTinyGguf } from '../../test/support/tinyGguf.js';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: make-tiny-model.ts OUT.gguf\n');
  process.exit(2);
}
const bytes = writeTinyGguf(out, { name: 'switchyard-tiny (random weights, for trying the local lane)' });
process.stdout.write(`${out}: ${bytes} bytes\n`);
