// "Implement with Reflex Lane": the Implementer's loop (src/core/implement/task.ts) in the editor. The patch
// is previewed in VS Code's diff editor (virtual documents), accepted whole or per hunk, applied as one
// WorkspaceEdit, then the project's checks run through the tool executor into an output channel.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Classification } from '../core/classifier/types.js';
import { newTaskId, TaskEvidence } from '../core/evidence/taskEvidence.js';
import { checkPlan, runChecks } from '../core/implement/checks.js';
import { hunks, selectHunks, type FileChange } from '../core/implement/patch.js';
import {
  implement,
  type ImplementPorts,
  type ImplementResult,
  type Proposal,
  type Review,
} from '../core/implement/task.js';
import type { PlanStep } from '../core/protocol/planRecord.js';
import { relativeInside } from '../core/util/paths.js';
import { PLAYBOOK_PATH, reflect, type FailedTask, type ReflectResult } from '../core/reflector/reflector.js';
import { config } from './config.js';
import { runRole, type RoleDeps } from './roles.js';

export const PROPOSED_SCHEME = 'switchyard-proposed';

/** The command's argument from a plan review or a script (CONTRACTS.md: `{instruction, path}`). */
export interface ImplementArg {
  plan?: string;
  step?: PlanStep;
  /** for scripts: the instruction (no input box) and the file */
  instruction?: string;
  path?: string;
}

