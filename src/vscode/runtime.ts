// The local model server from the editor: start (with a cancellable progress notification that shows its log),
// stop, switch model, the status bar item, and the endpoint the local lane uses. The server is stopped with the
// window (deactivate), and a server left by an earlier window is adopted or stopped.
import * as vscode from 'vscode';
import type { AuditLog } from '../core/evidence/auditLog.js';
import type { Policy } from '../core/policy/schema.js';
import { stopRecorded } from '../core/runtime/adopt.js';
import { nvidiaSmiProbe } from '../core/runtime/gpu.js';
import { onPath } from '../core/runtime/machine.js';
import { RuntimeManager } from '../core/runtime/manager.js';
import { RuntimeError, type RuntimeStatus } from '../core/runtime/types.js';
import { MismatchNotice, servedLabel, type ServedModel } from '../core/runtime/served.js';
import { secretKey } from './commands/keysSet.js';
import { config } from './config.js';
import { stepDone } from './walkthrough.js';
import { renderServer } from './runtimeItem.js';
import { showError, type Fix } from './fixes.js';

/** The runtime's audit kinds that keep their own name in the audit log; the others are 'runtime' lines. */
const KINDS = ['fallback', 'failure', 'mismatch'] as const;

/** The setting that fixes a failed start: the program (not found, not executable) or the model file. */
function startFix(e: unknown): Fix | null {
  const kind = e instanceof RuntimeError ? e.kind : '';
  const setting =
    kind === 'model_missing'
      ? 'switchyard.runtime.modelPath'
      : kind === 'not_installed' || /runtime program could not be run/.test((e as Error).message)
        ? 'switchyard.runtime.binaryPath'
        : null;
  return setting ? { label: 'Open Settings', command: 'workbench.action.openSettings', args: [setting] } : null;
}

export class RuntimeService implements vscode.Disposable {
  manager: RuntimeManager;
  private tokensPerSecond: number | null = null;
  private gpuMiB: number | null = null;
  private readonly gpu = nvidiaSmiProbe();

