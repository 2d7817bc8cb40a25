import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { bundledPolicy } from '../../src/core/policy/store.js';
import type { ChatMessage } from '../../src/core/providers/types.js';
import { AGENT_TOOLS } from '../../src/core/agent/toolSpecs.js';
import { runCachedTask, TASK_MODEL } from '../support/cachedTask.js';
import { minimumCacheable, PromptCache } from '../support/promptCache.js';
import { anthropicServer, type WireServer } from '../support/wireServers.js';
import { testCaller } from './helpers/caller.js';

// Prompt caching (issue 31): the Anthropic adapter marks cache breakpoints on the tools, the system prompt, the end of
// the stable prefix and the latest turn; the Anthropic test server honours cache_control as Anthropic documents it
// (promptCache.ts); the agent's prefix stays stable from turn to turn, so a 20-turn task reads most of its input
// from the cache, and the ledger bills the reads and writes at their prices.

type Body = Record<string, unknown>;
type Marked = { cache_control?: unknown };

let claude: WireServer;
before(async () => {
  claude = await anthropicServer();
});
after(() => claude.close());
beforeEach(() => {
  claude.queue.length = 0;
  claude.requests.length = 0;
  claude.fallback = { kind: 'ok', text: 'ok' };
  claude.promptCache!.clear();
});

/** Where a request's breakpoints are: "tools" (the index of the tool), "system", "message i block j". */
function breakpoints(body: Body): string[] {
  const out: string[] = [];
  const tools = (body.tools ?? []) as Marked[];
  tools.forEach((t, i) => t.cache_control && out.push(`tool ${i}/${tools.length}`));
  if (Array.isArray(body.system)) (body.system as Marked[]).forEach((b) => b.cache_control && out.push('system'));
  (body.messages as { content: unknown }[]).forEach((m, i) => {
    if (Array.isArray(m.content))
      (m.content as Marked[]).forEach((b, j) => b.cache_control && out.push(`message ${i} block ${j}`));
  });
  return out;
}

const words = (n: number, seed: string) => Array.from({ length: n }, (_, i) => `${seed}${i}`).join(' ');

