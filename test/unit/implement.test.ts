import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { classifyDiff } from '../../src/core/classifier/classify.js';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { TaskEvidence } from '../../src/core/evidence/taskEvidence.js';
import { checkPlan, runChecks } from '../../src/core/implement/checks.js';
import { applyAnswer, hunks, PatchError, selectHunks, unifiedDiff } from '../../src/core/implement/patch.js';
import { implement, type ImplementPorts, type Proposal } from '../../src/core/implement/task.js';
import { runTool } from '../../src/core/implement/tools.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { llamaServerMissing, startLlama } from '../support/llamaServer.js';
import { openAiServer, type WireServer } from '../support/wireServers.js';

// The Implementer against a sample Cargo workspace (the demo), with the real `cargo check` and `cargo test`.
// A local test server scripts the model's patches where determinism is needed; the real llama-server
// carries the transport in the last test.
const ROOT = process.cwd();
const LIB = 'crates/core/src/lib.rs';
const TARGET = mkdtempSync(join(tmpdir(), 'sy-cargo-target-')); // one build cache for every test here
const block = (search: string, replace: string, path = LIB) =>
  `${path}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
const GOOD = block('        .filter(|w| !w.is_empty())', '        .filter(|w| !w.is_empty() && w.len() <= 64)');
const BROKEN = block('        .filter(|w| !w.is_empty())', '        .filter(|w| !w.is_empty() && w.len() <= max_len)');

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-impl-ws-'));
  cpSync(join(ROOT, 'demo'), dir, { recursive: true });
  return dir;
}

let local: WireServer, ds: WireServer;
before(async () => {
  [local, ds] = await Promise.all([openAiServer(), openAiServer('deepseek')]);
});
after(async () => {
  await Promise.all([local.close(), ds.close()]);
  rmSync(TARGET, { recursive: true, force: true });
});
beforeEach(() => {
  for (const s of [local, ds]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok', text: 'no patch here' };
  }
});

function setup(
  o: {
    localUrl?: string;
    localOnly?: boolean;
    review?: (p: Proposal) => 'accept' | 'reject';
    abortOnCheck?: boolean;
  } = {},
) {
  const root = workspace();
  const state = mkdtempSync(join(tmpdir(), 'sy-impl-state-'));
  const policy = bundledPolicy();
  const urls: Record<string, string | undefined> = { local: o.localUrl ?? local.url, deepseek: ds.url };
  const caller = testCaller({ policy, urls, source: 'extension', localOnly: o.localOnly, stateDir: state }).caller;
  const proposals: Proposal[] = [];
  const ac = new AbortController();
  const file = (p: string) => join(root, p);
  const ports: ImplementPorts = {
    caller,
    read: async (p) => (existsSync(file(p)) ? readFileSync(file(p), 'utf8') : undefined),
    classify: (diff, changes) =>
      classifyDiff(diff, {
        policy,
        repo: {
          readBase: async (p) =>
            changes.find((c) => c.path === p)?.before ??
            (existsSync(file(p)) ? readFileSync(file(p), 'utf8') : undefined),
          readCurrent: async (p) => (existsSync(file(p)) ? readFileSync(file(p), 'utf8') : undefined),
        },
      }),
    review: async (p) => {
      proposals.push(p);
      return (o.review?.(p) ?? 'accept') === 'accept'
        ? { decision: 'accept', changes: p.changes }
        : { decision: 'reject' };
    },
    apply: async (changes) => {
      for (const c of changes) writeFileSync(file(c.path), c.after);
    },
    restore: async (originals) => {
      for (const x of originals) {
        if (x.before === null) unlinkSync(file(x.path));
        else writeFileSync(file(x.path), x.before);
      }
    },
    check: (c, signal) => {
      if (o.abortOnCheck) setTimeout(() => ac.abort(), 300);
      return runChecks(root, checkPlan(root, c.crates_touched), {
        timeoutMs: 300_000,
        ...(signal ? { signal } : {}),
        env: { ...process.env, CARGO_TARGET_DIR: TARGET },
      });
    },
    evidence: new TaskEvidence(join(root, '.switchyard', 'evidence', 'T-1')),
    stage: () => {},
  };
  const original = readFileSync(file(LIB), 'utf8');
  const input = {
    task_id: 'T-1',
    instruction: 'ignore words longer than 64 characters in tokenize',
    context: { path: LIB, text: original },
    policy,
    localOnly: o.localOnly === true,
    signal: ac.signal,
  };
  return {
    root,
    ports,
    input,
    proposals,
    original,
    lib: () => readFileSync(file(LIB), 'utf8'),
    audit: () => new AuditLog(join(state, 'audit.jsonl')).read(),
  };
}

describe('patches: applied in memory, or a clear error', () => {
  const files: Record<string, string> = { 'a.rs': 'fn a() {\n    1\n}\n', 'b.rs': 'x\ny\n' };
  const read = async (p: string) => files[p];
  it('search/replace blocks, fenced or not, several per file; an empty SEARCH creates a file', async () => {
    const ans = `Here:\n\`\`\`rust\na.rs\n<<<<<<< SEARCH\n    1\n=======\n    2\n>>>>>>> REPLACE\n\`\`\`\n${block('y', 'z', 'b.rs')}${block('', 'new', 'c.rs')}`;
    const ch = await applyAnswer(ans, read);
    assert.deepEqual(
      ch.map((c) => [c.path, c.after]),
      [
        ['a.rs', 'fn a() {\n    2\n}\n'],
        ['b.rs', 'x\nz\n'],
        ['c.rs', 'new\n'],
      ],
    );
    assert.equal(ch[2]!.before, null);
    const diff = unifiedDiff(ch);
    assert.match(diff, /^diff --git a\/a\.rs b\/a\.rs\n--- a\/a\.rs\n\+\+\+ b\/a\.rs\n@@/);
    assert.match(diff, /new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/c\.rs/);
  });
  it('a unified diff applies too', async () => {
    const ch = await applyAnswer('--- a/b.rs\n+++ b/b.rs\n@@ -1,2 +1,2 @@\n x\n-y\n+w\n', read);
    assert.equal(ch[0]!.after, 'x\nw\n');
  });
  it('what does not apply says which block and why', async () => {
    await assert.rejects(
      applyAnswer(block('not there', 'x', 'a.rs'), read),
      (e: unknown) =>
        e instanceof PatchError && /block 1 \(a\.rs\): the SEARCH text is not in the file/.test(e.message),
    );
    await assert.rejects(applyAnswer(block('', 'x', 'a.rs'), read), /exists; an empty SEARCH only creates new files/);
    await assert.rejects(applyAnswer(block('x', 'y', '../../etc/passwd'), read), /not a path inside the workspace/);
    await assert.rejects(applyAnswer(block('x', 'y', '.git/config'), read), /not a path inside the workspace/);
    await assert.rejects(applyAnswer(block('x', 'y', 'missing.rs'), read), /does not exist/);
    await assert.rejects(applyAnswer('just prose', read), /no search\/replace block and no unified diff/);
    await assert.rejects(
      applyAnswer('--- a/b.rs\n+++ b/b.rs\n@@ -1,2 +1,2 @@\n q\n-y\n+w\n', read),
      /does not apply to the current file/,
    );
    const twice = { 'd.rs': 'same\nsame\n' };
    await assert.rejects(
      applyAnswer(block('same', 'x', 'd.rs'), async (p) => (twice as Record<string, string>)[p]),
      /more than once/,
    );
  });
  it('hunks can be accepted one by one', async () => {
    const before = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const after = before.replace('line 2\n', 'LINE 2\n').replace('line 25\n', 'LINE 25\n');
    const ch = [{ path: 'f.txt', before, after }];
    const hs = hunks(ch);
    assert.equal(hs.length, 2);
    const only = selectHunks(ch, new Set(['f.txt#1']));
    assert.equal(only[0]!.after, before.replace('line 25\n', 'LINE 25\n'));
    assert.deepEqual(selectHunks(ch, new Set()), []);
  });
});