  /** Mismatched models are audited once per window, whichever manager serves them. */
  private readonly notice: MismatchNotice;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly stateDir: string,
    private readonly policy: () => Policy,
    private readonly item: vscode.StatusBarItem,
    private readonly audit: AuditLog,
    private readonly log: vscode.LogOutputChannel,
    private readonly localOnly: () => boolean,
  ) {
    this.notice = new MismatchNotice((text) => this.note('mismatch', text));
    this.manager = this.build();
    this.render(this.manager.status());
    void this.identifyExternal();
  }

  /** An external endpoint says what it serves through its /v1/models; asked once per endpoint. */
  async identifyExternal(): Promise<void> {
    if (this.manager.status().state !== 'external') return;
    const before = this.manager.status().model;
    await this.manager.identifyExternal();
    if (this.manager.status().model !== before) this.render();
  }

  private note(kind: string, text: string): void {
    this.log.info(text);
    try {
      this.audit.append({
        ts: new Date().toISOString(),
        kind: KINDS.find((k) => k === kind) ?? 'runtime',
        source: 'extension',
        audit: text,
        role: 'runtime',
      });
    } catch {
      /* the audit log is best effort here */
    }
  }

  /** A manager for the current settings (binary, model file, endpoint); rebuilt at each start from stopped. */
  private build(): RuntimeManager {
    const policy = this.policy;
    const binary = config.runtimeBinaryPath();
    const gpu = this.gpu;
    const m = new RuntimeManager({
      policy,
      stateDir: this.stateDir,
      binaries: binary
        ? /vllm/.test(binary)
          ? { vllm: binary }
          : { llama: binary }
        : { vllm: onPath('vllm'), llama: onPath('llama-server') },
      modelPath: config.runtimeModelPath() ?? policy().runtime.llama_cpp.model_path ?? undefined,
      externalEndpoint: () => config.runtimeEndpoint() ?? policy().runtime.endpoint ?? undefined,
      ...(gpu ? { gpu } : {}),
      notice: this.notice,
      externalKey: async () => (await this.secrets.get(secretKey('local'))) ?? undefined,
      audit: (kind, text) => this.note(kind, text),
    });
    m.onDidChange((s) => {
      this.render(s);
      // GPU memory of the server, where nvidia-smi exists (shown in the tooltip).
      if (s.state === 'ready' && s.pid && this.gpu)
        void this.gpu([s.pid]).then((mib) => {
          this.gpuMiB = mib;
          this.render();
        });
      else if (s.state !== 'ready') this.gpuMiB = null;
    });
    return m;
  }

  /** Tokens per second of the last local answer, for the status bar. */
  noteSpeed(tps: number | null): void {
    this.tokensPerSecond = tps;
    this.render(this.manager.status());
  }

  private readonly changed = new vscode.EventEmitter<RuntimeStatus>();
  /** The server's state changed (whichever manager runs it). */
  readonly onDidChangeState = this.changed.event;

  render(s: RuntimeStatus = this.manager.status()): void {
    this.changed.fire(s);
    if (s.state === 'ready' || s.state === 'external') stepDone('server');
    if (s.state === 'external') void this.identifyExternal(); // once per endpoint: the manager keeps the answer
    renderServer(this.item, s, {
      policy: this.policy(),
      localOnly: this.localOnly(),
      tokensPerSecond: this.tokensPerSecond,
      gpuMiB: this.gpuMiB,
      gpuProbe: !!this.gpu,
    });
  }

  /** What the local lane serves now (the managed server, or the external endpoint), read from the model. */
  served(): ServedModel | null {
    return this.manager.status().model;
  }

  async endpoint(): Promise<string | undefined> {
    return this.manager.endpoint();
  }
  /** The key for the local lane: the managed server's own, or the team endpoint's from SecretStorage. */
  async apiKey(): Promise<string | undefined> {
    if (this.manager.status().state === 'external') return (await this.secrets.get(secretKey('local'))) ?? undefined;
    return this.manager.apiKey();
  }

  async start(modelKey?: string): Promise<void> {
    this.stoppedByUser = false;
    if (this.manager.status().state === 'external') {
      void vscode.window.showInformationMessage(
        `Switchyard: the local lane uses the external endpoint ${this.manager.status().endpoint}; there is no server to start.`,
      );
      return;
    }
    const st = this.manager.status().state;
    if (st === 'stopped' || st === 'failed') this.manager = this.build();
    const adopted = await this.manager.adoptOrClean();
    if (adopted) {
      await stopRecorded(this.stateDir);
      this.log.info(
        `runtime: stopped a server (pid ${adopted.pid}) left by an earlier window; starting a fresh one this window owns`,
      );
    }
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Switchyard: starting the local model server',
        cancellable: true,
      },
      async (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        try {
          const s = await this.manager.start({
            ...(modelKey ? { modelKey } : {}),
            signal: ac.signal,
            onLog: (line) => {
              this.log.info(`[server] ${line}`);
              progress.report({ message: line.slice(0, 120) });
            },
          });
          const what =
            s.engine === 'llama_cpp'
              ? 'llama.cpp' +
                (onPath('vllm') || config.runtimeBinaryPath()?.includes('vllm')
                  ? ''
                  : ' (the fallback: vLLM is not installed here)') +
                ' ' +
                `with ${config.runtimeModelPath() ?? this.policy().runtime.llama_cpp.model_path ?? 'its model'}, ` +
                `served as ${s.served}`
              : `vLLM with ${s.served}`;
          const toy = s.model?.testModel
            ? ' This is a test model with random weights: its answers are gibberish; point ' +
              'switchyard.runtime.modelPath at a real GGUF for real answers.'
            : s.model && !s.model.matchesPolicy
              ? ` It serves ${servedLabel(s.model)}, not the policy's model (${s.model.expected.label}).`
              : '';
          void vscode.window.showInformationMessage(
            `Switchyard: local model server ready in ${((s.loadMs ?? 0) / 1000).toFixed(1)} s: ${what}.${toy}`,
          );
        } catch (e) {
          if (e instanceof RuntimeError && e.kind === 'cancelled') {
            void vscode.window.showInformationMessage('Switchyard: start cancelled; nothing is left running.');
            return;
          }
          const tail = e instanceof RuntimeError ? e.logTail : [];
          for (const l of tail) this.log.error(`[server] ${l}`);
          // Not awaited: the progress notification ends now, not when the user dismisses the error.
          void showError(
            `Switchyard: the local model server could not start: ${(e as Error).message}` +
              (this.localOnly()
                ? ' local_only is on, so the local lanes are unavailable until it runs.'
                : ' Cloud fallbacks of the policy apply meanwhile (each one audited).'),
            startFix(e),
            [{ label: 'Show Log', run: () => this.log.show(true) }],
          );
        }
      },
    );
  }

  /** The user stopped the server in this window: nothing restarts it on its own until they start it again. */
  stoppedByUser = false;

  async stop(): Promise<void> {
    this.stoppedByUser = true;
    await this.manager.stop();
    void vscode.window.showInformationMessage('Switchyard: local model server stopped.');
  }

  async switchModel(): Promise<void> {
    const p = this.policy();
    const current = this.manager.status().modelKey;
    const picks = Object.entries(p.models)
      .filter(([, m]) => m.provider === 'local' && m.kind === 'chat')
      .map(([key, m]) => ({
        label: m.label,
        description: key === current ? 'running' : key,
        detail: m.note ?? m.id,
        key,
      }));
    const pick = await vscode.window.showQuickPick(picks, {
      title: 'Switchyard: Switch Local Model',
      placeHolder: 'One model at a time: the running one is stopped (or put to sleep) first',
    });
    if (!pick) return;
    if (this.manager.status().state !== 'ready') {
      await this.start(pick.key);
      return;
    }
    try {
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Switchyard: switching to ${pick.label}` },
        () => this.manager.switchModel(pick.key),
      );
    } catch (e) {
      void showError(`Switchyard: could not switch the local model: ${(e as Error).message}`, startFix(e), [
        { label: 'Show Log', run: () => this.log.show(true) },
      ]);
    }
  }

  dispose(): void {
    this.changed.dispose();
    void this.manager.stop();
  }
}
