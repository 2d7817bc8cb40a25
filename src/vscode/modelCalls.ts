// The model-call path in the editor: keys from SecretStorage, endpoints from settings, the audit log and
// provenance in the extension's global storage, a CancellationToken turned into an AbortSignal, and
// failures shown as a clear error with the audit trail one click away.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { PROVIDER_IDS } from '../core/policy/constants.js';
import type { BudgetPort } from '../core/budget/port.js';
import type { Policy, ProviderId, RoleId } from '../core/policy/schema.js';
import {
  CallFailed,
  CallRefused,
  type CallOptions,
  type CallResult,
  type ModelCaller,
} from '../core/providers/call.js';
import { composeCaller } from '../core/providers/compose.js';
import { McpNotebookAdapter } from '../core/providers/notebooklm.js';
import { servedRecord, type ServedModel } from '../core/runtime/served.js';
import type { StreamEvent } from '../core/providers/types.js';
import { secretKey } from './commands/keysSet.js';
import { config } from './config.js';
import { fixForCall, showError } from './fixes.js';

export interface EditorCallOptions {
  role: RoleId;
  prompt: string;
  system?: string;
  task_id?: string;
  max_tokens?: number;
  token?: vscode.CancellationToken;
  onEvent?: (e: StreamEvent) => void;
}

export function signalOf(token: vscode.CancellationToken | undefined): AbortSignal {
  const ac = new AbortController();
  if (token?.isCancellationRequested) ac.abort();
  token?.onCancellationRequested(() => ac.abort());
  return ac.signal;
}

export class EditorModelCalls implements vscode.Disposable {
  private caller: ModelCaller;
  /** NotebookLM through the MCP server the user configured (switchyard.notebooklm.server); one session per window. */
  private readonly notebook = new McpNotebookAdapter(
    () => (vscode.workspace.isTrusted ? config.notebooklmServer() : null),
    randomUUID(),
  );

  constructor(
    private readonly secrets: vscode.SecretStorage,
    stateDir: string,
    policy: () => Policy,
    localOnly: () => boolean,
    private readonly log: vscode.LogOutputChannel,
    budget?: BudgetPort,
    private readonly runtime?: {
      endpoint(): Promise<string | undefined>;
      apiKey(): Promise<string | undefined>;
      served(): ServedModel | null;
    },
  ) {
    this.caller = composeCaller({
      policy,
      source: 'extension',
      stateDir,
      localOnlySetting: localOnly,
      ...(budget ? { budget } : {}),
      notebooklm: this.notebook,
      servedModel: () => {
        const s = runtime?.served();
        return s ? servedRecord(s) : null;
      },
      key: async (p: ProviderId) =>
        p === 'local' ? runtime?.apiKey() : ((await secrets.get(secretKey(p))) ?? undefined),
      baseUrl: async (p: ProviderId) => {
        // An external endpoint first; else the server this window runs (requests wait while it starts or swaps).
        if (p === 'local') return config.runtimeEndpoint() ?? policy().runtime.endpoint ?? (await runtime?.endpoint());
        if (p === 'notebooklm') return undefined;
        return config.providerBaseUrl(p);
      },
    });
  }

  /** Every key the key store holds (for the redactor of what commands print: a build script can print any of them). */
  async knownSecrets(): Promise<string[]> {
    const all = await Promise.all(
      PROVIDER_IDS.map((p) =>
        Promise.resolve(p === 'local' ? this.runtime?.apiKey() : this.secrets.get(secretKey(p))).catch(() => undefined),
      ),
    );
    return all.filter((k): k is string => typeof k === 'string' && k.length >= 8);
  }

  async call(o: EditorCallOptions): Promise<CallResult> {
    const messages = [
      ...(o.system ? [{ role: 'system' as const, content: o.system }] : []),
      { role: 'user' as const, content: o.prompt },
    ];
    return this.chat({
      role: o.role,
      messages,
      signal: signalOf(o.token),
      ...(o.task_id ? { task_id: o.task_id } : {}),
      ...(o.max_tokens ? { max_tokens: o.max_tokens } : {}),
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    });
  }

  dispose(): void {
    void this.notebook.close();
  }

  /** The caller itself, for workflows around the path (structured output, notes). */
  get core(): ModelCaller {
    return this.caller;
  }

  /** One call with the full options of the path (a conversation, routing signals); audit lines go to the log. */
  async chat(o: CallOptions): Promise<CallResult> {
    try {
      const r = await this.caller.call(o);
      for (const line of r.audit) this.log.info(line);
      return r;
    } catch (e) {
      const trail = e instanceof CallRefused || e instanceof CallFailed ? e.audit : [];
      for (const line of trail) this.log.info(line);
      if (!(e instanceof CallFailed && e.kind === 'cancelled'))
        this.log.error(this.caller.redactor.redact((e as Error).message));
      throw e;
    }
  }

  /** What the user sees when a call could not be made: what happened, which rule applied, what to do. */
  async showFailure(e: unknown): Promise<void> {
    if (e instanceof CallFailed && e.kind === 'cancelled') return;
    const text =
      e instanceof CallRefused
        ? `Switchyard refused the call${e.guardrail ? ` (${e.guardrail})` : ''}: ${e.message}`
        : e instanceof CallFailed
          ? `Switchyard: ${e.message}`
          : `Switchyard: ${(e as Error).message}`;
    await showError(this.caller.redactor.redact(text), fixForCall(e), [
      { label: 'Show Audit Trail', run: () => this.log.show(true) },
    ]);
  }
}
