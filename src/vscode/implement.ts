// "Implement with Reflex Lane": the Implementer's loop (src/core/implement/task.ts) in the editor. The patch
// is previewed in VS Code's diff editor (virtual documents), accepted whole or per hunk, applied as one
// WorkspaceEdit, then the project's checks run through the tool executor into an output channel.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Classification } from '../core/classifier/types.js';
import { TaskEvidence } from '../core/evidence/taskEvidence.js';
import { checkPlan, runChecks } from '../core/implement/checks.js';
import { hunks, selectHunks, type FileChange } from '../core/implement/patch.js';
import { implement, type ImplementResult, type Proposal, type Review } from '../core/implement/task.js';
import type { PlanStep } from '../core/protocol/planRecord.js';
import type { Policy } from '../core/policy/schema.js';
import { CallFailed } from '../core/providers/call.js';
import { relativeInside } from '../core/util/paths.js';
import { PLAYBOOK_PATH, reflect, type FailedTask, type ReflectResult } from '../core/reflector/reflector.js';
import type { Stage0Service } from './context.js';
import { signalOf, type EditorModelCalls } from './modelCalls.js';

export const PROPOSED_SCHEME = 'switchyard-proposed';
export type ClassifyProposed = (diff: string, root: string, changes: FileChange[]) => Promise<Classification>;

