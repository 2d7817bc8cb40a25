// "Switchyard: Classify Current Changes": the working tree against HEAD, measured by the classifier.
// Each flag's evidence shows in the Problems panel and in a picker that jumps to its line.
import * as vscode from 'vscode';
import type { Classification, Evidence } from '../../core/classifier/types.js';
import type { AuditLog } from '../../core/evidence/auditLog.js';
import type { Policy } from '../../core/policy/schema.js';
import { auditedDecision } from '../../core/router/audit.js';
import { route } from '../../core/router/route.js';
import type { RouteDecision } from '../../core/router/types.js';
import { stepDone } from '../walkthrough.js';

type Lazy = typeof import('../lazy.js');

export class ClassifyChanges implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('switchyard-classify');
  constructor(
    private readonly lazy: () => Lazy,
    private readonly policy: () => Policy,
    private readonly log: vscode.LogOutputChannel,
    private readonly audit: AuditLog,
    private readonly localOnly: () => boolean,
  ) {}

  /** Classifies and shows the result; returns it (the command's result, used by other features and tests). */
  async run(): Promise<Classification | undefined> {
    // The folder and trust are checked by the command table (commandTable.ts).
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const root = folder.uri.fsPath;
    const { classifyDiff, gitDiff, gitRepoReader } = this.lazy();
    let result: Classification;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Switchyard: classifying changes' },
        async () => {
          const diff = await gitDiff(root, 'HEAD');
          const reader = gitRepoReader(root, 'HEAD');
          return classifyDiff(diff, { policy: this.policy(), repo: reader }).finally(() => reader.close());
        },
      );
    } catch (e) {
      const msg =
        `Switchyard: could not read the changes of ${folder.name}: ${(e as Error).message}. Is it ` +
        `a git repository with at least one commit?`;
      this.log.error(msg);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
    this.log.info(
      `classify: ${JSON.stringify({
        lane: result.lane,
        high_risk: result.high_risk,
        flags: result.risk_flags,
        lines: result.lines_changed,
      })}`,
    );
    // The Implementer's route for this change, decided by the router and kept in the audit log.
    const decision = route({ role: 'implementer', change: { ...result } }, this.policy(), {
      local_only_setting: this.localOnly(),
    });
    try {
      this.audit.append({
        ts: new Date().toISOString(),
        kind: 'decision',
        source: 'extension',
        audit: decision.audit,
        decision: auditedDecision(decision),
      });
    } catch (e) {
      this.log.error(`audit log: ${(e as Error).message}`);
    }
    this.log.info(decision.audit);
    this.showDiagnostics(root, result.evidence);
    stepDone('classify');
    void this.pick(root, result, decision);
    return result;
  }

  private showDiagnostics(root: string, evidence: Evidence[]): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const e of evidence) {
      if (e.side === 'before' || e.line < 1) continue;
      const line = e.line - 1;
      const d = new vscode.Diagnostic(
        new vscode.Range(line, 0, line, 1000),
        `${e.flag}: ${e.why ?? e.node}`,
        vscode.DiagnosticSeverity.Information,
      );
      d.source = 'switchyard';
      d.code = e.flag;
      byFile.set(e.path, [...(byFile.get(e.path) ?? []), d]);
    }
    for (const [path, ds] of byFile) this.diagnostics.set(vscode.Uri.joinPath(vscode.Uri.file(root), path), ds);
  }

  private async pick(root: string, c: Classification, d: RouteDecision): Promise<void> {
    const target = d.refused ? `refused (${d.refused.guardrail ?? d.rule})` : `${d.provider}/${d.model}`;
    const title =
      `Lane ${c.lane}${c.high_risk ? ' · high risk' : ''} · ${c.lines_changed} lines · ${c.crates_touched.length} ` +
      `crate(s)${c.partial ? ' · partial' : ''} · Implementer → ${target}`;
    if (c.evidence.length === 0) {
      void vscode.window.showInformationMessage(`Switchyard: ${title}. No risk flag: ${c.reasons.join('; ')}`);
      return;
    }
    const items = c.evidence.map((e) => ({
      label: `$(warning) ${e.flag}`,
      description: `${e.path}${e.line ? `:${e.line}` : ''}${e.side === 'before' ? ' (removed)' : ''}`,
      detail: `${e.why ?? e.node} — ${e.text}`,
      e,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Switchyard: ${title}`,
      placeHolder: 'Evidence for each risk flag: pick one to open its line',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!picked || picked.e.side === 'before' || picked.e.line < 1) return;
    const pos = new vscode.Position(picked.e.line - 1, 0);
    await vscode.window.showTextDocument(vscode.Uri.joinPath(vscode.Uri.file(root), picked.e.path), {
      selection: new vscode.Range(pos, pos),
    });
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}
