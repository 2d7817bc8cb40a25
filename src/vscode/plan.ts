// The Architect's plans in the editor: "Plan a Change (Architect)" writes plan.json through the policy's
// Architect route; "Open Plan Review" shows it (PlanController in src/core/plan/controller.ts) for editing,
// reordering, approving and rejecting; an approved plan becomes evidence in .switchyard/evidence/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { createPlan } from '../core/plan/architect.js';
import { PlanController } from '../core/plan/controller.js';
import { loadPlan, storePlan } from '../core/plan/review.js';
import type { PlanRecord } from '../core/protocol/planRecord.js';
import type { Policy } from '../core/policy/schema.js';
import { FromPlanView, type ToPlanView } from '../core/protocol/plan.js';
import { evidenceRoot } from '../core/evidence/taskEvidence.js';
import type { AgentResult } from '../core/agent/loop.js';
import { verdictApproves, type JudgeResult } from '../core/judge/judge.js';
import { readGate, type Gate } from '../core/pipeline/gate.js';
import { config } from './config.js';
import { OPEN_FOLDER, showError } from './fixes.js';
import { PanelHost } from './panelHost.js';
import { runRole, type RoleDeps } from './roles.js';
import { askGoal } from './askGoal.js';
import { stepDone } from './walkthrough.js';

const root = (): vscode.Uri | undefined => vscode.workspace.workspaceFolders?.[0]?.uri;
const plansDir = (r: vscode.Uri) => join(r.fsPath, '.switchyard', 'plans');

export class PlanPanel extends PanelHost<FromPlanView, ToPlanView> {
  readonly controller: PlanController;

