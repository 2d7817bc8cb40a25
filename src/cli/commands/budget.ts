// switchyard budget: spend per cap, reservations in flight, the month-end projection (JSON).
import { join } from 'node:path';
import { Ledger } from '../../core/budget/ledger.js';
import { budgetReport } from '../../core/budget/report.js';
import { EXIT, printJson } from '../io.js';
import { resolvePolicy } from '../policyFile.js';
import { stateDir } from '../state.js';

export function budgetCommand(o: { state?: string; policy?: string; task?: string }): number {
  const { policy } = resolvePolicy(o.policy);
  const ledger = new Ledger(join(stateDir(o.state), 'ledger.jsonl'), () => policy);
  printJson({
    ...budgetReport(ledger, policy, o.task ?? null),
    ledger: ledger.path,
    ...(ledger.torn.length
      ? { warnings: [`${ledger.torn.length} torn line(s) in the ledger were skipped (a process ended mid-write)`] }
      : {}),
  });
  return EXIT.ok;
}
