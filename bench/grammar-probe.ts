// Fresh process: how long the first parser takes (web-tree-sitter runtime + Rust grammar, WASM).
import { grammarStats, parserFor } from '../src/core/classifier/grammar.js';

void (async () => {
  const t0 = performance.now();
  await parserFor('rust');
  const first = performance.now() - t0;
  const t1 = performance.now();
  await parserFor('rust');
  process.stdout.write(JSON.stringify({ firstMs: first, secondMs: performance.now() - t1, loads: grammarStats.loads }));
})();