describe('the tool executor (GR-010)', () => {
  it('runs an argv without a shell: model text stays one argument', async () => {
    const marker = join(tmpdir(), `sy-no-shell-${process.pid}`);
    const r = await runTool({
      argv: ['printf', '%s', `$(touch ${marker}); echo pwned`],
      cwd: tmpdir(),
      timeoutMs: 5_000,
    });
    assert.equal(r.stdout, `$(touch ${marker}); echo pwned`);
    assert.equal(existsSync(marker), false);
  });
  it('a timeout and a cancel end the whole process group', async () => {
    const t = await runTool({ argv: ['sh', '-c', 'sleep 30 & sleep 30; wait'], cwd: tmpdir(), timeoutMs: 200 });
    assert.equal(t.timedOut, true);
    assert.ok(t.ms < 5_000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const c = await runTool({ argv: ['sleep', '30'], cwd: tmpdir(), timeoutMs: 60_000, signal: ac.signal });
    assert.equal(c.cancelled, true);
  });
});

describe('the Implementer on a Cargo workspace, with the real cargo check and test', () => {
  it('a patch that passes the first time: applied, checked, evidence with a manifest that verifies', async () => {
    const s = setup();
    local.queue.push({ kind: 'ok', text: GOOD });
    const r = await implement(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    assert.equal(r.attempts.length, 1);
    assert.equal(r.attempts[0]!.provider, 'local');
    assert.equal(r.escalated, false);
    assert.match(s.lib(), /w\.len\(\) <= 64/);
    assert.match(r.message, /cargo check -p demo-core and cargo test -p demo-core passed on attempt 1/);
    const ev = join(s.root, '.switchyard', 'evidence', 'T-1');
    for (const f of [
      'instruction.md',
      'attempt-1/answer.md',
      'attempt-1/patch.diff',
      'attempt-1/classification.json',
      'attempt-1/check.log',
      'routing.jsonl',
      'result.json',
      'manifest.sha256',
    ])
      assert.ok(existsSync(join(ev, f)), f);
    for (const line of readFileSync(join(ev, 'manifest.sha256'), 'utf8').trim().split('\n')) {
      const [sum, name] = line.split('  ');
      assert.equal(
        createHash('sha256')
          .update(readFileSync(join(ev, name!)))
          .digest('hex'),
        sum,
        name,
      );
    }
    assert.equal(s.proposals[0]!.classification.lane, 'local_reflex');
  });

  it('a patch that fails twice: the compiler errors go back to the model, then the policy escalates to the cloud', async () => {
    const s = setup();
    local.queue.push({ kind: 'ok', text: BROKEN }, { kind: 'ok', text: BROKEN });
    ds.queue.push({ kind: 'ok', text: GOOD });
    const r = await implement(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    assert.deepEqual(
      r.attempts.map((a) => [a.provider, a.outcome]),
      [
        ['local', 'check_failed'],
        ['local', 'check_failed'],
        ['deepseek', 'passed'],
      ],
    );
    assert.equal(r.escalated, true);
    const second = JSON.stringify(local.requests[1]!.body);
    assert.match(second, /cannot find value `max_len`/, "cargo's error went back to the model");
    assert.match(JSON.stringify(ds.requests[0]!.body), /failed the checks/);
    const lines = s.audit().map((e) => e.audit);
    assert.ok(
      lines.some((l) =>
        /GR-005: implementer: 2 failed compile\/test loops .*escalating by implementer\.failed_loops to deepseek/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /route implementer -> deepseek\/.* by implementer\.failed_loops/.test(l)),
      "the router's own decision line",
    );
    assert.match(s.lib(), /w\.len\(\) <= 64/);
    assert.doesNotMatch(s.lib(), /max_len/);
  });

  it('a patch that does not apply is a failed attempt, not a crash; in the end every file is as it was', async () => {
    const s = setup();
    const stale = block('        .filter(|w| w.len() > 0)', '        .filter(|w| w.len() > 1)');
    local.queue.push({ kind: 'ok', text: stale }, { kind: 'ok', text: 'Sure! I changed it.' });
    ds.fallback = { kind: 'ok', text: stale };
    const r = await implement(s.ports, s.input);
    assert.equal(r.status, 'failed');
    assert.deepEqual(
      r.attempts.map((a) => a.outcome),
      ['no_patch', 'no_patch', 'no_patch', 'no_patch'],
    );
    assert.match(r.attempts[0]!.detail, /the SEARCH text is not in the file/);
    assert.match(r.attempts[1]!.detail, /no search\/replace block/);
    assert.equal(s.lib(), s.original);
    assert.equal(s.proposals.length, 0, 'nothing unappliable is shown');
    assert.match(JSON.stringify(local.requests[1]!.body), /could not be applied: block 1/);
  });

  it('measured before shown: a local patch that touches the public API goes to the cloud, with the reason, and needs a Judge', async () => {
    const s = setup();
    const api = block(
      '/// Splits text into lower-case words.',
      '/// Splits text into lower-case words.\npub fn is_word(w: &str) -> bool { !w.is_empty() }\n\n/// Splits text into lower-case words (see is_word).',
    );
    local.queue.push({ kind: 'ok', text: api });
    ds.queue.push({ kind: 'ok', text: api });
    const r = await implement(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    assert.deepEqual(
      r.attempts.map((a) => [a.provider, a.outcome]),
      [
        ['local', 'rerouted'],
        ['deepseek', 'passed'],
      ],
    );
    assert.equal(s.proposals.length, 1, 'only the cloud patch is shown');
    assert.equal(s.proposals[0]!.requires_judge, true);
    assert.match(s.proposals[0]!.cloud_why ?? '', /public_api.*rule implementer\.high_risk/);
    assert.equal(r.requires_judge, true);
    assert.match(r.message, /cloud Judge must approve it/);
    assert.ok(s.audit().some((e) => e.kind === 'escalation' && /the local patch measures .*public_api/.test(e.audit)));
  });

  it('rejecting in the preview changes nothing; stopping during the checks rolls back to the start', async () => {
    const a = setup({ review: () => 'reject' });
    local.queue.push({ kind: 'ok', text: GOOD });
    const r = await implement(a.ports, a.input);
    assert.equal(r.status, 'rejected');
    assert.equal(a.lib(), a.original);

    const b = setup({ abortOnCheck: true });
    writeFileSync(join(b.root, 'crates/core/src/slow.rs'), ''); // make the build do some work
    local.queue.push({ kind: 'ok', text: GOOD });
    const c = await implement(b.ports, { ...b.input });
    assert.equal(c.status, 'cancelled');
    assert.equal(b.lib(), b.original);
  });
});

describe('the Implementer over the real llama-server', () => {
  it("the tiny model's answer travels the real transport; not being a patch, it is a failed attempt (local_only: no cloud)", async () => {
    const missing = llamaServerMissing();
    if (missing) throw new Error(missing);
    const llama = await startLlama({});
    try {
      const s = setup({ localUrl: llama.url, localOnly: true });
      const r = await implement(s.ports, s.input);
      assert.ok(['failed', 'refused'].includes(r.status), r.message);
      assert.equal(r.attempts[0]!.provider, 'local');
      assert.equal(r.attempts[0]!.outcome, 'no_patch');
      assert.equal(s.lib(), s.original);
      assert.equal(ds.requests.length, 0);
    } finally {
      await llama.stop();
    }
  });
});
