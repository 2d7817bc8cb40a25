// A stand-in for the extension host: it starts the local server as the editor does (RuntimeManager with the
// supervised spawn), prints the server's status as one JSON line, and then waits to be killed.
// Usage: tsx test/support/runtimeHost.ts LLAMA_SERVER MODEL.gguf STATE_DIR
import { bundledPolicy } from '../../src/core/policy/store.js';
import { RuntimeManager } from '../../src/core/runtime/manager.js';

const [binary, modelPath, stateDir] = process.argv.slice(2);
const m = new RuntimeManager({
  policy: () => bundledPolicy(),
  stateDir: stateDir!,
  binaries: { llama: binary },
  modelPath,
  threads: 1,
});
void m.start({ engine: 'llama_cpp' }).then((s) => process.stdout.write(`${JSON.stringify(s)}\n`));
setInterval(() => {}, 60_000);
