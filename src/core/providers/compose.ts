// One composition of the model-call path; the CLI and the extension each hand it their ports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../budget/ledger.js';
import { QueuedAppender } from '../evidence/auditLog.js';
import type { AuditEntry } from '../evidence/auditLog.js';
import type { Policy, ProviderId } from '../policy/schema.js';
import { AnthropicAdapter } from './anthropic.js';
import type { BudgetPort } from '../budget/port.js';
import { ModelCaller, type CallPorts, type ProvenanceRecord } from './call.js';
import { OpenAiCompatAdapter } from './openaiCompat.js';
import type { ProviderAdapter } from './types.js';
import type { ServedRecord } from '../runtime/served.js';
import { guardedFetch, type FetchLike } from './transport.js';

export interface ComposeOptions {
  policy: () => Policy;
  source: CallPorts['source'];
  stateDir: string;
  localOnlySetting: () => boolean;
  key: CallPorts['key'];
  baseUrl: CallPorts['baseUrl'];
  budget?: BudgetPort;
  fetch?: FetchLike;
  retry?: CallPorts['retry'];
  sleep?: CallPorts['sleep'];
  /** The NotebookLM bridge (a user-configured MCP server), when there is one. */
  notebooklm?: ProviderAdapter;
  servedModel?: CallPorts['servedModel'];
}

export function composeCaller(o: ComposeOptions): ModelCaller {
  // The transport guard sees the effective local_only at the moment of each request (GR-009, second line of defence).
  const localOnly = () => o.localOnlySetting() || o.policy().local_only;
  const fetch = guardedFetch(localOnly, o.fetch);
  const compat = new OpenAiCompatAdapter(fetch);
  const adapters: CallPorts['adapters'] = {
    openai: compat,
    deepseek: compat,
    moonshot: compat,
    local: compat,
    anthropic: new AnthropicAdapter(fetch),
    ...(o.notebooklm ? { notebooklm: o.notebooklm } : {}),
  };
  return new ModelCaller({
    policy: o.policy,
    source: o.source,
    localOnlySetting: o.localOnlySetting,
    key: o.key,
    baseUrl: o.baseUrl,
    adapters,
    audit: new QueuedAppender<AuditEntry>(join(o.stateDir, 'audit.jsonl')),
    provenance: new QueuedAppender<ProvenanceRecord>(join(o.stateDir, 'provenance.jsonl')),
    budget: o.budget ?? new Ledger(join(o.stateDir, 'ledger.jsonl'), o.policy),
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.sleep ? { sleep: o.sleep } : {}),
    ...(o.servedModel ? { servedModel: o.servedModel } : {}),
  });
}

export const KEY_ENV: Record<Exclude<ProviderId, 'local' | 'notebooklm'>, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  moonshot: 'MOONSHOT_API_KEY',
};
export const BASE_URL_ENV: Record<Exclude<ProviderId, 'notebooklm'>, string> = {
  anthropic: 'ANTHROPIC_BASE_URL',
  openai: 'OPENAI_BASE_URL',
  deepseek: 'DEEPSEEK_BASE_URL',
  moonshot: 'MOONSHOT_BASE_URL',
  local: 'SWITCHYARD_LOCAL_BASE_URL',
};

/**
 * Keys and endpoints from the SDKs' usual environment variables (the CLI); for the local lane, else the
 * policy's endpoint, else the server `switchyard runtime start` left running (its record in the state folder).
 */
export function envPorts(
  env: NodeJS.ProcessEnv,
  policy: () => Policy,
  stateDir?: string,
): Pick<ComposeOptions, 'key' | 'baseUrl' | 'servedModel'> {
  type Recorded = { port: number; apiKey: string; model?: ServedRecord | null };
  const recorded = (): Recorded | null => {
    if (!stateDir || env.SWITCHYARD_LOCAL_BASE_URL || policy().runtime.endpoint) return null;
    try {
      return JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as Recorded;
    } catch {
      return null;
    }
  };
  return {
    // The server `switchyard runtime start` left running says what it serves (read from the model at its start).
    servedModel: () => recorded()?.model ?? null,
    key: (p) =>
      (p === 'local'
        ? env.SWITCHYARD_LOCAL_API_KEY || recorded()?.apiKey
        : p === 'notebooklm'
          ? undefined
          : env[KEY_ENV[p]]) || undefined,
    baseUrl: (p) => {
      if (p === 'notebooklm') return undefined;
      const v = env[BASE_URL_ENV[p]];
      if (v) return v;
      if (p !== 'local') return undefined;
      const rec = recorded();
      return policy().runtime.endpoint ?? (rec ? `http://127.0.0.1:${rec.port}/v1` : undefined);
    },
  };
}
