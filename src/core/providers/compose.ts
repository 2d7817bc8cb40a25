// One composition of the model-call path; the CLI and the extension each hand it their ports.
import { join } from 'node:path';
import { Ledger } from '../budget/ledger.js';
import { QueuedAppender } from '../evidence/auditLog.js';
import type { AuditEntry } from '../evidence/auditLog.js';
import type { Policy, ProviderId } from '../policy/schema.js';
import { AnthropicAdapter } from './anthropic.js';
import { ModelCaller, type BudgetPort, type CallPorts, type ProvenanceRecord } from './call.js';
import { OpenAiCompatAdapter } from './openaiCompat.js';
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
}

export function composeCaller(o: ComposeOptions): ModelCaller {
  // The transport guard sees the effective local_only at the moment of each request (GR-009, second line of defence).
  const localOnly = () => o.localOnlySetting() || o.policy().local_only;
  const fetch = guardedFetch(localOnly, o.fetch);
  const compat = new OpenAiCompatAdapter(fetch);
  const adapters: CallPorts['adapters'] = { openai: compat, deepseek: compat, moonshot: compat, local: compat, anthropic: new AnthropicAdapter(fetch) };
  return new ModelCaller({
    policy: o.policy, source: o.source, localOnlySetting: o.localOnlySetting, key: o.key, baseUrl: o.baseUrl, adapters,
    audit: new QueuedAppender<AuditEntry>(join(o.stateDir, 'audit.jsonl')),
    provenance: new QueuedAppender<ProvenanceRecord>(join(o.stateDir, 'provenance.jsonl')),
    budget: o.budget ?? new Ledger(join(o.stateDir, 'ledger.jsonl'), o.policy),
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.sleep ? { sleep: o.sleep } : {}),
  });
}

export const KEY_ENV: Record<Exclude<ProviderId, 'local' | 'notebooklm'>, string> = {
  anthropic: 'ANTHROPIC_API_KEY', openai: 'OPENAI_API_KEY', deepseek: 'DEEPSEEK_API_KEY', moonshot: 'MOONSHOT_API_KEY',
};
export const BASE_URL_ENV: Record<Exclude<ProviderId, 'notebooklm'>, string> = {
  anthropic: 'ANTHROPIC_BASE_URL', openai: 'OPENAI_BASE_URL', deepseek: 'DEEPSEEK_BASE_URL', moonshot: 'MOONSHOT_BASE_URL', local: 'SWITCHYARD_LOCAL_BASE_URL',
};

/** Keys and endpoints from the SDKs' usual environment variables (the CLI). */
export function envPorts(env: NodeJS.ProcessEnv, policy: () => Policy): Pick<ComposeOptions, 'key' | 'baseUrl'> {
  return {
    key: (p) => (p === 'local' ? env.SWITCHYARD_LOCAL_API_KEY : p === 'notebooklm' ? undefined : env[KEY_ENV[p]]) || undefined,
    baseUrl: (p) => {
      if (p === 'notebooklm') return undefined;
      const v = env[BASE_URL_ENV[p]];
      if (v) return v;
      return p === 'local' ? (policy().runtime.endpoint ?? undefined) : undefined;
    },
  };
}
