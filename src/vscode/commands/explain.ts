// "Switchyard: Explain Routing Decisions": how each role routes under the effective policy, and the
// recent decisions from the audit log, in a webview.
import * as vscode from 'vscode';
import type { AuditLog } from '../../core/evidence/auditLog.js';
import { FromExplainView, type ExplainRow, type ToExplainView } from '../../core/protocol/explain.js';
import { explainRoles } from '../../core/router/explain.js';
import type { RouteDecision } from '../../core/router/types.js';
import { config } from '../config.js';
import type { PolicyService } from '../policyService.js';
import { PanelHost } from '../panelHost.js';

export const EXPLAIN_VIEW_TYPE = 'switchyard.explain';

const row = (title: string, d: RouteDecision): ExplainRow => ({
  role: d.role,
  title,
  rule: d.rule,
  route: d.refused
    ? 'refused'
    : d.location === 'none'
      ? `deterministic (${d.model})`
      : `${d.provider}/${d.model}${d.reasoning_effort ? ` (${d.reasoning_effort})` : ''} · ${d.location} · ${d.tier}`,
  fallbacks: d.fallbacks.map((f) => `${f.provider}/${f.model}`).join(' → ') || '—',
  reasons: d.reasons.join('; '),
  guardrails: d.guardrails.join(' '),
  refused: d.refused ? `${d.refused.guardrail ?? 'policy'}: ${d.refused.message}` : null,
  audit: d.audit,
});

export class ExplainPanel extends PanelHost<FromExplainView, ToExplainView> {
  constructor(
    extensionUri: vscode.Uri,
    private readonly policy: PolicyService,
    private readonly audit: AuditLog,
    log: vscode.LogOutputChannel,
    private readonly isLocalOnly: () => boolean,
  ) {
    super(extensionUri, log, {
      type: EXPLAIN_VIEW_TYPE,
      script: 'explain',
      title: 'Switchyard: Routing',
      incoming: FromExplainView,
    });
    this.disposables.push(policy.onDidChange(() => this.post()));
  }

  protected onMessage(msg: FromExplainView): void {
    switch (msg.type) {
      case 'refresh':
        this.post();
        break;
      case 'openPolicy':
        void vscode.commands.executeCommand('switchyard.policy.open');
        break;
    }
  }

  protected state(): ToExplainView {
    const s = this.policy.current;
    const localOnly = this.isLocalOnly();
    const roles = explainRoles(s.policy, { local_only_setting: localOnly }).map((e) => row(e.title, e.decision));
    const recent = this.audit
      .read()
      .slice(-config.explainMaxDecisions())
      .reverse()
      .map((e) => ({
        ts: e.ts,
        audit: e.audit,
        rule: e.decision?.rule ?? e.kind,
        role: e.decision?.role ?? e.role ?? '',
      }));
    const rejected = s.rejected
      ? `${s.rejected.source}: ${s.rejected.problems[0]?.field ?? ''} ${s.rejected.problems[0]?.reason ?? ''} ` +
        `(line ${s.rejected.problems[0]?.line ?? 0})`
      : null;
    return {
      type: 'state',
      policySource: s.source,
      policyVersion: s.policy.policy_version,
      localOnly: localOnly || s.policy.local_only,
      rejected,
      roles,
      recent,
    };
  }
}
