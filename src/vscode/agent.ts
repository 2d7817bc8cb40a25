// "Implement with Reflex Lane": the tool-using Implementer (src/core/agent) in the editor, with its task view. Reads run at once;
// each edit waits in the view for Approve / "Approve edits for this task" / Reject (or switchyard.agent.autoApprove);
// an edit of a file that governs the agent or its checks always asks in a modal; a command the rules do not allow
// (or any command, without an OS sandbox) asks in a modal; the local server is started when the local lane is
// chosen and it is stopped; a paid fallback is asked for (or switchyard.agent.allowPaidFallback). Stop cancels the
// turn in flight; a checkpoint restores the workspace.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { diskPorts, type DiskPorts } from '../core/agent/diskPorts.js';
import { runAgent, type AgentEvent, type AgentPorts, type AgentResult, type EditDecision } from '../core/agent/loop.js';
import { unifiedDiff } from '../core/agent/edits/answer.js';
import type { ProposedChange } from '../core/agent/tools.js';
import { newTaskId } from '../core/evidence/taskEvidence.js';
import { stepInstruction, stepTask } from '../core/pipeline/planRun.js';
import type { PlanRecord, PlanStep } from '../core/protocol/planRecord.js';
import { FromTaskView, type TaskState, type ToTaskView } from '../core/protocol/task.js';
import { taskScope } from '../core/agent/scope.js';
import type { ReflectResult } from '../core/reflector/reflector.js';
import { relativeInside } from '../core/util/paths.js';
import { config } from './config.js';
import { editorCommandRules, sayNoSandboxOnce } from './commandRules.js';
import { bundledPolicy } from '../core/policy/store.js';
import { Workspace } from '../core/agent/workspace.js';
import { taskJudged } from './judge.js';
import { reflectOnFailure } from './reflection.js';
import { PanelHost } from './panelHost.js';
import { LiveChecks } from './liveChecks.js';
import type { RoleDeps } from './roles.js';
import { stepDone } from './walkthrough.js';
import type { RuntimeService } from './runtime.js';

/**
 * The command's argument (CONTRACTS.md): none (the editor and its selection); from scripts `{instruction, path?,
 * cloud?}`; from a plan review, its step (the step's estimate and flags route the first turn).
 */
export interface AgentArg {
  instruction?: string;
  path?: string;
  cloud?: boolean;
  plan?: string;
  step?: PlanStep;
  /** The plan the step is of (a plan run): the step's instruction, scope and evidence come from it. */
  record?: PlanRecord;
}

/** How long the agent waits for the local server it started (a large model on vLLM takes minutes). */
const START_WAIT_MS = 5 * 60_000;

interface Running {
  ac: AbortController;
  ports: DiskPorts;
  pending: { id: string; resolve: (d: EditDecision) => void } | null;
  approveAll: boolean;
}

export class AgentService extends PanelHost<FromTaskView, ToTaskView> {
  private task: TaskState | null = null;
  private running: Running | null = null;
  /** The last result in this window, and the reflector's work after it failed (tests read them). */
  last: AgentResult | null = null;
  lastReflection: Promise<ReflectResult | null> | null = null;

  constructor(
    private readonly deps: RoleDeps,
    private readonly stateDir: string,
    private readonly runtime: () => RuntimeService,
  ) {
    super(deps.extensionUri, deps.log, {
      type: 'switchyard.task',
      script: 'task',
      title: 'Switchyard: Task',
      incoming: FromTaskView,
      retain: true,
    });
    // The gate closed from anywhere (the plan review, the palette) shows here too.
    this.judged = taskJudged.event(({ task_id, gate }) => {
      if (this.task?.task_id !== task_id) return;
      this.task.gate = { status: gate.status, why: gate.why };
      this.post();
    });
  }
  private readonly judged: vscode.Disposable;
  private readonly liveChecks = new LiveChecks();

  protected state(): ToTaskView | null {
    return this.task
      ? { type: 'state', state: this.task }
      : { type: 'empty', text: 'No task yet: right-click in a file, "Implement with Reflex Lane".' };
  }

