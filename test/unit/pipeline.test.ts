import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ShadowCheckpoints } from '../../src/core/agent/checkpoints.js';
import { diskPorts, shadowDir } from '../../src/core/agent/diskPorts.js';
import { Workspace } from '../../src/core/agent/workspace.js';
import { answerWithEyes, EYES_HINT } from '../../src/core/tutor/eyes.js';
import { runAgent, type AgentPorts } from '../../src/core/agent/loop.js';
import { checkPlan, runChecks } from '../../src/core/agent/checks.js';
import { TaskEvidence } from '../../src/core/evidence/taskEvidence.js';
import type { JudgeResult } from '../../src/core/judge/judge.js';
import { judgeTask, readGate, recordVerdict, taskBundle, DIFF_FILE } from '../../src/core/pipeline/gate.js';
import {
  cannotRun,
  overrideReview,
  runPlan,
  settleStep,
  stepState,
  stepTask,
} from '../../src/core/pipeline/planRun.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import type { PlanRecord } from '../../src/core/protocol/planRecord.js';
import { testCaller } from './helpers/caller.js';
import { runCli } from './helpers/cli.js';
import { openAiServer, type Behaviour, type ScriptedToolCall, type WireServer } from '../support/wireServers.js';

// The canonical pipeline (MODEL-POLICY.md §2): a three-step plan run by the agent in the demo Cargo workspace with
// the real cargo, the Judge gate on its high-risk step (citations verified), and the checks of other ecosystems run
// for real (pytest, go test, make). Model turns are scripted on test servers that speak the real wire formats.
const ROOT = process.cwd();
const LIB = 'crates/core/src/lib.rs';
const MAIN = 'crates/cli/src/main.rs';
const FILTER = '        .filter(|w| !w.is_empty())';
const GOOD_FILTER = '        .filter(|w| !w.is_empty() && w.len() <= 64)';
const UNSAFE = '    let _first = unsafe { text.as_bytes().get_unchecked(0) };\n';
const TARGET = mkdtempSync(join(tmpdir(), 'sy-pipe-target-'));

const call = (name: string, args: Record<string, unknown>): ScriptedToolCall => ({ name, arguments: args });
const turn = (...tools: ScriptedToolCall[]): Behaviour => ({ kind: 'ok', text: '', tools });
const finish = (summary: string) => turn(call('finish', { summary, confidence: 0.9 }));
const json = (v: unknown): Behaviour => ({ kind: 'ok', text: JSON.stringify(v) });

let local: WireServer, ds: WireServer, judge: WireServer;
before(async () => {
  [local, ds, judge] = await Promise.all([openAiServer(), openAiServer('deepseek'), openAiServer('openai')]);
});
after(async () => {
  await Promise.all([local.close(), ds.close(), judge.close()]);
  rmSync(TARGET, { recursive: true, force: true });
});
beforeEach(() => {
  for (const s of [local, ds, judge]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok', text: 'I am done.' };
  }
});

const policy = bundledPolicy();

function plan(): PlanRecord {
  const step = (id: string, title: string, lines: number, lane: 'local_reflex' | 'local' | 'cloud', flags = []) => ({
    id,
    title,
    description: '',
    files: [id === 's2' ? MAIN : LIB],
    estimated_lines: lines,
    risk_flags: flags,
    suggested_lane: lane,
    acceptance: ['cargo test passes'],
  });
  return {
    id: 'plan-pipe-1',
    created: '2026-12-02T00:00:00Z',
    plan: {
      goal: 'long words ignored, the top 20 printed, the first byte read',
      assumptions: [],
      steps: [
        step('s1', 'ignore words longer than 64 characters', 5, 'local_reflex'),
        step('s2', 'print the top 20 words', 5, 'local_reflex'),
        { ...step('s3', 'read the first byte without a bounds check', 5, 'cloud'), risk_flags: ['unsafe_ffi'] },
      ],
      acceptance_checks: [],
      confidence: 0.85,
    },
    author: {
      ...{ provider: 'anthropic', model: 'claude-sonnet-4-5', rule: 'architect.cloud_first', lane: 'cloud' },
      ...{ kind: 'cloud', why: 'x', call_ids: ['c1'], cost_usd: 0.01 },
    },
    self_critique: null,
    critic: { status: 'off', why: 'not requested' },
    review: {
      status: 'approved',
      steps: { s1: 'approved', s2: 'approved', s3: 'approved' },
      decided: 'x',
      evidence: null,
    },
  };
}

/**
 * A finished high-risk task made by hand through the executor's own APIs: the base checkpoint in the shadow
 * repository, `line` added at the top of `path`, a check log, the result and the seal (the folder and its record).
 */