export class ImplementService implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly proposed = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly out = vscode.window.createOutputChannel('Switchyard Checks');
  private readonly registration: vscode.Disposable;
  /** The last run's result (tests read it). */
  last: ImplementResult | null = null;

  constructor(
    private readonly policy: () => Policy,
    private readonly localOnly: () => boolean,
    private readonly calls: () => EditorModelCalls,
    private readonly classify: ClassifyProposed,
    private readonly log: vscode.LogOutputChannel,
    private readonly afterCall: () => void,
    private readonly stage0?: () => Stage0Service,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposed.get(uri.toString()) ?? '';
  }

  /** Arguments: none (the editor and its selection), or a plan step handed over from the plan review. */
  async run(
    arg?:
      | {
          plan?: string;
          step?: PlanStep;
          /** for scripts: the instruction (no input box) and the file */ instruction?: string;
          path?: string;
        }
      | vscode.Uri,
  ): Promise<ImplementResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showErrorMessage(
        'Switchyard: open a folder first: the Implementer patches, builds and tests a workspace.',
      );
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window
        .showErrorMessage(
          "Switchyard: the Implementer runs the project's build and tests, and nothing runs in an untrusted " +
            'workspace (GR-010). Trust the workspace to use it.',
          'Manage Workspace Trust',
        )
        .then((p) => {
          if (p) void vscode.commands.executeCommand('workbench.trust.manage');
        });
      return undefined;
    }
    const root = folder.uri.fsPath;
    const step = arg && !(arg instanceof vscode.Uri) ? arg.step : undefined;
    const editor = vscode.window.activeTextEditor;
    let doc = editor?.document;
    const given = arg && !(arg instanceof vscode.Uri) && typeof arg.path === 'string' ? relativeInside(arg.path) : null;
    if (given && existsSync(join(root, given)))
      doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, given));
    else if (step?.files[0] && existsSync(join(root, step.files[0])))
      doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, step.files[0]));
    if (!doc || doc.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(
        'Switchyard: open the file to change (or select code in it), then run "Implement with Reflex Lane".',
      );
      return undefined;
    }
    const sel = editor && editor.document === doc && !editor.selection.isEmpty ? editor.selection : undefined;
    const scripted =
      arg && !(arg instanceof vscode.Uri) && typeof arg.instruction === 'string' && arg.instruction.trim().length >= 3
        ? arg.instruction.trim().slice(0, 4000)
        : undefined;
    const instruction =
      scripted ??
      (await vscode.window.showInputBox({
        title: 'Switchyard: Implement with Reflex Lane',
        ignoreFocusOut: true,
        prompt:
          `What should change` +
          (sel
            ? ` in the selected lines ${sel.start.line + 1}-${sel.end.line + 1}`
            : ` in ${vscode.workspace.asRelativePath(doc.uri)}`) +
          `? ` +
          `The local Implementer writes a patch; you review it before anything changes.`,
        value: step
          ? step.title +
            (step.description ? `: ${step.description}` : '') +
            (step.acceptance.length ? ` (done when: ${step.acceptance.join('; ')})` : '')
          : '',
        placeHolder: 'e.g. ignore words longer than 64 characters',
        validateInput: (v) =>
          v.trim().length < 3 ? 'Say what should change.' : v.length > 4_000 ? 'Keep it under 4000 characters.' : null,
      }));
    if (!instruction) return undefined;
    const taskId = `impl-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(2).toString('hex')}`;
    const rel = vscode.workspace.asRelativePath(doc.uri, false);
    const evidence = new TaskEvidence(join(root, '.switchyard', 'evidence', taskId));
    if (arg && !(arg instanceof vscode.Uri) && arg.plan) evidence.write('plan-step.json', arg);
    this.out.clear();
    this.out.appendLine(`Task ${taskId}: ${instruction}`);
    const related = await this.stage0?.().block(instruction, [rel], 6000);
    if (related)
      evidence.write('stage0.json', {
        query: related.query,
        results: related.results,
        history: related.history?.commits.slice(0, 10) ?? null,
        semantic: related.semantic,
      });
    let result: ImplementResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Switchyard Implementer', cancellable: true },
        (progress, token) =>
          implement(
            {
              caller: this.calls().core,
              read: async (p) => {
                const open = vscode.workspace.textDocuments.find(
                  (d) => d.uri.scheme === 'file' && d.uri.fsPath === join(root, p),
                );
                if (open) return open.getText();
                const f = join(root, p);
                return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
              },
              classify: (diff, changes) => this.classify(diff, root, changes),
              review: (p) => this.review(folder.uri, p),
              apply: (changes) =>
                this.write(
                  folder.uri,
                  changes.map((c) => ({ path: c.path, text: c.after })),
                ),
              restore: (originals) =>
                this.write(
                  folder.uri,
                  originals.map((o) => ({ path: o.path, text: o.before })),
                ),
              check: (c, signal) => {
                this.out.show(true);
                const custom = vscode.workspace
                  .getConfiguration('switchyard')
                  .get<string[][]>('implement.checkCommands', []);
                const steps = checkPlan(root, c.crates_touched, custom);
                if (steps.length === 0)
                  this.out.appendLine(
                    'No check command for this workspace (Cargo.toml or package.json, or switchyard.implement.checkCommands): ' +
                      'the patch is not verified.',
                  );
                return runChecks(root, steps, {
                  timeoutMs:
                    vscode.workspace.getConfiguration('switchyard').get<number>('implement.checkTimeoutSeconds', 600) *
                    1000,
                  ...(signal ? { signal } : {}),
                  onOutput: (s) => this.out.append(s),
                });
              },
              evidence,
              stage: (s) => {
                progress.report({ message: s });
                this.out.appendLine(`· ${s}`);
              },
            },
            {
              task_id: taskId,
              instruction,
              policy: this.policy(),
              localOnly: this.localOnly(),
              signal: signalOf(token),
              ...(related ? { related: related.text } : {}),
              context: {
                path: rel,
                text: doc.getText(),
                ...(sel
                  ? { selection: { startLine: sel.start.line + 1, endLine: sel.end.line + 1, text: doc.getText(sel) } }
                  : {}),
              },
            },
          ),
      );
    } catch (e) {
      if (!(e instanceof CallFailed && e.kind === 'cancelled')) await this.calls().showFailure(e);
      return undefined;
    } finally {
      this.afterCall();
    }
    this.last = result;
    this.log.info(`implementer ${taskId}: ${result.status}: ${result.message}`);
    void this.report(folder.uri, result);
    if (result.status === 'failed')
      this.lastReflection = this.reflect(root, {
        task_id: taskId,
        instruction,
        attempts: result.attempts,
        high_risk: result.requires_judge,
        evidence: vscode.workspace.asRelativePath(result.evidence, false),
        files: [rel],
      });
    return result;
  }

  /** The reflector's work after the last failed task (tests await it). */
  lastReflection: Promise<ReflectResult | null> | null = null;

  /** After a failed task: a lesson in .switchyard/playbook.md (the local model; Kimi only for interesting failures). */
  private async reflect(root: string, t: FailedTask): Promise<ReflectResult | null> {
    const file = join(root, PLAYBOOK_PATH);
    try {
      const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
      const r = await reflect(this.calls().core, t, before);
      // Written through the workspace (an open, edited playbook is not overwritten behind the user's back).
      const uri = vscode.Uri.file(file);
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      if (open?.isDirty) {
        this.log.warn(
          `reflector: ${PLAYBOOK_PATH} has unsaved edits; the lesson for ${t.task_id} was not written (signature: ${r.signature})`,
        );
        return r;
      }
      await vscode.workspace.fs.writeFile(uri, Buffer.from(r.playbook, 'utf8'));
      this.log.info(
        `reflector: ` +
          (r.action === 'written'
            ? `lesson "${r.lesson?.title}" written by ${r.result?.provider}/${r.result?.model}`
            : 'a known failure counted again') +
          ' ' +
          `in ${PLAYBOOK_PATH} (${r.interesting.interesting ? `interesting: ${r.interesting.why.join('; ')}` : 'routine'})`,
      );
      for (const line of r.result?.audit ?? []) this.log.info(line);
      if (r.action === 'written') {
        void vscode.window
          .showInformationMessage(
            `Switchyard reflector: a lesson from the failed task was added to ${PLAYBOOK_PATH}.`,
            'Open Playbook',
          )
          .then((p) => {
            if (p) void vscode.window.showTextDocument(uri);
          });
      }
      return r;
    } catch (e) {
      this.log.warn(`reflector: no lesson for ${t.task_id}: ${(e as Error).message}`);
      return null;
    }
  }

  private async report(root: vscode.Uri, r: ImplementResult): Promise<void> {
    const ev = vscode.Uri.file(join(r.evidence, 'result.json'));
    if (r.status === 'passed') {
      const pick = await vscode.window.showInformationMessage(
        `Switchyard: ${r.message}`,
        ...(r.requires_judge ? ['Request Judge Audit'] : []),
        'Open Evidence',
        'Roll Back',
      );
      if (pick === 'Request Judge Audit')
        await vscode.commands.executeCommand('switchyard.judge.audit', { task: r.evidence });
      if (pick === 'Open Evidence') await vscode.window.showTextDocument(ev);
      if (pick === 'Roll Back' && r.applied) {
        await this.write(
          root,
          r.applied.map((c) => ({ path: c.path, text: c.before })),
        );
        void vscode.window.showInformationMessage('Switchyard: rolled back to where the first attempt started.');
      }
      return;
    }
    const show =
      r.status === 'rejected' || r.status === 'cancelled'
        ? vscode.window.showInformationMessage
        : vscode.window.showWarningMessage;
    const pick = await show(`Switchyard: ${r.message}`, 'Open Evidence', 'Show Check Output');
    if (pick === 'Open Evidence') await vscode.window.showTextDocument(ev);
    if (pick === 'Show Check Output') this.out.show();
  }

  /** The diff editor for each changed file, then Accept All / Choose Hunks / Reject. */
  private async review(root: vscode.Uri, p: Proposal): Promise<Review> {
    const shown: string[] = [];
    for (const c of p.changes) {
      const right = vscode.Uri.from({
        scheme: PROPOSED_SCHEME,
        path: `/${c.path}`,
        query: `task=${p.attempt}-${randomBytes(3).toString('hex')}`,
      });
      this.proposed.set(right.toString(), c.after);
      shown.push(right.toString());
      let left = vscode.Uri.joinPath(root, c.path);
      if (c.before === null) {
        left = right.with({ query: `${right.query}-empty` });
        this.proposed.set(left.toString(), '');
        shown.push(left.toString());
      }
      this.changed.fire(right);
      await vscode.commands.executeCommand(
        'vscode.diff',
        left,
        right,
        `${c.path} ↔ proposed (attempt ${p.attempt}, ${p.served.provider}/${p.served.model})`,
        { preview: false },
      );
    }
    const c = p.classification;
    const facts = [
      `${c.lines_changed} lines in ${p.changes.length} file${p.changes.length > 1 ? 's' : ''}`,
      `lane ${c.lane}`,
      c.risk_flags.length ? `flags ${c.risk_flags.join(', ')}` : 'no risk flag',
      `by ${p.served.provider}/${p.served.model} (${p.served.rule}` +
        (p.served.fallback ? '; a fallback: the model before it was unavailable or failed, see the audit log' : '') +
        ')',
    ];
    const judge = p.requires_judge
      ? ' High risk: a cloud Judge must approve this before the task is approved (GR-002, GR-003).'
      : '';
    const why = p.cloud_why ? ` Cloud because: ${p.cloud_why}.` : '';
    const all = hunks(p.changes);
    const pick = await vscode.window.showInformationMessage(
      `Switchyard: review the proposed patch: ${facts.join(' · ')}.${why}${judge}`,
      { modal: false },
      'Accept All',
      ...(all.length > 1 ? ['Choose Hunks…'] : []),
      'Reject',
    );
    await this.closeDiffs();
    for (const k of shown) this.proposed.delete(k); // the virtual documents go with their diff editors
    if (pick === 'Accept All') return { decision: 'accept', changes: p.changes };
    if (pick === 'Choose Hunks…') {
      const items = all.map((h) => ({
        label: `${h.path} ${h.header}`,
        description: `+${h.added} -${h.removed}`,
        detail: h.preview,
        picked: true,
        key: `${h.path}#${h.index}`,
      }));
      const chosen = await vscode.window.showQuickPick(items, {
        canPickMany: true,
        title: 'Switchyard: the hunks to apply',
        ignoreFocusOut: true,
      });
      if (!chosen || chosen.length === 0) return { decision: 'reject' };
      return { decision: 'accept', changes: selectHunks(p.changes, new Set(chosen.map((x) => x.key))) };
    }
    return { decision: 'reject' };
  }

  private async closeDiffs(): Promise<void> {
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === PROPOSED_SCHEME);
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
  }

  /** One WorkspaceEdit for all files (one undo), then saved: the build reads the disk. `text: null` deletes. */
  private async write(root: vscode.Uri, files: { path: string; text: string | null }[]): Promise<void> {
    const edit = new vscode.WorkspaceEdit();
    const touched: vscode.Uri[] = [];
    for (const f of files) {
      const uri = vscode.Uri.joinPath(root, f.path);
      if (f.text === null) {
        edit.deleteFile(uri, { ignoreIfNotExists: true });
        continue;
      }
      if (!existsSync(uri.fsPath)) {
        edit.createFile(uri, { overwrite: false, ignoreIfExists: true });
        edit.insert(uri, new vscode.Position(0, 0), f.text);
        touched.push(uri);
        continue;
      }
      const doc = await vscode.workspace.openTextDocument(uri);
      edit.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), f.text);
      touched.push(uri);
    }
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error('VS Code refused the edit (is a file read-only?)');
    for (const uri of touched) {
      const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === uri.toString());
      if (d?.isDirty) await d.save();
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.out.dispose();
  }
}
