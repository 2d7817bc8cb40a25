import assert from 'node:assert/strict';
import { RUN_STATE } from '../../src/core/agent/taskLog.js';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { diskPorts } from '../../src/core/agent/diskPorts.js';
import { runAgent, type AgentEvent, type AgentInput, type AgentPorts } from '../../src/core/agent/loop.js';
import {
  abandonTask,
  INTERRUPTED,
  listTasks,
  loadTask,
  resumeAgent,
  ResumeError,
} from '../../src/core/agent/resume.js';
import { TaskEvidence } from '../../src/core/evidence/taskEvidence.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { testCaller } from './helpers/caller.js';
import { runCli } from './helpers/cli.js';
import { openAiServer, type Behaviour, type ScriptedToolCall, type WireServer } from '../support/wireServers.js';

// Tasks survive their process: a task cut off mid-run (a real crash: the CLI killed while its model answers, or the
// editor going away) is listed as interrupted, resumes from its transcript and routing state, or is abandoned back
// to its first checkpoint keeping what the user changed since. Scripted models over the real wire; real cargo.
const ROOT = process.cwd();
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const LIB = 'crates/core/src/lib.rs';
const TARGET = mkdtempSync(join(tmpdir(), 'sy-resume-target-'));
const UNSAFE = '    let _first = unsafe { text.as_bytes().get_unchecked(0) };\n';
const SAFE = '    let _first = text.as_bytes().first();\n';
const DS_KEY = 'sk-TESTKEYdeepseek0123456789abcd';

const call = (name: string, args: Record<string, unknown>, id?: string): ScriptedToolCall => ({
  name,
  arguments: args,
  ...(id ? { id } : {}),
});
const turn = (...tools: ScriptedToolCall[]): Behaviour => ({ kind: 'ok', text: '', tools });
const finish = () => turn(call('finish', { summary: 'the first byte, read safely', confidence: 0.95 }));

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
    s.fallback = { kind: 'ok', text: 'I am done.' };
  }
});

/** The model calls a server got (the CLI also asks the local server's /models before a local turn). */
const chats = (s: WireServer) => s.requests.filter((r) => r.path.endsWith('/chat/completions'));

const demo = () => {
  const root = mkdtempSync(join(tmpdir(), 'sy-resume-ws-'));
  cpSync(join(ROOT, 'demo'), root, { recursive: true });
  return { root, state: mkdtempSync(join(tmpdir(), 'sy-resume-state-')) };
};
const cliEnv = (state: string): NodeJS.ProcessEnv => ({
  ...process.env,
  CARGO_TARGET_DIR: TARGET,
  SWITCHYARD_LOCAL_BASE_URL: local.url,
  DEEPSEEK_BASE_URL: ds.url,
  DEEPSEEK_API_KEY: DS_KEY,
  SWITCHYARD_STATE_DIR: state,
});
const jsonLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AgentEvent);

