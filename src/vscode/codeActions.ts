// The light bulb: "Request Judge Audit" on a selection or on a Switchyard diagnostic.
import * as vscode from 'vscode';

export class JudgeCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.Refactor.append('switchyard')];

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = ctx.diagnostics.filter((d) => d.source === 'switchyard');
    if (range.isEmpty && ours.length === 0) return [];
    const action = new vscode.CodeAction('Switchyard: Request Judge Audit', ours.length ? vscode.CodeActionKind.QuickFix : JudgeCodeActions.kinds[1]);
    action.command = { command: 'switchyard.judge.audit', title: 'Request Judge Audit', arguments: [{ uri: doc.uri.toString(), range: { start: range.start.line, end: range.end.line } }] };
    action.diagnostics = ours;
    return [action];
  }
}