async function handTask(root: string, state: string, taskId: string, path: string, line: string) {
  const ws = new Workspace(root);
  const base = await new ShadowCheckpoints(shadowDir(state, ws.root), ws.root).create('before turn 1');
  writeFileSync(join(ws.root, path), line + readFileSync(join(ws.root, path), 'utf8'));
  const ev = TaskEvidence.forTask(ws.root, taskId, { stateDir: state });
  ev.write('checks/turn-001.log', 'test result: ok. 2 passed\n');
  ev.write('result.json', {
    ...{ status: 'awaiting_judge', requires_judge: true, changed: [path] },
    checkpoints: [base],
  });
  ev.seal();
}

function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'sy-pipe-ws-'));
  cpSync(join(ROOT, 'demo'), root, { recursive: true });
  const state = mkdtempSync(join(tmpdir(), 'sy-pipe-state-'));
  const t = testCaller({
    policy,
    urls: { local: local.url, deepseek: ds.url, openai: judge.url },
    source: 'cli',
    stateDir: state,
  });
  const saved: PlanRecord[] = [];
  const notes: string[] = [];
  let n = 0;
  const ports = {
    save: (r: PlanRecord) => saved.push(structuredClone(r)),
    note: async (line: string) => {
      notes.push(line);
      await t.caller.note('override', line, { role: 'implementer' });
    },
    gate: (id: string) => readGate(state, root, id).status,
    runStep: async (r: PlanRecord, step: PlanRecord['plan']['steps'][number]) => {
      const taskId = `T-${step.id}-${++n}`;
      const disk = diskPorts({
        ...{ root, taskId, policy, caller: t.caller, stateDir: state },
        env: { ...process.env, CARGO_TARGET_DIR: TARGET },
      });
      const agentPorts: AgentPorts = {
        ...disk,
        approveEdits: async () => 'approve',
        approveCommand: async () => false,
        askUser: async () => null,
        emit: () => {},
      };
      const res = await runAgent(agentPorts, {
        task_id: taskId,
        policy,
        localOnly: false,
        ...stepTask(r, step, disk.ws),
      });
      return { status: res.status, task_id: taskId, evidence: res.evidence, message: res.message };
    },
  };
  return { root, state, t, ports, saved, notes, read: (p: string) => readFileSync(join(root, p), 'utf8') };
}

