// Issue 8's figures are measured in a real VS Code by the UI tests (npm test): this prints the last run's,
// with when they were taken, rather than starting a workbench here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './router.js';

export function benchWebviews(file = join(process.cwd(), 'test-output', 'webview-figures.json')): Figure[] {
  if (!existsSync(file))
    return [{ name: 'webview figures', value: 'none yet: run npm test (its UI tests measure them in a real VS Code)' }];
  const f = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number | boolean | number[]>;
  const when = statSync(file).mtime.toISOString();
  const n = (k: string) => Number(f[k]);
  const versus = (d: number) => (d >= 0 ? `${d} ms above` : `${-d} ms below`);
  const all =
    n('stream_tokens_rendered') === n('stream_tokens') &&
    f.stream_in_order === true &&
    n('stream_chars') === n('stream_chars_expected');
  return [
    { name: 'from the last UI test run', value: `${when} (test-output/webview-figures.json)` },
    {
      name: `Tutor stream at ${n('stream_rate_tok_s')} tok/s, tokens rendered in order`,
      value: `${n('stream_tokens_rendered')} of ${n('stream_tokens')}, ${n('stream_chars')} of ${n('stream_chars_expected')} chars, ${n('stream_batches')} batches, ${n('stream_frames')} DOM updates`,
      goal: 'no dropped token, batched per frame',
      ok: all && n('stream_frames') < n('stream_tokens'),
    },
    {
      name: 'a fresh panel, Enter in the palette to its first paint with content, median of 5',
      value: `Tutor ${n('tutor_open_ms')} ms, plan review ${n('plan_open_ms')} ms; this VS Code's floor, a bare webview: ${n('bare_open_ms')} ms here, ${n('bare_beside_open_ms')} ms to the side (runs: Tutor ${String(f.tutor_open_runs_ms)}; plan ${String(f.plan_open_runs_ms)}; bare ${String(f.bare_open_runs_ms)}; bare to the side ${String(f.bare_beside_open_runs_ms)})`,
    },
    {
      name: 'fresh Tutor panel (it opens to the side)',
      value: `${n('tutor_open_ms')} ms, ${versus(n('tutor_open_ms') - n('bare_beside_open_ms'))} the bare webview to the side`,
      goal: '< 300 ms',
      ok: n('tutor_open_ms') < 300,
    },
    {
      name: 'fresh plan review panel',
      value: `${n('plan_open_ms')} ms, ${versus(n('plan_open_ms') - n('bare_open_ms'))} the bare webview`,
      goal: '< 300 ms',
      ok: n('plan_open_ms') < 300,
    },
    {
      name: 'a panel in a background tab, the command to its view shown (not reloaded), median of 5',
      value: `Tutor ${n('tutor_reveal_ms')} ms, plan review ${n('plan_reveal_ms')} ms, bare webview ${n('bare_reveal_ms')} ms (runs: Tutor ${String(f.tutor_reveal_runs_ms)}; plan ${String(f.plan_reveal_runs_ms)}; bare ${String(f.bare_reveal_runs_ms)})`,
    },
    {
      name: 'Tutor brought back',
      value: `${n('tutor_reveal_ms')} ms`,
      goal: '< 300 ms',
      ok: n('tutor_reveal_ms') < 300,
    },
    {
      name: 'plan review brought back',
      value: `${n('plan_reveal_ms')} ms`,
      goal: '< 300 ms',
      ok: n('plan_reveal_ms') < 300,
    },
    {
      name: "the first Tutor and plan panels of the window, the host's command to the view's ready",
      value: `Tutor ${n('tutor_open_host_ms')} ms (the view's own load ${n('tutor_view_load_ms')} ms), plan ${n('plan_open_host_ms')} ms (${n('plan_view_load_ms')} ms)`,
    },
  ];
}
