// The one model-call fixture of the unit tests: the real call path (composeCaller: the SDK adapters, the transport
// guard, the ledger, the audit log) pointed at test servers on loopback, with test keys and no real sleeping.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditEntry } from '../../../src/core/evidence/auditLog.js';
import type { Policy, ProviderId } from '../../../src/core/policy/schema.js';
import type { ProvenanceRecord } from '../../../src/core/providers/call.js';
import { composeCaller, type ComposeOptions } from '../../../src/core/providers/compose.js';
import { JsonlFile } from '../../../src/core/evidence/auditLog.js';

/** Test keys in each provider's real format (the redaction tests look for them). */
export const TEST_KEYS: Partial<Record<ProviderId, string>> = {
  openai: 'sk-proj-TESTKEYopenai0123456789abcd',
  anthropic: 'sk-ant-api03-TESTKEYanthropic0123456789',
  deepseek: 'sk-TESTKEYdeepseek0123456789abcd',
  moonshot: 'sk-TESTKEYmoonshot0123456789abcdef',
};

export interface TestCallerOptions {
  policy: Policy | (() => Policy);
  /** Base URL per provider (a test server's); a provider without one has no endpoint. */
  urls?: Partial<Record<ProviderId, string | undefined>>;
  /** Which providers have a key: the test key of each named one (default: every provider with a URL but local). */
  keys?: Partial<Record<ProviderId, string | undefined>> | ((p: ProviderId) => string | undefined);
  localOnly?: boolean | (() => boolean);
  source?: ComposeOptions['source'];
  stateDir?: string;
  /** Default: no waiting; pass one to record the back-off. */
  sleep?: ComposeOptions['sleep'];
  budget?: ComposeOptions['budget'];
  notebooklm?: ComposeOptions['notebooklm'];
  servedModel?: ComposeOptions['servedModel'];
}

export function testCaller(o: TestCallerOptions) {
  const dir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'sy-call-'));
  const urls = o.urls ?? {};
  const policy = typeof o.policy === 'function' ? o.policy : () => o.policy as Policy;
  const localOnly = typeof o.localOnly === 'function' ? o.localOnly : () => o.localOnly === true;
  const keys = o.keys;
  const key =
    typeof keys === 'function'
      ? keys
      : (p: ProviderId) => (keys ? keys[p] : p === 'local' || !urls[p] ? undefined : TEST_KEYS[p]);
  const caller = composeCaller({
    policy,
    source: o.source ?? 'cli',
    stateDir: dir,
    localOnlySetting: localOnly,
    key,
    baseUrl: (p: ProviderId) => urls[p],
    sleep: o.sleep ?? (async () => {}),
    ...(o.budget ? { budget: o.budget } : {}),
    ...(o.notebooklm ? { notebooklm: o.notebooklm } : {}),
    ...(o.servedModel ? { servedModel: o.servedModel } : {}),
  });
  return {
    caller,
    dir,
    audit: (): AuditEntry[] => new AuditLog(join(dir, 'audit.jsonl')).read(),
    auditLines: (): string[] => new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit),
    provenance: () => new JsonlFile<ProvenanceRecord>(join(dir, 'provenance.jsonl')).read(),
  };
}