describe('a plan runs end to end: Stage 0 → Architect → Implementer → Judge', () => {
  it('three steps in order; a failing step stops the run, a retry goes on; the high-risk step waits for the Judge', async () => {
    const w = workspace();
    // s1: the local model edits and finishes. s2, first try: it finishes having changed nothing (the step fails).
    local.queue.push(
      turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })),
      finish('long words are ignored'),
      finish('nothing to do'),
    );
    let rep = await runPlan(w.ports, plan(), policy);
    assert.deepEqual(rep.ran, ['s1', 's2']);
    assert.equal(stepState(rep.record, 's1'), 'done');
    assert.equal(stepState(rep.record, 's2'), 'failed');
    assert.equal(stepState(rep.record, 's3'), 'approved', 'the run stopped before s3');
    assert.match(rep.stopped!, /step s2 failed: .*without changing anything/);
    // Every state change was saved as it happened: running, then its end.
    assert.deepEqual(
      w.saved.map((r) => `${stepState(r, 's1')}/${stepState(r, 's2')}`),
      ['running/approved', 'done/approved', 'done/running', 'done/failed'],
    );
    // Evidence per step: the task's folder, sealed, with the plan step it did.
    const s1 = rep.record.progress!.s1!;
    assert.ok(s1.task_id && existsSync(join(s1.evidence!, 'manifest.sha256')));
    assert.equal(JSON.parse(readFileSync(join(s1.evidence!, 'plan-step.json'), 'utf8')).plan_id, 'plan-pipe-1');
    assert.ok(w.read(LIB).includes('w.len() <= 64'));

    // Retry: s2 runs again (a new task), then s3 starts at the cloud (unsafe_ffi flag) and passes its checks, but
    // its change is high risk: it waits for the Judge, and the run stops there.
    local.queue.push(
      turn(call('edit_file', { path: MAIN, old_text: '.take(10)', new_text: '.take(20)' })),
      finish('top 20'),
    );
    ds.queue.push(
      turn(call('edit_file', { path: LIB, old_text: '    text.split(', new_text: `${UNSAFE}    text.split(` })),
      finish('the first byte is read unchecked'),
    );
    const before = local.requests.length;
    rep = await runPlan(w.ports, rep.record, policy);
    assert.deepEqual(rep.ran, ['s2', 's3']);
    assert.equal(rep.record.progress!.s2!.tries, 2);
    assert.equal(stepState(rep.record, 's2'), 'done');
    assert.equal(stepState(rep.record, 's3'), 'awaiting_judge', rep.stopped ?? '');
    assert.match(rep.stopped!, /step s3 is high risk and waits for the cloud Judge/);
    assert.equal(local.requests.length - before, 2, "s2's two turns; s3 never went to the local model");
    assert.equal(ds.requests.length, 2);
    const s3 = rep.record.progress!.s3!.task_id!;
    assert.equal(readGate(w.state, w.root, s3).status, 'awaiting_judge');

    // Running again does not pass the gate by itself.
    rep = await runPlan(w.ports, rep.record, policy);
    assert.deepEqual(rep.ran, []);
    assert.match(rep.stopped!, /waits for the cloud Judge/);

    // The Judge: an approve that cites nothing is not an approval; one whose citation is not in the evidence
    // neither; one that cites the diff's own lines closes the gate.
    const diff = taskBundle(w.state, w.root, s3, 100_000).files.find((f) => f.path === DIFF_FILE)!;
    const at = diff.text.split('\n').findIndex((l) => l.includes('get_unchecked')) + 1;
    const finding = (quote: string, line = at) => ({
      ...{ severity: 'info', file: DIFF_FILE, line_start: line, line_end: line, quote },
      rationale: 'the index is checked non-empty by the caller',
    });
    judge.queue.push(json({ verdict: 'approve', summary: 'fine', findings: [] }));
    const o = { stateDir: w.state };
    let j = await judgeTask(w.t.caller, w.root, s3, o);
    assert.equal(j.result.provider, 'openai');
    assert.equal(j.gate.status, 'awaiting_judge');
    assert.match(j.gate.why, /without citing any evidence/);
    judge.queue.push(json({ verdict: 'approve', summary: 'fine', findings: [finding('a line that is not there', 1)] }));
    judge.queue.push(json({ verdict: 'approve', summary: 'fine', findings: [finding('a line that is not there', 1)] }));
    j = await judgeTask(w.t.caller, w.root, s3, o);
    assert.equal(j.gate.status, 'awaiting_judge', j.gate.why);
    judge.queue.push(json({ verdict: 'approve', summary: 'sound', findings: [finding('get_unchecked(0)')] }));
    j = await judgeTask(w.t.caller, w.root, s3, o);
    assert.equal(j.gate.status, 'approved', j.gate.why);
    assert.ok(j.result.findings.every((f) => f.verified));
    // The Judge was shown the diff and the check log as citable files.
    assert.match(JSON.stringify(judge.requests.at(-1)!.body), /=== FILE task\.diff[\s\S]*=== FILE checks\.log/);

    rep = await runPlan(w.ports, rep.record, policy);
    assert.equal(rep.stopped, null);
    assert.equal(stepState(rep.record, 's3'), 'done');
    assert.match(rep.record.progress!.s3!.message, /approved by the cloud Judge/);
  });

  it('a local model never approves; the gate keeps each verdict as evidence (GR-003)', async () => {
    const w = workspace();
    await handTask(w.root, w.state, 'T-hr', LIB, '    let x = unsafe { f() };\n');
    const verdict = {
      ...{ verdict: 'approve', summary: 'ok', unreliable: false, provider: 'local', model: 'q', calls: 1, cost_usd: 0 },
      findings: [
        { severity: 'info', file: 'x', line_start: 1, line_end: 1, quote: 'x', rationale: 'x', verified: true },
      ],
      decision: { rule: 'judge.cloud_only', audit: 'x' },
    } as unknown as JudgeResult;
    const g = recordVerdict(w.state, w.root, 'T-hr', verdict, taskBundle(w.state, w.root, 'T-hr', 10_000));
    assert.equal(g.gate.status, 'awaiting_judge');
    assert.match(g.gate.why, /local model, which never approves/);
    assert.equal(readGate(w.state, w.root, 'T-hr').verdicts.length, 1);
  });

  it('a draft cannot run; a low-confidence plan needs a cloud review or an audited override; skip and accept', async () => {
    const w = workspace();
    const draft = { ...plan(), review: { ...plan().review, status: 'draft' as const } };
    assert.match((await runPlan(w.ports, draft, policy)).stopped!, /the plan is a draft/);
    const low = { ...plan(), plan: { ...plan().plan, confidence: 0.4 } };
    assert.match(cannotRun(low, policy)!, /confidence 0.4 is below the policy's threshold 0.7/);
    const over = await overrideReview(w.ports, low, policy);
    assert.equal(cannotRun(over, policy), null);
    assert.ok(w.t.auditLines().some((l) => /GR-005: plan plan-pipe-1 runs without the cloud review/.test(l)));
    const skipped = await settleStep(w.ports, over, 's1', 'skip');
    assert.ok(skipped.ok && stepState(skipped.record, 's1') === 'skipped');
    const bad = await settleStep(w.ports, over, 's2', 'accept_unverified');
    assert.ok(!bad.ok && /not unverified/.test(bad.error));
  });

  it('switchyard judge --task: exit 5 while the approve does not hold, 0 once it does; a bad id is exit 2', async () => {
    const w = workspace();
    await handTask(w.root, w.state, 'T-cli', LIB, '    let x = unsafe { f() };\n');
    const line = taskBundle(w.state, w.root, 'T-cli')
      .files.find((f) => f.path === DIFF_FILE)!
      .text.split('\n')
      .findIndex((l) => l.includes('unsafe { f() }'));
    const env = { OPENAI_API_KEY: 'sk-proj-TESTKEYopenai0123456789abcd', OPENAI_BASE_URL: judge.url };
    const args = ['judge', '--task', 'T-cli', '--repo', w.root, '--state', w.state];
    judge.queue.push(json({ verdict: 'approve', summary: 'ok', findings: [] }));
    let r = await runCli(args, { env });
    assert.equal(r.code, 5, r.err);
    assert.equal(JSON.parse(r.out).gate.status, 'awaiting_judge');
    const cite = {
      severity: 'info',
      file: DIFF_FILE,
      line_start: line + 1,
      line_end: line + 1,
      quote: 'unsafe { f() }',
      rationale: 'ok',
    };
    judge.queue.push(json({ verdict: 'approve', summary: 'ok', findings: [cite] }));
    r = await runCli(args, { env });
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).gate.status, 'approved');
    r = await runCli(['judge', '--task', '../x', '--repo', w.root, '--state', w.state], { env });
    assert.equal(r.code, 2);
    assert.match(r.err, /not a task id/);
  });
});

