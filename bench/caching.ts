// Issue 31: what prompt caching saves on a scripted 20-turn cloud task (test/support/cachedTask.ts: the real agent,
// call path and ledger, Claude Sonnet 4.6 over Anthropic's wire). The same task twice: on the Anthropic test server
// whose prompt cache honours cache_control as the API documents it, and on one that ignores cache_control (every
// input token billed at the input price). Both costs are the ledger's.
import { runCachedTask, TASK_MODEL, TURNS } from '../test/support/cachedTask.js';
import { PromptCache } from '../test/support/promptCache.js';
import { anthropicServer } from '../test/support/wireServers.js';
import type { Figure } from './router.js';

const usd = (x: number) => `$${x.toFixed(4)}`;

export async function benchCaching(): Promise<Figure[]> {
  const cached = await anthropicServer();
  const plain = await anthropicServer(new PromptCache(false));
  try {
    const withCache = await runCachedTask(cached, { taskId: 'T-bench' });
    const without = await runCachedTask(plain, { taskId: 'T-bench' });
    const ratio = withCache.ledger_usd / without.ledger_usd;
    const input = withCache.turns.reduce(
      (s, t) =>
        s +
        t.usage.input_tokens +
        t.usage.cached_input_tokens +
        t.usage.cache_write_5m_tokens +
        t.usage.cache_write_1h_tokens,
      0,
    );
    const read = withCache.turns.reduce((s, t) => s + t.usage.cached_input_tokens, 0);
    const written = withCache.turns.reduce((s, t) => s + t.usage.cache_write_5m_tokens, 0);
    return [
      {
        name: `${TURNS}-turn cloud task (${TASK_MODEL}): cost with / without caching`,
        value: `${usd(withCache.ledger_usd)} / ${usd(without.ledger_usd)} = ${ratio.toFixed(3)}x`,
        goal: '<= 0.35x',
        ok: ratio <= 0.35,
      },
      {
        name: '  share of its input tokens read from the cache',
        value: `${((100 * read) / input).toFixed(1)} % (${read} of ${input}; ${written} written)`,
        goal: 'most (> 50 %)',
        ok: read / input > 0.5,
      },
      {
        name: '  the same tokens priced uncached (check on the ledger)',
        value: `${usd(withCache.uncached_usd)} (ledger without caching ${usd(without.ledger_usd)})`,
      },
    ];
  } finally {
    await Promise.all([cached.close(), plain.close()]);
  }
}
