import assert from 'node:assert/strict';
import { TEST_KEYS, testCaller } from './helpers/caller.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { JSDOM } from 'jsdom';
import { renderMarkdown } from '../../media/src/lib/markdown.js';
import { promptTokens } from '../../src/core/budget/tokens.js';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { PlanController } from '../../src/core/plan/controller.js';
import { embedJson } from '../../src/core/protocol/embed.js';
import type { PlanRecord } from '../../src/core/protocol/planRecord.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { FromPlanView, type ToPlanView } from '../../src/core/protocol/plan.js';
import { FromTutorView, type ToTutorView } from '../../src/core/protocol/tutor.js';
import { safeLink, TutorController, type TutorPorts } from '../../src/core/tutor/controller.js';
import { anthropicServer, openAiServer, type WireServer } from '../support/wireServers.js';
import { viaGate } from './helpers/gate.js';

// The webviews' host side: the Tutor's streaming through the real call path, Markdown that cannot run
// anything, and both hosts fuzzed with random and hostile messages.
const { window } = new JSDOM('<!DOCTYPE html><body></body>');

describe('model output as Markdown', () => {
  const html = (md: string) => renderMarkdown(md, window as never).html;
  it('renders Markdown, never raw HTML or scripts', () => {
    const out = html(
      '# Title\n\n**bold** and `code`\n\n<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n<a href="javascript:alert(1)">x</a> <div onclick="x()">d</div>',
    );
    assert.match(out, /<h1>Title<\/h1>/);
    assert.match(out, /<strong>bold<\/strong>/);
    const doc = new JSDOM(out).window.document;
    assert.equal(doc.querySelectorAll('script, img, div, a').length, 0, out);
    assert.ok([...doc.querySelectorAll('*')].every((e) => e.getAttributeNames().every((a) => !/^on/i.test(a))));
    assert.match(doc.body.textContent ?? '', /<script>alert\(1\)<\/script>/, 'raw HTML is shown as text');
  });
  it('links keep no href: the view hands them to the host, which asks first; dangerous schemes are not links at all', () => {
    const out = html(
      '[docs](https://doc.rust-lang.org/book/) [bad](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) <https://example.com/x> [cmd](command:workbench.action.terminal.new)',
    );
    const doc = new JSDOM(out).window.document;
    const links = [...doc.querySelectorAll('a')];
    assert.deepEqual(
      links.filter((a) => a.hasAttribute('data-href')).map((a) => a.getAttribute('data-href')),
      ['https://doc.rust-lang.org/book/', 'https://example.com/x'],
    );
    assert.ok(links.every((a) => !a.hasAttribute('href')));
    const values = [...doc.querySelectorAll('*')].flatMap((e) =>
      e.getAttributeNames().map((a) => e.getAttribute(a) ?? ''),
    );
    assert.ok(
      values.every((v) => !/javascript:|command:|data:/.test(v)),
      values.join(' | '),
    );
  });
  it('code blocks get Copy and Insert buttons; the code itself is kept verbatim for them', () => {
    const r = renderMarkdown('Try:\n\n```rust\nfn main() { println!("<b>hi</b>"); }\n```\n', window as never);
    assert.deepEqual(r.codes, ['fn main() { println!("<b>hi</b>"); }\n']);
    assert.match(r.html, /data-act="copy" data-code="0"/);
    assert.match(r.html, /data-act="insert" data-code="0"/);
    assert.match(r.html, /&lt;b&gt;hi&lt;\/b&gt;/);
    assert.match(r.html, /<span class="lang">rust<\/span>/);
  });
  it('random text never yields an element or attribute outside the allow-list', () => {
    const allowed = new Set([
      'P',
      'H1',
      'H2',
      'H3',
      'H4',
      'H5',
      'H6',
      'STRONG',
      'EM',
      'CODE',
      'PRE',
      'UL',
      'OL',
      'LI',
      'A',
      'BLOCKQUOTE',
      'HR',
      'BR',
      'TABLE',
      'THEAD',
      'TBODY',
      'TR',
      'TH',
      'TD',
      'DIV',
      'SPAN',
      'BUTTON',
      'S',
    ]);
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(
            '<',
            '>',
            '"',
            "'",
            '=',
            'a',
            'img',
            'script',
            ' ',
            'on',
            'error',
            '[',
            ']',
            '(',
            ')',
            'javascript:',
            '`',
            '\n',
            '*',
            '#',
            'href',
            'src',
            'svg',
            'style',
          ),
          maxLength: 120,
        }),
        (md) => {
          const doc = new JSDOM(renderMarkdown(md, window as never).html).window.document;
          for (const e of doc.body.querySelectorAll('*')) {
            assert.ok(allowed.has(e.tagName), `tag ${e.tagName} from ${JSON.stringify(md)}`);
            for (const a of e.getAttributeNames())
              assert.ok(!/^on|^href$|^src$|^style$/i.test(a), `attribute ${a} from ${JSON.stringify(md)}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

let local: WireServer, anth: WireServer;
before(async () => {
  [local, anth] = await Promise.all([openAiServer(), anthropicServer()]);
});
after(async () => {
  await Promise.all([local.close(), anth.close()]);
});
beforeEach(() => {
  for (const s of [local, anth]) {
    s.queue.length = 0;
    s.requests.length = 0;
    s.fallback = { kind: 'ok' };
  }
});

function tutor(
  o: { localUrl?: string | undefined; localOnly?: boolean; short?: number; ports?: Partial<TutorPorts> } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-tutor-'));
  const policy = bundledPolicy();
  const urls: Record<string, string | undefined> = {
    local: 'localUrl' in o ? o.localUrl : local.url,
    anthropic: anth.url,
  };
  const caller = testCaller({
    policy,
    urls,
    keys: { anthropic: TEST_KEYS.anthropic },
    source: 'extension',
    localOnly: o.localOnly,
    stateDir: dir,
  }).caller;
  const posts: ToTutorView[] = [];
  const effects: string[] = [];
  const warns: string[] = [];
  const c = new TutorController({
    call: ({ messages, signal, onEvent }) => caller.call({ role: 'tutor', messages, signal, onEvent }),
    post: (m) => posts.push(m),
    selection: () => ({ label: 'src/lib.rs:3-5', text: 'fn borrow(x: &str) -> usize { x.len() }' }),
    pickFile: async () => ({ label: 'README.md', text: '# readme' }),
    copy: async (t) => {
      effects.push(`copy:${t}`);
    },
    insert: async (t) => {
      effects.push(`insert:${t}`);
      return null;
    },
    openLink: async (h) => {
      effects.push(`open:${h}`);
    },
    countTokens: (t) => promptTokens(t, 'local'),
    lane: () => 'local lane',
    label: (p, m) => `${p}/${m}`,
    limits: () => ({ short: o.short ?? 16_000, window: 262_144 }),
    log: { warn: (s) => warns.push(s), info: () => {} },
    flushMs: 5,
    ...o.ports,
  });
  const states = () => posts.filter((p): p is Extract<ToTutorView, { type: 'state' }> => p.type === 'state');
  const deltas = () => posts.filter((p): p is Extract<ToTutorView, { type: 'delta' }> => p.type === 'delta');
  // Through the one gate the panel host uses: an invalid message is dropped and logged, never handled.
  const receive = viaGate(
    FromTutorView,
    'tutor',
    (m) => c.handle(m),
    (s) => warns.push(s),
  );
  return {
    c,
    receive,
    dir,
    posts,
    effects,
    warns,
    states,
    deltas,
    audit: () => new AuditLog(join(dir, 'audit.jsonl')).read(),
  };
}

describe('the first state carried in the panel HTML', () => {
  // What the host writes (src/vscode/webviewHtml.ts): a JSON block, then the view's script.
  const page = (v: unknown) =>
    new JSDOM(
      `<!DOCTYPE html><body><main id="app"></main><script type="application/json" id="initial-state">${embedJson(v)}</script><p id="after">after</p></body>`,
    ).window.document;
  const hostile = [
    '</script><script>alert(1)</script>',
    '<!-- <script>',
    '</SCRIPT >',
    '<\/script>',
    '\u2028 \u2029 ok',
    '\u2028\u2029',
    '<img src=x onerror=alert(1)>',
    ']]>',
    '"\\\'',
  ];
  it('model output and file text cannot close the block or add markup; the view reads back exactly what the host had', () => {
    const check = (v: unknown) => {
      const doc = page(v);
      assert.equal(doc.querySelectorAll('script').length, 1, 'one block, nothing opened after it');
      assert.equal(doc.querySelectorAll('img, p').length, 1, 'no element from the data');
      assert.equal(doc.getElementById('after')?.textContent, 'after', 'the page after the block is intact');
      assert.deepEqual(JSON.parse(doc.getElementById('initial-state')!.textContent!), v);
      assert.ok(!embedJson(v).includes('<'));
    };
    check({ type: 'state', turns: hostile.map((text, i) => ({ id: String(i), role: 'assistant', text })) });
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string(), fc.constantFrom(...hostile)).map((xs) => xs),
          { maxLength: 8 },
        ),
        (texts) => check({ texts }),
      ),
      { numRuns: 300 },
    );
  });
});

describe('the Tutor chat', () => {
  it('streams the local answer in order, in batches, and says which model and lane served it', async () => {
    const t = tutor();
    const chunks = Array.from({ length: 300 }, (_, i) => ` t${i}`);
    local.queue.push({ kind: 'ok', chunks, chunkMs: 1 });
    await t.receive({ type: 'send', text: 'What does & mean in Rust?' });
    const sent = t.deltas();
    assert.equal(sent.map((d) => d.text).join(''), chunks.join(''), 'every token arrives, in order');
    assert.deepEqual(
      sent.map((d) => d.seq),
      sent.map((_, i) => i),
      'batches are numbered without gaps',
    );
    assert.ok(sent.length < chunks.length, `tokens are batched (${sent.length} posts for ${chunks.length} tokens)`);
    const last = t.states().at(-1)!;
    const answer = last.turns.at(-1)!;
    assert.equal(answer.status, 'done');
    assert.equal(answer.served?.lane, 'local');
    assert.equal(answer.served?.fallback, false);
    assert.equal(last.busy, false);
    // The model saw the coach's instructions and the question.
    const body = local.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    assert.match(body.messages[0]!.content, /maieutic coach/);
    assert.equal(body.messages.at(-1)!.content, 'What does & mean in Rust?');
    // The view reports what it drew; the host compares.
    await t.receive({
      type: 'rendered',
      id: answer.id,
      chars: chunks.join('').length,
      batches: sent.length,
      frames: 9,
    });
    assert.deepEqual(t.c.renders.get(answer.id), {
      sentChars: chunks.join('').length,
      sentBatches: sent.length,
      chars: chunks.join('').length,
      batches: sent.length,
      frames: 9,
    });
    await t.receive({ type: 'rendered', id: answer.id, chars: 5, batches: 1, frames: 1 });
    assert.ok(
      t.warns.some((w) => /rendered 5 of/.test(w)),
      'a short render is reported',
    );
  });

  it('stop mid-stream: the answer stops, is marked stopped and stays in the conversation', async () => {
    const t = tutor();
    local.queue.push({ kind: 'ok', chunks: Array.from({ length: 400 }, (_, i) => ` w${i}`), chunkMs: 5 });
    const sending = t.receive({ type: 'send', text: 'explain lifetimes' });
    while (t.deltas().length < 3) await new Promise((r) => setTimeout(r, 5));
    await t.receive({ type: 'stop' });
    await sending;
    const answer = t.states().at(-1)!.turns.at(-1)!;
    assert.equal(answer.status, 'stopped');
    assert.ok(answer.text.length > 0 && answer.text.length < 400 * 5);
    assert.ok(
      t.audit().some((e) => e.kind === 'cancelled'),
      'the stop is audited',
    );
    local.queue.push({ kind: 'ok', text: 'next' });
    await t.receive({ type: 'send', text: 'and now?' });
    const msgs = (local.requests.at(-1)!.body as { messages: { content: string }[] }).messages.map((m) => m.content);
    assert.ok(
      msgs.some((m) => m.endsWith('[stopped by the learner]')),
      'the stopped answer is part of the context',
    );
  });

  it('no local server: Haiku answers, the answer says it was a fallback and why, and an audit line says so (GR-005)', async () => {
    const t = tutor({ localUrl: undefined });
    anth.queue.push({ kind: 'ok', text: 'A hint: look at the borrow.' });
    await t.receive({ type: 'send', text: 'why does this not compile?' });
    const s = t.states().at(-1)!.turns.at(-1)!.served!;
    assert.equal(s.lane, 'cloud');
    assert.equal(s.provider, 'anthropic');
    assert.equal(s.fallback, true);
    assert.match(s.why ?? '', /GR-005: local\/.* -> anthropic\/claude-haiku/);
    assert.ok(t.audit().some((e) => e.kind === 'fallback' && /anthropic\/claude-haiku/.test(e.audit)));
  });

  it('under local_only with no local server: a clear failure, nothing sent to the cloud (GR-009)', async () => {
    const t = tutor({ localUrl: undefined, localOnly: true });
    await t.receive({ type: 'send', text: 'hello' });
    const a = t.states().at(-1)!.turns.at(-1)!;
    assert.equal(a.status, 'failed');
    assert.match(a.error ?? '', /GR-009|local/);
    assert.equal(anth.requests.length, 0);
  });

  it('attachments go to the model with the message; the context meter grows and warns on a long session', async () => {
    const t = tutor({ short: 400 });
    await t.receive({ type: 'attachSelection' });
    await t.receive({ type: 'attachFile' });
    const st = t.states().at(-1)!;
    assert.deepEqual(
      st.attachments.map((a) => a.label),
      ['src/lib.rs:3-5', 'README.md'],
    );
    const before = st.meter.used;
    local.queue.push({ kind: 'ok', text: 'x'.repeat(2000) });
    await t.receive({ type: 'send', text: 'what does borrow return?' });
    const body = (local.requests.at(-1)!.body as { messages: { content: string }[] }).messages.at(-1)!.content;
    assert.match(body, /Attached: src\/lib\.rs:3-5\n```\nfn borrow/);
    const after = t.states().at(-1)!;
    assert.equal(after.attachments.length, 0, 'attachments belong to one message');
    assert.deepEqual(after.turns[0]!.attachments, ['src/lib.rs:3-5', 'README.md']);
    assert.ok(after.meter.used > before);
    assert.equal(after.meter.level, 'warning');
    await t.receive({ type: 'newSession' });
    assert.equal(t.states().at(-1)!.turns.length, 0);
  });

  it('a session survives a reload (snapshot and restore); a damaged snapshot starts a new one', async () => {
    const t = tutor();
    local.queue.push({ kind: 'ok', text: 'Ownership means one owner.' });
    await t.receive({ type: 'send', text: 'ownership?' });
    const snap = JSON.parse(JSON.stringify(t.c.snapshot()));
    const u = tutor();
    u.c.restore(snap);
    assert.deepEqual(
      u.c.turns.map((x) => x.text),
      ['ownership?', 'Ownership means one owner.'],
    );
    const v = tutor();
    v.c.restore({ turns: 'garbage' });
    assert.equal(v.c.turns.length, 0);
    assert.ok(v.warns.some((w) => /could not be read/.test(w)));
  });

  it('links open only as http(s) or mailto, and only through the host (which asks the user)', async () => {
    assert.equal(safeLink('https://doc.rust-lang.org/'), 'https://doc.rust-lang.org/');
    for (const bad of [
      'javascript:alert(1)',
      'command:workbench.action.terminal.new',
      'file:///etc/passwd',
      'vscode://settings',
      'data:text/html,x',
      'https://user:pw@evil.example/',
      'not a url',
    ])
      assert.equal(safeLink(bad), null, bad);
    const t = tutor();
    await t.receive({ type: 'openLink', href: 'command:workbench.action.terminal.new' });
    await t.receive({ type: 'openLink', href: 'https://doc.rust-lang.org/book/' });
    assert.deepEqual(t.effects, ['open:https://doc.rust-lang.org/book/']);
  });
});

