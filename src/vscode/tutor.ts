// The Tutor chat panel: the webview glue around TutorController (src/core/tutor/controller.ts). The Tutor is
// always local (§1); when the local server cannot serve, the policy's Haiku fallback answers, audited (GR-005).
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { promptTokens } from '../core/budget/tokens.js';
import type { Policy } from '../core/policy/schema.js';
import { FromTutorView, type ToTutorView } from '../core/protocol/tutor.js';
import { route } from '../core/router/route.js';
import { TutorController, type TutorPorts } from '../core/tutor/controller.js';
import { answerWithEyes, EYES_HINT } from '../core/tutor/eyes.js';
import { Workspace } from '../core/agent/workspace.js';
import type { ChatMessage, ToolSpec } from '../core/providers/types.js';
import type { CallResult } from '../core/providers/call.js';
import type { RoleDeps } from './roles.js';
import { PanelHost } from './panelHost.js';
import { servedLabel, servedWarning } from '../core/runtime/served.js';
import { config } from './config.js';
import { stepDone } from './walkthrough.js';
import type { RuntimeService } from './runtime.js';

const SESSION_KEY = 'switchyard.tutor.session';

export class TutorPanel extends PanelHost<FromTutorView, ToTutorView> {
  readonly controller: TutorController;
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;

  private readonly policy: () => Policy;
  private readonly localOnly: () => boolean;

