import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { createPlan } from '../../src/core/plan/architect.js';
import { PlanController } from '../../src/core/plan/controller.js';
import { applyReview, loadPlan, saveEvidence, stepLanes, storePlan } from '../../src/core/plan/review.js';
import type { Plan, PlanRecord } from '../../src/core/protocol/planRecord.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import type { ToPlanView } from '../../src/core/protocol/plan.js';
import { CallFailed } from '../../src/core/providers/call.js';
import { anthropicServer, openAiServer, type WireServer } from '../support/wireServers.js';
import { FromPlanView } from '../../src/core/protocol/plan.js';
import { viaGate } from './helpers/gate.js';

// The Architect against servers that speak the real wire formats; the review and its evidence on disk.
const KEYS: Record<string, string> = {
  anthropic: 'sk-ant-api03-TESTKEYanthropic0123456789',
  openai: 'sk-proj-TESTKEYopenai0123456789abcd',
  deepseek: 'sk-TESTKEYdeepseek0123456789abcd',
};

const PLAN: Plan = {
  goal: 'Add a --json flag to the word-count CLI',
  assumptions: ['the CLI uses clap'],
  steps: [
    {
      id: 's1',
      title: 'Add the flag',
      description: 'A --json arg on the Cli struct',
      files: ['crates/cli/src/main.rs'],
      estimated_lines: 20,
      risk_flags: ['public_api'],
      suggested_lane: 'cloud',
      acceptance: ['cargo test -p cli'],
    },
    {
      id: 's2',
      title: 'Print JSON',
      description: 'serde_json output',
      files: ['crates/cli/src/main.rs'],
      estimated_lines: 40,
      risk_flags: [],
      suggested_lane: 'local_reflex',
      acceptance: ['--json prints an object'],
    },
    {
      id: 's3',
      title: 'Document it',
      description: '',
      files: ['README.md'],
      estimated_lines: 150,
      risk_flags: [],
      suggested_lane: 'local',
      acceptance: [],
    },
  ],
  acceptance_checks: ['cargo test'],
  confidence: 0.7,
};
const CRITIQUE = {
  questions: [{ question: 'Is clap really used?', answer: 'Yes, main.rs derives Parser.' }],
  changes: 'raised the confidence',
  plan: { ...PLAN, confidence: 0.8 },
};

let local: WireServer, anth: WireServer, oai: WireServer, ds: WireServer;
before(async () => {
  [local, anth, oai, ds] = await Promise.all([
    openAiServer(),
    anthropicServer(),
    openAiServer('openai'),
    openAiServer('deepseek'),
  ]);
});
after(async () => {
  await Promise.all([local, anth, oai, ds].map((s) => s.close()));
});
beforeEach(() => {
  for (const s of [local, anth, oai, ds]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok' };
  }
});

