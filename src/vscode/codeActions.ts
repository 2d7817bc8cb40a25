// The light bulb: "Request Judge Audit" on a selection, on a Switchyard diagnostic and on a plan; on the
// Judge's own findings also "Open Evidence", "Audit Again" and "Ask the Tutor to Explain".
import * as vscode from 'vscode';

export class JudgeCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.Refactor.append('switchyard')];

  constructor(private readonly verdictOf: (uri: string, code: string) => string | undefined = () => undefined) {}

  provideCodeActions(
    doc: vscode.TextDocument,
    range: vscode.Range | vscode.Selection,
    ctx: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const ours = ctx.diagnostics.filter((d) => d.source === 'switchyard');
    const plan = /[\\/]\.switchyard[\\/]plans[\\/][^\\/]+\.json$/.test(doc.uri.fsPath);
    if (range.isEmpty && ours.length === 0 && !plan) return [];
    const out: vscode.CodeAction[] = [];
    if (plan) {
      const a = new vscode.CodeAction('Switchyard: Request Judge Audit of this plan', JudgeCodeActions.kinds[1]);
      a.command = {
        command: 'switchyard.judge.audit',
        title: 'Request Judge Audit',
        arguments: [{ plan: doc.uri.fsPath }],
      };
      out.push(a);
    }
    const action = new vscode.CodeAction(
      'Switchyard: Request Judge Audit',
      ours.length ? vscode.CodeActionKind.QuickFix : JudgeCodeActions.kinds[1],
    );
    action.command = {
      command: 'switchyard.judge.audit',
      title: 'Request Judge Audit',
      arguments: [{ uri: doc.uri.toString(), range: { start: range.start.line, end: range.end.line } }],
    };
    action.diagnostics = ours;
    out.push(action);
    for (const d of ours.filter((x) => String(x.code ?? '').startsWith('judge-'))) {
      const verdict = this.verdictOf(doc.uri.toString(), String(d.code));
      if (verdict) {
        const open = new vscode.CodeAction("Switchyard: Open the Judge's Evidence", vscode.CodeActionKind.QuickFix);
        open.command = { command: 'vscode.open', title: 'Open Evidence', arguments: [vscode.Uri.file(verdict)] };
        open.diagnostics = [d];
        out.push(open);
      }
      const again = new vscode.CodeAction('Switchyard: Audit Again', vscode.CodeActionKind.QuickFix);
      again.command = { command: 'switchyard.judge.audit', title: 'Audit Again', arguments: [{ again: true }] };
      again.diagnostics = [d];
      const tutor = new vscode.CodeAction('Switchyard: Ask the Tutor to Explain', vscode.CodeActionKind.QuickFix);
      tutor.command = {
        command: 'switchyard.tutor.open',
        title: 'Ask the Tutor',
        arguments: [
          {
            ask:
              `The Judge says about ${vscode.workspace.asRelativePath(doc.uri)} lines ${d.range.start.line + 1}-${d.range.end.line + 1}: ` +
              `"${d.message}". Help me understand the problem.`,
            attach: { uri: doc.uri.toString(), start: d.range.start.line, end: d.range.end.line },
          },
        ],
      };
      tutor.diagnostics = [d];
      out.push(again, tutor);
    }
    return out;
  }
}
