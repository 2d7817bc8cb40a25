// The budget in the editor: the ledger shared with other windows and the CLI, the status bar meter kept
// current (after each call here, and when another process writes the ledger), and the Budget view.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { Ledger } from '../core/budget/ledger.js';
import { budgetReport, type BudgetReport } from '../core/budget/report.js';
import type { Policy } from '../core/policy/schema.js';
import { FromBudgetView, type ToBudgetView } from '../core/protocol/budget.js';
import type { StatusBar } from './statusBar.js';
import { PanelHost } from './panelHost.js';

export const BUDGET_VIEW_TYPE = 'switchyard.budget';

export class BudgetService extends PanelHost<FromBudgetView, ToBudgetView> {
  readonly ledger: Ledger;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  report: BudgetReport | null = null;

  constructor(
    stateDir: string,
    private readonly policy: () => Policy,
    private readonly statusBar: StatusBar,
    extensionUri: vscode.Uri,
    log: vscode.LogOutputChannel,
  ) {
    super(extensionUri, log, {
      type: BUDGET_VIEW_TYPE,
      script: 'budget',
      title: 'Switchyard: Budget',
      incoming: FromBudgetView,
    });
    this.ledger = new Ledger(join(stateDir, 'ledger.jsonl'), policy);
    if (this.ledger.torn.length)
      log.warn(
        `budget ledger: ${this.ledger.torn.length} torn line(s) skipped (a process ended mid-write); no committed entry is affected`,
      );
    try {
      // Other windows and the CLI append to the same ledger: follow them.
      this.watcher = watch(dirname(this.ledger.path), (_e, file) => {
        if (!file || file === basename(this.ledger.path)) this.soon();
      });
    } catch (e) {
      log.warn(`budget ledger: cannot watch ${this.ledger.path}: ${(e as Error).message}`);
    }
    this.refresh();
  }

  private soon(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 150);
  }

  refresh(): void {
    try {
      this.report = budgetReport(this.ledger, this.policy(), null);
      this.statusBar.setReport(this.report, this.policy());
      this.post();
    } catch (e) {
      this.log.error(`budget: ${(e as Error).message}`);
    }
  }

  override show(): void {
    this.refresh();
    super.show();
  }

  protected onMessage(msg: FromBudgetView): void {
    switch (msg.type) {
      case 'refresh':
        this.refresh();
        break;
      case 'editCaps':
        void editCaps(this.policy());
        break;
    }
  }

  protected state(): ToBudgetView | null {
    return this.report ? { type: 'state', ledger: this.ledger.path, report: this.report } : null;
  }

  override dispose(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.ledger.close();
    super.dispose();
  }
}

/** Opens the workspace policy at its caps; offers to create it from the effective policy when there is none. */
export async function editCaps(effective: Policy): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void vscode.window.showWarningMessage(
      'Switchyard: open a folder to give it a policy file (.switchyard/policy.json) with your own caps.',
    );
    return;
  }
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(
      'Switchyard: this workspace is not trusted, so its policy file is ignored; trust it to set your own caps.',
    );
    return;
  }
  const uri = vscode.Uri.joinPath(folder.uri, '.switchyard', 'policy.json');
  let exists = true;
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    exists = false;
  }
  if (!exists) {
    const pick = await vscode.window.showInformationMessage(
      'Switchyard: this workspace has no .switchyard/policy.json. Create one from the effective policy, to edit its caps?',
      'Create',
      'Cancel',
    );
    if (pick !== 'Create') return;
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(`${JSON.stringify(effective, null, 2)}\n`));
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc);
  const at = doc.getText().indexOf('"caps"');
  if (at >= 0) {
    const pos = doc.positionAt(at);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.AtTop);
  }
}
