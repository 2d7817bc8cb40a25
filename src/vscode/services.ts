// The adapter's services, each built on its first use by one helper (`lazy`) and disposed with the extension.
// The modules behind them (zod, tree-sitter, the views) live in dist/lazy.js, required on first use too, so
// that loading and activating the extension stays light.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { AuditLog } from '../core/evidence/auditLog.js';
import type { CallResult } from '../core/providers/call.js';
import { config } from './config.js';
import { PolicyService } from './policyService.js';
import type { RoleDeps } from './roles.js';
import { StatusBar } from './statusBar.js';

/** dist/lazy.js (a separate bundle, see esbuild.config.mjs). */
export const lazyModules = (): typeof import('./lazy.js') => require(LAZY_BUNDLE);
const LAZY_BUNDLE = './lazy.js';

/** A service made on first use; `peek` tells whether it exists without making it. */
export type Lazy<T> = (() => T) & { peek(): T | undefined };

export class Services {
  readonly policy: PolicyService;
  readonly statusBar = new StatusBar();
  /** The user state folder: ledger, audit log and provenance, shared with other windows and the CLI. */
  readonly stateDir: string;
  readonly audit: AuditLog;
  readonly deps: RoleDeps;
  readonly secrets: vscode.SecretStorage;

  readonly explain: Lazy<import('./commands/explain.js').ExplainPanel>;
  readonly budget: Lazy<import('./budget.js').BudgetService>;
  readonly runtime: Lazy<import('./runtime.js').RuntimeService>;
  readonly calls: Lazy<import('./modelCalls.js').EditorModelCalls>;
  readonly stage0: Lazy<import('./context.js').Stage0Service>;
  readonly librarian: Lazy<import('./librarian.js').LibrarianService>;
  readonly tutor: Lazy<import('./tutor.js').TutorPanel>;
  readonly plans: Lazy<import('./plan.js').PlanService>;
  readonly agent: Lazy<import('./agent.js').AgentService>;
  readonly judge: Lazy<import('./judge.js').JudgeService>;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.secrets = context.secrets;
    this.policy = new PolicyService(log, (text, source) => lazyModules().parsePolicyText(text, source));
    // SWITCHYARD_STATE_DIR names the same folder for the editor and the CLI when both should share it.
    this.stateDir = process.env.SWITCHYARD_STATE_DIR || context.globalStorageUri.fsPath;
    this.audit = new AuditLog(join(this.stateDir, 'audit.jsonl'));
    const policy = () => this.policy.current.policy;
    const m = lazyModules;
    this.explain = this.lazy(
      () => new (m().ExplainPanel)(context.extensionUri, this.policy, this.audit, log, config.localOnly),
    );
    this.budget = this.lazy(
      () => new (m().BudgetService)(this.stateDir, policy, this.statusBar, context.extensionUri, log),
    );
    this.runtime = this.lazy(() => {
      const r = new (m().RuntimeService)(
        context.secrets,
        this.stateDir,
        policy,
        this.statusBar.runtime,
        this.audit,
        log,
        this.localOnly,
      );
      this.statusBar.runtimeOwner = r;
      return r; // the server stops with the window
    });
    this.calls = this.lazy(() => {
      const runtime = {
        endpoint: () => this.runtime.peek()?.endpoint() ?? Promise.resolve(undefined),
        apiKey: () => this.runtime.peek()?.apiKey() ?? Promise.resolve(undefined),
        served: () => this.runtime.peek()?.served() ?? null,
      };
      const ledger = this.budget().ledger;
      return new (m().EditorModelCalls)(context.secrets, this.stateDir, policy, config.localOnly, log, ledger, runtime);
    });
    this.deps = {
      extensionUri: context.extensionUri,
      log,
      policy,
      localOnly: this.localOnly,
      calls: this.calls,
      afterCall: (r) => this.afterCall(r),
      stage0: () => this.stage0(),
    };
    this.stage0 = this.lazy(() => new (m().Stage0Service)(this.deps));
    this.librarian = this.lazy(() => new (m().LibrarianService)(this.deps));
    this.tutor = this.lazy(() => new (m().TutorPanel)(this.deps, context.workspaceState, this.runtime));
    this.plans = this.lazy(() => new (m().PlanService)(this.deps, this.stateDir));
    this.agent = this.lazy(() => new (m().AgentService)(this.deps, this.stateDir, this.runtime));
    this.judge = this.lazy(() => new (m().JudgeService)(this.deps, this.stateDir));
  }

  /** The stricter of the setting and the policy (GR-009). */
  readonly localOnly = (): boolean => config.localOnly() || this.policy.current.policy.local_only;

  private lazy<T extends vscode.Disposable>(build: () => T): Lazy<T> {
    let made: T | undefined;
    const get = () => {
      if (!made) {
        made = build();
        this.context.subscriptions.push(made);
      }
      return made;
    };
    return Object.assign(get, { peek: () => made });
  }

  /** After a call: the meter and the runtime's tokens per second follow it. */
  private afterCall(r?: CallResult): void {
    const speed = r && r.provider === 'local' && r.timings.ttft_ms !== null && r.timings.total_ms > r.timings.ttft_ms;
    if (speed)
      this.runtime.peek()?.noteSpeed(r.usage.output_tokens / ((r.timings.total_ms - r.timings.ttft_ms!) / 1000));
    this.budget.peek()?.refresh();
  }
}