/** The first two turns: local adds unsafe code (high risk from here on), the cloud makes it safe again. */
function scriptFirstTurns(): void {
  local.queue.push(
    turn(call('edit_file', { path: LIB, old_text: '    text.split(', new_text: `${UNSAFE}    text.split(` })),
  );
  ds.queue.push(turn(call('edit_file', { path: LIB, old_text: UNSAFE, new_text: SAFE })));
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `switchyard implement` in a process of its own, killed (SIGKILL: no handler runs) once turn 3 is asked. */
async function crashAtTurn3(root: string, state: string, task: string): Promise<AgentEvent[]> {
  const args = ['implement', '--repo', root, '--yes', '--json', '--task', task, 'read the first byte'];
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/bin.ts'), ...args], {
    env: cliEnv(state),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until('the third turn', () => chats(local).length + chats(ds).length >= 3).catch((e: Error) => {
      throw new Error(`${e.message}: ${err}`);
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  assert.equal(chats(local).length + chats(ds).length, 3, err);
  return jsonLines(out);
}

describe('a task cut off by a crash (the CLI killed mid-turn)', () => {
  it('is listed as interrupted; --resume finishes it on the cloud (sticky risk), with the transcript so far', async () => {
    // The same task run through without a crash: the events a first run prints, and its exit code.
    const ref = demo();
    scriptFirstTurns();
    ds.queue.push(finish());
    const whole = await runCli(
      ['implement', '--repo', ref.root, '--yes', '--json', '--task', 'T-ref', 'read the first byte'],
      { env: cliEnv(ref.state) },
    );
    assert.equal(whole.code, 0, whole.err);

    const { root, state } = demo();
    local.requests.length = 0;
    ds.requests.length = 0;
    scriptFirstTurns();
    ds.queue.push({ kind: 'hang' });
    const before = await crashAtTurn3(root, state, 'T-crash');
    assert.ok(!before.some((e) => e.type === 'result'), 'no result: the process died');
    assert.equal(chats(local).length, 1);
    assert.equal(chats(ds).length, 2);
    const listed = await listTasks(root);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.task_id, 'T-crash');
    assert.equal(listed[0]!.status, 'interrupted');
    assert.equal(listed[0]!.instruction, 'read the first byte');
    assert.equal(listed[0]!.turns, 3);
    assert.deepEqual(
      listed[0]!.checkpoints.map((c) => c.turn),
      [1, 2],
    );
    const loaded = await loadTask(root, 'T-crash');
    assert.deepEqual(
      loaded!.events.filter((e) => e.type !== 'text').map((e) => e.type),
      before.filter((e) => e.type !== 'text').map((e) => e.type),
      'the record has every event the process printed',
    );

    // Resumed: the risk the change once had still routes the next turn to the cloud (a fresh state would be local).
    ds.queue.push(finish());
    const resumed = await runCli(['implement', '--resume', 'T-crash', '--repo', root, '--yes', '--json'], {
      env: cliEnv(state),
    });
    assert.equal(resumed.code, whole.code, resumed.err);
    assert.equal(chats(local).length, 1, 'no turn went back to the local lane');
    assert.equal(chats(ds).length, 3); // turn 2, the hung turn 3, the resumed turn 4
    const sent = JSON.stringify(chats(ds)[2]!.body.messages);
    assert.match(sent, /get_unchecked/, "turn 1's edit is in the transcript sent");
    assert.match(sent, /as_bytes\(\)\.first\(\)/, "turn 2's edit is in the transcript sent");
    assert.match(sent, /Task: read the first byte/);
    const after = jsonLines(resumed.out);
    const firstTurn = after.find((e) => e.type === 'turn');
    assert.ok(firstTurn?.type === 'turn' && firstTurn.turn === 4 && firstTurn.location === 'cloud', resumed.out);
    assert.ok(firstTurn.rule === 'implementer.high_risk', firstTurn.rule);
    // The same --json events as the run that was not cut off: before the crash and after the resume, in order.
    const types = (es: AgentEvent[]) => es.filter((e) => e.type !== 'text').map((e) => e.type);
    assert.deepEqual([...types(before), ...types(after)], types(jsonLines(whole.out)));
    const result = after[after.length - 1]!;
    assert.ok(result.type === 'result' && result.status === 'passed', resumed.out);
    assert.ok(readFileSync(join(root, LIB), 'utf8').includes(SAFE));
    assert.equal((await listTasks(root))[0]!.status, 'passed');
    // The evidence of a resumed task still verifies against its record.
    assert.deepEqual(TaskEvidence.forTask(root, 'T-crash', { stateDir: state }).verify(), { ok: true });
    // A task that ended cannot be resumed: a clear error, a non-zero exit, no model called.
    const again = await runCli(['implement', '--resume', 'T-crash', '--repo', root, '--yes', '--json'], {
      env: cliEnv(state),
    });
    assert.equal(again.code, 2);
    assert.match(again.err, /task T-crash is passed, not interrupted: only an interrupted task can be resumed/);
    assert.equal(chats(ds).length, 3);
    const none = await runCli(['implement', '--resume', 'T-nothing', '--repo', root], { env: cliEnv(state) });
    assert.equal(none.code, 2);
    assert.match(none.err, /no task "T-nothing"/);
    assert.equal(existsSync(join(root, '.switchyard/evidence/T-nothing')), false);
  });
});

describe('switchyard implement --abandon', () => {
  it('a crashed task: its first checkpoint back, exit 0; then it is abandoned and cannot be resumed', async () => {
    const { root, state } = demo();
    const original = readFileSync(join(root, LIB), 'utf8');
    scriptFirstTurns();
    ds.queue.push({ kind: 'hang' });
    await crashAtTurn3(root, state, 'T-cli-abandon');
    assert.notEqual(readFileSync(join(root, LIB), 'utf8'), original);
    const r = await runCli(['implement', '--abandon', 'T-cli-abandon', '--repo', root, '--json'], {
      env: cliEnv(state),
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { type: 'abandoned', task_id: 'T-cli-abandon', restored: [LIB], kept: [] });
    assert.equal(readFileSync(join(root, LIB), 'utf8'), original);
    assert.equal((await listTasks(root))[0]!.status, 'abandoned');
    const again = await runCli(['implement', '--resume', 'T-cli-abandon', '--repo', root], { env: cliEnv(state) });
    assert.equal(again.code, 2);
    assert.match(again.err, /is abandoned, not interrupted/);
  });
});

/** A task run in this process on a plain folder (no checks: it ends unverified), with its own events. */
function plain(taskId: string, policy = bundledPolicy()) {
  const root = mkdtempSync(join(tmpdir(), 'sy-resume-plain-'));
  for (const f of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(root, f), `${f} as it was\n`);
  const state = mkdtempSync(join(tmpdir(), 'sy-resume-plain-state-'));
  const caller = testCaller({ policy, urls: { local: local.url, deepseek: ds.url }, source: 'cli', stateDir: state });
  const events: AgentEvent[] = [];
  const disk = diskPorts({ root, taskId, policy, caller: caller.caller, stateDir: state, env: process.env });
  const ports: AgentPorts = {
    ...disk,
    approveEdits: async () => 'approve',
    approveCommand: async () => false,
    askUser: async () => null,
    emit: (e) => events.push(e),
  };
  const ac = new AbortController();
  const input: AgentInput = {
    task_id: taskId,
    instruction: 'change a and b',
    policy,
    localOnly: false,
    signal: ac.signal,
  };
  const read = (f: string) => readFileSync(join(root, f), 'utf8');
  return { root, state, ports, input, events, ac, read, disk };
}

const write = (path: string, text: string, id?: string) =>
  call('write_file', { path, content: text }, id ?? `w-${path}`);

describe('a task interrupted by its owner going away (a window reload)', () => {
  it('ends interrupted without a result; Abandon restores the first checkpoint and keeps what the user changed', async () => {
    const s = plain('T-abandon');
    local.queue.push(turn(write('a.txt', 'a by the task\n')), turn(write('b.txt', 'b by the task\n')), {
      kind: 'hang',
    });
    const running = runAgent(s.ports, s.input);
    await until('the third turn', () => chats(local).length >= 3);
    s.ac.abort(INTERRUPTED);
    const r = await running;
    assert.equal(r.status, 'interrupted');
    assert.ok(!s.events.some((e) => e.type === 'result'));
    const [t] = await listTasks(s.root);
    assert.equal(t!.status, 'interrupted');
    assert.equal(t!.checkpoints.length, 2);
    // After the task's last action, the user edits a.txt (which the task changed) and c.txt (which it did not).
    writeFileSync(join(s.root, 'a.txt'), 'a by the user\n');
    writeFileSync(join(s.root, 'c.txt'), 'c by the user\n');
    await assert.rejects(resumeAgent(s.ports, { ...s.input, task_id: 'T-other' }), ResumeError);
    const out = await abandonTask(s.disk, s.root, 'T-abandon');
    assert.deepEqual(out, { restored: ['b.txt'], kept: ['a.txt', 'c.txt'] });
    assert.equal(s.read('b.txt'), 'b.txt as it was\n');
    assert.equal(s.read('a.txt'), 'a by the user\n');
    assert.equal(s.read('c.txt'), 'c by the user\n');
    const done = await loadTask(s.root, 'T-abandon');
    assert.equal(done!.summary.status, 'abandoned');
    const last = done!.events[done!.events.length - 1]!;
    assert.ok(last.type === 'result' && last.status === 'abandoned');
    assert.deepEqual(TaskEvidence.forTask(s.root, 'T-abandon', { stateDir: s.state }).verify(), { ok: true });
    // Abandoned is an end: neither resumed nor abandoned again.
    await assert.rejects(resumeAgent(s.ports, s.input), /is abandoned, not interrupted/);
    await assert.rejects(abandonTask(s.disk, s.root, 'T-abandon'), /is abandoned, not interrupted/);
  });

  it('a plain Stop is still cancelled (with its result), and a task whose owner is alive is not resumed', async () => {
    const s = plain('T-stop');
    local.queue.push(turn(write('a.txt', 'a by the task\n')), { kind: 'hang' });
    const running = runAgent(s.ports, s.input);
    await until('the second turn', () => chats(local).length >= 2);
    // While it runs (its owner, this process, is alive) it is running, and cannot be resumed.
    assert.equal((await listTasks(s.root))[0]!.status, 'running');
    await assert.rejects(resumeAgent(s.ports, s.input), /is running \(its process is still alive\)/);
    s.ac.abort();
    const r = await running;
    assert.equal(r.status, 'cancelled');
    assert.ok(s.events.some((e) => e.type === 'result' && e.status === 'cancelled'));
    assert.equal((await listTasks(s.root))[0]!.status, 'cancelled');
  });

  it('resumed after a cut mid-turn: the unanswered call is answered "interrupted", a torn line is skipped', async () => {
    const s = plain('T-torn');
    // Turn 2 asks for two writes; the task is cut after the first one ran.
    local.queue.push(
      turn(write('a.txt', 'a by the task\n')),
      turn(write('b.txt', 'b by the task\n', 'w1'), call('read_file', { path: 'c.txt' }, 'r1')),
      { kind: 'hang' },
    );
    const running = runAgent(s.ports, s.input);
    await until('the third turn', () => chats(local).length >= 3);
    s.ac.abort(INTERRUPTED);
    await running;
    // Make the record what a crash after the write would leave: the read's result never written but a torn line,
    // the state still "running" with an owner that is no more.
    const dir = s.ports.evidence.dir;
    const lines = readFileSync(join(dir, 'resume/transcript.jsonl'), 'utf8').trim().split('\n');
    const cut = lines.filter((l) => !l.includes('"tool_call_id":"r1"'));
    assert.equal(cut.length, lines.length - 1);
    writeFileSync(join(dir, 'resume/transcript.jsonl'), `${cut.join('\n')}\n{"role":"tool","tool_ca`);
    const ts = JSON.parse(readFileSync(join(dir, 'task-state.json'), 'utf8'));
    writeFileSync(join(dir, 'task-state.json'), JSON.stringify({ ...ts, status: 'running', owner: deadOwner() }));
    assert.equal((await listTasks(s.root))[0]!.status, 'interrupted');
    local.queue.push(turn(call('finish', { summary: 'a and b changed', confidence: 0.95 })));
    const before = chats(local).length;
    const r = await resumeAgent(s.ports, { ...s.input, signal: new AbortController().signal });
    assert.equal(r.status, 'unverified', r.message);
    const sent = chats(local)[before]!.body.messages as { role: string; tool_call_id?: string; content: string }[];
    const r1 = sent.find((m) => m.role === 'tool' && m.tool_call_id === 'r1');
    assert.match(r1!.content, /^interrupted: the task stopped before this call's result was recorded/);
    assert.ok(sent.some((m) => m.role === 'tool' && m.tool_call_id === 'w1' && m.content.startsWith('applied')));
    // The workspace's changes so far (restored originals) are the task's: both files, as before the task.
    assert.deepEqual(r.changed, ['a.txt', 'b.txt']);
  });
});

describe("a task's record that this machine did not write (a repository can carry .switchyard/evidence)", () => {
  it('a checkpoint id that is a git option, or a commit never made here, is refused: nothing is restored or written', async () => {
    for (const [n, bad] of [
      [1, `--output=${join(tmpdir(), `sy-pwned-${process.pid}`)}`],
      [2, 'f'.repeat(40)],
    ] as const) {
      const s = plain(`T-tamper${n}`);
      local.queue.push(turn(write('a.txt', 'a by the task\n')), { kind: 'hang' });
      const running = runAgent(s.ports, s.input);
      await until('the second turn', () => chats(local).length >= 2);
      s.ac.abort(INTERRUPTED);
      await running;
      // The record is edited as a hostile repository would ship it.
      const file = join(s.root, '.switchyard', 'evidence', `T-tamper${n}`, RUN_STATE);
      const snap = JSON.parse(readFileSync(file, 'utf8'));
      snap.checkpoints = [{ id: bad, label: 'planted', turn: 1 }];
      snap.lastTree = bad;
      writeFileSync(file, JSON.stringify(snap));
      const now = s.read('a.txt');
      await assert.rejects(abandonTask(s.disk, s.root, `T-tamper${n}`), /names a checkpoint this machine never made/);
      await assert.rejects(resumeAgent(s.ports, s.input), /names a checkpoint this machine never made/);
      assert.equal(s.read('a.txt'), now, 'nothing was restored');
      assert.ok(!existsSync(join(tmpdir(), `sy-pwned-${process.pid}`)), 'no git option reached git');
    }
  });
});

describe('a checkpoint before every command and check (what a command wrote is restored too)', () => {
  it('a file made and a file changed by run_command are undone by restoring the checkpoint taken before it', async () => {
    const s = plain('T-command');
    s.ports.approveCommand = async () => true;
    const script = 'echo made > made.txt && echo "a by a command" > a.txt';
    local.queue.push(
      turn(call('run_command', { argv: ['sh', '-c', script] })),
      turn(call('finish', { summary: 'ran it', confidence: 0.9 })),
    );
    const r = await runAgent(s.ports, s.input);
    assert.equal(s.read('made.txt'), 'made\n');
    assert.equal(s.read('a.txt'), 'a by a command\n');
    const before = r.checkpoints.find((c) => c.label.startsWith('before turn 1: sh -c'));
    assert.ok(before, r.checkpoints.map((c) => c.label).join('; '));
    assert.ok(
      s.events.some((e) => e.type === 'checkpoint' && e.id === before.id),
      'the task view is told',
    );
    await s.ports.checkpoints.restore(before.id);
    assert.equal(existsSync(join(s.root, 'made.txt')), false, 'the file the command made is gone');
    assert.equal(s.read('a.txt'), 'a.txt as it was\n', 'the file it changed is back');
  });
});

describe('a fault of the host mid-task', () => {
  it('leaves the task interrupted (not running forever): it can be resumed once the fault is gone', async () => {
    const s = plain('T-fault');
    const emit = s.ports.emit;
    s.ports.emit = (e) => {
      if (e.type === 'tool') throw new Error('the view is gone');
      emit(e);
    };
    local.queue.push(turn(write('a.txt', 'a by the task\n')));
    await assert.rejects(runAgent(s.ports, s.input), /the view is gone/);
    assert.equal((await listTasks(s.root))[0]!.status, 'interrupted');
    s.ports.emit = emit;
    local.queue.push(turn(call('finish', { summary: 'a changed', confidence: 0.95 })));
    const r = await resumeAgent(s.ports, s.input);
    assert.equal(r.status, 'unverified', r.message);
    assert.deepEqual(r.changed, ['a.txt']);
    assert.equal((await listTasks(s.root))[0]!.status, 'unverified');
  });
});

/** An owner record of a process that has ended. */
function deadOwner(): { pid: number; started: string } {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return { pid: Number(r.stdout.toString()), started: new Date().toISOString() };
}

describe('a task that gives up', () => {
  it('at its turn limit: gave_up with reason turn_limit, in the result event', async () => {
    const s = plain('T-turns');
    const policy = s.input.policy;
    s.input.policy = { ...policy, agent: { ...policy.agent, max_turns: 2 } as typeof policy.agent };
    local.queue.push(turn(call('read_file', { path: 'a.txt' })), turn(call('read_file', { path: 'b.txt' })));
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'gave_up');
    assert.equal(r.reason, 'turn_limit');
    const res = s.events.find((e) => e.type === 'result');
    assert.ok(res?.type === 'result' && res.status === 'gave_up' && res.reason === 'turn_limit');
    assert.equal((await listTasks(s.root))[0]!.reason, 'turn_limit');
  });

  it('at a budget cap: gave_up with reason budget, no cloud call made (GR-011)', async () => {
    const policy = bundledPolicy();
    const s = plain('T-budget', {
      ...policy,
      budget: { ...policy.budget, caps: [{ id: 'tiny', scope: 'global', period: 'task', usd: 0.000001 }] },
    });
    s.input.userRequestsCloud = () => true;
    ds.queue.push(turn(call('read_file', { path: 'a.txt' })));
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'gave_up', r.message);
    assert.equal(r.reason, 'budget');
    assert.match(r.message, /GR-011/);
    assert.equal(chats(ds).length, 0);
  });

  it('stuck on the same calls three turns in a row: gave_up (stall), exit 4 from the CLI', async () => {
    const { root, state } = demo();
    const same = () => turn(call('read_file', { path: LIB }, 'same'));
    local.queue.push(same(), same(), same(), same());
    const r = await runCli(['implement', '--repo', root, '--yes', '--json', '--task', 'T-stall', 'read it'], {
      env: cliEnv(state),
    });
    const res = jsonLines(r.out).pop()!;
    assert.equal(r.code, 4, r.out);
    assert.ok(res.type === 'result' && res.status === 'gave_up' && res.reason === 'stall', r.out);
    assert.equal(chats(local).length, 3);
  });
});
