import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ShadowCheckpoints } from '../../src/core/agent/checkpoints.js';
import { diskPorts } from '../../src/core/agent/diskPorts.js';
import { applyEdit } from '../../src/core/agent/edits/editMatch.js';
import { Workspace } from '../../src/core/agent/workspace.js';
import { runAgent, type AgentEvent, type AgentInput, type AgentPorts } from '../../src/core/agent/loop.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { testCaller } from './helpers/caller.js';
import { runCli } from './helpers/cli.js';
import { llamaServerMissing, startLlama } from '../support/llamaServer.js';
import {
  anthropicServer,
  openAiServer,
  type Behaviour,
  type ScriptedToolCall,
  type WireServer,
} from '../support/wireServers.js';

// The agent against the demo Cargo workspace with the real `cargo check` and `cargo test`. Test servers speak the
// real tool-calling wire formats: OpenAI streamed tool_call deltas (the local lane and DeepSeek) and Anthropic
// tool_use blocks (Sonnet); the model's turns are scripted, everything else is the real path.
const ROOT = process.cwd();
const LIB = 'crates/core/src/lib.rs';
const MAIN = 'crates/cli/src/main.rs';
const TESTS = 'crates/core/tests/words.rs';
const SPLIT = '    assert_eq!(demo_core::tokenize("a b"), vec!["a", "b"]);';
const LONG = '    assert!(demo_core::tokenize(&"x".repeat(65)).is_empty());';
const TARGET = mkdtempSync(join(tmpdir(), 'sy-agent-target-'));

const call = (name: string, args: Record<string, unknown> | string, id?: string): ScriptedToolCall => ({
  name,
  arguments: args,
  ...(id ? { id } : {}),
});
const turn = (...tools: ScriptedToolCall[]): Behaviour => ({ kind: 'ok', text: '', tools });
const FILTER = '        .filter(|w| !w.is_empty())';
const GOOD_FILTER = '        .filter(|w| !w.is_empty() && w.len() <= 64)';
const BROKEN_FILTER = '        .filter(|w| !w.is_empty() && w.len() <= max_len)';
const finish = (confidence = 0.9) => turn(call('finish', { summary: 'long words are ignored', confidence }));

let local: WireServer, ds: WireServer, claude: WireServer;
before(async () => {
  [local, ds, claude] = await Promise.all([openAiServer(), openAiServer('deepseek'), anthropicServer()]);
});
after(async () => {
  await Promise.all([local.close(), ds.close(), claude.close()]);
  rmSync(TARGET, { recursive: true, force: true });
});
beforeEach(() => {
  for (const s of [local, ds, claude]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok', text: 'I am done.' };
  }
});

function setup(
  o: {
    urls?: Record<string, string | undefined>;
    input?: Partial<AgentInput>;
    reject?: boolean;
    localOnly?: boolean;
  } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'sy-agent-ws-'));
  cpSync(join(ROOT, 'demo'), root, { recursive: true });
  const state = mkdtempSync(join(tmpdir(), 'sy-agent-state-'));
  const policy = bundledPolicy();
  const urls = o.urls ?? { local: local.url, deepseek: ds.url };
  const t = testCaller({ policy, urls, source: 'cli', stateDir: state, localOnly: o.localOnly });
  const events: AgentEvent[] = [];
  const ac = new AbortController();
  const disk = diskPorts({
    root,
    taskId: 'T-agent',
    policy,
    caller: t.caller,
    stateDir: state,
    env: { ...process.env, CARGO_TARGET_DIR: TARGET },
  });
  const ports: AgentPorts = {
    ...disk,
    approveEdits: async () => (o.reject ? 'reject' : 'approve'),
    approveCommand: async () => false,
    askUser: async () => 'keep it simple',
    emit: (e) => events.push(e),
  };
  const input: AgentInput = {
    task_id: 'T-agent',
    instruction: 'ignore words longer than 64 characters, and print the top 20 words',
    policy,
    localOnly: false,
    signal: ac.signal,
    ...o.input,
  };
  const read = (p: string) => readFileSync(join(root, p), 'utf8');
  return { root, ports, input, events, ac, read, audit: t.auditLines, original: { lib: read(LIB), main: read(MAIN) } };
}

/** The tool results the model was sent in its last request (OpenAI wire: role "tool" messages). */
function toolResults(s: WireServer): string[] {
  const last = s.requests[s.requests.length - 1]!.body.messages as { role: string; content: string }[];
  return last.filter((m) => m.role === 'tool').map((m) => m.content);
}

