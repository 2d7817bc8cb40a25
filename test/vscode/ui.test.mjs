// UI tests: the packaged .vsix installed into code-server (a real VS Code 1.139 workbench), driven in
// headless Chromium the way a person drives it. Screenshots go to test-output/.
// Usage: node test/vscode/ui.test.mjs path/to/switchyard.vsix   -> prints "N passed, N failed"
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CODE_SERVER, freePort, gitInit, launchBrowser, NODE24, OUTPUT, ROOT, startServer, workDir, xdgEnv } from './harness.mjs';

const vsix = process.argv[2];
if (!vsix) { console.error('usage: ui.test.mjs SWITCHYARD.vsix'); process.exit(2); }
const dir = workDir('ui');
gitInit(join(dir, 'ws'));
const entry = join(CODE_SERVER, 'out/node/entry.js');
const common = ['--auth', 'none', '--user-data-dir', join(dir, 'ud'), '--extensions-dir', join(dir, 'exts')];
execFileSync(NODE24, [entry, ...common, '--install-extension', vsix], { env: xdgEnv(dir), stdio: 'pipe' });
// The local runtime of these machines: the llama-server the test setup built, with a tiny model made now.
const tinyModel = join(dir, 'tiny.gguf');
execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/llm/make-tiny-model.ts'), tinyModel], { cwd: ROOT, stdio: 'pipe' });
mkdirSync(join(dir, 'ud', 'User'), { recursive: true });
writeFileSync(join(dir, 'ud', 'User', 'settings.json'), JSON.stringify({
  'switchyard.runtime.binaryPath': join(ROOT, '.cache', 'llama', 'llama-server'), 'switchyard.runtime.modelPath': tinyModel,
}, null, 2));
const port = await freePort();
const server = await startServer([entry, ...common, '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
  '--disable-workspace-trust', '--disable-getting-started-override', '--ignore-last-opened', '--reconnection-grace-time', '5', join(dir, 'ws')], dir, { port });
const browser = await launchBrowser();
const page = browser.ctx.pages()[0] ?? await browser.ctx.newPage();
const results = [];
const t0 = Date.now();
async function test(name, fn) {
  try { await fn(); results.push([name, true]); console.log(`  ✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`); }
  catch (e) {
    results.push([name, false]);
    console.log(`  ✗ ${name}: ${e.message.split('\n')[0]}`);
    await page.screenshot({ path: join(OUTPUT, `ui-fail-${results.length}.png`) }).catch(() => {});
  }
}
const palette = page.locator('.quick-input-widget .quick-input-box input');
/** Opens the palette, types the title, waits for its row: retries while the extension host starts. */
async function findCommand(title) {
  for (let attempt = 0; attempt < 30; attempt++) {
    await page.keyboard.press('F1');
    await palette.waitFor({ state: 'visible', timeout: 10_000 });
    await palette.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    try { await row.waitFor({ state: 'visible', timeout: 2_000 }); return row; } catch { await page.keyboard.press('Escape'); await page.waitForTimeout(1_000); }
  }
  throw new Error(`"${title}" never appeared in the command palette`);
}
async function runCommand(title) { await findCommand(title); await page.keyboard.press('Enter'); }
const statusItem = (text) => page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: text }).first();