/** The input box: what should change, with the plan step's text as the starting value. */
async function askInstruction(doc: vscode.TextDocument, sel: vscode.Selection | undefined, step?: PlanStep) {
  const where = sel
    ? ` in the selected lines ${sel.start.line + 1}-${sel.end.line + 1}`
    : ` in ${vscode.workspace.asRelativePath(doc.uri)}`;
  const stepText = step
    ? step.title +
      (step.description ? `: ${step.description}` : '') +
      (step.acceptance.length ? ` (done when: ${step.acceptance.join('; ')})` : '')
    : '';
  return vscode.window.showInputBox({
    title: 'Switchyard: Implement with Reflex Lane',
    ignoreFocusOut: true,
    prompt: `What should change${where}? The local Implementer writes a patch; you review it before anything changes.`,
    value: stepText,
    placeHolder: 'e.g. ignore words longer than 64 characters',
    validateInput: (v) =>
      v.trim().length < 3 ? 'Say what should change.' : v.length > 4_000 ? 'Keep it under 4000 characters.' : null,
  });
}
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
    private readonly deps: RoleDeps,
    private readonly classify: ClassifyProposed,
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.proposed.get(uri.toString()) ?? '';
  }

  /**
   * Arguments: none (the editor and its selection), a plan step handed over from the plan review, or, for scripts,
   * `{instruction, path}`. The workspace folder and trust are checked by the command table (commandTable.ts).
   */
  async run(arg?: ImplementArg | vscode.Uri): Promise<ImplementResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const given = arg instanceof vscode.Uri ? undefined : arg;
    const target = await this.target(folder, given);
    if (!target) return undefined;
    const root = folder.uri.fsPath;
    const { doc, rel, instruction } = target;
    const taskId = newTaskId('impl');
    const evidence = TaskEvidence.forTask(root, taskId);
    if (given?.plan) evidence.write('plan-step.json', given);
    this.out.clear();
    this.out.appendLine(`Task ${taskId}: ${instruction}`);
    const related = await this.deps.stage0().block(instruction, [rel], 6000);
    if (related) {
      const { query, results, semantic } = related;
      evidence.write('stage0.json', {
        query,
        results,
        history: related.history?.commits.slice(0, 10) ?? null,
        semantic,
      });
    }
    const sel = target.sel;
    const selection = sel
      ? { selection: { startLine: sel.start.line + 1, endLine: sel.end.line + 1, text: doc.getText(sel) } }
      : {};
    const input = {
      task_id: taskId,
      instruction,
      policy: this.deps.policy(),
      localOnly: this.deps.localOnly(),
      ...(related ? { related: related.text } : {}),
      context: { path: rel, text: doc.getText(), ...selection },
    };
    const result = await runRole(this.deps, 'Switchyard Implementer', (report, signal) =>
      implement(this.ports(folder.uri, evidence, report), { ...input, signal }),
    );
    if (!result) return undefined;
    this.last = result;
    this.deps.log.info(`implementer ${taskId}: ${result.status}: ${result.message}`);
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

  /** The file to change (the editor's, the script's, or the plan step's first), the selection and the instruction. */
  private async target(folder: vscode.WorkspaceFolder, arg: ImplementArg | undefined) {
    const root = folder.uri.fsPath;
    const step = arg?.step;
    const editor = vscode.window.activeTextEditor;
    let doc = editor?.document;
    const given = typeof arg?.path === 'string' ? relativeInside(arg.path) : null;
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
      typeof arg?.instruction === 'string' && arg.instruction.trim().length >= 3
        ? arg.instruction.trim().slice(0, 4000)
        : undefined;
    const instruction = scripted ?? (await askInstruction(doc, sel, step));
    if (!instruction) return undefined;
    return { doc, sel, rel: vscode.workspace.asRelativePath(doc.uri, false), instruction };
  }

  /** What the core Implementer needs from the editor: files, the classifier, the review, writes and the checks. */
  private ports(root: vscode.Uri, evidence: TaskEvidence, report: (s: string) => void): ImplementPorts {
    const dir = root.fsPath;
    return {
      caller: this.deps.calls().core,
      read: async (p) => {
        const open = vscode.workspace.textDocuments.find(
          (d) => d.uri.scheme === 'file' && d.uri.fsPath === join(dir, p),
        );
        if (open) return open.getText();
        const f = join(dir, p);
        return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
      },
      classify: (diff, changes) => this.classify(diff, dir, changes),
      review: (p) => this.review(root, p),
      apply: (changes) =>
        this.write(
          root,
          changes.map((c) => ({ path: c.path, text: c.after })),
        ),
      restore: (originals) =>
        this.write(
          root,
          originals.map((o) => ({ path: o.path, text: o.before })),
        ),
      check: (c, signal) => this.check(dir, c.crates_touched, signal),
      evidence,
      stage: (s) => {
        report(s);
        this.out.appendLine(`· ${s}`);
      },
    };
  }

  private check(root: string, crates: string[], signal: AbortSignal | undefined) {
    this.out.show(true);
    const steps = checkPlan(root, crates, config.implementCheckCommands());
    if (steps.length === 0)
      this.out.appendLine(
        'No check command for this workspace (Cargo.toml or package.json, or switchyard.implement.checkCommands): ' +
          'the patch is not verified.',
      );
    return runChecks(root, steps, {
      timeoutMs: config.implementCheckTimeoutSeconds() * 1000,
      ...(signal ? { signal } : {}),
      onOutput: (s) => this.out.append(s),
    });
  }

  /** The reflector's work after the last failed task (tests await it). */
  lastReflection: Promise<ReflectResult | null> | null = null;

  /** After a failed task: a lesson in .switchyard/playbook.md (the local model; Kimi only for interesting failures). */
  private async reflect(root: string, t: FailedTask): Promise<ReflectResult | null> {
    const file = join(root, PLAYBOOK_PATH);
    try {
      const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
      const r = await reflect(this.deps.calls().core, t, before);
      // Written through the workspace (an open, edited playbook is not overwritten behind the user's back).
      const uri = vscode.Uri.file(file);
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
      if (open?.isDirty) {
        this.deps.log.warn(
          `reflector: ${PLAYBOOK_PATH} has unsaved edits; the lesson for ${t.task_id} was not written (signature: ${r.signature})`,
        );
        return r;
      }
      await vscode.workspace.fs.writeFile(uri, Buffer.from(r.playbook, 'utf8'));
      this.deps.log.info(
        `reflector: ` +
          (r.action === 'written'
            ? `lesson "${r.lesson?.title}" written by ${r.result?.provider}/${r.result?.model}`
            : 'a known failure counted again') +
          ' ' +
          `in ${PLAYBOOK_PATH} (${r.interesting.interesting ? `interesting: ${r.interesting.why.join('; ')}` : 'routine'})`,
      );
      for (const line of r.result?.audit ?? []) this.deps.log.info(line);
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
      this.deps.log.warn(`reflector: no lesson for ${t.task_id}: ${(e as Error).message}`);
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
