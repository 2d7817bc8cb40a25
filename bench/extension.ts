import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import type { Figure } from './router.js';

const kb = (f: string) => statSync(f).size / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Bundle sizes of the production build, and activate() time over fresh processes. */
export function benchExtension(samples = 15): Figure[] {
  execFileSync(process.execPath, ['esbuild.config.mjs', '--production'], { stdio: 'inherit' });
  const figures: Figure[] = [
    {
      name: 'bundle dist/extension.js (minified, no grammars)',
      value: `${kb('dist/extension.js').toFixed(1)} KB`,
      goal: '< 1 MB',
      ok: kb('dist/extension.js') < 1024,
    },
    { name: 'bundle dist/cli.js', value: `${kb('dist/cli.js').toFixed(1)} KB` },
    ...readdirSync('dist/media')
      .filter((f) => f.endsWith('.js'))
      .map((f) => ({ name: `bundle dist/media/${f} (webview)`, value: `${kb(`dist/media/${f}`).toFixed(1)} KB` })),
  ];
  const runs = Array.from({ length: samples }, () =>
    JSON.parse(
      execFileSync(process.execPath, ['bench/activation-probe.cjs', 'dist/extension.js'], { encoding: 'utf8' }),
    ),
  );
  const act = median(runs.map((r) => r.activateMs));
  figures.push(
    {
      name: `require(dist/extension.js), median of ${samples} fresh processes`,
      value: `${median(runs.map((r) => r.requireMs)).toFixed(2)} ms`,
    },
    {
      name: `activate(), median of ${samples} fresh processes`,
      value: `${act.toFixed(2)} ms`,
      goal: '< 50 ms',
      ok: act < 50,
    },
    {
      name: 'activate() + require, worst sample',
      value: `${Math.max(...runs.map((r) => r.activateMs + r.requireMs)).toFixed(2)} ms`,
    },
  );
  execFileSync(process.execPath, ['esbuild.config.mjs'], { stdio: 'inherit' }); // back to the development build
  return figures;
}