describe('the agent over the OpenAI tool-calling wire (local lane), real cargo', () => {
  it('reads two files, edits both, passes cargo check and cargo test, and can be undone by a checkpoint', async () => {
    const s = setup();
    mkdirSync(join(s.root, 'crates/core/tests'));
    writeFileSync(join(s.root, TESTS), `#[test]\nfn splits_words() {\n${SPLIT}\n}\n`);
    local.queue.push(
      turn(call('read_file', { path: LIB }, 'c1'), call('read_file', { path: TESTS }, 'c2')),
      turn(
        call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER }),
        call('edit_file', { path: TESTS, old_text: SPLIT, new_text: `${SPLIT}\n${LONG}` }),
      ),
      turn(call('run_checks', {})),
      finish(),
    );
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    assert.ok(s.read(LIB).includes('w.len() <= 64') && s.read(TESTS).includes(LONG));
    assert.deepEqual(r.changed, [LIB, TESTS]);
    // The wire: tools offered, two streamed calls answered with their ids, the file's lines numbered.
    const first = local.requests[0]!.body;
    assert.ok((first.tools as { function: { name: string } }[]).some((t) => t.function.name === 'apply_patch'));
    const second = local.requests[1]!.body.messages as { role: string; tool_call_id?: string; content: string }[];
    assert.deepEqual(
      second.filter((m) => m.role === 'tool').map((m) => m.tool_call_id),
      ['c1', 'c2'],
    );
    assert.match(
      second.find((m) => m.tool_call_id === 'c1')!.content,
      /^crates\/core\/src\/lib\.rs \(lines 1-\d+ of \d+\)\n1\t\/\/!/,
    );
    const checks = s.events.filter((e) => e.type === 'check');
    assert.ok(checks.length >= 1 && checks.every((c) => c.type === 'check' && c.ok));
    assert.ok(checks.some((c) => c.type === 'check' && c.steps.some((n) => n.startsWith('cargo test'))));
    assert.ok(s.events.every((e) => e.type !== 'turn' || e.location === 'local'));
    // Evidence: the instruction, every turn, tool calls, the diff, the classification, the check log, sealed.
    const ev = r.evidence;
    for (const f of [
      'instruction.md',
      'turns/001-request.json',
      'turns/004-answer.json',
      'tools.jsonl',
      'result.json',
      'manifest.sha256',
    ])
      assert.ok(readFileSync(join(ev, f)), f);
    // A checkpoint before the edits, and one before the checks (they may write files too).
    assert.deepEqual(
      r.checkpoints.map((c) => c.label.replace(/:.*/, '')),
      ['before turn 2', 'before the checks of turn 3'],
    );
    // Restore the checkpoint taken before the edits: both files are back.
    await s.ports.checkpoints.restore(r.checkpoints[0]!.id);
    assert.equal(s.read(LIB), s.original.lib);
    assert.equal(s.read(TESTS).includes(LONG), false);
    // The restore kept what it replaced as a checkpoint of its own: the diff between the two is the task's change.
    const diff = await s.ports.checkpoints.diff(r.checkpoints[0]!.id, s.ports.checkpoints.all().at(-1)!.id);
    assert.match(diff, /repeat\(65\)/);
    assert.doesNotMatch(diff, /\.switchyard\/evidence/);
  });

  it('edits fail the checks twice: the third turn is routed to the cloud, which fixes it (audited)', async () => {
    const s = setup();
    local.queue.push(
      turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: BROKEN_FILTER })),
      turn(call('run_checks', {})),
      turn(call('run_checks', {})),
    );
    ds.queue.push(turn(call('edit_file', { path: LIB, old_text: BROKEN_FILTER, new_text: GOOD_FILTER })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    assert.ok(s.read(LIB).includes('w.len() <= 64'));
    assert.equal(local.requests.length, 3);
    assert.equal(ds.requests.length, 2);
    // The cloud model got the transcript so far: the failed checks' compiler errors are in it.
    const seen = JSON.stringify(ds.requests[0]!.body.messages);
    assert.match(seen, /max_len/);
    assert.match(seen, /checks failed/);
    const lines = s.audit();
    assert.ok(
      lines.some((l) => /2 failed compile\/test loops.*escalating by implementer\.failed_loops/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => /GR-005: implementer: turn 4 moves from local local\/.* to cloud deepseek\//.test(l)));
    const route = s.events.find((e) => e.type === 'route' && e.from !== null);
    assert.ok(route && route.type === 'route' && /implementer\.failed_loops/.test(route.why));
  });

  it('the running diff crosses into high risk (an unsafe block): the next turn goes to the cloud (Anthropic tool_use)', async () => {
    // No DeepSeek endpoint: the implementer's cloud chain goes on to Sonnet, over Anthropic's wire.
    const s = setup({ urls: { local: local.url, anthropic: claude.url } });
    const unsafe = '    let _first = unsafe { text.as_bytes().get_unchecked(0) };\n';
    const SAFE = '    let _first = text.as_bytes().first();\n';
    local.queue.push(
      turn(call('edit_file', { path: LIB, old_text: '    text.split(', new_text: `${unsafe}    text.split(` })),
    );
    claude.queue.push(
      turn(call('read_file', { path: LIB }, 'toolu_r1')),
      turn(call('edit_file', { path: LIB, old_text: unsafe, new_text: SAFE }, 'toolu_e1')),
      turn(call('finish', { summary: 'the first byte, read safely', confidence: 0.95 }, 'toolu_f1')),
    );
    const r = await runAgent(s.ports, { ...s.input, instruction: 'read the first byte' });
    assert.equal(local.requests.length, 1);
    assert.ok(claude.requests.length >= 2);
    // Anthropic's form: tool_use blocks in the assistant turn, tool_result blocks in the next user turn.
    const msgs = claude.requests[1]!.body.messages as { role: string; content: unknown }[];
    const blocks = msgs.flatMap((m) =>
      Array.isArray(m.content) ? (m.content as { type: string; tool_use_id?: string }[]) : [],
    );
    assert.ok(blocks.some((b) => b.type === 'tool_use'));
    assert.ok(blocks.some((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_r1'));
    assert.ok(
      s.audit().some((l) => /moves from local .* to cloud anthropic\/.*implementer\.high_risk.*unsafe_ffi/.test(l)),
    );
    // The final change has no unsafe code left: it passed the checks and needs no Judge; the lane stayed cloud.
    assert.equal(r.status, 'passed', r.message);
    assert.ok(s.read(LIB).includes(SAFE));
    assert.equal(local.requests.length, 1);
  });

  it('starts at the cloud when the instruction names two crates (cross-crate scope before any edit)', async () => {
    const s = setup({ input: { scope: { cross_crate: true, why: ['the instruction names crates core and cli'] } } });
    ds.queue.push(turn(call('edit_file', { path: MAIN, old_text: '.take(10)', new_text: '.take(20)' })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.equal(local.requests.length, 0);
    assert.ok(ds.requests.length >= 1);
    const first = s.events.find((e) => e.type === 'turn');
    assert.ok(first && first.type === 'turn' && first.location === 'cloud' && first.rule === 'implementer.high_risk');
    assert.ok(['passed', 'awaiting_judge'].includes(r.status), r.message);
  });
});

describe('the agent: a turn that does not fit the local window', () => {
  it('the server says the context is exceeded: the policy moves the turn to a larger-context model, audited, nothing cut', async () => {
    const s = setup();
    const body = {
      error: {
        message: "This model's maximum context length is 4096 tokens. However, you requested 9000 tokens.",
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
      },
    };
    local.queue.push({ kind: 'status', status: 400, body });
    ds.queue.push(turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    const sent = ds.requests[0]!.body.messages as { role: string; content: string }[];
    assert.equal(sent[1]!.content, `Task: ${s.input.instruction}`);
    assert.ok(
      s
        .audit()
        .some((l) =>
          /context length exceeded on local\/.*the next model gets the request as the role wrote it/.test(l),
        ),
      s.audit().join('\n'),
    );
  });
});

describe('the agent: scope before any edit, and a public API change mid-task', () => {
  it('an instruction naming two crates of the workspace starts at the cloud (switchyard implement)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-agent-scope-'));
    cpSync(join(ROOT, 'demo'), root, { recursive: true });
    const state = mkdtempSync(join(tmpdir(), 'sy-agent-scope-state-'));
    ds.queue.push(turn(call('edit_file', { path: MAIN, old_text: '.take(10)', new_text: '.take(20)' })), finish());
    const r = await runCli(
      ['implement', '--repo', root, '--yes', '--json', 'move the top-10 limit from demo-cli into demo-core'],
      {
        env: {
          ...process.env,
          CARGO_TARGET_DIR: TARGET,
          SWITCHYARD_LOCAL_BASE_URL: local.url,
          DEEPSEEK_BASE_URL: ds.url,
          DEEPSEEK_API_KEY: 'sk-TESTKEYdeepseek0123456789abcd',
          SWITCHYARD_STATE_DIR: state,
        },
      },
    );
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AgentEvent);
    const first = events.find((e) => e.type === 'turn');
    assert.ok(
      first && first.type === 'turn' && first.location === 'cloud' && first.rule === 'implementer.high_risk',
      r.out,
    );
    assert.equal(local.requests.length, 0);
    assert.match(
      readFileSync(
        join(root, '.switchyard/evidence', readdirSync(join(root, '.switchyard/evidence'))[0]!, 'scope.json'),
        'utf8',
      ),
      /names 2 crates \(demo-cli, demo-core\)/,
    );
  });

  it('a public API change mid-task sends the next turn to the cloud (audited)', async () => {
    const s = setup();
    const sig = 'pub fn tokenize(text: &str) -> Vec<String> {';
    local.queue.push(
      turn(
        call('edit_file', {
          path: LIB,
          old_text: sig,
          new_text: 'pub fn tokenize(text: &str, max: usize) -> Vec<String> {',
        }),
      ),
    );
    ds.queue.push(
      turn(call('edit_file', { path: LIB, old_text: 'text: &str, max: usize', new_text: 'text: &str' })),
      finish(),
    );
    await runAgent(s.ports, s.input);
    assert.equal(local.requests.length, 1);
    assert.ok(ds.requests.length >= 1);
    assert.ok(
      s.audit().some((l) => /moves from local .* to cloud deepseek\/.*implementer\.high_risk.*public_api/.test(l)),
      s.audit().join('\n'),
    );
  });
});

describe('the agent: bad tool calls are answers for the model', () => {
  it('missing and ambiguous old_text, a path outside the workspace, a symlink out, .git, bad JSON', async () => {
    const s = setup();
    symlinkSync('/etc', join(s.root, 'etc-link'));
    writeFileSync(join(s.root, 'twice.txt'), 'x = 1\ny = 2\nx = 1\n');
    local.queue.push(
      turn(
        call('edit_file', { path: LIB, old_text: '.filter(|w| w.len() > 0)', new_text: 'x' }),
        call('edit_file', { path: 'twice.txt', old_text: 'x = 1', new_text: 'x = 3' }),
        call('read_file', { path: '../../etc/passwd' }),
        call('read_file', { path: 'etc-link/passwd' }),
        call('write_file', { path: '.git/config', content: 'x' }),
        call('edit_file', '{"path": "crates/core/src/lib.rs", "old_text": '),
        call('read_file', { file: LIB }),
      ),
      finish(),
    );
    await runAgent(s.ports, s.input);
    const results = toolResults(local);
    assert.match(
      results[0]!,
      /old_text was not found\. The nearest lines to its first line are line 6: \.filter\(\|w\| !w\.is_empty\(\)\)/,
    );
    assert.match(results[1]!, /occurs 2 times \(lines 1, 3\)/);
    assert.match(results[2]!, /outside the workspace/);
    assert.match(results[3]!, /resolves \(through a symlink\) outside the workspace/);
    assert.match(results[4]!, /\.git\/ is not for the agent/);
    assert.match(results[5]!, /not valid JSON/);
    assert.match(results[6]!, /bad arguments: .*path/);
    assert.equal(s.read(LIB), s.original.lib);
    assert.equal(readFileSync(join(s.root, 'twice.txt'), 'utf8'), 'x = 1\ny = 2\nx = 1\n');
  });

  it('apply_patch: a unified diff over two files (line numbers drifted, one new file) is applied; a bad one is an answer', async () => {
    const s = setup();
    const patch = [
      '--- a/crates/core/src/lib.rs',
      '+++ b/crates/core/src/lib.rs',
      '@@ -40,3 +40,3 @@ pub fn tokenize(text: &str) -> Vec<String> {',
      '     text.split(|c: char| !c.is_alphanumeric())',
      '-        .filter(|w| !w.is_empty())',
      '+        .filter(|w| !w.is_empty() && w.len() <= 64)',
      '         .map(|w| w.to_lowercase())',
      '--- /dev/null',
      '+++ b/crates/core/tests/long.rs',
      '@@ -0,0 +1,4 @@',
      '+#[test]',
      '+fn long_words_are_dropped() {',
      '+    assert!(demo_core::tokenize(&"x".repeat(65)).is_empty());',
      '+}',
      '',
    ].join('\n');
    local.queue.push(turn(call('apply_patch', { patch: 'not a diff' }), call('apply_patch', { patch })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.match(toolResults(local)[0]!, /apply_patch: no file in the patch/);
    assert.match(toolResults(local)[1]!, /^applied: patch crates\/core\/src\/lib\.rs, crates\/core\/tests\/long\.rs/);
    assert.equal(r.status, 'passed', r.message);
    assert.ok(s.read(LIB).includes('w.len() <= 64'));
    assert.match(s.read('crates/core/tests/long.rs'), /fn long_words_are_dropped/);
  });

  it('a rejected edit writes nothing and says so to the model', async () => {
    const s = setup({ reject: true });
    local.queue.push(turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.match(toolResults(local)[0]!, /the user rejected this edit/);
    assert.equal(s.read(LIB), s.original.lib);
    assert.equal(r.status, 'failed');
  });
});

describe('the agent: Stop, and a small context window', () => {
  it('Stop mid-turn cancels the call in flight', async () => {
    const s = setup();
    local.queue.push({ kind: 'hang' });
    setTimeout(() => s.ac.abort(), 300);
    const t0 = Date.now();
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'cancelled');
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(s.events[s.events.length - 1]!.type, 'result');
  });

  it('tool results outgrow a 6,000-token window: older ones are condensed, the instruction is sent whole, the task finishes', async () => {
    const s = setup({ input: { contextWindow: () => 6_000 } });
    const big = Array.from({ length: 3_000 }, (_, k) => `line ${k} of a large generated file`).join('\n');
    writeFileSync(join(s.root, 'big.txt'), big);
    for (let k = 0; k < 4; k++) local.queue.push(turn(call('read_file', { path: 'big.txt', start_line: 1 + k * 400 })));
    local.queue.push(turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })), finish());
    const r = await runAgent(s.ports, s.input);
    assert.equal(r.status, 'passed', r.message);
    const last = local.requests[local.requests.length - 1]!.body.messages as { role: string; content: string }[];
    assert.equal(last[1]!.content.startsWith(`Task: ${s.input.instruction}`), true);
    assert.ok(last.some((m) => m.role === 'tool' && m.content.startsWith('[condensed earlier read_file result')));
    assert.ok(JSON.stringify(last).length / 3 < 6_000, 'the request fits the window');
    const turns = s.events.filter((e) => e.type === 'turn');
    assert.ok(turns.every((e) => e.type === 'turn' && e.context_window === 6_000 && e.context_tokens <= 4_500));
  });
});

describe('switchyard implement (headless)', () => {
  function cliEnv(localUrl: string, state: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      CARGO_TARGET_DIR: TARGET,
      SWITCHYARD_LOCAL_BASE_URL: localUrl,
      DEEPSEEK_BASE_URL: ds.url,
      DEEPSEEK_API_KEY: 'sk-TESTKEYdeepseek0123456789abcd',
      SWITCHYARD_STATE_DIR: state,
    };
  }
  const fresh = () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-agent-cli-'));
    cpSync(join(ROOT, 'demo'), root, { recursive: true });
    return { root, state: mkdtempSync(join(tmpdir(), 'sy-agent-cli-state-')) };
  };
  const lines = (out: string) =>
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AgentEvent);

  it('--yes --json: JSON lines of events, the edit applied, the checks passed, exit 0', async () => {
    const { root, state } = fresh();
    local.queue.push(turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })), finish());
    const r = await runCli(['implement', '--repo', root, '--yes', '--json', '--task', 'T-cli', 'ignore long words'], {
      env: cliEnv(local.url, state),
    });
    assert.equal(r.code, 0, r.err);
    const ev = lines(r.out);
    for (const t of ['turn', 'tool', 'route', 'checkpoint', 'check', 'result'])
      assert.ok(
        ev.some((e) => e.type === t),
        t,
      );
    const result = ev[ev.length - 1]!;
    assert.ok(result.type === 'result' && result.status === 'passed');
    assert.ok(readFileSync(join(root, LIB), 'utf8').includes('w.len() <= 64'));
    assert.ok(readFileSync(join(root, '.switchyard/evidence/T-cli/manifest.sha256'), 'utf8').includes('tools.jsonl'));
  });

  it('without --yes no edit is applied (exit 4); commands outside the allowlist never run headless', async () => {
    const { root, state } = fresh();
    local.queue.push(
      turn(
        call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER }),
        call('run_command', { argv: ['touch', 'pwned'] }),
      ),
      finish(),
    );
    const r = await runCli(['implement', '--repo', root, 'ignore long words'], { env: cliEnv(local.url, state) });
    assert.equal(r.code, 4);
    assert.match(r.err, /not applied without --yes/);
    assert.match(r.err, /not run headless: touch pwned: asks: /);
    assert.equal(readFileSync(join(root, LIB), 'utf8').includes('w.len() <= 64'), false);
    assert.equal(existsSync(join(root, 'pwned')), false);
  });

  it('the local server is down: no paid call unless --allow-cloud-fallback, and either way the audit log says so', async () => {
    const dead = await openAiServer();
    const deadUrl = dead.url;
    await dead.close();
    const a = fresh();
    const refused = await runCli(['implement', '--repo', a.root, '--yes', 'ignore long words'], {
      env: cliEnv(deadUrl, a.state),
    });
    assert.equal(refused.code, 3, refused.err);
    assert.equal(ds.requests.length, 0);
    assert.match(readFileSync(join(a.state, 'audit.jsonl'), 'utf8'), /the user declined a paid cloud call/);
    const b = fresh();
    ds.queue.push(turn(call('edit_file', { path: LIB, old_text: FILTER, new_text: GOOD_FILTER })), finish());
    const allowed = await runCli(
      ['implement', '--repo', b.root, '--yes', '--allow-cloud-fallback', 'ignore long words'],
      {
        env: cliEnv(deadUrl, b.state),
      },
    );
    assert.equal(allowed.code, 0, allowed.err);
    assert.ok(ds.requests.length >= 1);
    assert.match(readFileSync(join(b.state, 'audit.jsonl'), 'utf8'), /the user allowed the paid cloud fallback/);
  });
});

