import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { findContradictions, librarianSignals, runLibrarian, type LibDoc } from '../../src/core/librarian/librarian.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { openAiServer, type WireServer } from '../support/wireServers.js';

// The Librarian against wire servers: the local runtime (OpenAI-compatible) and Moonshot's Kimi K2. Each §3
// predicate sends the job to Kimi, and nothing else does; under local_only the escalation is suppressed, said.
let local: WireServer, kimi: WireServer;
before(async () => {
  [local, kimi] = await Promise.all([openAiServer('openai'), openAiServer('moonshot')]);
});
after(async () => {
  await Promise.all([local.close(), kimi.close()]);
});
beforeEach(() => {
  for (const s of [local, kimi]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok', text: answer(0.9) };
  }
});

function answer(confidence: number, title = 'Synthesis'): string {
  return JSON.stringify({
    title,
    document: '# Synthesis\n\nThe service retries three times (docs/a.md).',
    contradictions_resolved: [],
    open_questions: [],
    confidence,
  });
}

function setup(o: { localOnly?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-lib-'));
  const policy = bundledPolicy();
  const caller = testCaller({
    policy,
    urls: { local: local.url, moonshot: kimi.url },
    localOnly: o.localOnly,
    stateDir: dir,
  }).caller;
  return { caller, policy, audit: () => new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit) };
}

const small: LibDoc[] = [
  { path: 'docs/a.md', text: '# Retries\n\nThe client retries failed calls.\n\n- retries: 3\n' },
  { path: 'docs/b.md', text: '# Timeouts\n\nEach call has a timeout.\n\n- timeout: 30s\n' },
];

