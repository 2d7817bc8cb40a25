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

  it("a prompt past the server's context is a clear context-length failure under local_only, never truncated", async () => {
    const { caller: c, audit } = caller(true);
    const long = 'word '.repeat(4000);
    await assert.rejects(
      c.call({ role: 'tutor', messages: [{ role: 'user', content: long }], max_tokens: 8 }),
      (e: unknown) => e instanceof CallFailed && e.kind === 'context_length',
    );
    assert.ok(audit().some((e) => e.kind === 'escalation' && /nothing was truncated/.test(e.audit)));
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
