import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { CallFailed } from '../../src/core/providers/call.js';
import type { StreamEvent } from '../../src/core/providers/types.js';
import { llamaServerMissing, startLlama, type RunningLlama } from '../support/llamaServer.js';
import { anthropicServer } from '../support/wireServers.js';
import { runCli } from './helpers/cli.js';

// The local lane against a real llama.cpp server (built from source by the test setup, tiny model made here).
describe('the local lane against a real llama-server', () => {
  let llama: RunningLlama;
  before(async () => {
    const missing = llamaServerMissing();
    if (missing) throw new Error(missing);
    llama = await startLlama({ apiKey: 'local-key-0123456789' });
  });
  after(async () => {
    await llama?.stop();
  });

  const caller = (localOnly = true) => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-llama-call-'));
    const policy = bundledPolicy();
    return {
      dir,
      audit: () => new AuditLog(join(dir, 'audit.jsonl')).read(),
      caller: testCaller({
        policy,
        urls: { local: `${llama.url}/v1` },
        keys: { local: 'local-key-0123456789' },
        localOnly: () => localOnly,
        stateDir: dir,
      }).caller,
    };
  };

  it('becomes ready (503 while loading is handled by the harness) and streams a tutor answer with real usage', async () => {
    const { caller: c } = caller();
    const events: StreamEvent[] = [];
    const r = await c.call({
      role: 'tutor',
      messages: [{ role: 'user', content: 'Explain ownership in one line.' }],
      max_tokens: 24,
      temperature: 0,
      onEvent: (e) => events.push(e),
    });
    assert.equal(r.provider, 'local');
    assert.equal(r.finish_reason, 'length'); // the tiny model never stops by itself
    assert.ok(r.text.length > 0);
    assert.equal(r.usage.reported, true);
    assert.equal(r.usage.output_tokens, 24);
    assert.ok(r.usage.input_tokens > 5);
    assert.ok(events.filter((e) => e.type === 'text').length >= 10, 'streamed in pieces');
    assert.ok(r.timings.ttft_ms !== null && r.timings.ttft_ms < r.timings.total_ms);
  });

  it('the same request at temperature 0 gives the same answer (the local lane is reproducible)', async () => {
    const { caller: c } = caller();
    const ask = () =>
      c.call({ role: 'tutor', messages: [{ role: 'user', content: 'same question' }], max_tokens: 16, temperature: 0 });
    assert.equal((await ask()).text, (await ask()).text);
  });

  it('cancellation mid-stream stops the generation', async () => {
    const { caller: c, audit } = caller();
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(
      c.call({
        role: 'tutor',
        messages: [{ role: 'user', content: 'go on' }],
        max_tokens: 1500,
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'text' && ++n === 5) ac.abort();
        },
      }),
      (e: unknown) => e instanceof CallFailed && e.kind === 'cancelled',
    );
    assert.ok(n < 200, `stopped after ${n} pieces`);
    assert.ok(audit().some((e) => e.kind === 'cancelled'));
    // The server is still healthy and serves the next call.
    const r = await c.call({ role: 'tutor', messages: [{ role: 'user', content: 'again' }], max_tokens: 4 });
    assert.equal(r.usage.output_tokens, 4);
  });

  it("a prompt past the server's window that may not be cut is a clear failure under local_only, naming the window", async () => {
    const { caller: c, audit } = caller(true);
    const long = 'word '.repeat(4000);
    await assert.rejects(
      c.call({ role: 'tutor', messages: [{ role: 'user', content: long }], max_tokens: 8 }),
      (e: unknown) =>
        e instanceof CallFailed &&
        e.kind === 'context_length' &&
        /the tutor's request needs at least \d+ tokens .* has a window of 8192 tokens \(as the server runs it\)/.test(
          e.message,
        ) &&
        /runtime\.llama_cpp\.ctx_size/.test(e.message),
    );
    assert.ok(audit().some((e) => e.kind === 'escalation' && /request as the role wrote it/.test(e.audit)));
  });

  it('a keyed team endpoint gets its key; a wrong or missing key is a clear 401 and never a silent cloud fallback', async () => {
    const cloud = await anthropicServer();
    try {
      const policy = bundledPolicy();
      const withKey = (key: string | undefined) =>
        testCaller({
          policy,
          urls: { local: `${llama.url}/v1`, anthropic: cloud.url },
          keys: (p) =>
            p === 'local' ? key : p === 'anthropic' ? 'sk-ant-api03-TESTKEYanthropic0123456789' : undefined,
        });
      const ok = withKey('local-key-0123456789');
      const r = await ok.caller.call({ role: 'tutor', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
      assert.equal(r.provider, 'local');
      for (const [key, words] of [
        ['wrong-key-000000', /refused the key it was sent \(401\)/],
        [undefined, /wants an API key and none is set \(401\)/],
      ] as const) {
        const t = withKey(key);
        await assert.rejects(
          t.caller.call({ role: 'tutor', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 }),
          (e: unknown) =>
            e instanceof CallFailed &&
            e.kind === 'auth' &&
            words.test(e.message) &&
            /Set API Key" > "Team endpoint \(local lane\)", or SWITCHYARD_LOCAL_API_KEY/.test(e.message),
        );
        assert.ok(t.auditLines().some((l) => /GR-005: local: the endpoint .* \(401\)/.test(l)));
      }
      assert.equal(cloud.requests.length, 0, 'the Tutor fell to the cloud (Haiku) on a key problem');
      // The CLI: SWITCHYARD_LOCAL_BASE_URL and SWITCHYARD_LOCAL_API_KEY.
      const env = (key: string) => ({
        ...process.env,
        SWITCHYARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'sy-llama-cli-')),
        SWITCHYARD_LOCAL_BASE_URL: `${llama.url}/v1`,
        SWITCHYARD_LOCAL_API_KEY: key,
        ANTHROPIC_API_KEY: '',
      });
      const good = await runCli(['ask', '--role', 'tutor', '--max-tokens', '4', 'hi'], {
        env: env('local-key-0123456789'),
      });
      assert.equal(good.code, 0, good.err);
      const bad = await runCli(['ask', '--role', 'tutor', '--max-tokens', '4', 'hi'], { env: env('nope-000000') });
      assert.notEqual(bad.code, 0);
      assert.match(bad.err, /refused the key it was sent \(401\).*SWITCHYARD_LOCAL_API_KEY/s);
    } finally {
      await cloud.close();
    }
  });
});

