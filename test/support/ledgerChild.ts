// A separate process using the ledger, for the race and crash tests. Usage:
//   node child.js race LEDGER CAP_USD PICO       reserve PICO until refused; print each id it got
//   node child.js commits LEDGER                 reserve+commit forever, printing each committed id after it returns
import { Ledger } from '../../src/core/budget/ledger.js';
import type { Policy } from '../../src/core/policy/schema.js';

const [mode, path, capUsd, pico] = process.argv.slice(2);
const policy = {
  budget: { currency: 'USD', caps: [{ id: 'daily', scope: 'global', period: 'day', usd: Number(capUsd ?? 1e9) }] },
} as unknown as Policy;
const ledger = new Ledger(path!, () => policy);
const req = {
  role: 'architect' as const,
  tier: 'cloud_quality',
  provider: 'anthropic' as const,
  model: 'claude-sonnet-4-6',
  task_id: null,
};

void (async () => {
  if (mode === 'race') {
    for (;;) {
      const r = await ledger.reserve({ ...req, pico: Number(pico) });
      if (!r.ok) break;
      process.stdout.write(`${r.id}\n`);
    }
    return;
  }
  for (let i = 0; ; i++) {
    const r = await ledger.reserve({ ...req, pico: 1_000 });
    if (!r.ok) throw new Error(r.message);
    ledger.commit(r.id, 500 + (i % 7), {
      input_tokens: 10,
      cached_input_tokens: 0,
      cache_write_5m_tokens: 0,
      cache_write_1h_tokens: 0,
      output_tokens: 5,
      reasoning_tokens: 0,
      reported: true,
    });
    process.stdout.write(`${r.id}\n`);
  }
})();
