// Switchyard's adapter: builds the services (services.ts), registers the command table (commandTable.ts), the
// views' serializers, the status bar and the providers, and exports the API other extensions may use.
import * as vscode from 'vscode';
import { JudgeCodeActions } from './codeActions.js';
import { ClassifyChanges } from './commands/classifyChanges.js';
import { EffectivePolicyProvider, POLICY_SCHEME } from './commands/policyOpen.js';
import { commandTable, registerCommands } from './commandTable.js';
import { config, setIgnoredSettingListener } from './config.js';
import type { EditorCallOptions } from './modelCalls.js';
import { lazyModules, Services } from './services.js';
import { testingEnabled, testingProbes, type SwitchyardTesting } from './testing.js';
import type { ServedRecord } from '../core/runtime/served.js';

export interface SwitchyardApi {
  policySource(): string;
  effectiveLocalOnly(): boolean;
  /**
   * One routed model call through the policy (for Switchyard's own views and for other extensions):
   * keys from SecretStorage, every fallback audited. Rejects with the refusal or failure; set
   * `showError` to have Switchyard show it to the user.
   */
  callModel(o: EditorCallOptions & { showError?: boolean }): Promise<{
    text: string;
    provider: string;
    model: string;
    /** A local call: the model the server really served (read from the model), and whether it is the policy's. */
    served: ServedRecord | null;
    audit: string[];
    cost_usd: number;
  }>;
  /** Only under test or development (or SWITCHYARD_TESTING=1): probes for Switchyard's own tests. */
  testing?: SwitchyardTesting;
}

export function activate(context: vscode.ExtensionContext): SwitchyardApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Switchyard', { log: true });
  context.subscriptions.push(log);
  const s = new Services(context, log);
  // A cloned repository cannot widen what the agent may do or spend: its values of these settings are ignored, said once.
  setIgnoredSettingListener((key) => {
    log.warn(`settings: the workspace's value of switchyard.${key} is ignored; only your user settings count`);
    void vscode.window.showWarningMessage(
      `Switchyard: this workspace sets switchyard.${key}; it is read from your user settings only, so the workspace's value is ignored.`,
    );
  });
  const classify = new ClassifyChanges(lazyModules, () => s.policy.current.policy, log, s.audit, config.localOnly);
  const render = () => s.statusBar.update(s.policy.current.policy, s.localOnly());
  context.subscriptions.push(
    s.policy,
    s.statusBar,
    classify,
    ...registerCommands(s, commandTable(classify)),
    ...registerViews(s),
    s.policy.onDidChange(render),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (config.affects(e, 'localOnly')) render();
    }),
    vscode.workspace.registerTextDocumentContentProvider(POLICY_SCHEME, new EffectivePolicyProvider(s.policy)),
    vscode.languages.registerCodeActionsProvider(
      { scheme: 'file' },
      new JudgeCodeActions((uri, code) => s.judge.peek()?.verdictOf.get(`${uri}#${code}`)),
      { providedCodeActionKinds: JudgeCodeActions.kinds },
    ),
  );
  render();
  afterActivation(context, s);
  const activationMs = performance.now() - t0;
  log.info(
    `Switchyard activated in ${activationMs.toFixed(1)} ms` +
      (vscode.workspace.isTrusted ? '' : ' (untrusted workspace: workspace policy ignored, no tools run)'),
  );
  const api: SwitchyardApi = {
    policySource: () => s.policy.current.source,
    effectiveLocalOnly: s.localOnly,
    callModel: async (o) => {
      try {
        const r = await s.calls().call(o);
        s.deps.afterCall(r);
        const { text, provider, model, served, audit, cost_usd } = r;
        return { text, provider, model, served, audit, cost_usd };
      } catch (e) {
        if (o.showError) void s.calls().showFailure(e);
        throw e;
      }
    },
  };
  if (testingEnabled(context)) api.testing = testingProbes(s, activationMs);
  return api;
}

/** The panels VS Code restores after a reload, each by its own service. */
function registerViews(s: Services): vscode.Disposable[] {
  const views: Record<string, (panel: vscode.WebviewPanel, state: unknown) => unknown> = {
    'switchyard.explain': (panel) => s.explain().attach(panel),
    'switchyard.budget': (panel) => s.budget().attach(panel),
    'switchyard.tutor': (panel) => s.tutor().attach(panel),
    'switchyard.plan': (panel, state) => s.plans().review().restore(panel, state),
    'switchyard.task': (panel) => s.agent().attach(panel),
  };
  return Object.entries(views).map(([type, restore]) =>
    vscode.window.registerWebviewPanelSerializer(type, {
      deserializeWebviewPanel: async (panel, state) => {
        await restore(panel, state);
      },
    }),
  );
}

/** Reading the workspace policy and the ledger is I/O: it happens after activate() returns. */
function afterActivation(context: vscode.ExtensionContext, s: Services): void {
  void s.policy.reload();
  const later = (what: string, work: () => void) => {
    const t = setTimeout(() => {
      try {
        work();
      } catch (e) {
        s.log.error(`${what}: ${(e as Error).message}`);
      }
    }, 0);
    context.subscriptions.push({ dispose: () => clearTimeout(t) });
  };
  later('budget', () => s.budget());
  // A task that was running when the window went away: said once, with its view a click away (a view that was open
  // comes back by itself, drawn from the evidence folder).
  later('interrupted tasks', () => void s.agent().noticeInterrupted());
  context.subscriptions.push(s.policy.onDidChange(() => s.budget.peek()?.refresh()));
  // §8: spec compliance diagnostics, once the policy is read.
  later('spec compliance', () => {
    const specs = new (lazyModules().SpecCompliance)(() => s.policy.current.policy);
    context.subscriptions.push(
      specs,
      s.policy.onDidChange(() => void specs.scan()),
    );
    void specs.scan();
  });
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions and released by VS Code.
}
