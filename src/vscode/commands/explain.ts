// "Switchyard: Explain Routing Decisions": how each role routes under the effective policy, and the
// recent decisions from the audit log, in a webview.
import * as vscode from 'vscode';
import type { AuditLog } from '../../core/evidence/auditLog.js';
import { FromExplainView, type ExplainRow, type ToExplainView } from '../../core/protocol/explain.js';
import { explainRoles } from '../../core/router/explain.js';
import type { RouteDecision } from '../../core/router/types.js';
import { config } from '../config.js';
import type { PolicyService } from '../policyService.js';
import { webviewHtml, webviewOptions } from '../webviewHtml.js';

export const EXPLAIN_VIEW_TYPE = 'switchyard.explain';

const row = (title: string, d: RouteDecision): ExplainRow => ({
  role: d.role, title, rule: d.rule,
  route: d.refused ? 'refused' : d.location === 'none' ? `deterministic (${d.model})` : `${d.provider}/${d.model}${d.reasoning_effort ? ` (${d.reasoning_effort})` : ''} · ${d.location} · ${d.tier}`,
  fallbacks: d.fallbacks.map((f) => `${f.provider}/${f.model}`).join(' → ') || '—',
  reasons: d.reasons.join('; '), guardrails: d.guardrails.join(' '),
  refused: d.refused ? `${d.refused.guardrail ?? 'policy'}: ${d.refused.message}` : null, audit: d.audit,
});

export class ExplainPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly policy: PolicyService, private readonly audit: AuditLog,
    private readonly log: vscode.LogOutputChannel, private readonly isLocalOnly: () => boolean) {
    this.disposables.push(policy.onDidChange(() => this.post()));
  }

  show(): void {
    if (this.panel) { this.panel.reveal(); this.post(); return; }
    this.attach(vscode.window.createWebviewPanel(EXPLAIN_VIEW_TYPE, 'Switchyard: Routing', vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
  }

  /** Also used by the serializer to restore the panel after a reload. */
  attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'explain', 'Switchyard: Routing');
    panel.webview.onDidReceiveMessage((raw) => this.receive(raw), undefined, this.disposables);
    panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.disposables);
  }

  private receive(raw: unknown): void {
    const msg = FromExplainView.safeParse(raw);
    if (!msg.success) { this.log.warn(`explain view: dropped an invalid message: ${JSON.stringify(raw)?.slice(0, 200)}`); return; }
    switch (msg.data.type) {
      case 'ready': this.ready = true; this.post(); break;
      case 'refresh': this.post(); break;
      case 'openPolicy': void vscode.commands.executeCommand('switchyard.policy.open'); break;
    }
  }

  private post(): void {
    if (!this.panel || !this.ready) return;
    const s = this.policy.current;
    const localOnly = this.isLocalOnly();
    const roles = explainRoles(s.policy, { local_only_setting: localOnly }).map((e) => row(e.title, e.decision));
    const recent = this.audit.read().slice(-config.explainMaxDecisions()).reverse()
      .map((e) => ({ ts: e.ts, audit: e.audit, rule: e.decision?.rule ?? e.kind, role: e.decision?.role ?? e.role ?? '' }));
    const rejected = s.rejected ? `${s.rejected.source}: ${s.rejected.problems[0]?.field ?? ''} ${s.rejected.problems[0]?.reason ?? ''} (line ${s.rejected.problems[0]?.line ?? 0})` : null;
    const state: ToExplainView = { type: 'state', policySource: s.source, policyVersion: s.policy.policy_version, localOnly: localOnly || s.policy.local_only, rejected, roles, recent };
    void this.panel.webview.postMessage(state);
  }

  dispose(): void { this.panel?.dispose(); for (const d of this.disposables.splice(0)) d.dispose(); }
}