function setup(o: { policy?: Policy; localOnly?: boolean; cloudUrl?: string; noKeys?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-plan-'));
  const policy = o.policy ?? bundledPolicy();
  const urls: Record<string, string | undefined> = {
    local: local.url,
    anthropic: o.cloudUrl ?? anth.url,
    openai: o.cloudUrl ?? oai.url,
    deepseek: o.cloudUrl ?? ds.url,
  };
  const keys = (p: string) => (o.noKeys ? undefined : KEYS[p]);
  const caller = testCaller({ policy, urls, keys, localOnly: o.localOnly, stateDir: dir }).caller;
  return { caller, dir, policy, audit: () => new AuditLog(join(dir, 'audit.jsonl')).read() };
}
const json = (v: unknown) => ({ kind: 'ok' as const, text: JSON.stringify(v) });

describe('the Architect writes plan.json', () => {
  it('cloud-first: a draft, then one maieutic self-critique by the same model; the final plan carries its confidence', async () => {
    const s = setup();
    anth.queue.push(json(PLAN), json(CRITIQUE));
    const { record, critic } = await createPlan(s.caller, {
      goal: PLAN.goal,
      context: 'Files: crates/cli/src/main.rs',
      policy: s.policy,
    });
    assert.equal(record.author.kind, 'cloud');
    assert.equal(record.author.provider, 'anthropic');
    assert.equal(record.author.rule, 'architect.cloud_first');
    assert.equal(record.plan.confidence, 0.8, 'the final plan is the self-critiqued one');
    assert.equal(record.self_critique?.same_model, true);
    assert.equal(record.self_critique?.questions[0]?.question, 'Is clap really used?');
    assert.equal(anth.requests.length, 2);
    // The second request is the self-critique: it carries the draft and the maieutic questions.
    const second = JSON.stringify(anth.requests[1]!.body.messages);
    assert.match(second, /maieutic self-critique/);
    assert.match(second, /Add the flag/);
    assert.deepEqual(Object.values(record.review.steps), ['pending', 'pending', 'pending']);
    assert.equal((await critic).status, 'off', 'no critic unless asked for');
  });

  it('when the draft model fails over to GPT-5.1, the self-critique goes to the same model (GPT-5.1), not back to Sonnet', async () => {
    const s = setup();
    anth.queue.push({
      kind: 'status',
      status: 400,
      body: { type: 'error', error: { type: 'invalid_request_error', message: 'bad' } },
    });
    oai.queue.push(json(PLAN), json(CRITIQUE));
    const { record } = await createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy });
    assert.equal(record.author.provider, 'openai');
    assert.equal(record.self_critique?.provider, 'openai');
    assert.equal(record.self_critique?.same_model, true);
    assert.equal(anth.requests.length, 1, 'Sonnet was not asked again for the critique');
  });

  it('offline (the cloud cannot be reached): a local fast draft, marked as such, with an audit line (GR-005)', async () => {
    const s = setup({ cloudUrl: 'http://127.0.0.1:9/' });
    local.queue.push(json(PLAN), json(CRITIQUE));
    const { record } = await createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy });
    assert.equal(record.author.kind, 'local_fast_draft');
    assert.equal(record.author.rule, 'architect.offline');
    assert.match(record.author.why, /needs a cloud review/);
    const lines = s.audit().map((e) => e.audit);
    assert.ok(
      lines.some((l) =>
        /GR-005: architect: the cloud could not be reached .*local planner writes a fast draft/.test(l),
      ),
      lines.join('\n'),
    );
  });

  it('no API key for any cloud model: that is "the cloud cannot be reached"; a local fast draft, said why', async () => {
    const s = setup({ noKeys: true });
    local.queue.push(json(PLAN), json(CRITIQUE));
    const { record } = await createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy });
    assert.equal(record.author.kind, 'local_fast_draft');
    assert.equal(record.author.rule, 'architect.offline');
    assert.equal(anth.requests.length + oai.requests.length + ds.requests.length, 0);
    const lines = s.audit().map((e) => e.audit);
    assert.ok(
      lines.some((l) =>
        /GR-005: architect: the cloud could not be reached \(no API key for any of its cloud models: anthropic\/.*openai\/.*deepseek\/.*\); the local planner writes a fast draft/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
  });

  it('under local_only: the local planner, never a cloud request (GR-009)', async () => {
    const s = setup({ localOnly: true });
    local.queue.push(json(PLAN), json(CRITIQUE));
    const { record } = await createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy });
    assert.equal(record.author.kind, 'local_fast_draft');
    assert.equal(record.author.rule, 'architect.local_only');
    assert.equal(anth.requests.length + oai.requests.length + ds.requests.length, 0);
  });

  it('an answer that is not a plan is repaired once, then fails clearly (GR-012)', async () => {
    const s = setup();
    anth.fallback = { kind: 'ok', text: '{"goal": "x", "steps": []}' };
    oai.fallback = { kind: 'ok', text: 'no json here' };
    await assert.rejects(
      createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy }),
      (e: unknown) => e instanceof CallFailed && e.kind === 'invalid_output' && /GR-012/.test(e.message),
    );
  });

  it('the critic sidecar runs only where the policy enables it, critiques without rewriting, and its failure never blocks the plan', async () => {
    const off = setup();
    anth.queue.push(json(PLAN), json(CRITIQUE));
    const a = await createPlan(off.caller, { goal: PLAN.goal, context: '', policy: off.policy, critic: true });
    const c1 = await a.critic;
    assert.equal(c1.status, 'off');
    assert.match((c1 as { why: string }).why, /disabled by policy/);
    assert.equal(oai.requests.length, 0);

    const enabled = bundledPolicy();
    enabled.consensus.critic_sidecar.enabled = true;
    const on = setup({ policy: enabled });
    anth.queue.push(json(PLAN), json(CRITIQUE));
    oai.queue.push(
      json({
        risks: ['the JSON shape is a public API'],
        contradictions: [],
        missing_requirements: ['exit code on error'],
        guardrail_conflicts: [],
      }),
    );
    const b = await createPlan(on.caller, { goal: PLAN.goal, context: '', policy: enabled, critic: true });
    assert.equal(b.record.critic.status, 'running', 'the plan is ready before the critic is');
    const c2 = await b.critic;
    assert.equal(c2.status, 'done');
    assert.deepEqual((c2 as { notes: { risks: string[] } }).notes.risks, ['the JSON shape is a public API']);
    assert.equal(b.record.plan.confidence, 0.8, 'the critic does not rewrite the plan');
    assert.match(JSON.stringify(oai.requests[0]!.body), /critic-only reviewer/);

    anth.queue.push(json(PLAN), json(CRITIQUE));
    oai.fallback = { kind: 'status', status: 500 };
    const c = await createPlan(on.caller, { goal: PLAN.goal, context: '', policy: enabled, critic: true });
    const c3 = await c.critic;
    assert.equal(c3.status, 'failed');
    assert.equal(c.record.plan.steps.length, 3);
  });

  it('a cancelled plan stops and keeps nothing', async () => {
    const s = setup();
    const ac = new AbortController();
    anth.fallback = { kind: 'hang' };
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(
      createPlan(s.caller, { goal: PLAN.goal, context: '', policy: s.policy, signal: ac.signal }),
      (e: unknown) => e instanceof CallFailed && e.kind === 'cancelled',
    );
  });
});