describe('the Anthropic test server honours cache_control as the API documents it', () => {
  const sdk = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: claude.url, maxRetries: 0 });
  const ask = async (body: Omit<Anthropic.MessageCreateParamsNonStreaming, 'max_tokens'>) =>
    (
      await sdk()
        .messages.stream({ max_tokens: 100, ...body })
        .finalMessage()
    ).usage;
  const sys = (text: string): Anthropic.TextBlockParam[] => [
    { type: 'text', text, cache_control: { type: 'ephemeral' } },
  ];

  it('a prefix is written once, then read; a changed system prompt reads nothing', async () => {
    const long = words(1500, 'rule'); // well over Sonnet's 1,024-token minimum
    const model = 'claude-sonnet-4-6';
    const first = await ask({ model, system: sys(long), messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(first.cache_creation_input_tokens! > 1024, JSON.stringify(first));
    assert.equal(first.cache_read_input_tokens, 0);
    assert.ok(first.input_tokens > 0 && first.input_tokens < 20, 'the uncached rest: the message after the breakpoint');
    const again = await ask({ model, system: sys(long), messages: [{ role: 'user', content: 'something else' }] });
    assert.equal(again.cache_read_input_tokens, first.cache_creation_input_tokens);
    assert.equal(again.cache_creation_input_tokens, 0);
    const changed = await ask({ model, system: sys(`${long}.`), messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(changed.cache_read_input_tokens, 0, 'one character changed: the prefix is a new one');
    assert.ok(changed.cache_creation_input_tokens! > 1024);
    // Another model has its own cache.
    const other = await ask({
      model: 'claude-opus-4-8',
      system: sys(long),
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(other.cache_read_input_tokens, 0);
  });

  it("below the model's minimum cacheable length nothing is cached (Haiku 4.5: 4,096 tokens; Sonnet 4.6: 1,024)", async () => {
    assert.equal(minimumCacheable('claude-haiku-4-5'), 4096);
    assert.equal(minimumCacheable('claude-sonnet-4-6'), 1024);
    const mid = words(1500, 'doc'); // between the two minimums
    for (let k = 0; k < 2; k++) {
      const u = await ask({ model: 'claude-haiku-4-5', system: sys(mid), messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(u.cache_creation_input_tokens, 0);
      assert.equal(u.cache_read_input_tokens, 0);
      assert.ok(u.input_tokens > 1024, 'all of it billed as plain input');
    }
    const short = await ask({
      model: 'claude-sonnet-4-6',
      system: sys('be brief'),
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.deepEqual([short.cache_creation_input_tokens, short.cache_read_input_tokens], [0, 0]);
    const sonnet = await ask({
      model: 'claude-sonnet-4-6',
      system: sys(mid),
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.ok(sonnet.cache_creation_input_tokens! > 1024, 'the same prefix is cacheable on Sonnet');
  });

  it('a fifth breakpoint is a 400 invalid_request_error, and nothing is generated', async () => {
    const block = (t: string): Anthropic.TextBlockParam => ({
      type: 'text',
      text: t,
      cache_control: { type: 'ephemeral' },
    });
    await assert.rejects(
      ask({
        model: 'claude-sonnet-4-6',
        system: [block('a'), block('b')],
        messages: [{ role: 'user', content: [block('c'), block('d'), block('e')] }],
      }),
      (e: unknown) =>
        e instanceof Anthropic.BadRequestError &&
        /A maximum of 4 blocks with cache_control may be provided\. Found 5\./.test(e.message) &&
        (e.error as { error?: { type?: string } }).error?.type === 'invalid_request_error',
    );
    const four = await ask({
      model: 'claude-sonnet-4-6',
      system: [block('a'), block('b')],
      messages: [{ role: 'user', content: [block('c'), block('d')] }],
    });
    assert.ok(four.input_tokens > 0);
  });

  it('an entry lives 5 minutes from its last use (1 hour with ttl "1h"); a read refreshes it', async () => {
    const cache = claude.promptCache!;
    let t = 1_000_000;
    cache.now = () => t;
    try {
      const model = 'claude-sonnet-4-6';
      const text = words(1500, 'ttl');
      const hour: Anthropic.TextBlockParam[] = [
        { type: 'text', text: words(1500, 'hour'), cache_control: { type: 'ephemeral', ttl: '1h' } },
      ];
      const msg = [{ role: 'user' as const, content: 'hi' }];
      const w = await ask({ model, system: sys(text), messages: msg });
      t += 4 * 60_000;
      assert.equal(
        (await ask({ model, system: sys(text), messages: msg })).cache_read_input_tokens,
        w.cache_creation_input_tokens,
      );
      t += 4 * 60_000; // 8 minutes after the write, 4 after the read that refreshed it
      assert.equal(
        (await ask({ model, system: sys(text), messages: msg })).cache_read_input_tokens,
        w.cache_creation_input_tokens,
      );
      t += 6 * 60_000;
      assert.equal((await ask({ model, system: sys(text), messages: msg })).cache_read_input_tokens, 0, 'expired');
      const h = await ask({ model, system: hour, messages: msg });
      assert.ok(h.cache_creation_input_tokens! > 1024);
      assert.equal(h.cache_creation?.ephemeral_1h_input_tokens, h.cache_creation_input_tokens);
      t += 50 * 60_000;
      assert.equal(
        (await ask({ model, system: hour, messages: msg })).cache_read_input_tokens,
        h.cache_creation_input_tokens,
      );
    } finally {
      cache.now = Date.now;
    }
  });

  it('the lookback: a later request reads the longest cached prefix within 20 blocks before its breakpoint', async () => {
    const model = 'claude-sonnet-4-6';
    const base: Anthropic.TextBlockParam[] = [{ type: 'text', text: words(1500, 'base') }];
    const mark = (b: Anthropic.TextBlockParam[]) =>
      b.map((x, i) => (i === b.length - 1 ? { ...x, cache_control: { type: 'ephemeral' as const } } : x));
    const w = await ask({ model, messages: [{ role: 'user', content: mark(base) }] });
    assert.ok(w.cache_creation_input_tokens! > 1024);
    const more = (n: number) => [
      ...base,
      ...Array.from({ length: n }, (_, i) => ({ type: 'text' as const, text: `x${i}` })),
    ];
    // 25 blocks added: the entry is out of reach of the only breakpoint (nothing read; the whole prefix written).
    const far = await ask({ model, messages: [{ role: 'user', content: mark(more(25)) }] });
    assert.equal(far.cache_read_input_tokens, 0);
    assert.ok(far.cache_creation_input_tokens! > w.cache_creation_input_tokens!);
    // 10 blocks added: the cached prefix is within the lookback of the new breakpoint.
    const near = await ask({ model, messages: [{ role: 'user', content: mark(more(10)) }] });
    assert.equal(near.cache_read_input_tokens, w.cache_creation_input_tokens);
    assert.ok(near.cache_creation_input_tokens! > 0, 'the 10 new blocks are written');
  });
});

describe('the Anthropic adapter marks breakpoints where the stable prefix asks for them', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are the Implementer.' },
    { role: 'user', content: "The project's conventions: ...", cache: true },
    { role: 'user', content: 'Task: do it' },
    { role: 'assistant', content: '', tool_calls: [{ id: 'toolu_1', name: 'read_file', arguments: '{"path":"a"}' }] },
    { role: 'tool', tool_call_id: 'toolu_1', name: 'read_file', content: 'a (lines 1-1 of 1)\n1\tx' },
  ];

  it('tools, system, the end of the stable prefix, the latest turn: four, no more', async () => {
    const { caller } = testCaller({ policy: bundledPolicy(), urls: { anthropic: claude.url } });
    await caller.call({ role: 'tutor', messages, tools: AGENT_TOOLS });
    const body = claude.requests[0]!.body;
    assert.deepEqual(breakpoints(body), [
      `tool ${AGENT_TOOLS.length - 1}/${AGENT_TOOLS.length}`,
      'system',
      'message 0 block 0',
      'message 3 block 0',
    ]);
    const msgs = body.messages as { role: string; content: { type: string }[] }[];
    assert.equal(msgs[3]!.content[0]!.type, 'tool_result', 'the latest turn: the last message, its last block');
    // The messages' text is sent unchanged: only the markers are added.
    assert.equal((body.system as { text: string }[])[0]!.text, 'You are the Implementer.');
  });

  it('more stable ends than the limit leaves room for: the latest are kept, never a fifth breakpoint', async () => {
    const { caller } = testCaller({ policy: bundledPolicy(), urls: { anthropic: claude.url } });
    const many: ChatMessage[] = [
      messages[0]!,
      { role: 'user', content: 'rules one', cache: true },
      { role: 'user', content: 'rules two', cache: true },
      ...messages.slice(2),
    ];
    const r = await caller.call({ role: 'tutor', messages: many, tools: AGENT_TOOLS });
    assert.ok(r.text.length > 0, 'the server accepted it');
    assert.deepEqual(breakpoints(claude.requests[0]!.body), [
      `tool ${AGENT_TOOLS.length - 1}/${AGENT_TOOLS.length}`,
      'system',
      'message 1 block 0',
      'message 4 block 0',
    ]);
  });

  it('without the hint nothing is marked (a one-shot prompt would pay the write premium for nothing)', async () => {
    const { caller } = testCaller({ policy: bundledPolicy(), urls: { anthropic: claude.url } });
    await caller.call({ role: 'tutor', messages: messages.map((m) => ({ ...m, cache: undefined }) as ChatMessage) });
    const body = claude.requests[0]!.body;
    assert.deepEqual(breakpoints(body), []);
    assert.equal(body.system, 'You are the Implementer.');
  });

  it('the ledger prices the writes and the reads the server reports', async () => {
    const policy = bundledPolicy();
    const { caller } = testCaller({ policy, urls: { anthropic: claude.url } });
    const long: ChatMessage[] = [
      { role: 'system', content: words(2500, 'sys'), cache: true }, // the Tutor's Haiku: over 4,096 tokens
      { role: 'user', content: 'hi' },
    ];
    const first = await caller.call({ role: 'tutor', messages: long });
    const second = await caller.call({ role: 'tutor', messages: long });
    assert.ok(
      first.usage.cache_write_5m_tokens > 4096 && first.usage.cached_input_tokens === 0,
      JSON.stringify(first.usage),
    );
    assert.equal(second.usage.cached_input_tokens, first.usage.cache_write_5m_tokens + first.usage.input_tokens);
    assert.ok(second.cost_usd < first.cost_usd / 5, `${second.cost_usd} vs ${first.cost_usd}`);
  });
});

describe('a scripted 20-turn cloud task reads most of its input from the cache', () => {
  it('from the second turn on, most of every prompt is a cache read; the ledger bills far less than uncached', async () => {
    const run = await runCachedTask(claude);
    assert.equal(run.result.status, 'unverified', run.result.message);
    assert.equal(run.turns.length, 20);
    assert.ok(run.requests.every((r) => r.body.model === TASK_MODEL));
    // Every request: at most 4 breakpoints, on the last tool, the system prompt, AGENTS.md and the latest turn.
    for (const r of run.requests) {
      const msgs = r.body.messages as unknown[];
      assert.deepEqual(breakpoints(r.body), [
        `tool ${AGENT_TOOLS.length - 1}/${AGENT_TOOLS.length}`,
        'system',
        'message 0 block 0',
        `message ${msgs.length - 1} block ${(msgs.at(-1) as { content: unknown[] }).content.length - 1}`,
      ]);
    }
    const first = run.turns[0]!.usage;
    assert.equal(first.cached_input_tokens, 0);
    assert.ok(first.cache_write_5m_tokens > 0);
    let read = 0;
    let all = 0;
    for (const [k, t] of run.turns.entries()) {
      if (k === 0) continue;
      const u = t.usage;
      read += u.cached_input_tokens;
      all += u.input_tokens + u.cached_input_tokens + u.cache_write_5m_tokens;
      // What this turn reads is all of the last turn's prompt: nothing before the latest turn changed.
      const p = run.turns[k - 1]!.usage;
      assert.equal(
        u.cached_input_tokens,
        p.input_tokens + p.cached_input_tokens + p.cache_write_5m_tokens,
        `turn ${k + 1}: ${JSON.stringify(u)}`,
      );
      assert.ok(u.cached_input_tokens / (u.input_tokens + u.cached_input_tokens + u.cache_write_5m_tokens) > 0.5);
    }
    assert.ok(read / all > 0.6, `turns 2-20 read ${read} of ${all} input tokens from the cache`);
    assert.ok(run.read_share > 0.6, String(run.read_share));
    const billed = run.turns.reduce((s, t) => s + t.cost_usd, 0);
    assert.ok(Math.abs(run.ledger_usd - billed) < 1e-9, `ledger ${run.ledger_usd} vs turns ${billed}`);
    assert.ok(run.ledger_usd < run.uncached_usd * 0.5, `${run.ledger_usd} vs uncached ${run.uncached_usd}`);
  });

  it('a second task of the project reads the tools, the system prompt and AGENTS.md from the cache at once', async () => {
    await runCachedTask(claude, { taskId: 'T-cache-1' });
    const again = await runCachedTask(claude, {
      taskId: 'T-cache-2',
      instruction: 'use a template literal in greeting()',
    });
    const u = again.turns[0]!.usage;
    const body = again.requests[0]!.body;
    const cache = new PromptCache();
    const blocks = cache.blocks(body);
    const throughRules = blocks.slice(0, AGENT_TOOLS.length + 2).reduce((s, b) => s + b.tokens, 0);
    assert.equal(u.cached_input_tokens, throughRules, JSON.stringify(u));
  });

  it('a changed system prompt reads nothing past the tools', async () => {
    await runCachedTask(claude, { taskId: 'T-cache-a' });
    const policy = bundledPolicy();
    policy.escalation.implementer.direct_cloud_over_lines += 1; // the system prompt states it
    const changed = await runCachedTask(claude, { taskId: 'T-cache-b', policy });
    const u = changed.turns[0]!.usage;
    const tools = new PromptCache().blocks(changed.requests[0]!.body).slice(0, AGENT_TOOLS.length);
    const toolTokens = tools.reduce((s, b) => s + b.tokens, 0);
    // The tools alone are a prefix of their own (cached when they reach the minimum); nothing after them matches.
    assert.equal(u.cached_input_tokens, toolTokens >= minimumCacheable(TASK_MODEL) ? toolTokens : 0);
  });
});