try {
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(join(dir, 'ws'))}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });

  await test('every Switchyard command is in the command palette', async () => {
    const titles = ['Open Tutor Chat', 'Plan a Change (Architect)', 'Open Plan Review', 'Implement with Reflex Lane', 'Request Judge Audit',
      'Classify Current Changes', 'Show Budget', 'Start Local Model Server', 'Stop Local Model Server', 'Switch Local Model',
      'Explain Routing Decisions', 'Set API Key', 'Open Effective Policy'];
    for (const t of titles) {
      // Implement with Reflex Lane needs an open editor; it is checked from the context menu below.
      if (t === 'Implement with Reflex Lane') continue;
      await findCommand(`Switchyard: ${t}`);
      await page.keyboard.press('Escape');
    }
  });

  await test('both status bar items are visible: the budget meter and the local runtime', async () => {
    await statusItem('$0.00 / $10.00').waitFor({ state: 'visible', timeout: 20_000 });
    await statusItem('Local: stopped').waitFor({ state: 'visible', timeout: 20_000 });
    const id = await statusItem('$0.00 / $10.00').getAttribute('id');
    if (id !== 'switchyard.switchyard.switchyard.budget') throw new Error(`budget item id is ${id}`);
  });

  await test('Open Effective Policy from the palette shows the policy in an editor', async () => {
    await runCommand('Switchyard: Open Effective Policy');
    await page.locator('.tabs-container .tab', { hasText: 'effective-policy.jsonc' }).waitFor({ timeout: 15_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: 'Switchyard effective policy' }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(OUTPUT, 'effective-policy.png') });
  });

  await test('a command not built yet answers with a clear notification', async () => {
    await runCommand('Switchyard: Open Tutor Chat');
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'not available in this version yet' });
    await toast.waitFor({ timeout: 15_000 });
    await toast.hover();
    await toast.locator('.codicon-notifications-clear').click().catch(() => {});
  });

  await test('Explain Routing Decisions opens a webview that lists every role and its route', async () => {
    await runCommand('Switchyard: Explain Routing Decisions');
    const view = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    await view.locator('#roles tbody tr').first().waitFor({ timeout: 30_000 });
    const rows = await view.locator('#roles tbody tr').count();
    if (rows !== 10) throw new Error(`expected 10 roles, saw ${rows}`);
    const judge = await view.locator('#roles tr[data-role="judge"]').innerText();
    if (!/openai\/gpt-5\.1 \(high\)/.test(judge)) throw new Error(`judge row: ${judge}`);
    const impl = await view.locator('#roles tr[data-role="implementer"]').innerText();
    if (!/Qwen3-Coder-30B-A3B/.test(impl) || !/deepseek/.test(impl)) throw new Error(`implementer row: ${impl}`);
    const source = await view.locator('#policy-source').innerText();
    if (!/Policy 2\.0\.0 from bundled/.test(source)) throw new Error(`policy source: ${source}`);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(OUTPUT, 'explain-routing.png') });
  });

  await test('right-click in a Rust file offers "Implement with Reflex Lane"', async () => {
    await page.keyboard.press('Control+P');
    await palette.waitFor({ state: 'visible', timeout: 10_000 });
    await palette.fill('lib.rs');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'lib.rs' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const lines = page.locator('.monaco-editor .view-lines', { hasText: 'pub fn tokenize' }).first();
    await lines.waitFor({ timeout: 15_000 });
    await lines.click({ button: 'right' });
    const item = page.locator('.context-view .action-label', { hasText: 'Implement with Reflex Lane' }).first();
    await item.waitFor({ state: 'visible', timeout: 10_000 });
    await page.screenshot({ path: join(OUTPUT, 'context-menu.png') });
    await page.keyboard.press('Escape');
  });
  await test('Classify Current Changes lists the risk evidence and jumps to its line', async () => {
    const lib = join(dir, 'ws', 'crates', 'core', 'src', 'lib.rs');
    writeFileSync(lib, readFileSync(lib, 'utf8').replace('pub fn word_counts(text: &str)', 'pub fn word_counts(text: &str, min: usize)'));
    await runCommand('Switchyard: Classify Current Changes');
    const title = page.locator('.quick-input-widget .quick-input-title', { hasText: 'Lane cloud · high risk' });
    await title.waitFor({ timeout: 30_000 });
    const item = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'public_api' }).first();
    await item.waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(OUTPUT, 'classify-changes.png') });
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active', { hasText: 'lib.rs' }).waitFor({ timeout: 15_000 });
  });
  await test('the local model server starts from the status bar and becomes ready', async () => {
    await statusItem('Local: stopped').click();
    await statusItem('Local: ready').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'local model server ready' }).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(OUTPUT, 'runtime-ready.png') });
    await runCommand('Switchyard: Stop Local Model Server');
    await statusItem('Local: stopped').waitFor({ state: 'visible', timeout: 20_000 });
  });
} finally {
  await browser.close();
  server.stop();
}
const passed = results.filter(([, ok]) => ok).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length && results.length > 0 ? 0 : 1);
