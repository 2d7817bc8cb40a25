import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { anthropicUsage } from '../../src/core/providers/anthropic.js';
import { Ledger } from '../../src/core/budget/ledger.js';
import { costPico, pricesFor } from '../../src/core/budget/cost.js';
import { AuditLog, JsonlFile } from '../../src/core/evidence/auditLog.js';
import { Redactor } from '../../src/core/evidence/redact.js';
import { ROLE_IDS } from '../../src/core/policy/constants.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { CallFailed, CallRefused, type ProvenanceRecord } from '../../src/core/providers/call.js';
import { retryAfterMs } from '../../src/core/providers/errors.js';
import { OpenAiCompatAdapter, openAiUsage } from '../../src/core/providers/openaiCompat.js';
import { callJson } from '../../src/core/providers/structured.js';
import { guardedFetch, isLoopbackHost } from '../../src/core/providers/transport.js';
import { CallError, type StreamEvent } from '../../src/core/providers/types.js';
import { anthropicServer, openAiServer, type WireServer } from '../support/wireServers.js';

// The one path of every model call, through the official SDKs, against servers that speak the real wire formats.
const KEYS = {
  anthropic: 'sk-ant-api03-TESTKEYanthropic0123456789',
  openai: 'sk-proj-TESTKEYopenai0123456789abcd',
  deepseek: 'sk-TESTKEYdeepseek0123456789abcd',
  moonshot: 'sk-TESTKEYmoonshot0123456789abcd',
};

let local: WireServer, anth: WireServer, oai: WireServer, ds: WireServer, moon: WireServer;
const servers = () => [local, anth, oai, ds, moon];
const cloud = () => [anth, oai, ds, moon];
before(async () => {
  [local, anth, oai, ds, moon] = await Promise.all([
    openAiServer(),
    anthropicServer(),
    openAiServer('openai'),
    openAiServer('deepseek'),
    openAiServer('moonshot'),
  ]);
});
after(async () => {
  await Promise.all(servers().map((s) => s.close()));
});
beforeEach(() => {
  for (const s of servers()) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok' };
  }
});

interface Setup {
  localOnly?: boolean;
  policy?: Policy;
  keys?: Partial<typeof KEYS>;
  localUrl?: string | null;
  budget?: Ledger;
}
function setup(o: Setup = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-call-'));
  const policy = o.policy ?? bundledPolicy();
  const keys = o.keys ?? KEYS;
  const sleeps: number[] = [];
  const urls: Record<string, string | undefined> = {
    local: o.localUrl === null ? undefined : (o.localUrl ?? local.url),
    anthropic: anth.url,
    openai: oai.url,
    deepseek: ds.url,
    moonshot: moon.url,
  };
  const caller = testCaller({
    policy,
    urls,
    keys,
    localOnly: o.localOnly,
    stateDir: dir,
    ...(o.budget ? { budget: o.budget } : {}),
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  }).caller;
  const audit = () => new AuditLog(join(dir, 'audit.jsonl')).read();
  const provenance = () => new JsonlFile<ProvenanceRecord>(join(dir, 'provenance.jsonl')).read();
  return { caller, dir, sleeps, audit, provenance };
}
const ask = (role: string, content = 'hello') => ({
  role: role as never,
  messages: [{ role: 'user' as const, content }],
});

