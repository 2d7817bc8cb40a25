// What the budget meter, the Budget view and `switchyard budget` show: spend per cap, the tightest cap,
// spend per day / role / provider, the costliest tasks, reservations in flight and the month-end projection.
import type { Policy } from '../policy/schema.js';
import { picoToUsd } from './cost.js';
import { dayOf, monthOf } from './calendar.js';
import type { Ledger } from './ledger.js';

export interface CapLine {
  id: string;
  scope: string;
  target: string | null;
  period: string;
  cap_usd: number;
  spent_usd: number;
  reserved_usd: number;
  ratio: number;
}
export interface BudgetReport {
  as_of: string;
  currency: 'USD';
  caps: CapLine[];
  tightest: CapLine | null;
  today: { day: string; spent_usd: number; by_role: Record<string, number>; by_provider: Record<string, number> };
  month: {
    month: string;
    spent_usd: number;
    by_role: Record<string, number>;
    by_provider: Record<string, number>;
    tokens_in: number;
    tokens_out: number;
    local_tokens: number;
  };
  task: { id: string; spent_usd: number } | null;
  per_day: { day: string; spent_usd: number }[];
  top_tasks: { task: string; spent_usd: number; calls: number }[];
  in_flight: { id: string; role: string; provider: string; model: string; reserved_usd: number; age_s: number }[];
  projection: { month_end_usd: number; method: string; monthly_cap_usd: number | null };
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** Each cap in force for this task (task caps only with a task): spent, in flight, and how full. */
function capLines(ledger: Ledger, policy: Policy, taskId: string | null): CapLine[] {
  return policy.budget.caps.flatMap((c) => {
    if (c.period === 'task' && !taskId) return [];
    const u = ledger.capUse(c, taskId);
    const spent = picoToUsd(u.spent),
      held = picoToUsd(u.held);
    return [
      {
        id: c.id,
        scope: c.scope,
        target: c.target ?? null,
        period: c.period,
        cap_usd: c.usd,
        spent_usd: round(spent),
        reserved_usd: round(held - spent),
        ratio: c.usd > 0 ? held / c.usd : 1,
      },
    ];
  });
}

/** Month-end: what is spent so far plus the average of the last 7 days (or the days so far) for each day left. */
function projection(now: number, perDay: Map<string, number>, monthPico: number) {
  const d = new Date(now);
  const dayOfMonth = d.getDate();
  const daysInMonth = new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate();
  const window = Math.min(7, dayOfMonth);
  let recent = 0;
  for (let i = 0; i < window; i++) recent += perDay.get(dayOf(now - i * 86_400_000)) ?? 0;
  const projected = picoToUsd(monthPico) + (picoToUsd(recent) / window) * (daysInMonth - dayOfMonth);
  return { projected, window, daysLeft: daysInMonth - dayOfMonth };
}

export function budgetReport(ledger: Ledger, policy: Policy, taskId: string | null, now = Date.now()): BudgetReport {
  ledger.refresh();
  const today = dayOf(now),
    month = monthOf(now);
  const caps = capLines(ledger, policy, taskId);
  const tightest = caps.reduce<CapLine | null>((a, c) => (!a || c.ratio > a.ratio ? c : a), null);
  const b = ledger.books();
  const money = (rec: Record<string, number> | undefined) =>
    Object.fromEntries(
      Object.entries(rec ?? {})
        .filter(([, v]) => v !== 0)
        .map(([k, v]) => [k, round(picoToUsd(v))]),
    );
  const perDay = new Map<string, number>(Object.entries(b.day).map(([d, a]) => [d, a.total]));
  const m = b.month[month];
  const monthPico = m?.total ?? 0;
  const taskPico = taskId ? (b.task[taskId]?.total ?? 0) : 0;
  const inFlight: BudgetReport['in_flight'] = [...ledger.open.values()].map((e) => ({
    id: e.id,
    role: e.role,
    provider: e.provider,
    model: e.model,
    reserved_usd: round(picoToUsd(e.pico)),
    age_s: Math.round((now - e.ts) / 1000),
  }));
  const { projected, window, daysLeft } = projection(now, perDay, monthPico);
  const monthlyCap = policy.budget.caps.find((c) => c.scope === 'global' && c.period === 'month')?.usd ?? null;
  return {
    as_of: new Date(now).toISOString(),
    currency: 'USD',
    caps,
    tightest,
    today: {
      day: today,
      spent_usd: round(picoToUsd(perDay.get(today) ?? 0)),
      by_role: money(b.day[today]?.role),
      by_provider: money(b.day[today]?.provider),
    },
    month: {
      month,
      spent_usd: round(picoToUsd(monthPico)),
      by_role: money(m?.role),
      by_provider: money(m?.provider),
      tokens_in: m?.tin ?? 0,
      tokens_out: m?.tout ?? 0,
      local_tokens: m?.local ?? 0,
    },
    task: taskId ? { id: taskId, spent_usd: round(picoToUsd(taskPico)) } : null,
    per_day: [...perDay]
      .filter(([k]) => k.startsWith(month) || k >= dayOf(now - 30 * 86_400_000))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, p]) => ({ day, spent_usd: round(picoToUsd(p)) })),
    top_tasks: Object.entries(b.task)
      .sort((x, y) => y[1].total - x[1].total)
      .slice(0, 10)
      .map(([task, t]) => ({ task, spent_usd: round(picoToUsd(t.total)), calls: t.calls })),
    in_flight: inFlight,
    projection: {
      month_end_usd: round(projected),
      method: `month to date + mean of the last ${window} day(s) x ${daysLeft} day(s) left`,
      monthly_cap_usd: monthlyCap,
    },
  };
}