function record(over: Partial<PlanRecord['author']> = {}): PlanRecord {
  return {
    id: 'plan-test-1',
    created: '2026-11-26T00:00:00Z',
    plan: structuredClone(PLAN),
    author: {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      rule: 'architect.cloud_first',
      lane: 'cloud',
      kind: 'cloud',
      why: 'x',
      call_ids: ['c1'],
      cost_usd: 0.01,
      ...over,
    },
    self_critique: null,
    critic: { status: 'off', why: 'not requested' },
    review: { status: 'draft', steps: { s1: 'pending', s2: 'pending', s3: 'pending' }, decided: null, evidence: null },
  };
}

describe('plan review', () => {
  const policy = bundledPolicy();
  it('lane badges come from the router and the size thresholds of the policy', () => {
    const lanes = stepLanes(record(), policy, false);
    assert.equal(lanes.s1!.lane, 'cloud', 'public_api is high risk');
    assert.equal(lanes.s1!.high_risk, true);
    assert.equal(lanes.s1!.rule, 'implementer.high_risk');
    assert.equal(lanes.s2!.lane, 'local_reflex');
    assert.equal(lanes.s3!.lane, 'local');
    const lo = stepLanes(record(), policy, true);
    assert.equal(
      lo.s1!.rule,
      'implementer.high_risk.local_only',
      'under local_only a high-risk step stays local, degraded',
    );
    assert.match(lo.s1!.why, /cloud escalation suppressed \(GR-009\)/);
  });

  it('edit, reorder, approve and reject; bad edits are refused with the reason', () => {
    let r = record();
    const ok = (x: ReturnType<typeof applyReview>) => {
      assert.ok(x.ok, x.ok ? '' : x.error);
      return (x as { record: PlanRecord }).record;
    };
    r = ok(applyReview(r, { type: 'editStep', id: 's2', field: 'files', value: 'a.rs, b.rs\nc.rs' }, policy));
    assert.deepEqual(r.plan.steps[1]!.files, ['a.rs', 'b.rs', 'c.rs']);
    r = ok(applyReview(r, { type: 'moveStep', id: 's3', direction: 'up' }, policy));
    assert.deepEqual(
      r.plan.steps.map((s) => s.id),
      ['s1', 's3', 's2'],
    );
    const first = applyReview(r, { type: 'moveStep', id: 's1', direction: 'up' }, policy);
    assert.equal(first.ok, false);
    assert.match((first as { error: string }).error, /already first/);
    const bad = applyReview(r, { type: 'editStep', id: 's1', field: 'estimated_lines', value: '-3' }, policy);
    assert.match((bad as { error: string }).error, /whole number/);
    const empty = applyReview(r, { type: 'editStep', id: 's1', field: 'title', value: '   ' }, policy);
    assert.equal(empty.ok, false);
    assert.match(
      (applyReview(r, { type: 'setStep', id: 'nope', status: 'approved' }, policy) as { error: string }).error,
      /no step "nope"/,
    );
    r = ok(applyReview(r, { type: 'setStep', id: 's2', status: 'approved' }, policy));
    r = ok(applyReview(r, { type: 'editStep', id: 's2', field: 'title', value: 'Print JSON (pretty)' }, policy));
    assert.equal(r.review.steps.s2, 'pending', 'an edited step is reviewed again');
    r = ok(applyReview(r, { type: 'setStep', id: 's3', status: 'rejected' }, policy));
    r = ok(applyReview(r, { type: 'setPlan', status: 'approved' }, policy));
    assert.deepEqual(r.review.steps, { s1: 'approved', s2: 'approved', s3: 'rejected' });
    assert.match(
      (applyReview(r, { type: 'moveStep', id: 's1', direction: 'down' }, policy) as { error: string }).error,
      /approved; set it back to draft/,
    );
  });

  it('a local fast draft cannot get its high-risk steps approved before a cloud review (GR-003, GR-005)', () => {
    const r = record({ kind: 'local_fast_draft', provider: 'local', lane: 'local' });
    const x = applyReview(r, { type: 'setStep', id: 's1', status: 'approved' }, policy);
    assert.equal(x.ok, false);
    assert.match((x as { error: string }).error, /high risk \(public_api\).*local fast draft.*GR-003/);
    assert.equal(
      applyReview(r, { type: 'setStep', id: 's2', status: 'approved' }, policy).ok,
      true,
      'a low-risk step is fine',
    );
    assert.equal(applyReview(r, { type: 'setPlan', status: 'approved' }, policy).ok, false);
  });

  it('the approved plan is saved as evidence: plan.json and its sha256, which verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ev-'));
    const ev = saveEvidence(record(), dir);
    const body = readFileSync(ev.path);
    assert.equal(createHash('sha256').update(body).digest('hex'), ev.sha256);
    assert.equal(readFileSync(`${ev.path}.sha256`, 'utf8'), `${ev.sha256}  plan.json\n`);
    assert.deepEqual(JSON.parse(body.toString()), PLAN);
    const stored = storePlan(record(), join(dir, 'plans'));
    assert.deepEqual(loadPlan(stored), record());
    assert.throws(() => loadPlan(join(dir, 'plan-test-1', 'plan.json.sha256')), /not a readable plan/);
  });
});