  async run(given?: AgentArg | vscode.Uri): Promise<AgentResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    if (this.running) {
      this.show();
      void vscode.window.showWarningMessage('Switchyard: a task is running; stop it before starting another.');
      return undefined;
    }
    const arg = given instanceof vscode.Uri ? undefined : given;
    const path = typeof arg?.path === 'string' ? relativeInside(arg.path) : (arg?.step?.files[0] ?? null);
    // A plan's step leaves the plan review where it is (the task view opens beside it and shows the diffs).
    if (path && !arg?.record && existsSync(join(folder.uri.fsPath, path)))
      await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, path), { preview: false });
    const editor = vscode.window.activeTextEditor;
    const fromStep = arg?.step
      ? arg.record
        ? stepInstruction(arg.record, arg.step)
        : `${arg.step.title}${arg.step.description ? `: ${arg.step.description}` : ''}`
      : undefined;
    const instruction = arg?.instruction ?? fromStep ?? (await askInstruction(editor));
    if (!instruction) return undefined;
    const root = folder.uri.fsPath;
    const taskId = newTaskId('impl');
    const policy = this.deps.policy();
    const caller = this.deps.calls().core;
    const ports = diskPorts({
      root,
      taskId,
      policy,
      caller,
      stateDir: this.stateDir,
      checks: config.implementCheckCommands(),
      checkTimeoutMs: config.implementCheckTimeoutSeconds() * 1000,
      secrets: await this.deps.calls().knownSecrets(),
    });
    if (!ports.support.available) sayNoSandboxOnce(ports.support.why);
    const fromWorkspace = JSON.stringify(policy) !== JSON.stringify(bundledPolicy());
    const commandRules = await editorCommandRules(root, policy, fromWorkspace, this.stateDir, this.deps.log);
    const ac = new AbortController();
    this.running = { ac, ports, pending: null, approveAll: config.agentAutoApprove() };
    this.lastPorts = ports;
    this.task = emptyTask(taskId, instruction, this.running.approveAll, arg?.cloud === true);
    this.show(vscode.ViewColumn.Beside);
    const focus = focusOf(editor, root);
    try {
      const r = await runAgent(this.editorPorts(ports), {
        task_id: taskId,
        policy,
        localOnly: this.deps.localOnly(),
        signal: ac.signal,
        commandRules,
        userRequestsCloud: () => this.task?.use_cloud === true,
        ...(arg?.step && arg.record
          ? stepTask(arg.record, arg.step, ports.ws)
          : {
              instruction,
              scope: taskScope(ports.ws, { instruction, selection: focus?.selection?.text, step: arg?.step }),
            }),
        ...(focus ? { focus } : {}),
      });
      this.last = r;
      if (r.status === 'failed')
        this.lastReflection = reflectOnFailure(this.deps, root, {
          ...{ task_id: taskId, instruction, attempts: r.attempts, high_risk: r.requires_judge },
          evidence: vscode.workspace.asRelativePath(r.evidence, false),
          files: r.changed.length ? r.changed : focus ? [focus.path] : [],
        });
      return r;
    } finally {
      this.running = null;
      this.deps.afterCall();
      this.post();
    }
  }

  /** What the agent asks of the editor: approvals in the task view, modal questions, the local server. */
  private editorPorts(ports: DiskPorts): AgentPorts {
    return {
      ...ports,
      approveEdits: (changes, summary) => this.approve(changes, summary),
      approveCommand: (argv, cwd, ask) => approveCommand(argv, cwd, ask.why),
      approveGoverningEdit: (changes, reasons) => approveGoverningEdit(changes, reasons),
      askUser: async (question) =>
        (await vscode.window.showInputBox({
          title: 'Switchyard: the agent asks',
          prompt: question,
          ignoreFocusOut: true,
        })) ?? null,
      ensureLocal: () => this.ensureLocal(),
      confirmPaidFallback: (why) => confirmPaidFallback(why),
      emit: (e) => this.onEvent(e),
    };
  }

  protected async onMessage(msg: FromTaskView): Promise<void> {
    const run = this.running;
    switch (msg.type) {
      case 'ready':
        return;
      case 'stop':
        run?.ac.abort();
        run?.pending?.resolve('reject');
        return;
      case 'useCloud':
        if (this.task) this.task.use_cloud = msg.on;
        return this.post();
      case 'approve':
      case 'reject':
        if (!run?.pending || run.pending.id !== msg.id) return;
        if (msg.type === 'approve' && msg.all) run.approveAll = true;
        run.pending.resolve(msg.type === 'approve' ? 'approve' : 'reject');
        return;
      case 'restore':
        return this.restore(msg.checkpoint);
      case 'judge':
        return this.askJudge();
      case 'openFile': {
        // A webview message is untrusted: the path goes through the agent's workspace guard (no `..`, no absolute
        // path, no link out of the workspace, no .git).
        const folder = vscode.workspace.workspaceFolders?.[0];
        if (!folder) return;
        let rel: string;
        try {
          rel = new Workspace(folder.uri.fsPath).rel(msg.path);
        } catch (e) {
          this.deps.log.warn(
            `task view: refused to open ${JSON.stringify(msg.path).slice(0, 200)}: ${(e as Error).message}`,
          );
          return;
        }
        await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, rel));
        return;
      }
    }
  }

  /** An edit waits in the view (unless edits are approved for this task). */
  private approve(changes: ProposedChange[], summary: string): Promise<EditDecision> {
    const run = this.running!;
    if (run.approveAll) return Promise.resolve('approve');
    const id = `edit-${Date.now().toString(36)}`;
    const files = changes.map((c) => ({ path: c.path, diff: unifiedDiff([c]), how: c.how }));
    this.task!.pending = { id, summary, files };
    this.post();
    return new Promise<EditDecision>((resolve) => {
      run.pending = {
        id,
        resolve: (d) => {
          run.pending = null;
          if (this.task) this.task.pending = null;
          this.post();
          resolve(d);
        },
      };
    });
  }

  private async ensureLocal(): Promise<boolean> {
    if (config.runtimeEndpoint() || this.deps.policy().runtime.endpoint) return true; // a team's server: not ours to start
    const rt = this.runtime();
    if (rt.manager.status().state === 'ready') return true;
    if (!vscode.workspace.isTrusted) return false;
    // Started as the Tutor starts it (its progress and errors are the runtime's own); the agent waits for the
    // server to be ready or to have failed, not for the notification to close.
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(done, START_WAIT_MS);
      const sub = rt.onDidChangeState(() => {
        if (['ready', 'failed', 'stopped'].includes(rt.manager.status().state)) done();
      });
      function done() {
        clearTimeout(timer);
        sub.dispose();
        resolve();
      }
    });
    rt.start().catch((e: unknown) =>
      this.deps.log.warn(`agent: the local model server did not start: ${(e as Error).message}`),
    );
    await settled;
    return rt.manager.status().state === 'ready';
  }

  /** Restores a checkpoint of the last task; what was there is kept as a checkpoint, shown in the last turn. */
  private async restore(id: string): Promise<void> {
    if (this.running) {
      void vscode.window.showWarningMessage('Switchyard: stop the task before restoring a checkpoint.');
      return;
    }
    const ports = this.lastPorts;
    if (!ports || !this.task) return;
    const pick = await vscode.window.showWarningMessage(
      'Restore the workspace to this checkpoint? What is there now is kept as a checkpoint of its own.',
      { modal: true },
      'Restore',
    );
    if (pick !== 'Restore') return;
    const kept = await ports.checkpoints.restore(id);
    const turn = Math.max(1, ...this.task.turns.map((t) => t.turn));
    this.task.checkpoints.push({ turn, id: kept.id, label: kept.label });
    void vscode.window.showInformationMessage('Switchyard: the workspace is back at the checkpoint.');
    this.post();
  }

  /** The ports of the last task (its checkpoints stay restorable after it ended). */
  private lastPorts: DiskPorts | null = null;

  private onEvent(e: AgentEvent): void {
    const t = this.task;
    if (!t) return;
    switch (e.type) {
      case 'text':
        t.streaming += e.text;
        break;
      case 'turn':
        t.streaming = '';
        t.turns.push(e);
        break;
      case 'tool':
        t.tools.push(e);
        t.diff = this.lastPorts ? unifiedDiff(this.lastPorts.ws.changes()) : '';
        break;
      case 'route':
        t.routes.push(e);
        break;
      case 'check':
        t.checks.push(e);
        this.liveChecks.ended(t, e);
        break;
      case 'check_output':
        // Only the batch goes to the view (it applies it as the host did), not the whole task every 100 ms.
        return this.send(this.liveChecks.output(t, e));
      case 'checkpoint':
        t.checkpoints.push(e);
        break;
      case 'result':
        stepDone('agent');
        this.liveChecks.ended(t, 'stopped');
        t.status = e.status;
        t.message = e.message;
        t.evidence = e.evidence;
        if (e.status === 'awaiting_judge') {
          t.gate = { status: 'awaiting_judge', why: 'the change is high risk: a cloud Judge must approve it (GR-002)' };
          void vscode.window
            .showWarningMessage(`Switchyard: awaiting the Judge: ${e.message}`, 'Ask the Judge')
            .then((pick) => pick && this.askJudge());
        } else void vscode.window.showInformationMessage(`Switchyard: ${e.status.replace('_', ' ')}: ${e.message}`);
        break;
    }
    if (e.type !== 'text' || t.streaming.length % 200 < e.text.length) this.post();
  }

  /** The task view's "Ask the Judge": the cloud Judge on this task; the gate as it then stands. */
  private async askJudge(): Promise<void> {
    const t = this.task;
    if (!t || t.status !== 'awaiting_judge' || t.gate?.status === 'approved') return;
    const r = await vscode.commands.executeCommand<{ gate?: TaskState['gate'] } | undefined>('switchyard.judge.audit', {
      task: t.task_id,
    });
    if (r?.gate && this.task === t) this.post(); // taskJudged has set the gate
  }

  override dispose(): void {
    this.judged.dispose();
    this.liveChecks.dispose();
    this.running?.ac.abort();
    super.dispose();
  }
}

