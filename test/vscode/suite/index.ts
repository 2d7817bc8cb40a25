// Entry of the extension-host tests (the extensionTestsPath contract of @vscode/test-electron):
// mocha inside VS Code's Node extension host. Results also go to $SWITCHYARD_TEST_RESULTS for the summary line.
import { writeFileSync } from 'node:fs';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // SWITCHYARD_TEST_GREP runs only the tests whose title matches (development; CI runs them all).
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: 120_000,
    reporter: 'spec',
    ...(process.env.SWITCHYARD_TEST_GREP ? { grep: process.env.SWITCHYARD_TEST_GREP } : {}),
  });
  mocha.suite.emit('pre-require', globalThis, 'switchyard-suite', mocha);
  require('./extension.test');
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    const runner = mocha.run((failures) => {
      const out = process.env.SWITCHYARD_TEST_RESULTS;
      if (out) writeFileSync(out, JSON.stringify({ passed, failed }));
      failures > 0 ? reject(new Error(`${failures} extension-host tests failed`)) : resolve();
    });
    runner.on('pass', () => {
      passed++;
    });
    runner.on('fail', () => {
      failed++;
    });
  });
}