describe('model calls: happy paths through each provider', () => {
  it('tutor streams from the local server; answer, usage, ttft and a provenance record are kept', async () => {
    const { caller, provenance, audit } = setup();
    const events: StreamEvent[] = [];
    const r = await caller.call({ ...ask('tutor'), onEvent: (e) => events.push(e) });
    assert.equal(r.provider, 'local');
    assert.equal(r.text, 'Hello from the test server.');
    assert.equal(
      events
        .filter((e) => e.type === 'text')
        .map((e) => (e as { text: string }).text)
        .join(''),
      r.text,
    );
    assert.ok(r.usage.reported && r.usage.output_tokens > 0);
    assert.equal(r.cost_usd, 0);
    assert.ok(r.timings.ttft_ms !== null && r.timings.ttft_ms <= r.timings.total_ms);
    const body = local.requests[0]!.body;
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    const [p] = provenance();
    assert.equal(p!.outcome, 'ok');
    assert.equal(p!.rule, 'tutor.local');
    assert.match(p!.request_sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      audit().map((e) => e.kind),
      ['decision', 'call'],
    );
  });

  it('the judge reaches OpenAI with reasoning_effort high, max_completion_tokens and the Bearer key; cost from usage', async () => {
    oai.queue.push({
      kind: 'ok',
      text: 'verdict',
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 200,
        total_tokens: 1200,
        prompt_tokens_details: { cached_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 150 },
      },
    });
    const { caller } = setup();
    const r = await caller.call({ ...ask('judge'), max_tokens: 500 });
    assert.equal(r.provider, 'openai');
    const req = oai.requests[0]!;
    assert.equal(req.body.reasoning_effort, 'high');
    assert.equal(req.body.max_completion_tokens, 500);
    assert.equal(req.headers.authorization, `Bearer ${KEYS.openai}`);
    // (1000-400)·1.25 + 400·0.125 + 200·10 per MTok = 0.00275 USD, exactly
    assert.equal(r.cost_pico, 600 * 1_250_000 + 400 * 125_000 + 200 * 10_000_000);
    assert.equal(r.usage.reasoning_tokens, 150);
  });

  it('Anthropic: the key, system prompt apart, cumulative message_delta usage read as the latest value, never summed', async () => {
    anth.queue.push({
      kind: 'ok',
      chunks: ['a', 'b', 'c', 'd'],
      usage: {
        start: {
          input_tokens: 500,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 300,
          cache_creation: { ephemeral_5m_input_tokens: 60, ephemeral_1h_input_tokens: 40 },
          output_tokens: 1,
        },
        final: { output_tokens: 4 },
      },
    });
    const { caller } = setup({ localUrl: null });
    const r = await caller.call({
      role: 'tutor',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    assert.equal(r.provider, 'anthropic');
    const h = anth.requests[0]!.headers;
    assert.equal(h['x-api-key'] ?? String(h.authorization).replace(/^Bearer /, ''), KEYS.anthropic); // the SDK picks the header
    assert.ok(h['anthropic-version']);
    assert.equal(anth.requests[0]!.body.system, 'be brief');
    assert.deepEqual(r.usage, {
      input_tokens: 500,
      cached_input_tokens: 300,
      cache_write_5m_tokens: 60,
      cache_write_1h_tokens: 40,
      output_tokens: 4,
      reasoning_tokens: 0,
      reported: true,
    });
    const p = pricesFor(bundledPolicy(), 'anthropic', 'claude-haiku-4-5')!;
    assert.equal(r.cost_pico, 500 * 1_000_000 + 300 * 100_000 + 60 * 1_250_000 + 40 * 2_000_000 + 4 * 5_000_000);
    assert.equal(r.cost_pico, costPico(r.usage, p));
  });

  it('DeepSeek: reasoning_content streams apart from the answer; cache hit/miss priced exactly', async () => {
    ds.fallback = {
      kind: 'ok',
      text: 'patch',
      reasoning: ['think ', 'hard'],
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 50,
        total_tokens: 1050,
        prompt_cache_hit_tokens: 800,
        prompt_cache_miss_tokens: 200,
      },
    };
    const { caller } = setup({ localUrl: null });
    const events: StreamEvent[] = [];
    const r = await caller.call({
      ...ask('implementer'),
      route: { change: { lines_changed: 40, high_risk: false, risk_flags: [], cross_crate: false } },
      onEvent: (e) => events.push(e),
    });
    assert.equal(r.provider, 'deepseek');
    assert.equal(r.text, 'patch');
    assert.equal(
      events
        .filter((e) => e.type === 'reasoning')
        .map((e) => (e as { text: string }).text)
        .join(''),
      'think hard',
    );
    assert.deepEqual([r.usage.input_tokens, r.usage.cached_input_tokens], [200, 800]);
    assert.equal(r.cost_pico, 200 * 140_000 + 800 * 2_800 + 50 * 280_000);
  });

  it('usage readers: Moonshot top-level cached_tokens, OpenAI cached details, Anthropic without cache_creation', () => {
    assert.deepEqual(
      openAiUsage('moonshot', { prompt_tokens: 1113, completion_tokens: 5, cached_tokens: 1024 }).cached_input_tokens,
      1024,
    );
    assert.deepEqual(
      openAiUsage('moonshot', {
        prompt_tokens: 1113,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 1000 },
      }).input_tokens,
      113,
    );
    assert.equal(
      openAiUsage('openai', { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 } })
        .input_tokens,
      6,
    );
    assert.equal(
      anthropicUsage({ input_tokens: 5, cache_creation_input_tokens: 30 }, { output_tokens: 9 }).cache_write_5m_tokens,
      30,
    );
  });
});