/** A program on PATH, or why not. */
function missing(bin: string, args: string[]): string | null {
  try {
    execFileSync(bin, args, { stdio: 'ignore' });
    return null;
  } catch {
    return `${bin} ${args.join(' ')} is not available here`;
  }
}

describe('checks for every workspace (GR-006)', () => {
  const ws = (files: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'sy-checks-'));
    for (const [p, body] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), body);
    }
    return root;
  };
  const names = (root: string) => checkPlan(root, []).map((s) => s.name);

  const noPytest = missing('python3', ['-m', 'pytest', '--version']);
  it(
    'pytest with the project own configuration: a failing test fails the check, a passing one passes',
    { skip: noPytest ?? false },
    async () => {
      const root = ws({
        'pyproject.toml':
          '[project]\nname = "tally"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
        'tally.py': 'def count(s):\n    return len(s.split())\n',
        'tests/test_tally.py':
          'import sys, os\nsys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))\nfrom tally import count\n\ndef test_count():\n    assert count("a b") == 3\n',
      });
      assert.deepEqual(names(root), ['pytest']);
      let r = await runChecks(root, checkPlan(root, []), { timeoutMs: 60_000 });
      assert.equal(r.ok, false);
      assert.match(r.log, /assert 2 == 3/);
      writeFileSync(
        join(root, 'tests/test_tally.py'),
        readFileSync(join(root, 'tests/test_tally.py'), 'utf8').replace('== 3', '== 2'),
      );
      r = await runChecks(root, checkPlan(root, []), { timeoutMs: 60_000 });
      assert.equal(r.ok, true, r.log);
    },
  );

  const noGo = missing('go', ['version']);
  it('go build and go test', { skip: noGo ?? false }, async () => {
    const root = ws({
      'go.mod': 'module example.com/tally\n\ngo 1.19\n',
      'tally.go': 'package tally\n\nimport "strings"\n\nfunc Count(s string) int { return len(strings.Fields(s)) }\n',
      'tally_test.go':
        'package tally\n\nimport "testing"\n\nfunc TestCount(t *testing.T) {\n\tif Count("a b") != 2 {\n\t\tt.Fatal("want 2")\n\t}\n}\n',
    });
    assert.deepEqual(names(root), ['go build ./...', 'go test ./...']);
    const env = { ...process.env, GOCACHE: join(root, '.gocache'), GOFLAGS: '-mod=mod' };
    let r = await runChecks(root, checkPlan(root, []), { timeoutMs: 120_000, env });
    assert.equal(r.ok, true, r.log);
    writeFileSync(
      join(root, 'tally_test.go'),
      readFileSync(join(root, 'tally_test.go'), 'utf8').replace('!= 2', '!= 3'),
    );
    r = await runChecks(root, checkPlan(root, []), { timeoutMs: 120_000, env });
    assert.equal(r.ok, false);
    assert.match(r.log, /want 2/);
  });

  it('a Makefile test target, the lockfile package manager, no placeholder test script, nothing: an empty plan', async () => {
    const noMake = missing('make', ['--version']);
    const make = ws({ Makefile: 'test:\n\t@test "$$(echo ok)" = ok\n' });
    assert.deepEqual(names(make), ['make test']);
    if (!noMake) assert.equal((await runChecks(make, checkPlan(make, []), { timeoutMs: 30_000 })).ok, true);
    else console.log(`# make test not run: ${noMake}`);
    assert.deepEqual(
      names(ws({ 'package.json': '{"scripts":{"typecheck":"tsc","test":"vitest"}}', 'pnpm-lock.yaml': '' })),
      ['pnpm run typecheck', 'pnpm test'],
    );
    assert.deepEqual(
      names(ws({ 'package.json': '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1"}}' })),
      [],
    );
    assert.deepEqual(names(ws({ 'notes.txt': 'hello\n' })), []);
  });

  it('a workspace with no check: the task ends "unverified", not passed', async () => {
    const root = ws({ 'notes.txt': 'hello\n' });
    const state = mkdtempSync(join(tmpdir(), 'sy-checks-state-'));
    const t = testCaller({ policy, urls: { local: local.url }, source: 'cli', stateDir: state });
    local.queue.push(
      turn(call('edit_file', { path: 'notes.txt', old_text: 'hello', new_text: 'hello world' })),
      finish('done'),
    );
    const disk = diskPorts({ root, taskId: 'T-none', policy, caller: t.caller, stateDir: state });
    const events: string[] = [];
    const r = await runAgent(
      {
        ...disk,
        approveEdits: async () => 'approve',
        approveCommand: async () => false,
        askUser: async () => null,
        emit: (e) => e.type === 'check' && events.push(e.unverified ? 'unverified' : e.ok ? 'passed' : 'failed'),
      },
      { task_id: 'T-none', instruction: 'say hello world', policy, localOnly: false },
    );
    assert.equal(r.status, 'unverified', r.message);
    assert.match(r.message, /unverified \(GR-006\)/);
    assert.deepEqual(events, ['unverified']);
    assert.equal(readFileSync(join(root, 'notes.txt'), 'utf8'), 'hello world\n');
  });
});

