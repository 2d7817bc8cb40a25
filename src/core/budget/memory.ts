// An in-process budget: the caps of the policy held against the spend of this process's calls.
// It enforces GR-011 for one process; the durable, shared ledger replaces it (issue 6).
import { randomUUID } from 'node:crypto';
import type { Policy, ProviderId } from '../policy/schema.js';
import type { BudgetPort } from '../providers/call.js';
import type { CapStatus } from '../router/types.js';
import { picoToUsd } from './cost.js';

interface Entry { id: string; role: string; tier: string; provider: ProviderId; task_id: string | null; pico: number; done: boolean }

export class MemoryBudget implements BudgetPort {
  private entries: Entry[] = [];
  constructor(private readonly policy: () => Policy) {}

  private applies(cap: Policy['budget']['caps'][number], e: { role: string; tier: string; task_id: string | null }, taskId: string | null) {
    if (cap.scope === 'role' && cap.target !== e.role) return false;
    if (cap.scope === 'tier' && cap.target !== e.tier) return false;
    if (cap.period === 'task') return e.task_id !== null && e.task_id === taskId;
    return true;
  }

  snapshot(taskId: string | null): CapStatus[] {
    return this.policy().budget.caps.filter((c) => c.period !== 'task' || taskId !== null).map((c) => ({
      id: c.id, scope: c.scope, ...(c.target ? { target: c.target } : {}), period: c.period, cap_usd: c.usd,
      spent_usd: picoToUsd(this.entries.filter((e) => this.applies(c, e, taskId)).reduce((n, e) => n + e.pico, 0)),
    }));
  }

  reserve(r: Parameters<BudgetPort['reserve']>[0]): ReturnType<BudgetPort['reserve']> {
    for (const c of this.policy().budget.caps) {
      if (!this.applies(c, r, r.task_id)) continue;
      const spent = this.entries.filter((e) => this.applies(c, e, r.task_id)).reduce((n, e) => n + e.pico, 0);
      if (spent + r.pico > c.usd * 1e12) {
        return { ok: false, message: `GR-011: the ${c.period === 'task' ? 'per-task' : c.period === 'day' ? 'daily' : 'monthly'} cap "${c.id}" of $${c.usd.toFixed(2)} would be passed: $${picoToUsd(spent).toFixed(4)} spent or reserved, this call's worst case is $${picoToUsd(r.pico).toFixed(4)} on ${r.provider}/${r.model}. The call is refused, not moved to a cheaper model; raise the cap in the policy, lower max tokens, or use the local lane.` };
      }
    }
    const id = randomUUID();
    this.entries.push({ id, role: r.role, tier: r.tier, provider: r.provider, task_id: r.task_id, pico: r.pico, done: false });
    return { ok: true, id };
  }

  commit(id: string, pico: number): void { const e = this.entries.find((x) => x.id === id); if (e) { e.pico = pico; e.done = true; } }
  release(id: string): void { this.entries = this.entries.filter((x) => x.id !== id); }
}