describe('model calls: local_only (GR-009) enforced twice', () => {
  it('every role under local_only: zero requests reach the cloud test servers', async () => {
    const { caller, audit } = setup({ localOnly: true });
    const outcomes: Record<string, string> = {};
    for (const role of ROLE_IDS) {
      try {
        const r = await caller.call(ask(role));
        outcomes[role] = `ok:${r.provider}`;
      } catch (e) {
        outcomes[role] =
          e instanceof CallRefused ? `refused:${e.guardrail ?? 'none'}` : `failed:${(e as CallFailed).kind}`;
      }
    }
    assert.equal(
      cloud().reduce((n, s) => n + s.requests.length, 0),
      0,
      'no request may reach a cloud server',
    );
    assert.equal(outcomes.judge, 'refused:GR-009');
    for (const role of ['architect', 'implementer', 'librarian', 'tutor', 'reflector', 'stage0_synth'])
      assert.equal(outcomes[role], 'ok:local', role);
    for (const role of ['stage0_retrieval', 'embeddings', 'vision']) assert.equal(outcomes[role], 'refused:none', role);
    assert.ok(local.requests.length >= 6);
    assert.ok(
      audit().some(
        (e) => e.kind === 'decision' && e.decision?.role === 'judge' && e.decision.refused?.guardrail === 'GR-009',
      ),
    );
  });

  it('under local_only a failing local server is never replaced by a cloud model', async () => {
    local.fallback = { kind: 'status', status: 500 };
    const { caller, audit } = setup({ localOnly: true });
    await assert.rejects(caller.call(ask('tutor')), (e: unknown) => e instanceof CallFailed && e.kind === 'server');
    assert.equal(
      cloud().reduce((n, s) => n + s.requests.length, 0),
      0,
    );
    assert.ok(audit().some((e) => e.kind === 'failure'));
  });

  it('the transport refuses a non-loopback host under local_only before any socket, whatever the caller asked for', async () => {
    let reached = 0;
    const spy = (async () => {
      reached++;
      return new Response('{}');
    }) as typeof fetch;
    const adapter = new OpenAiCompatAdapter(guardedFetch(() => true, spy));
    const ac = new AbortController();
    await assert.rejects(
      adapter.stream(
        { provider: 'openai', model: 'gpt-5.1', baseURL: 'https://api.openai.com/v1', apiKey: 'k' },
        { messages: [{ role: 'user', content: 'x' }], max_tokens: 5 },
        () => {},
        ac.signal,
      ),
      (e: unknown) => e instanceof CallError && e.kind === 'transport_refused' && /GR-009/.test(e.message),
    );
    assert.equal(reached, 0);
    // An external "local" endpoint on another host is refused too, and the CLI would exit 3.
    const { caller, audit } = setup({ localOnly: true, localUrl: 'http://10.255.0.1:8000/v1' });
    await assert.rejects(
      caller.call(ask('tutor')),
      (e: unknown) => e instanceof CallRefused && e.guardrail === 'GR-009',
    );
    assert.ok(audit().some((e) => e.kind === 'refusal' && e.guardrail === 'GR-009'));
    assert.ok(
      isLoopbackHost('127.0.0.1') &&
        isLoopbackHost('[::1]') &&
        isLoopbackHost('localhost') &&
        !isLoopbackHost('10.0.0.1') &&
        !isLoopbackHost('127.0.0.1.nip.io'),
    );
  });
});

