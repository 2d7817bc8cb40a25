import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { approval, buildBundle, checkCitations, runJudge, type Verdict } from '../../src/core/judge/judge.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { CallFailed, CallRefused } from '../../src/core/providers/call.js';
import { anthropicServer, openAiServer, type WireServer } from '../support/wireServers.js';

// The Judge against the cloud test servers: citations checked against the evidence (GR-008), the retry
// on invented citations, the budget refusal (GR-011) and the local_only refusal (GR-009, GR-003).
const LIB =
  'pub fn parse(input: &str) -> Result<u32, String> {\n    let n = input.trim().parse::<u32>().unwrap();\n    Ok(n)\n}\n';
const bundle = () =>
  buildBundle(
    'working tree against HEAD',
    [{ path: 'crates/core/src/lib.rs', text: LIB }],
    [{ title: 'DIFF', body: '+    let n = input.trim().parse::<u32>().unwrap();' }],
    100_000,
  );
const good: Verdict = {
  verdict: 'request_changes',
  summary: 'parse panics on bad input',
  findings: [
    {
      severity: 'high',
      file: 'crates/core/src/lib.rs',
      line_start: 2,
      line_end: 2,
      quote: 'let n = input.trim().parse::<u32>().unwrap();',
      rationale: 'unwrap panics; return the error instead',
    },
  ],
};
const invented: Verdict = {
  verdict: 'approve',
  summary: 'fine',
  findings: [
    {
      severity: 'low',
      file: 'crates/core/src/other.rs',
      line_start: 1,
      line_end: 1,
      quote: 'fn other()',
      rationale: 'x',
    },
    { severity: 'low', file: 'crates/core/src/lib.rs', line_start: 40, line_end: 41, quote: 'Ok(n)', rationale: 'y' },
    {
      severity: 'low',
      file: 'crates/core/src/lib.rs',
      line_start: 1,
      line_end: 1,
      quote: 'fn parse(input: String)',
      rationale: 'z',
    },
  ],
};

let oai: WireServer, anth: WireServer;
before(async () => {
  [oai, anth] = await Promise.all([openAiServer('openai'), anthropicServer()]);
});
after(async () => {
  await Promise.all([oai.close(), anth.close()]);
});
beforeEach(() => {
  for (const s of [oai, anth]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok' };
  }
});