  constructor(
    deps: RoleDeps,
    private readonly memento: vscode.Memento,
    private readonly runtime: () => RuntimeService,
  ) {
    super(deps.extensionUri, deps.log, {
      type: 'switchyard.tutor',
      script: 'tutor',
      title: 'Switchyard Tutor',
      incoming: FromTutorView,
      retain: true,
      lazy: { markdown: 'markdown.js' },
    });
    this.policy = deps.policy;
    this.localOnly = deps.localOnly;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e) this.lastEditor = e;
      }),
      // The header follows the settings and the server (which model and lane would answer now).
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('switchyard')) this.controller.postState();
      }),
    );
    this.controller = new TutorController(this.ports(deps));
    this.controller.restore(this.memento.get(SESSION_KEY));
    // The header follows the server's state (starting, ready, stopped).
    this.disposables.push(runtime().onDidChangeState(() => this.controller.postState()));
  }

  /** One answer, with the Tutor's eyes: the agent's read-only tools over the open folder (src/core/tutor/eyes.ts). */
  private async callWithEyes(deps: RoleDeps, o: Parameters<TutorPorts['call']>[0]): Promise<CallResult> {
    const { messages, signal, onEvent } = o;
    const once = async (m: ChatMessage[], tools?: ToolSpec[]) => {
      const r = await deps
        .calls()
        .chat({ role: 'tutor', messages: m, signal, onEvent, max_tokens: 2048, ...(tools ? { tools } : {}) });
      deps.afterCall(r);
      stepDone('tutor');
      return r;
    };
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return once(messages);
    const [system, ...rest] = messages;
    const seeing: ChatMessage[] = [{ role: 'system', content: `${system!.content}\n${EYES_HINT}` }, ...rest];
    return answerWithEyes(once, seeing, { ws: new Workspace(folder.uri.fsPath) }, (what) =>
      deps.log.info(`tutor looked: ${what}`),
    );
  }

  /** What the Tutor's controller needs from the editor: the routed call, the editor's selection, files, links. */
  private ports(deps: RoleDeps): TutorPorts {
    const { log } = deps;
    return {
      call: (o) => this.callWithEyes(deps, o),
      post: (m) => this.send(m),
      startTask: async () => {
        await vscode.commands.executeCommand('switchyard.task.start');
      },
      selection: () => {
        const e = this.editor();
        if (!e || e.selection.isEmpty) return null;
        const file = vscode.workspace.asRelativePath(e.document.uri);
        return {
          label: `${file}:${e.selection.start.line + 1}-${e.selection.end.line + 1}`,
          text: e.document.getText(e.selection),
        };
      },
      pickFile: async () => {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Attach to the Tutor chat',
          ...(vscode.workspace.workspaceFolders?.[0] ? { defaultUri: vscode.workspace.workspaceFolders[0].uri } : {}),
        });
        const uri = picked?.[0];
        if (!uri) return null;
        try {
          const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
          return {
            label: vscode.workspace.asRelativePath(uri),
            text: doc ? doc.getText() : await readFile(uri.fsPath, 'utf8'),
          };
        } catch (e) {
          void vscode.window.showErrorMessage(`Switchyard: could not read ${uri.fsPath}: ${(e as Error).message}`);
          return null;
        }
      },
      copy: (text) => Promise.resolve(vscode.env.clipboard.writeText(text)),
      insert: async (text) => {
        const e = this.editor();
        if (!e) return 'Open a file in an editor first: the code is inserted at its cursor.';
        const ok = await e.edit((b) => {
          for (const s of e.selections) b.replace(s, text);
        });
        if (!ok)
          return `Could not insert into ${vscode.workspace.asRelativePath(e.document.uri)} (it may be read-only).`;
        await vscode.window.showTextDocument(e.document, e.viewColumn);
        return null;
      },
      openLink: async (href) => {
        const pick = await vscode.window.showWarningMessage(
          `The Tutor's answer links to ${href}. Open it in your browser?`,
          { modal: true, detail: 'Links in model output may be wrong or unsafe.' },
          'Open Link',
        );
        if (pick === 'Open Link') await vscode.env.openExternal(vscode.Uri.parse(href, true));
      },
      countTokens: (t) => promptTokens(t, 'local'),
      lane: () => this.laneText(),
      laneWarning: () => {
        const m = this.runtime().manager.status().model;
        const d = route({ role: 'tutor' }, this.policy(), { local_only_setting: this.localOnly() });
        return m && d.provider === 'local' ? servedWarning(m) : null;
      },
      label: (provider, model) =>
        Object.values(this.policy().models).find((m) => m.provider === provider && m.id === model)?.label ??
        `${provider}/${model}`,
      limits: () => ({
        short: config.tutorSessionTokens(),
        window: this.window(),
      }),
      beforeSend: () => this.ensureLocal(),
      canStart: () =>
        vscode.workspace.isTrusted &&
        !config.runtimeEndpoint() &&
        ['stopped', 'failed'].includes(this.runtime().manager.status().state),
      startServer: () => this.runtime().start(),
      log: { warn: (s) => log.warn(s), info: (s) => log.info(s) },
    };
  }

  private editor(): vscode.TextEditor | undefined {
    const e = vscode.window.activeTextEditor ?? this.lastEditor;
    return e && vscode.window.visibleTextEditors.includes(e) ? e : vscode.window.visibleTextEditors[0];
  }

  /** The Tutor's model now: the router's decision under the current policy, and whether the server runs. */
  private laneText(): string {
    const d = route({ role: 'tutor' }, this.policy(), { local_only_setting: this.localOnly() });
    if (d.refused) return `refused: ${d.refused.message}`;
    const st = this.runtime().manager.status();
    // The local lane is named by what its server really serves, once that is known (read from the model).
    const label =
      d.provider === 'local' && st.model
        ? servedLabel(st.model)
        : (d.chain[0]?.spec.label ?? `${d.provider}/${d.model}`);
    const external = config.runtimeEndpoint() ?? this.policy().runtime.endpoint;
    const server = external
      ? `external endpoint ${external}`
      : st.state === 'ready'
        ? `server ready (${st.engine === 'llama_cpp' ? 'llama.cpp' : st.engine})`
        : `server ${st.state}`;
    const fb = d.fallbacks.map((f) => `${f.provider}/${f.model}`).join(', ');
    return `${d.location} lane · ${label} · ${server}${fb ? ` · fallback ${fb}` : ''}${d.local_only ? ' · local_only (GR-009)' : ''}`;
  }

  /** The window the local server runs with (read from it), else the policy's figure for its model. */
  private window(): number {
    const p = this.policy();
    return this.runtime().served()?.window ?? p.models[p.runtime.model]?.context_tokens ?? 32_768;
  }

  /**
   * "A local model that just runs": the Tutor starts the local server when it is stopped and may start here
   * (a trusted workspace, no external endpoint), unless the user stopped it in this window: then the policy's
   * fallback answers, with its audit line.
   */
  private async ensureLocal(): Promise<void> {
    const rt = this.runtime();
    if (
      !vscode.workspace.isTrusted ||
      rt.stoppedByUser ||
      rt.manager.status().state !== 'stopped' ||
      config.runtimeEndpoint()
    )
      return;
    this.log.info('tutor: the local model server is stopped; starting it for the Tutor');
    await rt.start();
  }

  /** Opens the Tutor and asks it something for the user (from a code action), with the lines it is about. */
  async ask(text: string, attach?: { uri: string; start: number; end: number }): Promise<void> {
    this.show(vscode.ViewColumn.Beside);
    if (attach) {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(attach.uri));
      const range = new vscode.Range(
        Math.max(0, attach.start - 3),
        0,
        Math.min(doc.lineCount - 1, attach.end + 3),
        Number.MAX_SAFE_INTEGER,
      );
      this.controller.attachText(
        `${vscode.workspace.asRelativePath(doc.uri)}:${range.start.line + 1}-${range.end.line + 1}`,
        doc.getText(range),
      );
    }
    await this.controller.handle({ type: 'send', text });
    void this.memento.update(SESSION_KEY, this.controller.snapshot());
  }

  protected onMessage(msg: FromTutorView): Promise<void> {
    return this.controller.handle(msg).finally(() => {
      if (msg.type !== 'rendered' && msg.type !== 'copy')
        void this.memento.update(SESSION_KEY, this.controller.snapshot());
    });
  }

  protected state(): null {
    return null;
  }
  protected override initial(): ToTutorView {
    return this.controller.stateMessage();
  }

  override dispose(): void {
    this.controller.dispose();
    super.dispose();
  }
}
