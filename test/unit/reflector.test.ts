import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import type { AttemptRecord } from '../../src/core/reflector/reflector.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { CallFailed } from '../../src/core/providers/call.js';
import { interestingFailure, reflect, signature, type FailedTask } from '../../src/core/reflector/reflector.js';
import { openAiServer, type WireServer } from '../support/wireServers.js';

// The ACE reflector after failed Implementer tasks: a local lesson in the playbook for routine failures, Kimi
// only for interesting ones, no model call for a failure the playbook already knows.
let local: WireServer, kimi: WireServer;
before(async () => {
  [local, kimi] = await Promise.all([openAiServer('openai'), openAiServer('moonshot')]);
});
after(async () => {
  await Promise.all([local.close(), kimi.close()]);
});
const lesson = {
  title: 'Borrow before moving',
  lesson: 'The patch moved `cfg` into the thread and used it after. Clone what the thread needs first.',
  applies_to: ['crates/server'],
  check_first: 'cargo check -p server',
};
beforeEach(() => {
  for (const s of [local, kimi]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok', text: JSON.stringify(lesson) };
  }
});

function setup(o: { localOnly?: boolean; localUp?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-refl-'));
  const policy = bundledPolicy();
  const caller = testCaller({
    policy,
    urls: { local: o.localUp === false ? undefined : local.url, moonshot: kimi.url },
    localOnly: o.localOnly,
    stateDir: dir,
  }).caller;
  return { caller, audit: () => new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit) };
}

const failed = (provider: string, detail: string, n: number): AttemptRecord => ({
  attempt: n,
  provider,
  model: provider === 'local' ? 'qwen' : 'claude-sonnet-4-6',
  rule: 'x',
  outcome: 'check_failed',
  detail,
  lines: 12,
  flags: [],
});
const E1 = 'error[E0382]: borrow of moved value: `cfg`\n --> crates/server/src/lib.rs:41:17';
const routine: FailedTask = {
  task_id: 't-1',
  instruction: 'spawn the worker thread',
  attempts: [failed('local', E1, 1), failed('local', E1.replace('41:17', '44:9'), 2)],
  high_risk: false,
  evidence: '.switchyard/evidence/t-1',
  files: ['crates/server/src/lib.rs'],
};

describe('the ACE reflector', () => {
  it('a routine failure: the local model writes a lesson into the playbook; Kimi is not called', async () => {
    const s = setup();
    const r = await reflect(s.caller, routine, null, { now: () => new Date('2026-11-26T10:00:00Z') });
    assert.equal(r.action, 'written');
    assert.equal(r.result!.provider, 'local');
    assert.equal(kimi.requests.length, 0);
    assert.match(r.playbook, /^# Switchyard playbook\n/);
    assert.match(
      r.playbook,
      /## 2026-11-26 · Borrow before moving\n\n- Failure: `error\[E0382\]: borrow of moved value: <x>`\n- Task: t-1 \(evidence: \.switchyard\/evidence\/t-1\)\n- Lesson: The patch moved `cfg`/,
    );
    assert.match(
      r.playbook,
      /- Written by: local\/Qwen\/Qwen3-Coder-30B-A3B-Instruct-AWQ \(routine curation\)\n- Seen: 1 time\n/,
    );
  });

  it('the same failure again: no model call, the entry counts it', async () => {
    const s = setup();
    const first = await reflect(s.caller, routine, null);
    const calls = local.requests.length;
    const again = await reflect(s.caller, { ...routine, task_id: 't-2' }, first.playbook);
    assert.equal(again.action, 'counted');
    assert.equal(local.requests.length, calls);
    assert.match(again.playbook, /- Seen: 2 times \(last: task t-2\)/);
    assert.ok(s.audit().some((l) => /already in the playbook .* no model was called/.test(l)));
  });

  it('an interesting failure (the cloud failed too): Kimi K2 writes the lesson, and the entry says why', async () => {
    const s = setup();
    const t: FailedTask = {
      ...routine,
      task_id: 't-3',
      attempts: [
        failed('local', E1, 1),
        failed('local', E1, 2),
        failed('anthropic', 'error: lifetime may not live long enough', 3),
      ],
    };
    assert.deepEqual(interestingFailure(t), { interesting: true, why: ['the cloud model failed too'] });
    const r = await reflect(s.caller, t, null);
    assert.equal(r.result!.provider, 'moonshot');
    assert.match(r.playbook, /- Written by: moonshot\/kimi-k2\.6 \(interesting failure: the cloud model failed too\)/);
    assert.ok(s.audit().some((l) => /route reflector -> moonshot\/kimi-k2\.6 .*interesting_failure=true/.test(l)));
  });

  it('an interesting failure with Kimi out of reach (no key): the local model writes the lesson, and the fallback is audited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-refl-'));
    const policy = bundledPolicy();
    const caller = testCaller({
      policy,
      urls: { local: local.url, moonshot: kimi.url },
      keys: {},
      stateDir: dir,
    }).caller;
    const r = await reflect(caller, { ...routine, high_risk: true }, null);
    assert.equal(r.result!.provider, 'local');
    assert.equal(kimi.requests.length, 0);
    assert.match(
      r.playbook,
      /- Written by: local\/.* \(interesting failure \(a high-risk change failed\), Kimi unreachable\)/,
    );
    const lines = new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit);
    assert.ok(
      lines.some((l) =>
        /GR-005: reflector: the interesting failure of task t-1 would go to Kimi, which failed \(.*no API key/.test(l),
      ),
      lines.join('\n'),
    );
  });

  it('interesting: a failed high-risk change, or three attempts failing three different ways; routine otherwise', () => {
    assert.deepEqual(interestingFailure({ ...routine, high_risk: true }).why, ['a high-risk change failed']);
    const three = {
      ...routine,
      attempts: [failed('local', 'error: a', 1), failed('local', 'error: b', 2), failed('local', 'error: c', 3)],
    };
    assert.deepEqual(interestingFailure(three).why, ['each of 3 attempts failed differently']);
    assert.equal(interestingFailure(routine).interesting, false);
  });

  it('under local_only an interesting failure stays local (GR-009), said in the audit', async () => {
    const s = setup({ localOnly: true });
    const r = await reflect(s.caller, { ...routine, high_risk: true }, null);
    assert.equal(r.result!.provider, 'local');
    assert.equal(kimi.requests.length, 0);
    assert.ok(s.audit().some((l) => /escalation to Kimi suppressed \(GR-009\)/.test(l)));
  });

  it('local server down on a routine failure: Kimi is escalation-only, so it fails and says what to do', async () => {
    const s = setup({ localUp: false });
    await assert.rejects(
      reflect(s.caller, routine, null),
      (e: unknown) =>
        e instanceof CallFailed &&
        /no local model server is running .*Switchyard: Start Local Model Server/.test(e.message),
    );
    assert.equal(kimi.requests.length, 0);
  });

  it('signatures keep error codes and blur paths, positions, numbers and quoted names', () => {
    assert.equal(
      signature('warning: x\nerror[E0382]: borrow of moved value: `a`\n --> src/a.rs:1:2'),
      'error[E0382]: borrow of moved value: <x>',
    );
    assert.equal(
      signature('thread main panicked at src/lib.rs:10:5: index out of bounds: the len is 3 but the index is 7'),
      signature('thread main panicked at src/x.rs:99:1: index out of bounds: the len is 1 but the index is 2'),
    );
  });
});