describe('model calls: failures, retries and the fallback chain (GR-005)', () => {
  it('local 500s: two retries with growing back-off, then Haiku, each step audited', async () => {
    local.fallback = { kind: 'status', status: 500 };
    const { caller, audit, sleeps } = setup();
    const r = await caller.call(ask('tutor'));
    assert.equal(r.provider, 'anthropic');
    assert.equal(r.model, 'claude-haiku-4-5');
    assert.equal(local.requests.length, 3);
    assert.equal(sleeps.length, 2);
    const lines = audit();
    assert.deepEqual(
      lines.map((e) => e.kind),
      ['decision', 'retry', 'retry', 'fallback', 'call'],
    );
    const fb = lines.find((e) => e.kind === 'fallback')!;
    assert.equal(fb.from, 'local/Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    assert.equal(fb.to, 'anthropic/claude-haiku-4-5');
    assert.match(fb.audit, /GR-005: .* -> anthropic\/claude-haiku-4-5: server/);
    assert.ok(r.escalated);
  });

  it('429 honours retry-after (seconds and -ms); 529 overloaded is retried', async () => {
    anth.queue.push({ kind: 'status', status: 429, headers: { 'retry-after': '2' } }, { kind: 'status', status: 529 });
    const { caller, sleeps } = setup({ localUrl: null });
    const r = await caller.call(ask('tutor'));
    assert.equal(r.provider, 'anthropic');
    assert.equal(sleeps[0], 2000);
    assert.equal(sleeps.length, 2);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250' })), 250);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(Date.now() + 5000).toUTCString() }))! > 3000, true);
  });

  it('the implementer chain: local down, DeepSeek rejects the key, Sonnet answers; the audit names each step and why', async () => {
    ds.fallback = { kind: 'status', status: 401 };
    const { caller, audit } = setup({ localUrl: 'http://127.0.0.1:9/v1' });
    const r = await caller.call({
      ...ask('implementer'),
      route: { change: { lines_changed: 40, high_risk: false, risk_flags: [], cross_crate: false } },
    });
    assert.equal(`${r.provider}/${r.model}`, 'anthropic/claude-sonnet-4-6');
    const steps = audit()
      .filter((e) => e.kind === 'fallback')
      .map((e) => `${e.from} -> ${e.to}`);
    assert.deepEqual(steps, [
      'local/Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ -> deepseek/deepseek-v4-flash',
      'deepseek/deepseek-v4-flash -> anthropic/claude-sonnet-4-6',
    ]);
    assert.match(audit().find((e) => e.from?.startsWith('deepseek'))!.audit, /auth/);
  });

  it('a missing key skips the provider with an audit line saying how to set it', async () => {
    const { caller, audit } = setup({ localUrl: null, keys: { openai: KEYS.openai } });
    await assert.rejects(caller.call(ask('tutor')), (e: unknown) => e instanceof CallFailed && e.kind === 'no_key');
    assert.match(
      audit().find((e) => e.kind === 'fallback' && e.from?.startsWith('anthropic'))!.audit,
      /Set API Key|ANTHROPIC_API_KEY/,
    );
    assert.equal(anth.requests.length, 0);
  });

  for (const [kind, b] of [
    ['cut', { kind: 'cut', afterChunks: 3 }],
    ['malformed', { kind: 'malformed', afterChunks: 3 }],
    ['error event', { kind: 'error_event', afterChunks: 3, type: 'overloaded_error' }],
    ['end without finish', { kind: 'end_early', afterChunks: 3 }],
  ] as const) {
    it(`a stream ${kind} mid-answer: the partial text is voided (reset), retried, and the final answer is whole`, async () => {
      local.queue.push(b as never);
      anth.queue.push(b as never);
      const { caller, audit } = setup();
      for (const server of ['local', 'anthropic']) {
        const events: StreamEvent[] = [];
        const r = await caller.call({ ...ask('tutor'), onEvent: (e) => events.push(e) });
        const reset = events.findIndex((e) => e.type === 'reset');
        assert.ok(reset > 0, `${server}: a reset event after the partial text`);
        const after = events
          .slice(reset + 1)
          .filter((e) => e.type === 'text')
          .map((e) => (e as { text: string }).text)
          .join('');
        assert.equal(after, 'Hello from the test server.');
        assert.equal(r.text, 'Hello from the test server.');
        if (server === 'local') {
          local.fallback = { kind: 'status', status: 503 };
        }
      }
      assert.equal(
        audit().filter((e) => e.kind === 'retry' && /mid-stream; the partial answer was discarded/.test(e.audit))
          .length,
        2,
      );
    });
  }

  it('context length exceeded: the librarian escalates to Kimi by the policy, nothing truncated', async () => {
    local.queue.push({
      kind: 'status',
      status: 400,
      body: {
        error: {
          message:
            "This model's maximum context length is 131072 tokens. However, you requested 140000 tokens (132000 in the messages, 8000 in the completion).",
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      },
    });
    const { caller, audit } = setup();
    const r = await caller.call(ask('librarian', 'summarise these notes'));
    assert.equal(`${r.provider}/${r.model}`, 'moonshot/kimi-k2.6');
    const esc = audit().find((e) => e.kind === 'escalation')!;
    assert.match(
      esc.audit,
      /context length exceeded .* 140000 tokens needed.*librarian\.\w+.*the next model gets the request as the role wrote it/,
    );
    assert.equal(
      moon.requests[0]!.body.messages && (moon.requests[0]!.body.messages as { content: string }[])[0]!.content,
      'summarise these notes',
    );
  });

  it('cancellation mid-stream: the call stops, the server sees the socket close, nothing is kept, audit says cancelled', async () => {
    local.queue.push({ kind: 'ok', chunks: Array.from({ length: 200 }, () => 'tok '), chunkMs: 10 });
    const { caller, audit, provenance } = setup();
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      caller.call({
        ...ask('tutor'),
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'text' && ++seen === 3) ac.abort();
        },
      }),
      (e: unknown) => e instanceof CallFailed && e.kind === 'cancelled',
    );
    assert.ok(seen < 20, `stopped early (saw ${seen} chunks)`);
    assert.equal(anth.requests.length, 0, 'a cancelled call does not fall back');
    assert.ok(audit().some((e) => e.kind === 'cancelled'));
    assert.equal(provenance().at(-1)!.outcome, 'cancelled');
  });

  it('GR-011: a cloud call over a cap is refused naming the cap, before any request, never moved to a cheaper model', async () => {
    const policy = structuredClone(bundledPolicy());
    policy.budget.caps = [{ id: 'daily', scope: 'global', period: 'day', usd: 0.0001 }];
    const { caller, audit, dir } = setup({ policy });
    await assert.rejects(
      caller.call({ ...ask('architect'), max_tokens: 4000 }),
      (e: unknown) => e instanceof CallRefused && e.guardrail === 'GR-011' && /"daily"/.test(e.message),
    );
    assert.equal(
      cloud().reduce((n, s) => n + s.requests.length, 0),
      0,
    );
    assert.ok(audit().some((e) => e.kind === 'refusal' && e.guardrail === 'GR-011'));
    // The caps never block the free local lane, and its tokens are still counted.
    const r = await caller.call(ask('tutor'));
    assert.equal(r.provider, 'local');
    const ledger = new Ledger(join(dir, 'ledger.jsonl'), () => policy);
    const month = Object.values(ledger.books().month)[0]!;
    assert.equal(month.provider.local, 0);
    assert.ok(month.local > 0, 'local tokens are counted');
  });
});

