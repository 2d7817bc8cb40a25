// "Request Judge Audit": the Judge (src/core/judge/judge.ts) in the editor. Scopes: the selection, the
// file, the working tree against HEAD, a branch against its base, an Implementer task, a plan. Findings
// become diagnostics (unverified citations say so); the verdict is saved as evidence; for a task, whether
// it may now be marked approved (GR-002, GR-003).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { classifyDiff } from '../core/classifier/classify.js';
import { gitDiff, gitRepoReader } from '../core/classifier/gitRepo.js';
import { compactStamp, TaskEvidence } from '../core/evidence/taskEvidence.js';
import { buildBundle, runJudge, type BundleFile, type JudgeResult } from '../core/judge/judge.js';
import { judgeTask, type Gate } from '../core/pipeline/gate.js';
import { relativeInside } from '../core/util/paths.js';
import { config } from './config.js';
import { OPEN_FOLDER, showError } from './fixes.js';
import { stepDone } from './walkthrough.js';
import { runRole, type RoleDeps } from './roles.js';

export type JudgeArg =
  | { uri: string; range?: { start: number; end: number } }
  | { scope: 'file' | 'working_tree' | 'branch'; uri?: string }
  | { task: string }
  | { plan: string }
  | { again: true };

interface Run {
  scope: string;
  files: BundleFile[];
  sections: { title: string; body: string }[];
  instruction?: string;
  requiresJudge?: boolean;
}

const SEVERITY: Record<string, vscode.DiagnosticSeverity> = {
  critical: vscode.DiagnosticSeverity.Error,
  high: vscode.DiagnosticSeverity.Error,
  medium: vscode.DiagnosticSeverity.Warning,
  low: vscode.DiagnosticSeverity.Information,
  info: vscode.DiagnosticSeverity.Information,
};