// Embeddings on the local runtime: llama-server's /v1/embeddings (started with --embeddings), as vLLM or
// llama.cpp serve bge-m3. The tiny random model's vectors mean nothing; the path, the stored model id and
// dimension, and the absence of any cloud request are what is tested.
describe('Stage 0 embeddings from a real llama-server', () => {
  let llama: RunningLlama;
  before(async () => {
    const missing = llamaServerMissing();
    if (missing) throw new Error(missing);
    // llama.cpp embeds one input per physical batch: -ub must cover the longest input (a file's head is ~1,100 tokens of this tiny vocabulary).
    llama = await startLlama({ extraArgs: ['--embeddings', '--pooling', 'mean', '-b', '2048', '-ub', '2048'] });
  });
  after(async () => {
    await llama?.stop();
  });

  it('the index is built with vectors from the local server, stored with the policy model id and the dimension', async () => {
    const { Stage0 } = await import('../../src/core/retrieval/stage0.js');
    const { callerEmbedder } = await import('../../src/core/retrieval/embeddings.js');
    const dir = mkdtempSync(join(tmpdir(), 'sy-llama-emb-'));
    const policy = bundledPolicy();
    const c = testCaller({
      policy,
      urls: { local: `${llama.url}/v1` },
      keys: {},
      localOnly: true,
      stateDir: dir,
    }).caller;
    const s = new Stage0({
      root: join(import.meta.dirname, '..', 'fixtures', 'retrieval'),
      embedder: callerEmbedder(c),
      embeddingsFile: join(dir, 'embeddings.json'),
    });
    const stats = await s.build();
    assert.deepEqual(stats.notes, []);
    assert.equal(stats.embedded, stats.indexed);
    assert.equal(stats.embeddings?.model, 'BAAI/bge-m3');
    assert.ok((stats.embeddings?.dim ?? 0) > 0);
    const r = await s.query('ledger replay', { k: 3 });
    assert.deepEqual(r.semantic, { model: 'BAAI/bge-m3' });
    assert.ok(r.results.every((x) => 'cosine' in x.why.semantic));
    const lines = new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit);
    assert.ok(
      lines.some((l) =>
        new RegExp(
          `embeddings: local/BAAI/bge-m3 embedded \\d+ input\\(s\\) \\(dimension ${stats.embeddings!.dim}`,
        ).test(l),
      ),
      lines.join('\n'),
    );
  });
});