function setup(o: { policy?: Policy; localOnly?: boolean; noKeys?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-judge-'));
  const policy = o.policy ?? bundledPolicy();
  const caller = testCaller({
    policy,
    urls: { openai: oai.url, anthropic: anth.url },
    localOnly: o.localOnly,
    stateDir: dir,
    ...(o.noKeys ? { keys: () => undefined } : {}),
  }).caller;
  return { caller, audit: () => new AuditLog(join(dir, 'audit.jsonl')).read() };
}
const json = (v: unknown) => ({ kind: 'ok' as const, text: JSON.stringify(v) });

describe('the Judge', () => {
  it('a verdict with good citations: every finding verified; served by the cloud Judge (GPT-5.1 High)', async () => {
    const s = setup();
    oai.queue.push(json(good));
    const r = await runJudge(s.caller, bundle(), {});
    assert.equal(r.verdict, 'request_changes');
    assert.equal(r.provider, 'openai');
    assert.equal(r.decision.rule, 'judge.cloud_only');
    assert.equal(r.unreliable, false);
    assert.deepEqual(
      r.findings.map((f) => f.verified),
      [true],
    );
    assert.equal((oai.requests[0]!.body as { reasoning_effort?: string }).reasoning_effort, 'high');
    assert.match(JSON.stringify(oai.requests[0]!.body), /    2\| {5}let n = input/, 'the evidence is numbered by line');
  });

  it('invented citations are shown as unverified, asked again once, then reported unreliable (GR-008)', async () => {
    const s = setup();
    oai.queue.push(json(invented), json(invented));
    const r = await runJudge(s.caller, bundle(), {});
    assert.equal(r.unreliable, true);
    assert.equal(r.calls, 2);
    assert.deepEqual(
      r.findings.map((f) => f.problem),
      [
        'crates/core/src/other.rs is not in the evidence',
        'lines 40-41 do not exist in crates/core/src/lib.rs (5 lines)',
        'the quote is not in crates/core/src/lib.rs:1-1',
      ],
    );
    const lines = s.audit().map((e) => e.audit);
    assert.ok(lines.some((l) => /GR-008: judge: 3 of 3 citations .* asked once more/.test(l)));
    assert.ok(lines.some((l) => /GR-008: judge: the verdict .* is unreliable/.test(l)));
    assert.match(JSON.stringify(oai.requests[1]!.body), /These citations do not match the evidence/);
    assert.equal(approval({ requires_judge: true }, [r]).approved, false, 'an unreliable approve approves nothing');
  });

  it('a corrected retry is accepted', async () => {
    const s = setup();
    oai.queue.push(json(invented), json(good));
    const r = await runJudge(s.caller, bundle(), {});
    assert.equal(r.unreliable, false);
    assert.ok(r.findings.every((f) => f.verified));
  });

  it("over the Judge's own cap: refused, naming the cap; never moved to a cheaper model (GR-011)", async () => {
    const policy = bundledPolicy();
    const cap = policy.budget.caps.find((c) => c.id === 'judge.daily')!;
    cap.usd = 0.01;
    const s = setup({ policy });
    await assert.rejects(
      runJudge(s.caller, bundle(), {}),
      (e: unknown) => e instanceof CallRefused && e.guardrail === 'GR-011' && /judge\.daily/.test(e.message),
    );
    assert.equal(oai.requests.length + anth.requests.length, 0);
  });

  it('with no API key for any of its cloud models: a failure that names the keys and the command that sets one', async () => {
    const s = setup({ noKeys: true });
    await assert.rejects(
      runJudge(s.caller, bundle(), {}),
      (e: unknown) =>
        e instanceof CallFailed &&
        e.kind === 'no_key' &&
        /^no API key for any cloud model the policy allows for judge \(openai\/.*anthropic\/.*\): run "Switchyard: Set API Key" for one of them \(or set OPENAI_API_KEY or ANTHROPIC_API_KEY/.test(
          e.message,
        ),
    );
    assert.equal(oai.requests.length + anth.requests.length, 0);
  });

  it('under local_only: refused (GR-009), saying high-risk work cannot be approved locally (GR-003)', async () => {
    const s = setup({ localOnly: true });
    await assert.rejects(
      runJudge(s.caller, bundle(), {}),
      (e: unknown) =>
        e instanceof CallRefused &&
        e.guardrail === 'GR-009' &&
        /GR-003/.test(e.message) &&
        /High-risk work cannot be approved/.test(e.message),
    );
    assert.equal(oai.requests.length + anth.requests.length, 0);
  });

  it('citations match up to whitespace; the bundle says what it cut', () => {
    const b = bundle();
    const v: Verdict = { ...good, findings: [{ ...good.findings[0]!, quote: 'let   n =\ninput.trim()' }] };
    assert.equal(checkCitations(v, b)[0]!.verified, true);
    const big = buildBundle(
      'x',
      [
        { path: 'a.rs', text: 'line\n'.repeat(10_000) },
        { path: 'b.rs', text: 'x'.repeat(50_000) },
      ],
      [{ title: 'DIFF', body: 'd'.repeat(100) }],
      30_000,
    );
    assert.match(big.cut.join(' | '), /a\.rs: lines after \d+ \(of 10001\)/);
    assert.match(big.cut.join(' | '), /b\.rs: left out/);
    assert.ok(big.chars <= 30_000);
  });

  it('a high-risk task is approved only by a cloud approve verdict with citations that hold (GR-002, GR-003)', () => {
    const cited = [{ verified: true }];
    const v = (verdict: Verdict['verdict'], provider: string, findings: { verified: boolean }[] = cited) => ({
      verdict,
      unreliable: false,
      provider,
      model: 'm',
      findings,
    });
    assert.equal(approval({ requires_judge: true }, []).approved, false);
    assert.match(approval({ requires_judge: true }, [v('approve', 'local')]).why, /local model, which never approves/);
    assert.equal(approval({ requires_judge: true }, [v('request_changes', 'openai')]).approved, false);
    const bare = approval({ requires_judge: true }, [v('approve', 'openai', [])]);
    assert.ok(!bare.approved && /without citing any evidence/.test(bare.why), bare.why);
    const half = approval({ requires_judge: true }, [
      v('approve', 'openai', [{ verified: true }, { verified: false }]),
    ]);
    assert.ok(!half.approved && /1 of 2 citations not found/.test(half.why), half.why);
    assert.equal(approval({ requires_judge: true }, [v('approve', 'openai')]).approved, true);
    assert.equal(approval({ requires_judge: false }, []).approved, true);
  });
});