describe('the Tutor gets eyes: the read-only tools of the agent', () => {
  it('reads the learner code before it asks; a write tool is refused; the answer is the local model', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-tutor-eyes-'));
    cpSync(join(ROOT, 'demo'), root, { recursive: true });
    const t = testCaller({ policy, urls: { local: local.url }, source: 'cli' });
    local.queue.push(
      turn(
        call('read_file', { path: LIB, start_line: 4, end_line: 8 }),
        call('write_file', { path: LIB, content: 'x' }),
      ),
      { kind: 'ok', text: 'What does line 6 do with an empty word?' },
    );
    const looks: string[] = [];
    const r = await answerWithEyes(
      (messages, tools) => t.caller.call({ role: 'tutor', messages, max_tokens: 500, ...(tools ? { tools } : {}) }),
      [
        { role: 'system', content: `coach\n${EYES_HINT}` },
        { role: 'user', content: 'why does tokenize skip some words?' },
      ],
      { ws: new Workspace(root) },
      (w) => looks.push(w),
    );
    assert.equal(r.text, 'What does line 6 do with an empty word?');
    assert.equal(r.provider, 'local');
    assert.deepEqual(
      (local.requests[0]!.body.tools as { function: { name: string } }[]).map((x) => x.function.name),
      ['read_file', 'list_files', 'search'],
    );
    const results = (local.requests[1]!.body.messages as { role: string; content: string }[]).filter(
      (m) => m.role === 'tool',
    );
    assert.match(results[0]!.content, /6\s*\|?\s*\.filter\(\|w\| !w\.is_empty\(\)\)/);
    assert.match(results[1]!.content, /the Tutor may only read/);
    assert.equal(readFileSync(join(root, LIB), 'utf8').includes('pub fn tokenize'), true, 'nothing was written');
    assert.equal(looks.length, 2);
  });
});