describe('the agent over the real llama-server', () => {
  it('the tools travel the real transport; the tiny model answers prose, is nudged once, and the task ends failed (local_only)', async () => {
    const missing = llamaServerMissing();
    if (missing) throw new Error(missing);
    const llama = await startLlama({ ctx: 4096, extraArgs: ['--jinja'] });
    try {
      const s = setup({ urls: { local: llama.url, deepseek: ds.url }, localOnly: true });
      const policy = { ...s.input.policy, agent: { command_allowlist: [], max_turns: 3 } };
      const r = await runAgent(s.ports, { ...s.input, policy, localOnly: true, maxTokens: 48 });
      const turns = s.events.filter((e) => e.type === 'turn');
      assert.ok(turns.length >= 1, r.message);
      assert.ok(turns.every((e) => e.type === 'turn' && e.provider === 'local'));
      assert.equal(r.status, 'failed', r.message);
      assert.equal(ds.requests.length, 0);
      assert.equal(s.read(LIB), s.original.lib);
    } finally {
      await llama.stop();
    }
  });
});

describe('the edit matcher and the checkpoints', () => {
  const FILE = 'fn a() {\n    let x = 1;\n\n    let y = 2;\n    x + y\n}\n';
  const ok = (old: string, neu: string, file = FILE) => {
    const r = applyEdit(file, old, neu);
    assert.ok(r.ok, r.ok ? '' : r.message);
    return r.text;
  };
  it('tolerates line endings, indentation, tabs, blank lines and one elided line; keeps the file as it is elsewhere', () => {
    assert.equal(ok('    let y = 2;', '    let y = 3;'), FILE.replace('y = 2', 'y = 3'));
    assert.equal(ok('  let x = 1;\n\n  let y = 2;', '  let x = 1;\n\n  let y = 5;'), FILE.replace('y = 2', 'y = 5'));
    assert.equal(
      ok('\tlet x = 1;\n\n\tlet y = 2;', '\tlet x = 1;\n\n\tlet y = 5;\n\tlet z = 0;'),
      FILE.replace('    let y = 2;', '    let y = 5;\n    let z = 0;'),
    );
    assert.equal(
      ok('    let x = 1;\r\n\r\n    let y = 2;', '    let x = 1;\r\n\r\n    let y = 7;'),
      FILE.replace('y = 2', 'y = 7'),
    );
    assert.equal(
      ok('    let x = 1;\n    let y = 2;', '    let x = 1;\n    let y = 8;'),
      FILE.replace('y = 2', 'y = 8'),
    );
    // "let y = 2;" left out between two unchanged lines: kept where it is.
    assert.equal(
      ok('fn a() {\n    let x = 1;\n    x + y\n}', 'fn b() {\n    let x = 1;\n    x + y\n}'),
      FILE.replace('fn a', 'fn b'),
    );
    // The left-out line is the one before a blank line: it stays above the blank, whatever comes after it.
    const doc = 'const a = 1;\nconst b = 2;\n\n/** doc */\nconst c = {};\n\nrun();\n';
    assert.equal(
      ok('const a = 1;\n\n/** doc */\nconst c = {};\n\nrun();', 'const a = 1;\n\nrun();', doc),
      'const a = 1;\nconst b = 2;\n\nrun();\n',
    );
    assert.equal(
      ok('const a = 1;\n\n/** doc */', 'const a = 1;\n\nconst z = 0;\n\n/** doc */', doc),
      'const a = 1;\nconst b = 2;\n\nconst z = 0;\n\n/** doc */\nconst c = {};\n\nrun();\n',
    );
    const crlf = applyEdit(FILE.replace(/\n/g, '\r\n'), '    let y = 2;\n', '    let y = 9;\n');
    assert.ok(crlf.ok && crlf.text === FILE.replace('y = 2', 'y = 9').replace(/\n/g, '\r\n'));
  });
  it('never guesses: an elided line beside a change, a missing text and a repeated one are refused', () => {
    const elided = applyEdit(FILE, '    let x = 1;\n    x + y', '    let x = 1;\n    let w = 0;\n    x + y');
    assert.ok(!elided.ok && elided.kind === 'ambiguous');
    const beside = applyEdit(FILE, '    let x = 1;\n    x + y\n}', '    let x = 1;\n    x - y\n}');
    assert.ok(!beside.ok && beside.kind === 'ambiguous');
    const missing = applyEdit(FILE, '    let q = 1;', 'x');
    assert.ok(!missing.ok && /nearest lines to its first line are line 2/.test(missing.message));
    const twice = applyEdit('a\nb\na\n', 'a', 'c');
    assert.ok(!twice.ok && twice.kind === 'ambiguous');
  });
  it("outside git, list_files respects each folder's .gitignore relative to that folder", async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-agent-walk-'));
    mkdirSync(join(root, 'a', 'gen'), { recursive: true });
    mkdirSync(join(root, 'b', 'gen'), { recursive: true });
    writeFileSync(join(root, 'a', '.gitignore'), '/gen/\n'); // anchored: a/gen, relative to its folder
    for (const f of ['a/gen/x.rs', 'a/keep.rs', 'b/gen/y.rs']) writeFileSync(join(root, f), '//\n');
    const ws = new Workspace(root);
    assert.deepEqual(ws.files(), ['a/.gitignore', 'a/keep.rs', 'b/gen/y.rs']);
  });

  it("a checkpoint in a git workspace borrows the user's index and objects and leaves the user's repository as it was", async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-agent-git-'));
    cpSync(join(ROOT, 'demo'), root, { recursive: true });
    const git = (...a: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: root, encoding: 'utf8' });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'demo');
    const index = readFileSync(join(root, '.git', 'index'));
    const head = git('rev-parse', 'HEAD');
    writeFileSync(join(root, 'new.txt'), 'untracked\n');
    const cps = new ShadowCheckpoints(mkdtempSync(join(tmpdir(), 'sy-agent-shadow-')), root);
    const first = await cps.create('before');
    writeFileSync(join(root, LIB), 'changed\n');
    rmSync(join(root, 'new.txt'));
    writeFileSync(join(root, 'added.txt'), 'added\n');
    await cps.restore(first.id);
    assert.equal(readFileSync(join(root, LIB), 'utf8').startsWith('//!'), true);
    assert.equal(readFileSync(join(root, 'new.txt'), 'utf8'), 'untracked\n');
    assert.equal(existsSync(join(root, 'added.txt')), false);
    assert.deepEqual(readFileSync(join(root, '.git', 'index')), index);
    assert.equal(git('rev-parse', 'HEAD'), head);
    assert.equal(git('status', '--porcelain'), '?? new.txt\n');
  });
});