  constructor(
    extensionUri: vscode.Uri,
    log: vscode.LogOutputChannel,
    policy: () => Policy,
    localOnly: () => boolean,
    note: (line: string) => Promise<void>,
    stateDir: string,
  ) {
    super(extensionUri, log, {
      type: 'switchyard.plan',
      script: 'plan',
      title: 'Switchyard Plan Review',
      incoming: FromPlanView,
      retain: true,
    });
    this.controller = new PlanController({
      post: (m) => {
        this.send(m);
        if (m.type === 'state' && this.panel) this.panel.title = `Plan: ${m.record.plan.goal.slice(0, 40)}`;
      },
      policy,
      localOnly,
      save: (r) => {
        const dir = root();
        if (dir) storePlan(r, plansDir(dir));
      },
      evidenceRoot: () => evidenceRoot(root()!.fsPath),
      // The steps run in the task view, by the same agent as "Implement with Reflex Lane".
      runStep: async (r, step) => {
        const res = await vscode.commands.executeCommand<AgentResult | undefined>('switchyard.implement.reflex', {
          plan: r.id,
          record: r,
          step,
        });
        if (!res) return { status: 'cancelled', task_id: '', evidence: '', message: 'the step did not start' };
        return { status: res.status, task_id: basename(res.evidence), evidence: res.evidence, message: res.message };
      },
      // The gate from the task's record in the state folder, never from the workspace's evidence folder.
      gate: (id) => readGate(stateDir, root()!.fsPath, id).status,
      note: (line) => note(line),
      judgeTask: async (id) =>
        (await vscode.commands.executeCommand<{ gate: Gate } | undefined>('switchyard.judge.audit', { task: id }))
          ?.gate,
      reviewPlan: async (_r, path) => {
        const v = await vscode.commands.executeCommand<(JudgeResult & { evidence?: string }) | undefined>(
          'switchyard.judge.audit',
          { plan: path },
        );
        if (!v) return undefined;
        const no = verdictApproves(v);
        return {
          ...{ approved: no === null, provider: v.provider, model: v.model, verdict: v.verdict },
          ...{ evidence: v.evidence ?? '', why: no ?? 'approved with verified citations' },
        };
      },
      openFile: async (rel) => {
        const dir = root();
        if (!dir) return;
        const uri = vscode.Uri.joinPath(dir, rel);
        if (!existsSync(uri.fsPath)) {
          void vscode.window.showInformationMessage(
            `Switchyard: ${rel} does not exist yet (the plan would create it).`,
          );
          return;
        }
        await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.One });
      },
      log: { warn: (s) => log.warn(s), info: (s) => log.info(s) },
    });
  }

  open(record: PlanRecord, path: string): void {
    this.controller.load(record, path);
    this.show();
  }

  /** After a reload: the view remembers which plan file it showed. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const path = (state as { path?: unknown } | undefined)?.path;
    const dir = root();
    if (typeof path === 'string' && dir && path.startsWith(plansDir(dir)) && existsSync(path)) {
      try {
        this.controller.load(loadPlan(path), path);
      } catch (e) {
        this.log.warn(`plan review: ${(e as Error).message}`);
      }
    }
    this.attach(panel); // after the load: the plan goes into the view's HTML
  }

  protected onMessage(msg: FromPlanView): Promise<void> {
    return this.controller.handle(msg);
  }

  protected state(): null {
    return null;
  }
  protected override initial(): ToPlanView {
    return this.controller.stateMessage();
  }
}

export class PlanService implements vscode.Disposable {
  private panel: PlanPanel | undefined;

  /** `stateDir`: where the agent's tasks keep their records (the Judge gate of a plan's steps reads them). */
  constructor(
    private readonly deps: RoleDeps,
    private readonly stateDir: string,
  ) {}

  review(): PlanPanel {
    const { extensionUri, log, policy, localOnly } = this.deps;
    const note = (line: string) => this.deps.calls().core.note('override', line, { role: 'architect' });
    return (this.panel ??= new PlanPanel(extensionUri, log, policy, localOnly, note, this.stateDir));
  }

  /** Switchyard: Plan a Change (Architect). Arguments (optional, for scripts): { goal, fastDraft }. */
  async create(args?: { goal?: string; fastDraft?: boolean }): Promise<PlanRecord | undefined> {
    const dir = root();
    if (!dir) {
      void showError(
        'Switchyard: open a folder first: plans and their evidence live in its .switchyard/ folder.',
        OPEN_FOLDER,
      );
      return undefined;
    }
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
    const goal = await askGoal(args?.goal, {
      title: 'Switchyard: Plan a Change (Architect)',
      prompt:
        'What should change? The Architect writes a plan (plan.json with a confidence) for you to ' +
        'review before anything is implemented.',
      placeHolder: 'e.g. add a --json flag to the cli that prints the word counts as JSON',
    });
    if (!goal) return undefined;
    const stage0 = await this.deps
      .stage0()
      .block(
        goal,
        editor && editor.document.uri.scheme === 'file'
          ? [vscode.workspace.asRelativePath(editor.document.uri, false)]
          : [],
        8000,
      );
    const context = `${await workspaceContext(dir, editor, selected)}${stage0 ? `\n\n${stage0.text}` : ''}`;
    const critic = config.planCritic() || process.env.SPEC_KIT_CRITIC === 'true';
    const result = await runRole(this.deps, 'Switchyard Architect', (report, signal) =>
      createPlan(this.deps.calls().core, {
        goal,
        context,
        policy: this.deps.policy(),
        signal,
        critic,
        ...(args?.fastDraft ? { fastDraft: true } : {}),
        onStage: report,
      }),
    );
    if (!result) return undefined;
    const { record } = result;
    const path = storePlan(record, plansDir(dir));
    stepDone('plan');
    this.deps.log.info(
      `architect: plan ${record.id} by ${record.author.provider}/${record.author.model} (${record.author.kind}), ` +
        `confidence ${record.plan.confidence}, ${record.plan.steps.length} steps; saved to ${path}`,
    );
    const panel = this.review();
    panel.open(record, path);
    if (record.author.kind === 'local_fast_draft')
      void vscode.window.showWarningMessage(
        `Switchyard: this plan is a local fast draft (${record.author.rule}). ${record.author.why.split('; ').slice(-1)[0]}.`,
      );
    void result.critic.then((c) => {
      if (panel.controller.record?.id === record.id) panel.controller.criticDone(c);
      this.deps.afterCall();
    });
    return record;
  }

  /** Switchyard: Open Plan Review: the newest plan, or a pick among the workspace's plans. */
  async open(arg?: string | vscode.Uri): Promise<void> {
    const dir = root();
    if (!dir) {
      void showError('Switchyard: open a folder first: plans live in its .switchyard/plans folder.', OPEN_FOLDER);
      return;
    }
    const pd = plansDir(dir);
    let path = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
    if (!path) {
      const files = existsSync(pd)
        ? readdirSync(pd)
            .filter((f) => f.endsWith('.json'))
            .map((f) => ({ f, t: statSync(join(pd, f)).mtimeMs }))
            .sort((a, b) => b.t - a.t)
        : [];
      if (files.length === 0) {
        const pick = await vscode.window.showInformationMessage(
          'Switchyard: this workspace has no plan yet.',
          'Plan a Change (Architect)',
        );
        if (pick) await vscode.commands.executeCommand('switchyard.plan.create');
        return;
      }
      if (files.length === 1) path = join(pd, files[0]!.f);
      else {
        const items = files.map(({ f, t }) => {
          try {
            const r = loadPlan(join(pd, f));
            return {
              label: r.plan.goal.slice(0, 80),
              description: `${r.review.status} · confidence ${r.plan.confidence}`,
              detail: `${f} · ${new Date(t).toLocaleString()}`,
              path: join(pd, f),
            };
          } catch (e) {
            return {
              label: `$(warning) ${f}`,
              description: 'unreadable',
              detail: (e as Error).message.slice(0, 200),
              path: join(pd, f),
            };
          }
        });
        const pick = await vscode.window.showQuickPick(items, {
          title: 'Switchyard: Open Plan Review',
          placeHolder: 'Newest first',
        });
        if (!pick) return;
        path = pick.path;
      }
    }
    try {
      this.review().open(loadPlan(path), path);
    } catch (e) {
      void vscode.window.showErrorMessage(`Switchyard: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** What the Architect sees: the selection, the open file and the workspace's files (names only). */
async function workspaceContext(
  dir: vscode.Uri,
  editor: vscode.TextEditor | undefined,
  selected: string,
): Promise<string> {
  const files = await vscode.workspace.findFiles(
    new vscode.RelativePattern(dir, '**/*'),
    '{**/node_modules/**,**/target/**,**/.git/**,**/.switchyard/**,**/dist/**}',
    400,
  );
  const names = files.map((u) => vscode.workspace.asRelativePath(u)).sort();
  // Most important first: a small window keeps the selection and the open file, and loses the file list's end.
  const parts: string[] = [];
  if (selected) parts.push(`Selection:\n\`\`\`\n${selected.slice(0, 8_000)}\n\`\`\``);
  if (editor) {
    const text = editor.document.getText();
    parts.push(
      `Open file: ${vscode.workspace.asRelativePath(editor.document.uri)}\n` +
        '```\n' +
        text.slice(0, 12_000) +
        (text.length > 12_000 ? '\n[cut at 12000 characters]' : '') +
        '\n```',
    );
  }
  parts.push(`Files (${names.length}${names.length === 400 ? ', first 400' : ''}):\n${names.join('\n')}`);
  return parts.join('\n\n');
}
