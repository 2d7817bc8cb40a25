// §8 in the editor: diagnostics in the Markdown specs the policy names (spec_glob), and a quick fix that
// inserts the "Model & Runtime (Spec Overrides)" section filled from the effective policy.
import * as vscode from 'vscode';
import { checkSpec, isSpec, specSection } from '../core/compliance/specDocs.js';
import type { Policy } from '../core/policy/schema.js';

const SEVERITY = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
} as const;

export class SpecCompliance implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  readonly diagnostics = vscode.languages.createDiagnosticCollection('switchyard-spec');
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly policy: () => Policy) {
    this.subs.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.check(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (!this.isSpec(d)) this.diagnostics.delete(d.uri);
      }),
      vscode.languages.registerCodeActionsProvider({ language: 'markdown' }, this, {
        providedCodeActionKinds: SpecCompliance.kinds,
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.check(d);
  }

  /** Every spec of the workspace, also those not open (on activation and when the policy changes). */
  async scan(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return;
    const files = await vscode.workspace.findFiles(
      new vscode.RelativePattern(folder, this.policy().spec_compliance.spec_glob),
      '**/node_modules/**',
      2_000,
    );
    for (const uri of files) {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (open) {
        this.check(open);
        continue;
      }
      if (!this.isSpecPath(uri)) continue;
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      this.set(uri, text);
    }
  }

  private isSpecPath(uri: vscode.Uri): boolean {
    return (
      uri.scheme === 'file' &&
      vscode.workspace.getWorkspaceFolder(uri) !== undefined &&
      isSpec(this.policy(), vscode.workspace.asRelativePath(uri, false))
    );
  }

  private isSpec(d: vscode.TextDocument): boolean {
    return d.languageId === 'markdown' && this.isSpecPath(d.uri);
  }

  private check(d: vscode.TextDocument): void {
    if (this.isSpec(d)) this.set(d.uri, d.getText());
  }

  private set(uri: vscode.Uri, text: string): void {
    this.diagnostics.set(
      uri,
      checkSpec(text, this.policy()).map((p) => {
        const diag = new vscode.Diagnostic(
          new vscode.Range(p.line, 0, p.line, Number.MAX_SAFE_INTEGER),
          `${p.guardrail ? `${p.guardrail}: ` : ''}${p.message}`,
          SEVERITY[p.severity],
        );
        diag.source = 'switchyard';
        diag.code = p.code;
        return diag;
      }),
    );
  }

  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    ctx: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.code === 'spec.missing_section') {
        const fix = new vscode.CodeAction(
          'Switchyard: Insert the "Model & Runtime (Spec Overrides)" section',
          vscode.CodeActionKind.QuickFix,
        );
        const edit = new vscode.WorkspaceEdit();
        const text = doc.getText();
        edit.insert(
          doc.uri,
          doc.positionAt(text.length),
          `${text.endsWith('\n') ? '' : '\n'}\n${specSection(this.policy())}`,
        );
        fix.edit = edit;
        fix.diagnostics = [d];
        fix.isPreferred = true;
        out.push(fix);
      }
      if (d.code === 'spec.unknown_policy_version') {
        const line = doc.lineAt(d.range.start.line);
        const fix = new vscode.CodeAction(
          `Switchyard: Name the effective policy version ${this.policy().policy_version}`,
          vscode.CodeActionKind.QuickFix,
        );
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(
          doc.uri,
          line.range,
          line.text.replace(/version:\s*[^)\s]+/, `version: ${this.policy().policy_version}`),
        );
        fix.diagnostics = [d];
        out.push(fix);
      }
    }
    return out;
  }

  dispose(): void {
    this.diagnostics.dispose();
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