describe('the Librarian: §3 escalation predicates', () => {
  it('routine synthesis stays on the local lane; Kimi is never called', async () => {
    const s = setup();
    const related =
      'Related files elsewhere in the workspace (Stage 0 retrieval, for reference; not part of the job):\n- src/net/http_client.rs (relevance 0.9; matched retry)';
    const r = await runLibrarian(s.caller, s.policy, {
      mode: 'synthesise',
      docs: small,
      sweep: false,
      goal: 'retries',
      related,
    });
    assert.equal(r.result.provider, 'local');
    assert.equal(r.result.decision.rule, 'librarian.routine');
    assert.match(
      JSON.stringify(local.requests[0]!.body),
      /Stage 0 retrieval, for reference; not part of the job\):\\n- src\/net\/http_client\.rs/,
    );
    assert.deepEqual(r.escalated_on, []);
    assert.equal(kimi.requests.length, 0);
    assert.equal(r.output.title, 'Synthesis');
  });

  it('context over 100k tokens: Kimi K2', async () => {
    const s = setup();
    const big = [{ path: 'docs/big.md', text: 'word '.repeat(460_000) }];
    const r = await runLibrarian(s.caller, s.policy, { mode: 'synthesise', docs: big, sweep: false });
    assert.equal(r.result.provider, 'moonshot');
    assert.equal(r.result.model, 'kimi-k2.6');
    assert.match(r.escalated_on.join(), /^context_estimate=\d+ > 100000$/);
    assert.equal(local.requests.length, 0);
    assert.ok(s.audit().some((l) => /route librarian -> moonshot\/kimi-k2\.6 .* by librarian\.escalate/.test(l)));
  });

  it('contradictions detected: Kimi K2, and the prompt cites both lines', async () => {
    const s = setup();
    const docs = [...small, { path: 'docs/c.md', text: '# Ops\n\n- timeout: 60s\n' }];
    const r = await runLibrarian(s.caller, s.policy, { mode: 'synthesise', docs, sweep: false });
    assert.equal(r.result.provider, 'moonshot');
    assert.deepEqual(r.escalated_on, ['contradictions_detected=true']);
    assert.match(
      JSON.stringify(kimi.requests[0]!.body),
      /\\"timeout\\": 30s \(docs\/b\.md:5\) vs 60s \(docs\/c\.md:3\)/,
    );
  });

  it('tool-heavy (a clean-up rewriting more than 5 files): Kimi K2', async () => {
    const s = setup();
    const docs = Array.from({ length: 6 }, (_, i) => ({ path: `docs/p${i}.md`, text: `# Page ${i}\n\nSome text.\n` }));
    const r = await runLibrarian(s.caller, s.policy, { mode: 'cleanup', docs, sweep: false });
    assert.deepEqual(r.escalated_on, ['tool_heavy=true']);
    assert.equal(r.result.provider, 'moonshot');
    const five = await runLibrarian(s.caller, s.policy, { mode: 'cleanup', docs: docs.slice(0, 5), sweep: false });
    assert.equal(five.result.provider, 'local', 'five files is not tool-heavy');
  });

  it('full sweep: Kimi K2', async () => {
    const s = setup();
    const r = await runLibrarian(s.caller, s.policy, { mode: 'cleanup', docs: small, sweep: true });
    assert.deepEqual(r.escalated_on, ['full_sweep=true']);
    assert.equal(r.result.provider, 'moonshot');
  });

  it('local confidence below the threshold (0.7): asked again, served by Kimi K2, with the reason audited', async () => {
    const s = setup();
    local.queue.push({ kind: 'ok', text: answer(0.4, 'Unsure') });
    const r = await runLibrarian(s.caller, s.policy, { mode: 'synthesise', docs: small, sweep: false });
    assert.deepEqual(r.local_first, { confidence: 0.4, model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ' });
    assert.equal(r.result.provider, 'moonshot');
    assert.deepEqual(r.escalated_on, ['local_synth_confidence=0.4 < 0.7']);
    assert.equal(local.requests.length, 1);
    assert.equal(kimi.requests.length, 1);
    assert.ok(s.audit().some((l) => /GR-005: librarian: the local synthesis's confidence 0\.4 is below 0\.7/.test(l)));
  });

  it('under local_only a predicate does not leave the machine: the local model serves, the suppression is audited', async () => {
    const s = setup({ localOnly: true });
    const r = await runLibrarian(s.caller, s.policy, { mode: 'cleanup', docs: small, sweep: true });
    assert.equal(r.result.provider, 'local');
    assert.equal(kimi.requests.length, 0);
    assert.ok(
      s.audit().some((l) => /local_only=true: escalation to Kimi suppressed \(GR-009\)/.test(l)),
      s.audit().join('\n'),
    );
  });
});

describe('the Librarian: deterministic predicates', () => {
  it('finds settings given two values, skips code blocks, headings and agreeing statements', () => {
    const docs: LibDoc[] = [
      { path: 'a.md', text: '- **Retries**: 3\n- timeout = 30s\n```\ntimeout = 99s\n```\n# timeout: 5s\n' },
      { path: 'b.md', text: 'Retries: 3\nThe default port is 8080.\nTimeout: 45s\n' },
      { path: 'c.md', text: 'the default port is 9090\n' },
    ];
    const c = findContradictions(docs);
    assert.deepEqual(
      c.map((x) => [x.key, x.a.value, `${x.a.path}:${x.a.line}`, x.b.value, `${x.b.path}:${x.b.line}`]),
      [
        ['timeout', '30s', 'a.md:2', '45s', 'b.md:3'],
        ['the default port', '8080', 'b.md:2', '9090', 'c.md:1'],
      ],
    );
  });

  it('signals: context estimate grows with the documents; tool_heavy only for clean-ups over five files', () => {
    const s1 = librarianSignals({ mode: 'synthesise', docs: small, sweep: false });
    const s2 = librarianSignals({
      mode: 'synthesise',
      docs: [...small, { path: 'x.md', text: 'y '.repeat(10_000) }],
      sweep: false,
    });
    assert.ok(s2.context_estimate > s1.context_estimate + 2000);
    assert.deepEqual(s1.signals, { contradictions_detected: false, tool_heavy: false, full_sweep: false });
  });
});
