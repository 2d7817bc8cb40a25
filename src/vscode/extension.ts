// Switchyard's adapter: builds the core with VS Code's services and wires commands, views and status bar.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { AuditLog } from '../core/evidence/auditLog.js';
import { JudgeCodeActions } from './codeActions.js';
import { ClassifyChanges } from './commands/classifyChanges.js';
import type { ExplainPanel } from './commands/explain.js';
import { setApiKey } from './commands/keysSet.js';
import { EffectivePolicyProvider, openEffectivePolicy, POLICY_SCHEME } from './commands/policyOpen.js';
import { config } from './config.js';
import { PolicyService } from './policyService.js';
import { StatusBar } from './statusBar.js';

/** dist/lazy.js: the validator and the views, loaded on first use (a separate bundle, see esbuild.config.mjs). */
const lazy = (): typeof import('./lazy.js') => require(LAZY_BUNDLE);
const LAZY_BUNDLE = './lazy.js';

export interface SwitchyardApi {
  /** activate() duration in ms, measured inside the extension host. */
  activationMs: number;
  policySource(): string;
  statusBarText(): { budget: string; runtime: string };
  /** The local model server's state (stopped, starting, ready, ...). */
  runtimeState(): string;
  effectiveLocalOnly(): boolean;
  /** Where this window's audit log lives (JSON lines). */
  auditPath(): string;
  /**
   * One routed model call through the policy (for Switchyard's own views and for other extensions):
   * keys from SecretStorage, every fallback audited. Rejects with the refusal or failure; set
   * `showError` to have Switchyard show it to the user.
   */
  callModel(
    o: import('./modelCalls.js').EditorCallOptions & { showError?: boolean },
  ): Promise<{ text: string; provider: string; model: string; audit: string[]; cost_usd: number }>;
  /** The Tutor panel's figures: open-to-ready time, and what the view rendered of each answer against what was sent. */
  tutorStats(): {
    openMs: number | null;
    viewLoadMs: number | null;
    renders: { sentChars: number; sentBatches: number; chars: number; batches: number; frames: number }[];
  };
  planOpenMs(): number | null;
  /** The last "Implement with Reflex Lane" result in this window. */
  lastImplementation(): import('../core/implement/task.js').ImplementResult | null;
  /** Stage 0's last index build in this window. */
  stage0Stats(): import('../core/retrieval/stage0.js').BuildStats | null;
  /** The last Librarian job in this window. */
  lastLibrarian():
    (import('../core/librarian/librarian.js').LibrarianResult & { evidence: string; opened?: string }) | null;
  /** The reflector's work after the last failed Implementer task. */
  lastReflection(): Promise<import('../core/reflector/reflector.js').ReflectResult | null> | null;
  /** The last Judge verdict in this window, with where it was saved. */
  lastVerdict(): (import('../core/judge/judge.js').JudgeResult & { evidence: string }) | null;
}

