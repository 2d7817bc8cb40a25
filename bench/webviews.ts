// Issue 8's figures are measured in a real VS Code by the UI tests (npm test): this prints the last run's,
// with when they were taken, rather than starting a workbench here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './router.js';

export function benchWebviews(file = join(process.cwd(), 'test-output', 'webview-figures.json')): Figure[] {
  if (!existsSync(file)) return [{ name: 'webview figures', value: 'none yet: run npm test (its UI tests measure them in a real VS Code)' }];
  const f = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number | boolean>;
  const when = statSync(file).mtime.toISOString();
  const n = (k: string) => Number(f[k]);
  const all = n('stream_tokens_rendered') === n('stream_tokens') && f.stream_in_order === true && n('stream_chars') === n('stream_chars_expected');
  return [
    { name: 'from the last UI test run', value: `${when} (test-output/webview-figures.json)` },
    { name: `Tutor stream at ${n('stream_rate_tok_s')} tok/s, tokens rendered in order`, value: `${n('stream_tokens_rendered')} of ${n('stream_tokens')}, ${n('stream_chars')} of ${n('stream_chars_expected')} chars, ${n('stream_batches')} batches, ${n('stream_frames')} DOM updates`, goal: 'no dropped token, batched per frame', ok: all && n('stream_frames') < n('stream_tokens') },
    { name: 'Tutor panel: command to the view\'s ready', value: `${n('tutor_open_host_ms')} ms (the view's own load ${n('tutor_view_load_ms')} ms)`, goal: '< 300 ms', ok: n('tutor_open_host_ms') < 300 },
    { name: 'plan review panel: command to the view\'s ready', value: `${n('plan_open_host_ms')} ms (the view's own load ${n('plan_view_load_ms')} ms)`, goal: '< 300 ms', ok: n('plan_open_host_ms') < 300 },
  ];
}
