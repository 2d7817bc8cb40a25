// The one fitting step of the call path (providers/fit.ts, fitCall.ts): what a role declares cuttable goes in its
// order, the instruction never; the audit line says what was cut; a request that cannot fit is a clear failure that
// names the model called and its window.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cutWords, cuttableText, fitMessages, sendable } from '../../src/core/providers/fit.js';
import { CallFailed } from '../../src/core/providers/call.js';
import type { ChatMessage } from '../../src/core/providers/types.js';
import { anthropicServer, type WireServer } from '../support/wireServers.js';
import { route } from '../../src/core/router/route.js';
import { testCaller } from './helpers/caller.js';
import { policyWith } from './helpers/policy.js';

/** One token per character: the counter of a byte-level tokenizer such as the bundled test model's. */
const chars = async (ms: ChatMessage[]) => ms.reduce((n, m) => n + m.content.length, 0);

describe('fitting a prompt to a window', () => {
  it('sends a prompt that fits as it is, without the declarations', async () => {
    const m = cuttableText('user', 'Q: ', 'a\n\nb', { order: 1, label: 'context' });
    const f = await fitMessages([{ role: 'system', content: 'sys' }, m], 100, chars);
    assert.ok(f.ok);
    assert.deepEqual(f.cuts, []);
    assert.equal(f.messages[1]!.content, 'Q: a\n\nb');
    assert.equal('cut' in f.messages[1]!, false, 'the declaration never reaches the wire');
  });

  it('cuts parts from the end, says so in the message, and keeps the head and the undeclared messages whole', async () => {
    const body = ['most relevant', 'second', 'third', 'least relevant'].map((s) => s.padEnd(100, '.')).join('\n\n');
    const msgs: ChatMessage[] = [
      { role: 'system', content: 'S'.repeat(50) },
      cuttableText('user', 'Question: why?\n\n', body, { order: 1, label: 'retrieved sources' }),
    ];
    const f = await fitMessages(msgs, 50 + 17 + 250 + 100, chars);
    assert.ok(f.ok);
    const sent = f.messages[1]!.content;
    assert.ok(sent.startsWith('Question: why?\n\nmost relevant'));
    assert.match(sent, /second/);
    assert.doesNotMatch(sent, /third|least relevant/);
    assert.match(sent, /\[2 of 4 parts of the retrieved sources left out to fit the model's context window\]/);
    assert.equal(f.messages[0]!.content, 'S'.repeat(50));
    assert.equal(cutWords(f.cuts), '2 of 4 parts of the retrieved sources');
    assert.ok(f.tokens <= 417);
  });

  it('cuts in the declared order: a lower order first, then whole earlier exchanges oldest first, question with answer', async () => {
    const msgs: ChatMessage[] = [
      { role: 'system', content: 'sys' },
      {
        role: 'user',
        content: 'old question '.repeat(10),
        cut: { order: 2, label: 'earlier conversation', group: 'a' },
      },
      {
        role: 'assistant',
        content: 'old answer '.repeat(10),
        cut: { order: 2, label: 'earlier conversation', group: 'a' },
      },
      { role: 'user', content: 'newer question', cut: { order: 2, label: 'earlier conversation', group: 'b' } },
      { role: 'assistant', content: 'newer answer', cut: { order: 2, label: 'earlier conversation', group: 'b' } },
      cuttableText('user', 'Now: ', `${'ctx one'.padEnd(200, '.')}\n\n${'ctx two'.padEnd(200, '.')}`, {
        order: 1,
        label: 'context',
      }),
    ];
    const all = await chars(msgs.map(sendable));
    // Room for everything but a little: the context's last part goes first, the old exchange is kept.
    const first = await fitMessages(msgs, all - 50, chars);
    assert.ok(first.ok);
    assert.equal(first.messages.length, 6);
    assert.doesNotMatch(first.messages[5]!.content, /ctx two/);
    assert.match(first.messages[5]!.content, /ctx one/);
    // Much less room: all of the context, then the oldest exchange (both messages), then no more than needed.
    const second = await fitMessages(msgs, 3 + 'newer question'.length + 'newer answer'.length + 150, chars);
    assert.ok(second.ok);
    const texts = second.messages.map((m) => m.content);
    assert.ok(!texts.some((t) => /old question|old answer/.test(t)), 'the oldest exchange went whole');
    assert.ok(texts.includes('newer question') && texts.includes('newer answer'));
    assert.equal(cutWords(second.cuts), '2 of 2 parts of the context, 2 earlier conversation message(s)');
  });

  it('the same input gives the same cut', async () => {
    const body = Array.from({ length: 40 }, (_, i) => `part ${i} `.repeat(i + 1)).join('\n\n');
    const msgs = [cuttableText('user', 'Q ', body, { order: 1, label: 'context' })];
    const a = await fitMessages(msgs, 900, chars);
    const b = await fitMessages(msgs, 900, chars);
    assert.deepEqual(a, b);
    assert.ok(a.ok && a.tokens <= 900 && a.tokens > 700, 'it keeps as much as fits');
  });

  it('what cannot fit with everything cut says how small it can get', async () => {
    const msgs: ChatMessage[] = [
      { role: 'system', content: 'x'.repeat(500) },
      cuttableText('user', 'Q ', 'y'.repeat(300), { order: 1, label: 'context' }),
    ];
    const f = await fitMessages(msgs, 400, chars);
    assert.equal(f.ok, false);
    assert.ok(!f.ok && f.minimum > 500 && f.budget === 400);
  });
});

describe('the fitting step on the call path', () => {
  let cloud: WireServer;
  before(async () => {
    cloud = await anthropicServer();
  });
  after(async () => {
    await cloud.close();
  });
  // The tutor falls back to Haiku (no local server here); Haiku's window is made small in the policy.
  const small = (tokens: number) =>
    policyWith((p) => {
      p.models.haiku!.context_tokens = tokens;
    });
  const history = (n: number): ChatMessage[] =>
    Array.from({ length: n }, (_, i) => [
      {
        role: 'user' as const,
        content: `question ${i} `.repeat(60),
        cut: { order: 1, label: 'earlier conversation', group: `g${i}` },
      },
      {
        role: 'assistant' as const,
        content: `answer ${i} `.repeat(60),
        cut: { order: 1, label: 'earlier conversation', group: `g${i}` },
      },
    ]).flat();

  it("cuts the tutor's oldest exchanges for a small window, audits the cut with the model and the window, and sends the rest", async () => {
    const t = testCaller({ policy: small(3000), urls: { anthropic: cloud.url } });
    cloud.requests.length = 0;
    const r = await t.caller.call({
      role: 'tutor',
      max_tokens: 1000,
      messages: [
        { role: 'system', content: 'You are a tutor.' },
        ...history(12),
        { role: 'user', content: 'What now?' },
      ],
    });
    assert.equal(r.provider, 'anthropic');
    const body = cloud.requests.at(-1)!.body as { messages: { content: unknown }[]; max_tokens: number };
    const sent = JSON.stringify(body.messages);
    assert.doesNotMatch(sent, /question 0 /, 'the oldest exchange was cut');
    assert.match(sent, /question 11 /, 'the latest exchange was kept');
    assert.match(sent, /What now\?/, 'the question is never cut');
    assert.doesNotMatch(sent, /"cut"/, 'the declaration is not sent');
    assert.equal(body.max_tokens, 1000);
    const fit = t.audit().find((e) => e.kind === 'fit');
    assert.ok(fit, 'an audit line says what was cut');
    // The room a caller that fits its own prompt (the agent) is given on the same model: the same figures.
    const haiku = r.decision.chain.find((l) => l.provider === 'anthropic')!;
    assert.deepEqual(await t.caller.room(haiku, 1000), { window: 3000, prompt: 2000 });
    assert.match(
      fit.audit,
      /GR-005: tutor: fitted to the 3000-token window of anthropic\/claude-haiku-4-5 \(the policy's figure; 1000 kept for the answer, \d+ sent\): cut \d+ earlier conversation message\(s\)/,
    );
  });

  it('a request whose minimum cannot fit fails clearly, naming the model and its window, and nothing is sent', async () => {
    const t = testCaller({ policy: small(2000), urls: { anthropic: cloud.url } });
    cloud.requests.length = 0;
    await assert.rejects(
      t.caller.call({
        role: 'tutor',
        max_tokens: 500,
        messages: [{ role: 'user', content: 'an instruction that may not be cut '.repeat(200) }],
      }),
      (e: unknown) =>
        e instanceof CallFailed &&
        /anthropic\/claude-haiku-4-5: context length exceeded: the tutor's request needs at least \d+ tokens with everything it allows cut, but anthropic\/claude-haiku-4-5 has a window of 2000 tokens \(the policy's figure\), 500 of them kept for the answer/.test(
          e.message,
        ),
    );
    assert.equal(cloud.requests.length, 0, 'nothing was sent');
  });

  it('a local call names the model the server really serves, not the policy model', async () => {
    const policy = policyWith((p) => {
      p.models.local_moe!.context_tokens = 1000;
    });
    const t = testCaller({
      policy,
      urls: { local: 'http://127.0.0.1:9/v1' },
      keys: () => undefined,
      servedModel: () => ({
        name: 'tiny-test-model',
        source: 'gguf',
        architecture: 'llama',
        parameters: 1,
        quantization: 'F32',
        context_length: 8192,
        window: 600,
        test_model: true,
        matches_policy: false,
        policy_model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ',
      }),
    });
    await assert.rejects(
      t.caller.call({ role: 'tutor', max_tokens: 100, messages: [{ role: 'user', content: 'z'.repeat(3000) }] }),
      (e: unknown) =>
        e instanceof CallFailed &&
        !!e.decision &&
        /local\/tiny-test-model \(serving the policy's Qwen\/Qwen3-Coder-30B-A3B-Instruct-AWQ\) has a window of 600 tokens \(as the server runs it\)/.test(
          e.message,
        ),
    );
    const local = route({ role: 'tutor' }, policy, { local_only_setting: false }).chain.find(
      (l) => l.provider === 'local',
    )!;
    assert.deepEqual(
      await t.caller.room(local, 100),
      { window: 600, prompt: 500 },
      "the served window, not the policy's",
    );
  });
});