describe('plan review controller', () => {
  function controller(r = record()) {
    const dir = mkdtempSync(join(tmpdir(), 'sy-pc-'));
    const posts: ToPlanView[] = [];
    const saved: PlanRecord[] = [];
    const handoffs: string[] = [];
    const opened: string[] = [];
    const warns: string[] = [];
    const c = new PlanController({
      post: (m) => posts.push(m),
      policy: () => bundledPolicy(),
      localOnly: () => false,
      save: (x) => saved.push(x),
      evidenceRoot: () => join(dir, 'evidence'),
      runStep: async (rec, step) => {
        handoffs.push(`${step.id}:${rec.review.evidence?.sha256}`);
        return {
          status: 'passed',
          task_id: `T-${step.id}`,
          evidence: join(dir, 'evidence', `T-${step.id}`),
          message: 'ok',
        };
      },
      gate: () => 'not_required',
      note: async () => {},
      judgeTask: async () => undefined,
      reviewPlan: async () => undefined,
      openFile: async (p) => {
        opened.push(p);
      },
      log: { warn: (s) => warns.push(s), info: () => {} },
    });
    c.load(r, join(dir, 'plans', `${r.id}.json`));
    const receive = viaGate(
      FromPlanView,
      'plan',
      (m) => c.handle(m),
      (w) => warns.push(w),
    );
    return { c, receive, dir, posts, saved, handoffs, opened, warns };
  }

  it('approving the plan writes the evidence and shows where; a step runs only once it and its plan are approved', async () => {
    const t = controller();
    await t.receive({ type: 'implementStep', id: 's2' });
    assert.equal(t.handoffs.length, 0);
    assert.match(JSON.stringify(t.posts.at(-1)), /not approved/);
    await t.receive({ type: 'setStep', id: 's2', status: 'approved' });
    await t.receive({ type: 'implementStep', id: 's2' });
    assert.equal(t.handoffs.length, 0, 'a step of a draft plan does not run');
    assert.match(JSON.stringify(t.posts.at(-1)), /The plan is a draft/);
    await t.receive({ type: 'setPlan', status: 'approved' });
    const last = t.posts.at(-1) as Extract<ToPlanView, { type: 'state' }>;
    assert.equal(last.record.review.status, 'approved');
    assert.equal(last.record.review.evidence?.path, join(t.dir, 'evidence', 'plan-test-1', 'plan.json'));
    assert.equal(t.saved.at(-1)?.review.status, 'approved', 'the review is saved');
    await t.receive({ type: 'implementStep', id: 's2' });
    assert.deepEqual(t.handoffs, [`s2:${last.record.review.evidence!.sha256}`], 'run under the approved evidence');
    const done = t.posts.at(-1) as Extract<ToPlanView, { type: 'state' }>;
    assert.equal(done.record.progress?.s2?.state, 'done');
    assert.equal(done.record.progress?.s2?.task_id, 'T-s2');
    assert.equal(t.saved.at(-1)?.progress?.s2?.state, 'done', 'the step state is kept in the plan file');
  });

  it('opens only files inside the workspace', async () => {
    const t = controller();
    await t.receive({ type: 'openFile', path: 'crates/cli/src/main.rs' });
    await t.receive({ type: 'openFile', path: '../../etc/passwd' });
    await t.receive({ type: 'openFile', path: '/etc/passwd' });
    await t.receive({ type: 'openFile', path: 'a/../../b' });
    assert.deepEqual(t.opened, ['crates/cli/src/main.rs']);
    assert.equal(t.warns.filter((w) => /outside the workspace/.test(w)).length, 3);
  });
});
