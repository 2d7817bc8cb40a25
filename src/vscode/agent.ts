// "Implement with Reflex Lane": the tool-using Implementer (src/core/agent) in the editor, with its task view. Reads run at once;
// each edit waits in the view for Approve / "Approve edits for this task" / Reject (or switchyard.agent.autoApprove);
// an edit of a file that governs the agent or its checks always asks in a modal; a command the rules do not allow
// (or any command, without an OS sandbox) asks in a modal; the local server is started when the local lane is
// chosen and it is stopped; a paid fallback is asked for (or switchyard.agent.allowPaidFallback). Stop cancels the
// turn in flight; a checkpoint restores the workspace. After a reload, a crash of the extension host or a restart,
// the view is drawn again from the evidence folder (the task's recorded events, replayed through the same update
// the live path applies); a task that was running comes back "interrupted", to resume or abandon.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { diskPorts, type DiskPorts } from '../core/agent/diskPorts.js';
import { runAgent, type AgentEvent, type AgentPorts, type AgentResult, type EditDecision } from '../core/agent/loop.js';
import { abandonTask, INTERRUPTED, listTasks, loadTask, resumeAgent, type TaskSummary } from '../core/agent/resume.js';
import { unifiedDiff } from '../core/agent/edits/answer.js';
import type { ProposedChange } from '../core/agent/tools.js';
import { newTaskId } from '../core/evidence/taskEvidence.js';
import { stepInstruction, stepTask } from '../core/pipeline/planRun.js';
import type { PlanRecord, PlanStep } from '../core/protocol/planRecord.js';
import { FromTaskView, type TaskListItem, type TaskState, type ToTaskView } from '../core/protocol/task.js';
import { taskScope } from '../core/agent/scope.js';
import type { ReflectResult } from '../core/reflector/reflector.js';
import { relativeInside } from '../core/util/paths.js';
import { config } from './config.js';
import { editorCommandRules, sayNoSandboxOnce } from './commandRules.js';
import { bundledPolicy } from '../core/policy/store.js';
import type { Policy } from '../core/policy/schema.js';
import { Workspace } from '../core/agent/workspace.js';
import { taskJudged } from './judge.js';
import { reflectOnFailure } from './reflection.js';
import { PanelHost } from './panelHost.js';
import { validateMessage } from '../core/protocol/validate.js';
import { LiveChecks } from './liveChecks.js';
import type { RoleDeps } from './roles.js';
import { stepDone } from './walkthrough.js';
import type { RuntimeService } from './runtime.js';
import { applyEvent, emptyTask, listItem, replayTask } from './taskReplay.js';

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
  /** The workspace's tasks on disk, newest first (the view's picker). */
  private tasks: TaskListItem[] = [];
  /** The tasks on disk were read once (until then the view says it is reading them). */
  private listed = false;
  /** A recorded task shown as running (its owner is another window or the CLI): read again until it ends. */
  private poll: ReturnType<typeof setTimeout> | null = null;
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
    const tasks = this.tasks.length ? { tasks: this.tasks } : {};
    return this.task
      ? { type: 'state', state: this.task, ...tasks }
      : {
          type: 'empty',
          text: this.listed
            ? 'No task yet: right-click in a file, "Implement with Reflex Lane".'
            : "Reading this workspace's tasks…",
          ...tasks,
        };
  }

  /** The view, new or restored by VS Code after a reload: drawn again from the evidence folder. */
  override attach(panel: vscode.WebviewPanel): void {
    super.attach(panel);
    panel.onDidDispose(() => this.stopPolling(), undefined, this.disposables);
    void this.refresh();
  }

  /** The view opened from the palette ("Show Task"): this window's task, or the newest one on disk. */
  async open(): Promise<void> {
    this.show(vscode.ViewColumn.Beside);
    await this.refresh();
  }

  /** The task view's state in this window (tests read it). */
  get current(): TaskState | null {
    return this.task;
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
    const { policy, ports, commandRules } = await this.portsFor(root, taskId);
    const ac = this.begin(ports, emptyTask(taskId, instruction, config.agentAutoApprove(), arg?.cloud === true));
    const focus = focusOf(editor, root);
    return this.drive(
      root,
      () =>
        runAgent(this.editorPorts(ports), {
          ...this.runInput(taskId, policy, commandRules, ac.signal),
          ...(arg?.step && arg.record
            ? stepTask(arg.record, arg.step, ports.ws)
            : {
                instruction,
                scope: taskScope(ports.ws, { instruction, selection: focus?.selection?.text, step: arg?.step }),
              }),
          ...(focus ? { focus } : {}),
        }),
      { instruction, focus: focus?.path },
    );
  }

  /** What a new task and a resumed one are both given: the policy, local_only, Stop, the rules, "use cloud". */
  private runInput(
    taskId: string,
    policy: Policy,
    commandRules: Parameters<typeof runAgent>[1]['commandRules'],
    signal: AbortSignal,
  ) {
    return {
      task_id: taskId,
      policy,
      localOnly: this.deps.localOnly(),
      signal,
      ...(commandRules ? { commandRules } : {}),
      userRequestsCloud: () => this.task?.use_cloud === true,
    };
  }

  /**
   * Resume: an interrupted task goes on where it stopped (its transcript and routing state reload in the core) with
   * the ports a new task gets; the view is then a live task. Any other task is refused, with what it is.
   */
  async resume(taskId: string): Promise<AgentResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    if (this.running) return this.refuse('a task is running; stop it before resuming another.');
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(
        "Switchyard: the Implementer runs the project's build and tests, and nothing runs in an untrusted " +
          'workspace (GR-010). Trust the workspace to resume the task.',
      );
      return undefined;
    }
    const root = folder.uri.fsPath;
    const found = await this.recorded(root, taskId);
    if (!found) return undefined;
    if (found.summary.status !== 'interrupted')
      return this.refuse(
        `task ${taskId} is ${statusWords(found.summary)}, not interrupted: only an interrupted task can be resumed.`,
      );
    const { policy, ports, commandRules } = await this.portsFor(root, taskId);
    if (this.running) return undefined; // started meanwhile (the command rules may have asked)
    const t = replayTask(found.summary, found.events);
    t.status = 'running';
    t.message = 'Resumed: the agent is working.';
    t.restored_from_disk = false;
    t.auto_approve = config.agentAutoApprove();
    delete t.reason;
    const ac = this.begin(ports, t);
    this.deps.log.info(`agent: resuming ${taskId} after turn ${found.summary.turns}`);
    return this.drive(
      root,
      () =>
        resumeAgent(this.editorPorts(ports), {
          ...this.runInput(taskId, policy, commandRules, ac.signal),
        }),
      { instruction: found.summary.instruction },
    );
  }

  /**
   * Abandon: after a modal yes, the workspace goes back to the task's first checkpoint; the files the user changed
   * since the task's last action are kept as they are, and both lists are shown.
   */
  async abandon(taskId: string): Promise<{ restored: string[]; kept: string[] } | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    if (this.running) return this.refuse('a task is running; stop it before abandoning a task.');
    const root = folder.uri.fsPath;
    const found = await this.recorded(root, taskId);
    if (!found) return undefined;
    if (found.summary.status !== 'interrupted')
      return this.refuse(
        `task ${taskId} is ${statusWords(found.summary)}, not interrupted: only an interrupted task can be abandoned.`,
      );
    const pick = await vscode.window.showWarningMessage(
      `Abandon the task "${found.summary.instruction.slice(0, 200)}"?`,
      {
        modal: true,
        detail:
          'The files the task changed go back to its first checkpoint (as they were before the task). Files you ' +
          "changed yourself since the task's last action are kept as they are, and listed.",
      },
      'Abandon',
    );
    if (pick !== 'Abandon' || this.running) return undefined;
    const r = await abandonTask(this.diskFor(root, taskId), root, taskId);
    const again = await loadTask(root, taskId).catch(() => null);
    const t = replayTask(again?.summary ?? found.summary, again?.events ?? found.events);
    t.status = 'abandoned';
    t.abandoned = r;
    t.restored_from_disk = false;
    t.message =
      `Abandoned: the workspace is back at the task's first checkpoint (${r.restored.length} file(s) restored)` +
      (r.kept.length ? `; your changes to ${r.kept.length} file(s) were kept.` : '.');
    this.task = t;
    this.show();
    this.post();
    void this.refresh();
    void vscode.window.showInformationMessage(
      `Switchyard: abandoned. Restored: ${r.restored.join(', ') || 'nothing'}.` +
        (r.kept.length ? ` Kept (you changed them): ${r.kept.join(', ')}.` : ''),
    );
    return r;
  }

  /**
   * After activation: the newest task was interrupted and its view is not open (a restored view shows it). A task
   * still said to be running may belong to a host that is only now going away: it is read again for a while.
   */
  async noticeInterrupted(tries = 15): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') return;
    let newest: TaskSummary | undefined;
    for (let i = 0; i < tries; i++) {
      newest = (await listTasks(folder.uri.fsPath).catch(() => [] as TaskSummary[]))[0];
      if (newest?.status !== 'running' || this.running) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    if (!newest || newest.status !== 'interrupted' || this.visible || this.running) return;
    const pick = await vscode.window.showInformationMessage(
      `Switchyard: the task "${newest.instruction.slice(0, 120)}" was interrupted (its window reloaded or its process ended).`,
      'Show Task',
    );
    if (pick === 'Show Task') await this.open();
  }

  /** The last request of the view this window refused, and why (tests read it). */
  lastRefusal: string | null = null;

  /** Says why a request is not done (a warning; the log has it too). */
  private refuse(text: string): undefined {
    this.lastRefusal = text;
    this.deps.log.warn(`task view: ${text}`);
    void vscode.window.showWarningMessage(`Switchyard: ${text}`);
    return undefined;
  }

  /** A message as the view sends it, through the same gate (the extension-host tests send hostile ones). */
  async fromView(raw: unknown): Promise<boolean> {
    const msg = validateMessage(FromTaskView, raw, 'task', (s) => this.deps.log.warn(s));
    if (msg) await this.onMessage(msg);
    return msg !== null;
  }

  /** A recorded task of this workspace, or a warning that there is none by that id. */
  private async recorded(root: string, taskId: string) {
    const found = await loadTask(root, taskId).catch((e: unknown) => {
      this.deps.log.warn(`task view: could not read task ${taskId}: ${(e as Error).message}`);
      return null;
    });
    if (!found) this.refuse(`there is no task ${taskId} in this workspace.`);
    return found;
  }

  /** The ports without the editor's questions: for a task that does not run (abandon, a checkpoint restored). */
  private diskFor(root: string, taskId: string): DiskPorts {
    return diskPorts({
      root,
      taskId,
      policy: this.deps.policy(),
      caller: this.deps.calls().core,
      stateDir: this.stateDir,
    });
  }

  /** The ports and command rules a task runs with, new or resumed. */
  private async portsFor(root: string, taskId: string) {
    const policy = this.deps.policy();
    const ports = diskPorts({
      root,
      taskId,
      policy,
      caller: this.deps.calls().core,
      stateDir: this.stateDir,
      checks: config.implementCheckCommands(),
      checkTimeoutMs: config.implementCheckTimeoutSeconds() * 1000,
      secrets: await this.deps.calls().knownSecrets(),
    });
    if (!ports.support.available) sayNoSandboxOnce(ports.support.why);
    const fromWorkspace = JSON.stringify(policy) !== JSON.stringify(bundledPolicy());
    const commandRules = await editorCommandRules(root, policy, fromWorkspace, this.stateDir, this.deps.log);
    return { policy, ports, commandRules };
  }

  /** The task becomes this window's running task, shown beside the editor. */
  private begin(ports: DiskPorts, t: TaskState): AbortController {
    const ac = new AbortController();
    this.stopPolling();
    this.running = { ac, ports, pending: null, approveAll: config.agentAutoApprove() };
    this.lastPorts = ports;
    this.task = t;
    this.show(vscode.ViewColumn.Beside);
    return ac;
  }

  /** Runs the task to its end; a failed one goes to the reflector. */
  private async drive(
    root: string,
    go: () => Promise<AgentResult>,
    about: { instruction: string; focus?: string },
  ): Promise<AgentResult> {
    const taskId = this.task!.task_id;
    try {
      const r = await go();
      this.last = r;
      if (r.status === 'failed')
        this.lastReflection = reflectOnFailure(this.deps, root, {
          ...{ task_id: taskId, instruction: about.instruction, attempts: r.attempts, high_risk: r.requires_judge },
          evidence: vscode.workspace.asRelativePath(r.evidence, false),
          files: r.changed.length ? r.changed : about.focus ? [about.focus] : [],
        });
      return r;
    } finally {
      this.running = null;
      this.deps.afterCall();
      this.post();
      void this.refresh();
    }
  }

  /**
   * The workspace's tasks read again from the evidence folder; the view is drawn again from disk unless it shows
   * this window's own task (running, or ended here).
   */
  private async refresh(): Promise<void> {
    this.stopPolling();
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') {
      this.listed = true;
      return this.post();
    }
    const root = folder.uri.fsPath;
    let list: TaskSummary[];
    try {
      list = await listTasks(root);
    } catch (e) {
      this.deps.log.warn(`task view: could not list the tasks: ${(e as Error).message}`);
      this.listed = true;
      return this.post();
    }
    this.tasks = list.map(listItem);
    this.listed = true;
    const fromDisk = () => !this.running && (!this.task || this.task.restored_from_disk === true);
    if (fromDisk()) {
      const id = this.task?.task_id ?? list[0]?.task_id;
      const found = id ? await loadTask(root, id).catch(() => null) : null;
      if (found && fromDisk()) this.task = replayTask(found.summary, found.events);
    }
    this.post();
    if (this.visible && this.task?.restored_from_disk && this.task.status === 'running')
      this.poll = setTimeout(() => void this.refresh(), 2_000);
  }

  private stopPolling(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = null;
  }

  /** Another task of the workspace, picked in the view. */
  private async openTask(taskId: string): Promise<void> {
    if (this.running) {
      this.refuse('a task is running; the view follows it until it ends.');
      return this.post();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return;
    const found = await this.recorded(folder.uri.fsPath, taskId);
    if (!found || this.running) return;
    this.task = replayTask(found.summary, found.events);
    await this.refresh();
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
      case 'resume':
        await this.resume(msg.task);
        return;
      case 'abandon':
        await this.abandon(msg.task);
        return;
      case 'openTask':
        return this.openTask(msg.task);
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
    const t = this.task;
    const folder = vscode.workspace.workspaceFolders?.[0];
    // Only a checkpoint the view shows, of a task that is not running elsewhere (the id comes from the webview).
    if (!t || !folder || t.status === 'running' || !t.checkpoints.some((c) => c.id === id)) return;
    const ports =
      this.lastPorts?.evidence.dir === t.evidence || !t.restored_from_disk
        ? this.lastPorts
        : this.diskFor(folder.uri.fsPath, t.task_id);
    if (!ports) return;
    const pick = await vscode.window.showWarningMessage(
      'Restore the workspace to this checkpoint? What is there now is kept as a checkpoint of its own.',
      { modal: true },
      'Restore',
    );
    if (pick !== 'Restore') return;
    const kept = await ports.checkpoints.restore(id);
    const turn = Math.max(1, ...t.turns.map((x) => x.turn));
    t.checkpoints.push({ turn, id: kept.id, label: kept.label });
    void vscode.window.showInformationMessage('Switchyard: the workspace is back at the checkpoint.');
    this.post();
  }

  /** The ports of the last task (its checkpoints stay restorable after it ended). */
  private lastPorts: DiskPorts | null = null;

  private onEvent(e: AgentEvent): void {
    const t = this.task;
    if (!t) return;
    // A check's output: only the batch goes to the view (it applies it as the host did), not the whole task every
    // 100 ms; the output channel gets it too.
    if (e.type === 'check_output') return this.send(this.liveChecks.output(t, e));
    applyEvent(t, e, () => (this.lastPorts ? unifiedDiff(this.lastPorts.ws.changes()) || t.diff : t.diff));
    if (e.type === 'result') {
      stepDone('agent');
      if (e.status === 'awaiting_judge')
        void vscode.window
          .showWarningMessage(`Switchyard: awaiting the Judge: ${e.message}`, 'Ask the Judge')
          .then((pick) => pick && this.askJudge());
      else void vscode.window.showInformationMessage(`Switchyard: ${statusWords(e)}: ${e.message}`);
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
    this.stopPolling();
    this.liveChecks.dispose();
    // The window goes away (a reload, a restart): the task stops where it is and stays resumable ("interrupted"),
    // which Stop (a plain abort: "cancelled") is not.
    this.running?.ac.abort(INTERRUPTED);
    super.dispose();
  }
}

/** A status as the protocol words it, with its reason (a task that gave up says why). */
function statusWords(t: { status: string; reason?: string | null }): string {
  return t.reason ? `${t.status} (${t.reason})` : t.status;
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
