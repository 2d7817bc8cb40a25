// The two status bar items. Each is a pure view of one state value: render() has no side effects.
import * as vscode from 'vscode';
import type { Policy } from '../core/policy/schema.js';
import type { BudgetReport } from '../core/budget/report.js';
import { usd } from '../core/util/money.js';

export interface BudgetView {
  spentUsd: number;
  cap: { id: string; usd: number; period: string } | null;
  perRole: Record<string, number>;
}
export interface RuntimeView {
  state: 'stopped' | 'starting' | 'ready' | 'unavailable';
  model: string;
  localOnly: boolean;
}

/** The tightest active cap: the one with the least room left (ties: the smaller cap, then the id). */
export function budgetView(policy: Policy, spentByCap: Record<string, number> = {}): BudgetView {
  const caps = policy.budget.caps.filter((c) => c.scope === 'global' && c.period !== 'task');
  const sorted = [...caps].sort(
    (a, b) =>
      a.usd - (spentByCap[a.id] ?? 0) - (b.usd - (spentByCap[b.id] ?? 0)) || a.usd - b.usd || a.id.localeCompare(b.id),
  );
  const cap = sorted[0];
  return {
    spentUsd: cap ? (spentByCap[cap.id] ?? 0) : 0,
    cap: cap ? { id: cap.id, usd: cap.usd, period: cap.period } : null,
    perRole: {},
  };
}

/** The meter: spend (committed plus in flight) against the tightest active cap; colours from 80 % and 100 %. */
export function renderBudget(
  item: vscode.StatusBarItem,
  v: BudgetView,
  policy: Policy,
  report: BudgetReport | null = null,
): void {
  const t = report?.tightest ?? null;
  const used = t ? t.spent_usd + t.reserved_usd : v.spentUsd;
  const capUsd = t ? t.cap_usd : v.cap?.usd;
  const ratio = capUsd && capUsd > 0 ? used / capUsd : 0;
  item.text = `$(credit-card) ${usd(used)} / ${capUsd !== undefined ? usd(capUsd) : '—'}`;
  item.backgroundColor =
    ratio >= 1
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : ratio >= 0.8
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Switchyard budget** (GR-011)\n\n`);
  if (t)
    md.appendMarkdown(
      `Tightest cap: \`${t.id}\` (${t.period}${t.target ? `, ${t.scope} ${t.target}` : ''}): ${usd(t.spent_usd)} ` +
        `spent${t.reserved_usd > 0 ? ` + ${usd(t.reserved_usd)} in flight` : ''} of ${usd(t.cap_usd)} ` +
        `(${Math.round(ratio * 100)} %)\n\n`,
    );
  else
    md.appendMarkdown(
      v.cap
        ? `Tightest cap: \`${v.cap.id}\` (${v.cap.period}): ${usd(v.spentUsd)} of ${usd(v.cap.usd)}\n\n`
        : 'No global cap in the policy.\n\n',
    );
  if (report) {
    md.appendMarkdown(
      `Today: ${usd(report.today.spent_usd)} · This month: ${usd(report.month.spent_usd)}` +
        (report.task ? ` · Task \`${report.task.id}\`: ${usd(report.task.spent_usd)}` : '') +
        '\n\n',
    );
    const roles = Object.entries(report.month.by_role).sort((a, b) => b[1] - a[1]);
    if (roles.length)
      md.appendMarkdown(`Per role this month: ${roles.map(([r, spent]) => `${r} ${usd(spent)}`).join(', ')}\n\n`);
    if (report.in_flight.length) md.appendMarkdown(`${report.in_flight.length} reservation(s) in flight\n\n`);
    md.appendMarkdown(`Month-end projection: ${usd(report.projection.month_end_usd)}\n\n`);
  } else {
    for (const c of policy.budget.caps)
      md.appendMarkdown(`- \`${c.id}\`: ${usd(c.usd)} per ${c.period}${c.target ? ` (${c.scope} ${c.target})` : ''}\n`);
  }
  md.appendMarkdown('\nLocal calls are never blocked by a budget. Click for the Budget view.');
  item.tooltip = md;
}

export function renderRuntime(item: vscode.StatusBarItem, v: RuntimeView): void {
  const icon = v.state === 'ready' ? '$(server-process)' : v.state === 'starting' ? '$(loading~spin)' : '$(server)';
  item.text = `${icon} ${v.localOnly ? 'Local only · ' : ''}${v.state === 'ready' ? 'Local' : `Local: ${v.state}`}`;
  item.tooltip =
    `Switchyard local model server: ${v.state}\nModel: ${v.model}` +
    (v.localOnly ? '\nlocal_only is on: no cloud calls (GR-009)' : '') +
    '\nClick to start it.';
  item.backgroundColor = undefined;
}

export class StatusBar implements vscode.Disposable {
  readonly budget = vscode.window.createStatusBarItem('switchyard.budget', vscode.StatusBarAlignment.Right, 100);
  readonly runtime = vscode.window.createStatusBarItem('switchyard.runtime', vscode.StatusBarAlignment.Right, 99);

  constructor() {
    this.budget.name = 'Switchyard Budget';
    this.budget.command = 'switchyard.budget.show';
    this.runtime.name = 'Switchyard Local Model';
    this.runtime.command = 'switchyard.runtime.start';
  }

  private report: BudgetReport | null = null;

  /** A fresh report from the ledger (after a call, or when another window or the CLI wrote to it). */
  setReport(report: BudgetReport, policy: Policy): void {
    this.report = report;
    renderBudget(this.budget, budgetView(policy), policy, report);
  }

  /** Once the runtime service exists it renders its own item. */
  runtimeOwner: { render(): void } | null = null;

  update(policy: Policy, localOnly: boolean): void {
    renderBudget(this.budget, budgetView(policy), policy, this.report);
    if (this.runtimeOwner) this.runtimeOwner.render();
    else
      renderRuntime(this.runtime, { state: 'stopped', model: policy.models[policy.runtime.model]!.label, localOnly });
    this.budget.show();
    this.runtime.show();
  }

  dispose(): void {
    this.budget.dispose();
    this.runtime.dispose();
  }
}