function planRecord(): PlanRecord {
  return {
    id: 'plan-fuzz',
    created: '2026-11-26T00:00:00Z',
    plan: {
      goal: 'g',
      assumptions: [],
      steps: [
        {
          id: 's1',
          title: 'one',
          description: '',
          files: ['a.rs'],
          estimated_lines: 10,
          risk_flags: ['unsafe_ffi'],
          suggested_lane: 'cloud',
          acceptance: [],
        },
        {
          id: 's2',
          title: 'two',
          description: '',
          files: [],
          estimated_lines: 10,
          risk_flags: [],
          suggested_lane: 'local_reflex',
          acceptance: [],
        },
      ],
      acceptance_checks: [],
      confidence: 0.5,
    },
    author: {
      provider: 'local',
      model: 'm',
      rule: 'architect.offline',
      lane: 'local',
      kind: 'local_fast_draft',
      why: 'x',
      call_ids: [],
      cost_usd: 0,
    },
    self_critique: null,
    critic: { status: 'off', why: 'x' },
    review: { status: 'draft', steps: { s1: 'pending', s2: 'pending' }, decided: null, evidence: null },
  };
}

describe('both hosts fuzzed with random and hostile messages: nothing executes', () => {
  // Messages a compromised or buggy view could send. None may reach an effect it was not meant for.
  const hostile: unknown[] = [
    null,
    undefined,
    42,
    'ready',
    [],
    [{ type: 'send', text: 'x' }],
    { type: 'SEND', text: 'x' },
    { type: 'send' },
    { type: 'send', text: '' },
    { type: 'send', text: 'x', model: 'gpt-5.1' },
    { type: 'send', text: 'x'.repeat(20_001) },
    { type: 'send', text: 42 },
    { type: 'openLink', href: 'javascript:fetch("http://evil")' },
    { type: 'openLink', href: 'command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%20-rf%22%7D' },
    { type: 'openLink', href: 'file:///etc/passwd' },
    { type: 'openLink', href: { toString: 'https://x' } },
    { type: 'insert', text: 'x'.repeat(200_001) },
    { type: 'copy' },
    { type: 'removeAttachment', id: { $ne: 1 } },
    JSON.parse('{"type":"ready","__proto__":{"polluted":true}}'),
    JSON.parse('{"__proto__":{"type":"send","text":"x"}}'),
    { type: 'openFile', path: '../../../../etc/passwd' },
    { type: 'openFile', path: '/etc/passwd' },
    { type: 'openFile', path: 'C:\\Windows\\system32' },
    { type: 'implementStep', id: 's1' },
    { type: 'setPlan', status: 'approved' },
    { type: 'setStep', id: 's1', status: 'approved' },
    { type: 'setStep', id: '__proto__', status: 'approved' },
    { type: 'editStep', id: 's1', field: 'risk_flags', value: '[]' },
    { type: 'editStep', id: 's1', field: '__proto__', value: 'x' },
    { type: 'moveStep', id: 's1', direction: 'sideways' },
    { type: 'rendered', id: 'x', chars: -1, batches: 1, frames: 1 },
  ];
  const messageArb = fc.oneof(
    fc.anything(),
    fc.constantFrom(...hostile),
    fc.record(
      {
        type: fc.constantFrom(
          'ready',
          'send',
          'stop',
          'newSession',
          'attachSelection',
          'attachFile',
          'removeAttachment',
          'copy',
          'insert',
          'openLink',
          'rendered',
          'editStep',
          'moveStep',
          'setStep',
          'setPlan',
          'implementStep',
          'runPlan',
          'skipStep',
          'acceptStep',
          'judgeStep',
          'reviewPlan',
          'overrideReview',
          'openFile',
          'evil',
        ),
        text: fc.string(),
        href: fc.string(),
        id: fc.string({ maxLength: 50 }),
        path: fc.string(),
        status: fc.string(),
        field: fc.string(),
        value: fc.string(),
        direction: fc.string(),
      },
      { requiredKeys: ['type'] },
    ),
  );

  it('the Tutor host: only valid messages act; links only http(s)/mailto; no model call from a malformed send', async () => {
    const calls: string[] = [];
    const t = tutor({
      ports: {
        call: async ({ messages }) => {
          calls.push(String(messages.at(-1)!.content));
          throw Object.assign(new Error('no model in the fuzz'), { kind: 'unavailable' });
        },
      },
    });
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { maxLength: 12 }), async (msgs) => {
        for (const m of msgs) await t.receive(m);
      }),
      { numRuns: 300 },
    );
    for (const e of t.effects) {
      const [kind, ...rest] = e.split(':');
      const value = rest.join(':');
      if (kind === 'open') assert.match(value, /^(https?:|mailto:)/, e);
      else assert.ok(kind === 'copy' || kind === 'insert', e);
    }
    assert.ok(calls.every((c) => typeof c === 'string' && c.trim().length > 0));
    assert.ok(t.warns.some((w) => /dropped an invalid message/.test(w)));
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  it('the plan host: no file outside the workspace, no hand-off of an unapproved step, no approval of a high-risk step in a local draft', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-fuzz-'));
    const opened: string[] = [];
    const handed: string[] = [];
    const warns: string[] = [];
    const posts: ToPlanView[] = [];
    const c = new PlanController({
      post: (m) => posts.push(m),
      policy: () => bundledPolicy(),
      localOnly: () => false,
      save: () => {},
      evidenceRoot: () => join(dir, 'evidence'),
      runStep: async (r, step) => {
        handed.push(step.id);
        assert.equal(r.review.steps[step.id], 'approved');
        assert.equal(r.review.status, 'approved');
        return { status: 'failed', task_id: 'T', evidence: '', message: 'scripted' };
      },
      gate: () => 'awaiting_judge',
      note: async () => {},
      judgeTask: async () => ({ status: 'awaiting_judge', why: 'scripted' }),
      reviewPlan: async () => undefined,
      openFile: async (p) => {
        opened.push(p);
      },
      log: { warn: (s) => warns.push(s), info: () => {} },
    });
    c.load(planRecord(), join(dir, 'plan.json'));
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { maxLength: 12 }), async (msgs) => {
        for (const m of msgs)
          await viaGate(
            FromPlanView,
            'plan',
            (x) => c.handle(x),
            (w) => warns.push(w),
          )(m);
        assert.notEqual(c.record!.review.steps.s1, 'approved', 'the unsafe step of a local draft is never approved');
      }),
      { numRuns: 300 },
    );
    for (const p of opened) assert.ok(!p.startsWith('..') && !p.startsWith('/') && !/^[a-zA-Z]:/.test(p), p);
    assert.ok(!handed.includes('s1'));
    assert.ok(warns.some((w) => /dropped an invalid message/.test(w)));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
