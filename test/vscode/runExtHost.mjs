// Runs the mocha suite inside VS Code's Node extension host: the upstream VS Code server inside
// code-server, opened in headless Chromium with the extensionDevelopmentPath/extensionTestsPath payload.
// Prints "N passed, N failed" for the suite; exits 1 when anything failed.
import { existsSync, readFileSync } from 'node:fs';
import { format } from 'node:util';
import { join } from 'node:path';
import { CODE_SERVER, freePort, launchBrowser, ROOT, startServer, workDir } from './harness.mjs';

const dir = workDir('exthost');
const port = await freePort();
const results = join(dir, 'results.json');
const server = await startServer(
  [
    join(CODE_SERVER, 'lib/vscode/out/server-main.js'),
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--disable-telemetry',
    '--enable-smoke-test-driver',
    '--reconnection-grace-time',
    '5',
    '--user-data-dir',
    join(dir, 'ud'),
    '--server-data-dir',
    join(dir, 'sd'),
    '--extensions-dir',
    join(dir, 'exts'),
  ],
  dir,
  { port, readyPath: '/version', env: { SWITCHYARD_TEST_RESULTS: results } },
);
const browser = await launchBrowser();
let code = 1;
try {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(ROOT)],
    ['extensionTestsPath', remote(join(ROOT, 'dist/test/suite/index.js'))],
  ]);
  const page = browser.ctx.pages()[0] ?? (await browser.ctx.newPage());
  let done;
  const finished = new Promise((r) => {
    done = r;
  });
  // The workbench's own chatter (offline gallery, service worker, sockets) is noise here; mocha's lines are kept.
  const NOISE =
    /ENOTFOUND|open-vsx|ServiceWorker|AccountPolicyGate|socket|grace time|builtin extensions|AgentHost|authentication provider|^\s+at /;
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = format(...(args ?? []));
    if (!NOISE.test(line)) console.log(line);
  });
  await page.exposeFunction('codeAutomationExit', (c) => done(c));
  await page.goto(
    `http://127.0.0.1:${port}/?folder=${encodeURIComponent(join(dir, 'ws'))}&payload=${encodeURIComponent(payload)}`,
  );
  code = await Promise.race([finished, new Promise((r) => setTimeout(() => r('timeout'), 420_000))]);
  if (code === 'timeout') console.log('extension-host tests timed out after 420 s');
} finally {
  await browser.close();
  server.stop();
}
const r = existsSync(results) ? JSON.parse(readFileSync(results, 'utf8')) : { passed: 0, failed: 1 };
if (code !== 0 && r.failed === 0) r.failed = 1;
console.log(`${r.passed} passed, ${r.failed} failed`);
process.exit(r.failed === 0 && code === 0 ? 0 : 1);