describe('structured output (GR-012)', () => {
  const Plan = z.object({ goal: z.string(), confidence: z.number().min(0).max(1) });
  it('asks for JSON, validates it, and makes one repair attempt quoting the validation error', async () => {
    anth.queue.push(
      { kind: 'ok', text: '{"goal": "x", "confidence": 7}' },
      { kind: 'ok', text: '```json\n{"goal": "x", "confidence": 0.7}\n```' },
    );
    const { caller, audit } = setup();
    const r = await callJson(caller, Plan, {
      ...ask('architect'),
      schemaHint: '{"goal": string, "confidence": number 0..1}',
    });
    assert.deepEqual(r.value, { goal: 'x', confidence: 0.7 });
    assert.equal(r.repaired, true);
    const second = anth.requests[1]!.body.messages as { role: string; content: string }[];
    assert.match(second.at(-1)!.content, /did not validate: confidence: .*(<=|1)/);
    assert.match(String(anth.requests[0]!.body.system), /exactly one JSON object/);
    assert.match(
      audit().find((e) => e.kind === 'repair')!.audit,
      /GR-012: anthropic\/claude-sonnet-4-6 returned JSON that does not validate \(confidence/,
    );
  });

  it('fails clearly after the repair attempt', async () => {
    anth.queue.push({ kind: 'ok', text: 'not json at all' }, { kind: 'ok', text: '{"goal": 3}' });
    const { caller } = setup();
    await assert.rejects(
      callJson(caller, Plan, { ...ask('architect'), schemaHint: '{}' }),
      (e: unknown) =>
        e instanceof CallFailed && e.kind === 'invalid_output' && /after one repair attempt: goal/.test(e.message),
    );
  });

  it('OpenAI-compatible providers get response_format json_object', async () => {
    ds.queue.push({ kind: 'ok', text: '{"goal":"g","confidence":0.5}' });
    const { caller } = setup({ localUrl: null, keys: { deepseek: KEYS.deepseek } });
    await callJson(caller, Plan, {
      ...ask('architect'),
      route: { signals: { offline: false } },
      schemaHint: '{}',
    }).catch(() => null);
    const r = ds.requests.find((q) => q.body.response_format);
    assert.deepEqual(r?.body.response_format, { type: 'json_object' });
  });
});

describe('secrets', () => {
  it('no key appears in any written file, even when a prompt or an error carries one', async () => {
    anth.queue.push({
      kind: 'status',
      status: 500,
      body: { type: 'error', error: { type: 'api_error', message: `upstream said key ${KEYS.anthropic} is bad` } },
    });
    local.fallback = { kind: 'status', status: 500 };
    const { caller, dir } = setup();
    await caller.call(ask('tutor', `my key is ${KEYS.openai} and password=hunter2hunter2`)).catch(() => null);
    const text = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    assert.ok(text.length > 100);
    for (const k of Object.values(KEYS)) assert.ok(!text.includes(k), `key ${k.slice(0, 8)}… leaked`);
    assert.ok(!text.includes('hunter2hunter2'));
  });

  it('the redactor masks known key shapes and the keys it was given', () => {
    const r = new Redactor();
    r.add('custom-secret-value-123');
    const out = r.redact(
      'a sk-ant-api03-abcdefghijklmnop b Bearer abcdefghijklmnopqrstu c api_key="zzzzzzzzzz" d custom-secret-value-123 e AKIAABCDEFGHIJKLMNOP',
    );
    assert.doesNotMatch(out, /abcdefghijklmnop|zzzzzzzzzz|custom-secret|AKIAABCD/);
    assert.match(out, /api_key="\[REDACTED\]/);
  });
});

describe('switchyard ask (CLI)', () => {
  const ROOT = process.cwd();
  const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ code: number; out: string; err: string }>((res) => {
      execFile(
        process.execPath,
        ['--import', TSX, join(ROOT, 'src/cli/bin.ts'), 'ask', ...args],
        { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, encoding: 'utf8' },
        (e, out, err) => res({ code: e ? Number((e as { code?: number }).code) : 0, out, err }),
      );
    });
  const envFor = (state: string) => ({
    SWITCHYARD_STATE_DIR: state,
    SWITCHYARD_LOCAL_BASE_URL: local.url,
    ANTHROPIC_BASE_URL: anth.url,
    ANTHROPIC_API_KEY: KEYS.anthropic,
    OPENAI_BASE_URL: oai.url,
    OPENAI_API_KEY: KEYS.openai,
    DEEPSEEK_BASE_URL: ds.url,
    DEEPSEEK_API_KEY: KEYS.deepseek,
    MOONSHOT_BASE_URL: moon.url,
    MOONSHOT_API_KEY: KEYS.moonshot,
  });

  it('streams the answer to stdout; --json prints the record; exit 0', async () => {
    const state = mkdtempSync(join(tmpdir(), 'sy-ask-'));
    const a = await run(['--role', 'tutor', 'hello'], envFor(state));
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out, 'Hello from the test server.\n');
    const b = await run(['--role', 'tutor', '--json', '--task', 't-1', 'hello'], envFor(state));
    const rec = JSON.parse(b.out);
    assert.equal(rec.provider, 'local');
    assert.equal(rec.decision.rule, 'tutor.local');
    assert.equal(rec.text, 'Hello from the test server.');
    assert.match(rec.audit, /tutor: local\/.* answered/);
    const p = new JsonlFile<ProvenanceRecord>(join(state, 'provenance.jsonl')).read();
    assert.equal(p.at(-1)!.task_id, 't-1');
  });

  it('exit 4 with the audit trail when every allowed model fails; exit 3 for a guardrail; exit 2 for a bad role', async () => {
    local.fallback = { kind: 'status', status: 500 };
    anth.fallback = { kind: 'status', status: 500 };
    const state = mkdtempSync(join(tmpdir(), 'sy-ask-'));
    const env = envFor(state);
    const a = await run(['--role', 'tutor', 'hello'], env);
    assert.equal(a.code, 4, a.err);
    assert.match(a.err, /every model the policy allows for tutor failed/);
    assert.match(a.err, /GR-005: local\/.* -> anthropic\/claude-haiku-4-5/);
    const b = await run(['--role', 'judge', '--local-only', 'audit this'], env);
    assert.equal(b.code, 3);
    assert.match(b.err, /GR-009/);
    const c = await run(['--role', 'wizard', 'x'], env);
    assert.equal(c.code, 2);
    assert.match(c.err, /--role: "wizard" is not a role/);
  });
});