/** A file, or lines of it, as the Judge's evidence. */
async function fileScope(arg: { uri: string; range?: { start: number; end: number } }): Promise<Run> {
  const uri = vscode.Uri.parse(arg.uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  const rel = vscode.workspace.asRelativePath(uri, false);
  const r = arg.range;
  const sel = r && r.end >= r.start ? { start: r.start + 1, end: r.end + 1 } : null;
  return {
    scope: sel ? `${rel} lines ${sel.start}-${sel.end}` : rel,
    files: [{ path: rel, text: doc.getText() }],
    sections: [],
    ...(sel ? { instruction: `Audit lines ${sel.start}-${sel.end} of ${rel} (the rest of the file is context).` } : {}),
  };
}

/** A task's gate after the Judge audited it (the task view showing that task follows it). */
export const taskJudged = new vscode.EventEmitter<{ task_id: string; gate: Gate }>();

export class JudgeService implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('switchyard-judge');
  private lastArg: JudgeArg | undefined;
  /** Where each finding's verdict was saved (for "Open Evidence"). */
  readonly verdictOf = new Map<string, string>();
  last: (JudgeResult & { evidence: string }) | null = null;

  /** `stateDir`: the state folder the agent's tasks keep their records in (the gate reads only those). */
  constructor(
    private readonly deps: RoleDeps,
    private readonly stateDir: string,
  ) {}

  async run(arg?: JudgeArg): Promise<(JudgeResult & { evidence?: string; gate?: Gate }) | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void showError(
        'Switchyard: open a folder first: the Judge audits a workspace and keeps its verdicts there.',
        OPEN_FOLDER,
      );
      return undefined;
    }
    if (arg && 'again' in arg) arg = this.lastArg;
    const root = folder.uri.fsPath;
    if (arg && 'task' in arg) {
      this.lastArg = arg;
      return this.runTask(folder.uri, basename(arg.task));
    }
    let picked: Run | { task: string } | undefined;
    try {
      picked = await this.scope(root, arg);
    } catch (e) {
      void vscode.window.showErrorMessage(`Switchyard: ${(e as Error).message}`);
      return undefined;
    }
    if (!picked) return undefined;
    if ('task' in picked) return this.runTask(folder.uri, picked.task);
    const run: Run = picked;
    this.lastArg = arg ?? this.lastArg;
    const cap = config.judgeMaxEvidenceChars();
    // Stage 0: the files related to what is audited, as context (citations must still point into the evidence).
    const touched = run.files.map((f) => f.path);
    const related = await this.deps
      .stage0()
      .block(`${run.instruction ?? ''} ${run.scope} ${touched.join(' ')}`, touched, 6000);
    if (related && related.results.some((r) => !touched.includes(r.path)))
      run.sections.push({
        title: 'RELATED FILES (Stage 0 retrieval; context only, not citable evidence)',
        body: related.text,
      });
    const bundle = buildBundle(run.scope, run.files, run.sections, cap);
    const r = await runRole(this.deps, `Switchyard Judge: auditing ${run.scope}…`, (_report, signal) =>
      runJudge(this.deps.calls().core, bundle, {
        signal,
        ...(run.instruction ? { instruction: run.instruction } : {}),
      }),
    );
    if (!r) return undefined;

    const verdictPath = this.keep(root, run, r, bundle);
    this.last = { ...r, evidence: verdictPath };
    stepDone('audit');
    this.show(folder.uri, r, verdictPath);
    const bad = r.findings.filter((f) => !f.verified).length;
    const msg =
      `Switchyard Judge (${r.provider}/${r.model}): ${r.verdict.replace('_', ' ')} — ${r.findings.length} ` +
      `finding${r.findings.length === 1 ? '' : 's'}${bad ? `, ${bad} with an unverified citation` : ''}` +
      (r.unreliable
        ? '. UNRELIABLE: its citations do not match the evidence even after a retry; do not rely on it (GR-008)'
        : '') +
      `.${bundle.cut.length ? ` Evidence cut to fit: ${bundle.cut.join('; ')}.` : ''}`;
    this.deps.log.info(msg);
    const show =
      r.unreliable || r.verdict === 'reject' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(msg, 'Show Problems', 'Open Verdict').then((pick) => {
      if (pick === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      if (pick === 'Open Verdict') void vscode.window.showTextDocument(vscode.Uri.file(verdictPath));
    });
    return { ...r, evidence: verdictPath };
  }

  /** Evidence: the verdict, the bundle it was given, and a manifest (GR-007). Tasks: runTask and their gate. */
  private keep(root: string, run: Run, r: JudgeResult, bundle: ReturnType<typeof buildBundle>): string {
    const ev = TaskEvidence.forTask(root, `judge-${compactStamp()}`);
    const verdictPath = ev.write('verdict.json', {
      scope: run.scope,
      ...r,
      decision: { rule: r.decision.rule, audit: r.decision.audit },
      cut: bundle.cut,
    });
    ev.write(
      'bundle.txt',
      bundle.files.map((f) => `=== ${f.path}\n${f.text}`).join('\n\n') +
        '\n\n' +
        bundle.sections.map((s) => `=== ${s.title}\n${s.body}`).join('\n\n'),
    );
    ev.seal();
    return verdictPath;
  }

  private show(root: vscode.Uri, r: JudgeResult, verdictPath: string): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    r.findings.forEach((f, i) => {
      const rel = relativeInside(f.file);
      const uri = rel ? vscode.Uri.joinPath(root, rel).toString() : vscode.Uri.joinPath(root, '.switchyard').toString();
      const range = new vscode.Range(
        Math.max(0, f.line_start - 1),
        0,
        Math.max(0, f.line_end - 1),
        Number.MAX_SAFE_INTEGER,
      );
      const text = f.verified
        ? `Judge (${f.severity}): ${f.rationale}`
        : `Judge, UNVERIFIED citation (${f.problem}): ${f.rationale}`;
      const d = new vscode.Diagnostic(
        range,
        text,
        f.verified ? SEVERITY[f.severity]! : vscode.DiagnosticSeverity.Information,
      );
      d.source = 'switchyard';
      d.code = `judge-${i + 1}`;
      this.verdictOf.set(`${uri}#${d.code}`, verdictPath);
      byFile.set(uri, [...(byFile.get(uri) ?? []), d]);
    });
    for (const [uri, ds] of byFile) this.diagnostics.set(vscode.Uri.parse(uri), ds);
  }

  /** What to audit: from the argument, or asked. */
  private async scope(root: string, arg?: JudgeArg): Promise<Run | { task: string } | undefined> {
    if (arg && 'uri' in arg && arg.uri && !('scope' in arg)) return fileScope(arg);
    if (arg && 'plan' in arg) {
      const text = readFileSync(arg.plan, 'utf8');
      const rel = vscode.workspace.asRelativePath(arg.plan, false);
      return {
        scope: `plan ${basename(arg.plan)}`,
        files: [{ path: rel, text }],
        sections: [],
        instruction: 'Audit this plan: is it complete, safe, in the right order, and honest about risk and confidence?',
      };
    }
    const kind = arg && 'scope' in arg ? arg.scope : await this.pickScope(root);
    if (!kind || typeof kind !== 'string') return kind;
    if (kind === 'file') {
      const e = vscode.window.activeTextEditor;
      if (!e) throw new Error('open the file to audit');
      return this.scope(root, { uri: e.document.uri.toString() });
    }
    return this.gitScope(root, kind);
  }

  /** The palette's question: what to audit. A run for the selection, file, task or plan; or a git scope. */
  private async pickScope(root: string): Promise<Run | { task: string } | 'working_tree' | 'branch' | undefined> {
    const editor = vscode.window.activeTextEditor;
    const items: { label: string; detail: string; id: string }[] = [];
    if (editor && !editor.selection.isEmpty)
      items.push({
        label: 'The selection',
        detail: vscode.workspace.asRelativePath(editor.document.uri),
        id: 'selection',
      });
    if (editor && editor.document.uri.scheme === 'file')
      items.push({ label: 'This file', detail: vscode.workspace.asRelativePath(editor.document.uri), id: 'file' });
    items.push(
      { label: 'The working tree against HEAD', detail: 'every uncommitted change', id: 'working_tree' },
      { label: 'A branch against its base', detail: 'HEAD against a base branch you name', id: 'branch' },
      { label: 'An Implementer task', detail: 'its patch, classification, checks and routing', id: 'task' },
      { label: 'A plan', detail: 'a plan of .switchyard/plans', id: 'plan' },
    );
    const pick = await vscode.window.showQuickPick(items, {
      title: 'Switchyard: Request Judge Audit',
      placeHolder: 'What should the Judge audit? (cloud-only, budget-gated, must cite evidence)',
    });
    if (!pick) return undefined;
    if (pick.id === 'selection' || pick.id === 'file') {
      const e = editor!;
      return this.scope(root, {
        uri: e.document.uri.toString(),
        ...(pick.id === 'selection' ? { range: { start: e.selection.start.line, end: e.selection.end.line } } : {}),
      });
    }
    if (pick.id === 'task' || pick.id === 'plan') {
      const dir = join(root, '.switchyard', pick.id === 'task' ? 'evidence' : 'plans');
      const entries = existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => (pick.id === 'task' ? existsSync(join(dir, f, 'result.json')) : f.endsWith('.json')))
            .sort()
            .reverse()
        : [];
      if (entries.length === 0)
        throw new Error(
          pick.id === 'task' ? 'no Implementer task in .switchyard/evidence yet' : 'no plan in .switchyard/plans yet',
        );
      const e = await vscode.window.showQuickPick(entries, { title: `Switchyard: which ${pick.id}?` });
      if (!e) return undefined;
      if (pick.id === 'task') return { task: e };
      return this.scope(root, { plan: join(dir, e) });
    }
    return pick.id as 'working_tree' | 'branch';
  }

  /** The working tree against HEAD, or HEAD against a base branch: the diff, its files and its classification. */
  private async gitScope(root: string, kind: 'working_tree' | 'branch'): Promise<Run | undefined> {
    if (!vscode.workspace.isTrusted)
      throw new Error(
        'git does not run in an untrusted workspace (GR-010); audit the selection or the file instead, or trust the workspace',
      );
    let base = 'HEAD';
    let head: string | undefined;
    if (kind === 'branch') {
      const b = await vscode.window.showInputBox({
        title: 'Switchyard: the base branch',
        value: 'main',
        prompt: 'HEAD is audited against this branch (or commit)',
        validateInput: (v) => (/^[\w./-]+$/.test(v) ? null : 'a branch or commit name'),
      });
      if (!b) return undefined;
      base = b;
      head = 'HEAD';
    }
    const diff = await gitDiff(root, base, head);
    if (!diff.trim())
      throw new Error(
        kind === 'branch' ? `HEAD has no change against ${base}` : 'the working tree has no change against HEAD',
      );
    const reader = gitRepoReader(root, base, head);
    const c = await classifyDiff(diff, { policy: this.deps.policy(), repo: reader }).finally(() => reader.close());
    const files: BundleFile[] = c.files
      .filter((f) => f.status !== 'deleted' && f.status !== 'binary')
      .map((f) => ({
        path: f.path,
        text: existsSync(join(root, f.path)) ? readFileSync(join(root, f.path), 'utf8') : '',
      }));
    return {
      scope: kind === 'branch' ? `HEAD against ${base}` : 'the working tree against HEAD',
      files,
      requiresJudge: c.high_risk,
      sections: [
        { title: 'DIFF', body: diff },
        {
          title: 'CLASSIFICATION',
          body: JSON.stringify(
            {
              lines_changed: c.lines_changed,
              risk_flags: c.risk_flags,
              high_risk: c.high_risk,
              lane: c.lane,
              crates: c.crates_touched,
              evidence: c.evidence.slice(0, 30),
            },
            null,
            2,
          ),
        },
      ],
    };
  }

  /**
   * The Judge gate of an agent task (src/core/pipeline/gate.ts): its whole diff, check log and changed files audited;
   * the verdict and the gate kept in its record in the state folder (a copy in its evidence); the result says whether
   * the gate closed. A task whose evidence was tampered with is refused, the Judge not asked: the error says which file.
   */
  async runTask(root: vscode.Uri, taskId: string): Promise<(JudgeResult & { gate: Gate }) | undefined> {
    const r = await runRole(this.deps, `Switchyard Judge: auditing task ${taskId}…`, (_report, signal) =>
      judgeTask(this.deps.calls().core, root.fsPath, taskId, {
        stateDir: this.stateDir,
        capChars: config.judgeMaxEvidenceChars(),
        signal,
      }),
    );
    if (!r) return undefined;
    this.last = { ...r.result, evidence: r.verdictPath };
    stepDone('audit');
    this.show(root, r.result, r.verdictPath);
    taskJudged.fire({ task_id: taskId, gate: r.gate });
    const closed = r.gate.status === 'approved';
    const msg =
      `Switchyard Judge (${r.result.provider}/${r.result.model}) on task ${taskId}: ` +
      `${r.result.verdict.replace('_', ' ')}. ${closed ? 'The gate is closed: ' : 'The task still awaits the Judge: '}${r.gate.why}.`;
    this.deps.log.info(msg);
    void (closed ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(
      msg,
      'Show Problems',
      'Open Verdict',
    ).then((pick) => {
      if (pick === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
      if (pick === 'Open Verdict') void vscode.window.showTextDocument(vscode.Uri.file(r.verdictPath));
    });
    return { ...r.result, gate: r.gate };
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}
