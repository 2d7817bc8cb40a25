// npm run bench: the figures the issues ask for, printed as one table.
import { benchAgent } from './agent.js';
import { benchCalls } from './calls.js';
import { benchClassifier } from './classifier.js';
import { benchLedger } from './ledger.js';
import { benchRuntime } from './runtime.js';
import { benchExtension } from './extension.js';
import { benchRouter, type Figure } from './router.js';
import { benchWebviews } from './webviews.js';
import { benchRetrieval } from './retrieval.js';
import { benchCaching } from './caching.js';
import { benchEditHistory } from './editHistory.js';

const only = process.env.BENCH_ONLY;
const sections: [string, () => Figure[] | Promise<Figure[]>][] = [
  ['router (issue 2)', () => benchRouter()],
  ['extension (issue 3)', () => benchExtension()],
  ['classifier (issue 4)', () => benchClassifier()],
  ['model calls (issue 5)', () => benchCalls()],
  ['budget ledger (issue 6)', () => benchLedger()],
  ['local runtime (issue 7)', () => benchRuntime()],
  ['webviews (issue 8, measured by the UI tests)', () => benchWebviews()],
  ['stage 0 retrieval (issue 11)', () => benchRetrieval()],
  ['agent (issue 21)', () => benchAgent()],
  ['prompt caching (issue 31)', () => benchCaching()],
  ['edit history (issue 31)', () => benchEditHistory()],
];

for (const [title, run] of sections) {
  if (only && !title.includes(only)) continue;
  console.log(`\n## ${title}`);
  for (const f of await run()) {
    const goal = f.goal ? `  (goal ${f.goal}: ${f.ok ? 'met' : 'NOT met'})` : '';
    console.log(`${f.name.padEnd(58)} ${f.value}${goal}`);
  }
}
