// The two status bar items. Each is a pure view of one state value: render() has no side effects.
import * as vscode from 'vscode';
import type { Policy } from '../core/policy/schema.js';

export interface BudgetView { spentUsd: number; cap: { id: string; usd: number; period: string } | null; perRole: Record<string, number> }
export interface RuntimeView { state: 'stopped' | 'starting' | 'ready' | 'unavailable'; model: string; localOnly: boolean }

const money = (n: number) => `$${n.toFixed(2)}`;

/** The tightest active cap: the one with the least room left (ties: the smaller cap, then the id). */
export function budgetView(policy: Policy, spentByCap: Record<string, number> = {}): BudgetView {
  const caps = policy.budget.caps.filter((c) => c.scope === 'global' && c.period !== 'task');
  const sorted = [...caps].sort((a, b) => (a.usd - (spentByCap[a.id] ?? 0)) - (b.usd - (spentByCap[b.id] ?? 0)) || a.usd - b.usd || a.id.localeCompare(b.id));
  const cap = sorted[0];
  return { spentUsd: cap ? spentByCap[cap.id] ?? 0 : 0, cap: cap ? { id: cap.id, usd: cap.usd, period: cap.period } : null, perRole: {} };
}

export function renderBudget(item: vscode.StatusBarItem, v: BudgetView, policy: Policy): void {
  const ratio = v.cap && v.cap.usd > 0 ? v.spentUsd / v.cap.usd : 0;
  item.text = `$(credit-card) ${money(v.spentUsd)} / ${v.cap ? money(v.cap.usd) : '—'}`;
  item.backgroundColor = ratio >= 1 ? new vscode.ThemeColor('statusBarItem.errorBackground')
    : ratio >= 0.8 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Switchyard budget** (GR-011)\n\n`);
  md.appendMarkdown(v.cap ? `Tightest cap: \`${v.cap.id}\` (${v.cap.period}) — ${money(v.spentUsd)} of ${money(v.cap.usd)}\n\n` : 'No global cap in the policy.\n\n');
  for (const c of policy.budget.caps) md.appendMarkdown(`- \`${c.id}\`: ${money(c.usd)} per ${c.period}${c.target ? ` (${c.scope} ${c.target})` : ''}\n`);
  md.appendMarkdown('\nLocal calls are never blocked by a budget.');
  item.tooltip = md;
}

export function renderRuntime(item: vscode.StatusBarItem, v: RuntimeView): void {
  const icon = v.state === 'ready' ? '$(server-process)' : v.state === 'starting' ? '$(loading~spin)' : '$(server)';
  item.text = `${icon} ${v.localOnly ? 'Local only · ' : ''}${v.state === 'ready' ? 'Local' : `Local: ${v.state}`}`;
  item.tooltip = `Switchyard local model server: ${v.state}\nModel: ${v.model}${v.localOnly ? '\nlocal_only is on: no cloud calls (GR-009)' : ''}\nClick to start it.`;
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

  update(policy: Policy, localOnly: boolean): void {
    renderBudget(this.budget, budgetView(policy), policy);
    renderRuntime(this.runtime, { state: 'stopped', model: policy.models[policy.runtime.model]!.label, localOnly });
    this.budget.show();
    this.runtime.show();
  }

  dispose(): void { this.budget.dispose(); this.runtime.dispose(); }
}
