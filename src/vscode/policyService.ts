// Keeps the effective policy: the bundled one, or the workspace's .switchyard/policy.json when it is
// valid and the workspace is trusted. Problems show in the Problems panel at their lines.
import * as vscode from 'vscode';
import type { PolicyState } from '../core/policy/store.js';
import { PolicyStore, type ParsePolicy } from '../core/policy/store.js';
import { policySizeProblem, type PolicyProblem } from '../core/policy/bounds.js';

export const WORKSPACE_POLICY_GLOB = '**/.switchyard/policy.json';

export class PolicyService implements vscode.Disposable {
  readonly store: PolicyStore;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('switchyard-policy');
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  private readonly changed = new vscode.EventEmitter<PolicyState>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly log: vscode.LogOutputChannel,
    parse: ParsePolicy,
  ) {
    this.store = new PolicyStore(parse);
    this.disposables.push(this.changed);
    this.store.onDidChange((s) => this.changed.fire(s));
    const watcher = vscode.workspace.createFileSystemWatcher(WORKSPACE_POLICY_GLOB);
    this.disposables.push(
      watcher,
      watcher.onDidChange(() => void this.reload()),
      watcher.onDidCreate(() => void this.reload()),
      watcher.onDidDelete(() => void this.reload()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.reload()),
      // A save in the editor reloads even when the file watcher is late or misses the event.
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.uri.toString() === this.policyUri()?.toString()) void this.reload();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.reload()),
    );
  }

  get current(): PolicyState {
    return this.store.current;
  }

  /** The workspace policy file of the first folder, if any. */
  policyUri(): vscode.Uri | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? vscode.Uri.joinPath(folder.uri, '.switchyard', 'policy.json') : undefined;
  }

  async reload(): Promise<void> {
    const uri = this.policyUri();
    this.diagnostics.clear();
    let text: string | undefined;
    let tooBig: PolicyProblem | null = null;
    if (uri) {
      try {
        // The size first: a huge file is refused without being read into the shared extension host.
        tooBig = policySizeProblem((await vscode.workspace.fs.stat(uri)).size);
        text = tooBig ? '' : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch {
        text = undefined;
      }
    }
    if (text !== undefined && !vscode.workspace.isTrusted) {
      this.log.warn(
        `workspace policy ${uri!.fsPath} ignored: the workspace is not trusted (the bundled policy applies)`,
      );
      text = undefined;
    }
    const source = uri ? vscode.workspace.asRelativePath(uri) : '';
    const load =
      tooBig && text !== undefined
        ? this.store.applyWorkspaceLoad({ ok: false, problems: [tooBig], source })
        : this.store.applyWorkspaceText(text, source);
    if (!load) {
      this.log.info(`policy: ${this.current.source}`);
      return;
    }
    if (load.ok) {
      this.log.info(`policy: ${load.source} (version ${load.policy.policy_version})`);
      for (const w of load.warnings) this.log.warn(`policy: ${w.field}: ${w.message}`);
      this.diagnostics.set(
        uri!,
        load.warnings.map(
          (w) =>
            new vscode.Diagnostic(
              new vscode.Range(0, 0, 0, 0),
              `${w.field}: ${w.message}`,
              vscode.DiagnosticSeverity.Warning,
            ),
        ),
      );
      return;
    }
    const diags = load.problems.map((p) => {
      const line = Math.max(0, p.line - 1);
      const d = new vscode.Diagnostic(
        new vscode.Range(line, Math.max(0, p.column - 1), line, 1000),
        `${p.field ? `${p.field}: ` : ''}${p.reason}`,
        vscode.DiagnosticSeverity.Error,
      );
      d.source = 'switchyard';
      return d;
    });
    this.diagnostics.set(uri!, diags);
    const first = load.problems[0]!;
    const msg =
      `Switchyard: ${load.source} is invalid (${first.field || 'file'}: ${first.reason}, line ${first.line}). ` +
      `The previous policy (${this.current.source}) stays in force.`;
    this.log.error(msg);
    void vscode.window.showErrorMessage(msg, 'Open Policy File').then((pick) => {
      if (pick)
        void vscode.window.showTextDocument(uri!, {
          selection: new vscode.Range(Math.max(0, first.line - 1), 0, Math.max(0, first.line - 1), 0),
        });
    });
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