export function activate(context: vscode.ExtensionContext): SwitchyardApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Switchyard', { log: true });
  context.subscriptions.push(log);
  const policy = new PolicyService(log, (text, source) => lazy().parsePolicyText(text, source));
  const statusBar = new StatusBar();
  // The user state folder: the ledger, audit log and provenance, shared with other windows (and with the CLI
  // when SWITCHYARD_STATE_DIR names the same folder for both).
  const stateDir = process.env.SWITCHYARD_STATE_DIR || context.globalStorageUri.fsPath;
  const audit = new AuditLog(join(stateDir, 'audit.jsonl'));
  const localOnly = () => config.localOnly() || policy.current.policy.local_only;
  // Views load their modules (and the message validator) on first use, not at activation.
  let explainPanel: ExplainPanel | undefined;
  const explain = (): ExplainPanel => {
    if (!explainPanel) {
      const { ExplainPanel: Panel } = lazy();
      explainPanel = new Panel(context.extensionUri, policy, audit, log, config.localOnly);
      context.subscriptions.push(explainPanel);
    }
    return explainPanel;
  };
  let budgetService: import('./budget.js').BudgetService | undefined;
  const budget = () => {
    if (!budgetService) {
      budgetService = new (lazy().BudgetService)(
        stateDir,
        () => policy.current.policy,
        statusBar,
        context.extensionUri,
        log,
      );
      context.subscriptions.push(budgetService);
    }
    return budgetService;
  };
  let runtimeService: import('./runtime.js').RuntimeService | undefined;
  const runtime = () => {
    if (!runtimeService) {
      runtimeService = new (lazy().RuntimeService)(
        stateDir,
        () => policy.current.policy,
        statusBar.runtime,
        audit,
        log,
        localOnly,
      );
      statusBar.runtimeOwner = runtimeService;
      context.subscriptions.push(runtimeService); // the server stops with the window
    }
    return runtimeService;
  };
  let calls: import('./modelCalls.js').EditorModelCalls | undefined;
  const modelCalls = () =>
    (calls ??= new (lazy().EditorModelCalls)(
      context.secrets,
      stateDir,
      () => policy.current.policy,
      config.localOnly,
      log,
      budget().ledger,
      {
        endpoint: () => runtimeService?.endpoint() ?? Promise.resolve(undefined),
        apiKey: () => runtimeService?.apiKey(),
      },
    ));
  // After a call: the meter and the runtime's tokens per second follow it.
  const afterCall = (r?: import('../core/providers/call.js').CallResult) => {
    if (r && r.provider === 'local' && r.timings.ttft_ms !== null && r.timings.total_ms > r.timings.ttft_ms)
      runtimeService?.noteSpeed(r.usage.output_tokens / ((r.timings.total_ms - r.timings.ttft_ms) / 1000));
    budgetService?.refresh();
  };
  let stage0Service: import('./context.js').Stage0Service | undefined;
  const stage0 = () => {
    if (!stage0Service) {
      stage0Service = new (lazy().Stage0Service)(modelCalls, log);
      context.subscriptions.push(stage0Service);
    }
    return stage0Service;
  };
  let librarianService: import('./librarian.js').LibrarianService | undefined;
  const librarian = () => {
    if (!librarianService) {
      librarianService = new (lazy().LibrarianService)(
        () => policy.current.policy,
        modelCalls,
        log,
        () => afterCall(),
        stage0,
      );
      context.subscriptions.push(librarianService);
    }
    return librarianService;
  };
  let tutorPanel: import('./tutor.js').TutorPanel | undefined;
  const tutor = () => {
    if (!tutorPanel) {
      tutorPanel = new (lazy().TutorPanel)(
        context.extensionUri,
        log,
        context.workspaceState,
        () => policy.current.policy,
        config.localOnly,
        modelCalls,
        runtime,
        afterCall,
      );
      context.subscriptions.push(tutorPanel);
    }
    return tutorPanel;
  };
  let planService: import('./plan.js').PlanService | undefined;
  const plans = () => {
    if (!planService) {
      planService = new (lazy().PlanService)(
        context.extensionUri,
        log,
        () => policy.current.policy,
        localOnly,
        modelCalls,
        () => afterCall(),
        stage0,
      );
      context.subscriptions.push(planService);
    }
    return planService;
  };
  let implementService: import('./implement.js').ImplementService | undefined;
  const implementer = () => {
    if (!implementService) {
      const { ImplementService, classifyDiff } = lazy();
      const classifyProposed: import('./implement.js').ClassifyProposed = (diff, root, changes) => {
        const disk = (p: string) => {
          const f = join(root, p);
          return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
        };
        return classifyDiff(diff, {
          policy: policy.current.policy,
          repo: {
            readBase: async (p) => {
              const c = changes.find((x) => x.path === p);
              return c ? (c.before ?? undefined) : disk(p);
            },
            readCurrent: async (p) => disk(p),
          },
        });
      };
      implementService = new ImplementService(
        () => policy.current.policy,
        localOnly,
        modelCalls,
        classifyProposed,
        log,
        () => afterCall(),
        stage0,
      );
      context.subscriptions.push(implementService);
    }
    return implementService;
  };
  let judgeService: import('./judge.js').JudgeService | undefined;
  const judge = () => {
    if (!judgeService) {
      judgeService = new (lazy().JudgeService)(
        () => policy.current.policy,
        modelCalls,
        log,
        () => afterCall(),
        stage0,
      );
      context.subscriptions.push(judgeService);
    }
    return judgeService;
  };
  const classify = new ClassifyChanges(lazy, () => policy.current.policy, log, audit, config.localOnly);
  const render = () => statusBar.update(policy.current.policy, localOnly());
  context.subscriptions.push(
    policy,
    statusBar,
    classify,
    vscode.commands.registerCommand('switchyard.classify.changes', () => classify.run()),
    policy.onDidChange(render),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (config.affects(e, 'localOnly')) render();
    }),
    vscode.workspace.registerTextDocumentContentProvider(POLICY_SCHEME, new EffectivePolicyProvider(policy)),
    vscode.languages.registerCodeActionsProvider(
      { scheme: 'file' },
      new JudgeCodeActions((uri, code) => judgeService?.verdictOf.get(`${uri}#${code}`)),
      { providedCodeActionKinds: JudgeCodeActions.kinds },
    ),
    vscode.window.registerWebviewPanelSerializer('switchyard.explain', {
      deserializeWebviewPanel: async (panel) => explain().attach(panel),
    }),
    vscode.commands.registerCommand('switchyard.policy.open', openEffectivePolicy),
    vscode.commands.registerCommand('switchyard.budget.show', () => budget().show()),
    vscode.commands.registerCommand('switchyard.runtime.start', () => runtime().start()),
    vscode.commands.registerCommand('switchyard.runtime.stop', () => runtime().stop()),
    vscode.commands.registerCommand('switchyard.runtime.switchModel', () => runtime().switchModel()),
    vscode.window.registerWebviewPanelSerializer('switchyard.budget', {
      deserializeWebviewPanel: async (panel) => budget().attach(panel),
    }),
    vscode.commands.registerCommand('switchyard.route.explain', () => explain().show()),
    vscode.commands.registerCommand(
      'switchyard.tutor.open',
      (arg?: { ask?: string; attach?: { uri: string; start: number; end: number } }) =>
        typeof arg?.ask === 'string' ? tutor().ask(arg.ask, arg.attach) : tutor().show(vscode.ViewColumn.Beside),
    ),
    vscode.commands.registerCommand('switchyard.judge.audit', (arg?: import('./judge.js').JudgeArg) =>
      judge().run(arg),
    ),
    vscode.window.registerWebviewPanelSerializer('switchyard.tutor', {
      deserializeWebviewPanel: async (panel) => tutor().attach(panel),
    }),
    vscode.commands.registerCommand('switchyard.plan.create', (args?: { goal?: string; fastDraft?: boolean }) =>
      plans().create(args),
    ),
    vscode.commands.registerCommand(
      'switchyard.implement.reflex',
      (
        arg?:
          | {
              plan?: string;
              step?: import('../core/protocol/planRecord.js').PlanStep;
              instruction?: string;
              path?: string;
            }
          | vscode.Uri,
      ) => implementer().run(arg),
    ),
    vscode.commands.registerCommand('switchyard.plan.open', (arg?: string | vscode.Uri) => plans().open(arg)),
    vscode.window.registerWebviewPanelSerializer('switchyard.plan', {
      deserializeWebviewPanel: async (panel, state) => plans().review().restore(panel, state),
    }),
    vscode.commands.registerCommand(
      'switchyard.librarian.run',
      (clicked?: vscode.Uri | import('./librarian.js').LibrarianArgs, selected?: vscode.Uri[]) =>
        librarian().run(clicked, selected),
    ),
    vscode.commands.registerCommand('switchyard.context.search', (query?: string) =>
      stage0().search(typeof query === 'string' ? query : undefined),
    ),
    vscode.commands.registerCommand('switchyard.context.rebuild', () => stage0().rebuild()),
    vscode.commands.registerCommand('switchyard.context.ask', (question?: string) =>
      stage0().ask(typeof question === 'string' ? question : undefined),
    ),
    vscode.commands.registerCommand('switchyard.keys.set', (provider?: string) =>
      setApiKey(context.secrets, log, provider),
    ),
  );
  render();
  // Reading the workspace policy and the ledger is I/O: it happens after activate() returns.
  void policy.reload();
  const t = setTimeout(() => {
    try {
      budget();
    } catch (e) {
      log.error(`budget: ${(e as Error).message}`);
    }
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(t) });
  context.subscriptions.push(policy.onDidChange(() => budgetService?.refresh()));
  // §8: spec compliance diagnostics, once the policy is read (a later timer, not activation time).
  let specs: import('./specCompliance.js').SpecCompliance | undefined;
  const st = setTimeout(() => {
    try {
      specs = new (lazy().SpecCompliance)(() => policy.current.policy);
      context.subscriptions.push(
        specs,
        policy.onDidChange(() => void specs?.scan()),
      );
      void specs.scan();
    } catch (e) {
      log.error(`spec compliance: ${(e as Error).message}`);
    }
  }, 0);
  context.subscriptions.push({ dispose: () => clearTimeout(st) });
  const activationMs = performance.now() - t0;
  log.info(
    `Switchyard activated in ${activationMs.toFixed(1)} ms` +
      (vscode.workspace.isTrusted ? '' : ' (untrusted workspace: workspace policy ignored, no tools run)'),
  );
  return {
    activationMs,
    policySource: () => policy.current.source,
    statusBarText: () => ({ budget: statusBar.budget.text, runtime: statusBar.runtime.text }),
    effectiveLocalOnly: localOnly,
    runtimeState: () => runtimeService?.manager.status().state ?? 'stopped',
    auditPath: () => audit.path,
    callModel: async (o) => {
      try {
        const r = await modelCalls().call(o);
        afterCall(r);
        return { text: r.text, provider: r.provider, model: r.model, audit: r.audit, cost_usd: r.cost_usd };
      } catch (e) {
        if (o.showError) void modelCalls().showFailure(e);
        throw e;
      }
    },
    tutorStats: () => ({
      openMs: tutorPanel?.openMs ?? null,
      viewLoadMs: tutorPanel?.viewLoadMs ?? null,
      renders: [...(tutorPanel?.controller.renders.values() ?? [])],
    }),
    planOpenMs: () => planService?.review().openMs ?? null,
    lastImplementation: () => implementService?.last ?? null,
    lastVerdict: () => judgeService?.last ?? null,
    stage0Stats: () => stage0Service?.last ?? null,
    lastLibrarian: () => librarianService?.last ?? null,
    lastReflection: () => implementService?.lastReflection ?? null,
  };
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions and released by VS Code.
}