function emptyTask(taskId: string, instruction: string, autoApprove: boolean, cloud: boolean): TaskState {
  return {
    task_id: taskId,
    instruction,
    status: 'running',
    message: 'The agent is working.',
    use_cloud: cloud,
    auto_approve: autoApprove,
    turns: [],
    tools: [],
    routes: [],
    checks: [],
    checkpoints: [],
    pending: null,
    streaming: '',
    diff: '',
    evidence: '',
  };
}

function focusOf(editor: vscode.TextEditor | undefined, root: string) {
  if (!editor || editor.document.uri.scheme !== 'file' || !editor.document.uri.fsPath.startsWith(join(root, '/')))
    return undefined;
  const path = vscode.workspace.asRelativePath(editor.document.uri, false);
  const sel = editor.selection;
  if (sel.isEmpty) return { path };
  return {
    path,
    selection: {
      startLine: sel.start.line + 1,
      endLine: sel.end.line + 1,
      text: editor.document.getText(sel).slice(0, 8_000),
    },
  };
}

async function askInstruction(editor: vscode.TextEditor | undefined): Promise<string | undefined> {
  const where = editor ? ` (starting from ${vscode.workspace.asRelativePath(editor.document.uri)})` : '';
  const v = await vscode.window.showInputBox({
    title: 'Switchyard: Implement with Reflex Lane',
    ignoreFocusOut: true,
    prompt: `What should the agent do${where}? It reads and searches freely; edits and commands wait for you.`,
    validateInput: (x) =>
      x.trim().length < 3 ? 'Say what should change.' : x.length > 4_000 ? 'Keep it under 4000 characters.' : null,
  });
  return v?.trim() || undefined;
}