// With no keys, on the bundled test model served by a real llama-server (`-c 8192 --parallel 1`): every role fits
// the window the server really runs with (issue 31). The tiny model's answers are random characters, so a role
// that needs JSON ends with a clear "not valid JSON" message; none ends with a context error.
describe('every role fits the window of the real llama-server, with no keys', () => {
  let llama: RunningLlama;
  before(async () => {
    const missing = llamaServerMissing();
    if (missing) throw new Error(missing);
    llama = await startLlama();
  });
  after(async () => {
    await llama?.stop();
  });
  const noKeys = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-llama-fit-'));
    const t = testCaller({ policy: bundledPolicy(), urls: { local: `${llama.url}/v1` }, keys: {}, stateDir: dir });
    return { ...t, dir };
  };
  const workspace = Array.from({ length: 400 }, (_, i) => `crates/part-${i % 20}/src/module_${i}.rs`).join('\n');

  it("the window is the server's own, read from /props (one slot of -c 8192)", async () => {
    const { readWindow } = await import('../../src/core/runtime/window.js');
    assert.equal(await readWindow(`${llama.url}/v1`), 8192);
  });

  it('Plan a Change: the offline local draft is fitted (the workspace context cut, audited), and ends without a context error', async () => {
    const { createPlan } = await import('../../src/core/plan/architect.js');
    const t = noKeys();
    const context = `Open file: src/lib.rs\n\`\`\`\n${'fn f() {}\n'.repeat(300)}\`\`\`\n\nFiles (400):\n${workspace}`;
    const outcome = await createPlan(t.caller, {
      goal: 'Add a retry to the HTTP client',
      context,
      policy: bundledPolicy(),
    }).then(
      () => 'planned',
      (e: Error & { kind?: string }) => e,
    );
    // The random model cannot write a plan: the end is the clear JSON message, never a context overflow.
    assert.notEqual(outcome, 'planned');
    const e = outcome as Error & { kind?: string };
    assert.notEqual(e.kind, 'context_length', e.message);
    assert.doesNotMatch(e.message, /context length exceeded|exceeds the available context/);
    assert.match(e.message, /GR-012: the architect's answer is not valid JSON/);
    const fit = t.audit().filter((a) => a.kind === 'fit');
    assert.ok(fit.length >= 1, t.auditLines().join('\n'));
    assert.match(
      fit[0]!.audit,
      /GR-005: architect: fitted to the 8192-token window of local\/.+ \(as the server runs it; 4096 kept for the answer, \d+ sent\): cut \d+ of \d+ parts of the workspace context/,
    );
    assert.ok(t.audit().some((a) => a.kind === 'fallback' && /local planner writes a fast draft/.test(a.audit)));
  });

  it('the Tutor: a long conversation loses its oldest exchanges to fit, and every question gets an answer', async () => {
    const { TutorController } = await import('../../src/core/tutor/controller.js');
    const t = noKeys();
    const states: { turns?: { role: string; status: string; error: string | null }[] }[] = [];
    const tutor = new TutorController({
      call: (o) => t.caller.call({ role: 'tutor', ...o, max_tokens: 1500 }),
      post: (m) => states.push(m as (typeof states)[number]),
      selection: () => null,
      pickFile: async () => null,
      copy: async () => {},
      insert: async () => null,
      openLink: async () => {},
      countTokens: (s) => Math.ceil(s.length / 4),
      lane: () => 'local',
      label: (p, m) => `${p}/${m}`,
      limits: () => ({ short: 100_000, window: 100_000 }),
      log: { warn: () => {}, info: () => {} },
    });
    for (let i = 0; i < 5; i++) await tutor.handle({ type: 'send', text: `Question ${i}: what is a borrow?` });
    const turns = states.at(-1)!.turns!;
    const answers = turns.filter((x) => x.role === 'assistant');
    assert.equal(answers.length, 5);
    assert.deepEqual(
      answers.map((a) => [a.status, a.error]),
      answers.map(() => ['done', null]),
    );
    const fit = t.audit().filter((a) => a.kind === 'fit');
    assert.ok(fit.length >= 1, t.auditLines().join('\n'));
    assert.match(
      fit.at(-1)!.audit,
      /GR-005: tutor: fitted to the 8192-token window .*cut \d+ earlier conversation message\(s\)/,
    );
  });

  it('the Judge: a clear "needs a cloud key" message, and nothing is drafted locally (GR-003)', async () => {
    const { runJudge, buildBundle } = await import('../../src/core/judge/judge.js');
    const t = noKeys();
    const bundle = buildBundle('the change', [{ path: 'src/lib.rs', text: 'fn f() {}\n' }], [], 50_000);
    await assert.rejects(
      runJudge(t.caller, bundle, {}),
      (e: unknown) =>
        e instanceof CallFailed &&
        /no API key for any cloud model the policy allows for judge/.test(e.message) &&
        /Set API Key/.test(e.message),
    );
    assert.ok(!t.provenance().some((p) => p.provider === 'local'), 'no local model was asked to judge');
  });
});
