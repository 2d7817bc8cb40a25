// The local model server from the editor: start (with a cancellable progress notification that shows its log),
// stop, switch model, the status bar item, and the endpoint the local lane uses. The server is stopped with the
// window (deactivate), and a server left by an earlier window is adopted or stopped.
import * as vscode from 'vscode';
import type { AuditLog } from '../core/evidence/auditLog.js';
import type { Policy } from '../core/policy/schema.js';
import {
  nvidiaSmiProbe,
  onPath,
  RuntimeError,
  RuntimeManager,
  stopRecorded,
  type RuntimeStatus,
} from '../core/runtime/manager.js';
import { config } from './config.js';

export class RuntimeService implements vscode.Disposable {
  manager: RuntimeManager;
  private tokensPerSecond: number | null = null;
  private gpuMiB: number | null = null;
  private readonly gpu = nvidiaSmiProbe();

  constructor(
    private readonly stateDir: string,
    private readonly policy: () => Policy,
    private readonly item: vscode.StatusBarItem,
    private readonly audit: AuditLog,
    private readonly log: vscode.LogOutputChannel,
    private readonly localOnly: () => boolean,
  ) {
    this.manager = this.build();
    this.render(this.manager.status());
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
      audit: (kind, text) => {
        this.log.info(text);
        try {
          this.audit.append({
            ts: new Date().toISOString(),
            kind: kind === 'fallback' ? 'fallback' : kind === 'failure' ? 'failure' : 'runtime',
            source: 'extension',
            audit: text,
            role: 'runtime',
          });
        } catch {
          /* the audit log is best effort here */
        }
      },
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
    const model = s.modelKey
      ? (this.policy().models[s.modelKey]?.label ?? s.served)
      : (this.policy().models[this.policy().runtime.model]?.label ?? '');
    const lo = this.localOnly() ? 'Local only · ' : '';
    const short = (s.served ?? '').split('/').pop();
    switch (s.state) {
      case 'ready':
        this.item.text =
          `$(server-process) ${lo}Local: ready · ${short}` +
          (this.tokensPerSecond ? ` · ${Math.round(this.tokensPerSecond)} tok/s` : '');
        break;
      case 'starting':
      case 'swapping':
      case 'restarting':
        this.item.text = `$(loading~spin) ${lo}Local: ${s.state}`;
        break;
      case 'external':
        this.item.text = `$(server-environment) ${lo}Local: external`;
        break;
      case 'failed':
        this.item.text = `$(error) ${lo}Local: failed`;
        break;
      default:
        this.item.text = `$(server) ${lo}Local: ${s.state}`;
    }
    this.item.backgroundColor =
      s.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.command =
      s.state === 'ready' || s.state === 'external' ? 'switchyard.runtime.switchModel' : 'switchyard.runtime.start';
    const lines = [
      `Switchyard local model server: ${s.state}`,
      `Model: ${model}${s.served ? ` (served as ${s.served})` : ''}`,
    ];
    if (s.engine)
      lines.push(
        `Runtime: ${s.engine === 'llama_cpp' ? 'llama.cpp' : s.engine}${s.endpoint ? ` at ${s.endpoint}` : ''}`,
      );
    if (s.loadMs) lines.push(`Loaded in ${(s.loadMs / 1000).toFixed(1)} s`);
    if (this.gpuMiB !== null) lines.push(`GPU memory (nvidia-smi): ${this.gpuMiB} MiB`);
    else if (s.state === 'ready')
      lines.push(
        this.gpu
          ? 'GPU memory: not reported by nvidia-smi for this server'
          : 'GPU: none found (no nvidia-smi); running on the CPU',
      );
    if (s.sleeping.length) lines.push(`Sleeping (vLLM sleep mode): ${s.sleeping.join(', ')}`);
    if (s.message && s.state !== 'ready') lines.push(s.message.split('\n')[0]!);
    if (this.localOnly()) lines.push('local_only is on: no cloud calls (GR-009)');
    lines.push(s.state === 'ready' ? 'Click to switch the model.' : 'Click to start it.');
    this.item.tooltip = lines.join('\n');
  }

  async endpoint(): Promise<string | undefined> {
    return this.manager.endpoint();
  }
  apiKey(): string | undefined {
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
          const toy = /tiny-random-weights|tiny\.gguf/.test(config.runtimeModelPath() ?? '')
            ? ' This is a tiny random-weight model for trying the lifecycle and routing: its answers are ' +
              'gibberish; point switchyard.runtime.modelPath at a real GGUF for real answers.'
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
          void vscode.window
            .showErrorMessage(
              `Switchyard: the local model server could not start: ${(e as Error).message}` +
                (this.localOnly()
                  ? ' local_only is on, so the local lanes are unavailable until it runs.'
                  : ' Cloud fallbacks of the policy apply meanwhile (each one audited).'),
              'Show Log',
            )
            .then((pick) => {
              if (pick) this.log.show(true);
            });
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
      void vscode.window.showErrorMessage(`Switchyard: could not switch the local model: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.changed.dispose();
    void this.manager.stop();
  }
}
