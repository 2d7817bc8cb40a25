// npm run test:electron: the same extension-host suite through @vscode/test-electron, the launcher the
// ecosystem expects. It downloads desktop VS Code, so it needs a machine with internet access.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const workspace = mkdtempSync(join(tmpdir(), 'switchyard-demo-'));
  cpSync(join(root, 'demo'), workspace, { recursive: true });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist', 'test', 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((e) => {
  console.error(`extension tests failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