async function approveCommand(argv: string[], cwd: string, why: string): Promise<boolean> {
  const pick = await vscode.window.showWarningMessage(
    `The agent wants to run: ${argv.join(' ').slice(0, 500)} (in ${cwd}).`,
    { modal: true, detail: `It asks because ${why}.` },
    'Run it',
  );
  return pick === 'Run it';
}

/** An edit of the policy, the editor settings or a file that defines the checks: the user's call, every time. */
async function approveGoverningEdit(changes: ProposedChange[], reasons: string[]): Promise<boolean> {
  const pick = await vscode.window.showWarningMessage(
    `The agent wants to change ${changes.map((c) => c.path).join(', ')}`,
    {
      modal: true,
      detail:
        `${reasons.join('\n')}\n\nThese files govern the agent (its policy and rules, the editor's settings) or ` +
        'define what the checks run. Approve only an edit you asked for.',
    },
    'Allow this edit',
  );
  return pick === 'Allow this edit';
}

async function confirmPaidFallback(why: string): Promise<boolean> {
  if (config.agentAllowPaidFallback()) return true;
  const pick = await vscode.window.showWarningMessage(
    `Switchyard: ${why}. Use the policy's paid cloud fallback for this task?`,
    { modal: true },
    'Use the cloud',
  );
  return pick === 'Use the cloud';
}
