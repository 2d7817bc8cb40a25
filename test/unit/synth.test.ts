import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { McpNotebookAdapter, parseToolResult } from '../../src/core/providers/notebooklm.js';
import { Stage0 } from '../../src/core/retrieval/stage0.js';
import { checkCitations, renderSynth, synthesise, type Source } from '../../src/core/retrieval/synth.js';
import { openAiServer, type WireServer } from '../support/wireServers.js';

// Stage 0 tier-2 synthesis: NotebookLM through a real MCP server over stdio (a stand-in built with the official
// SDK), citations checked against the sources (GR-008), the local summariser as fallback (GR-005), and nothing
// leaving the machine under local_only.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'retrieval');
const MCP = join(import.meta.dirname, '..', 'support', 'mcpNotebook.mjs');

let local: WireServer;
before(async () => {
  local = await openAiServer('openai');
});
after(async () => {
  await local.close();
});
beforeEach(() => {
  local.queue.length = 0;
  local.requests.length = 0;
});
const adapters: McpNotebookAdapter[] = [];
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()));
});

async function sources(question: string): Promise<Source[]> {
  const s = new Stage0({ root: FIXTURE });
  const r = await s.query(question, { k: 4 });
  return r.results.map((x) => ({ path: x.path, text: readFileSync(join(FIXTURE, x.path), 'utf8') }));
}

function setup(o: { mode?: string; localOnly?: boolean; configured?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-synth-'));
  const log = join(dir, 'notebook.log');
  const nb = new McpNotebookAdapter(
    () =>
      o.configured === false
        ? null
        : {
            command: process.execPath,
            args: [MCP],
            notebook: 'nb-parcel-desk',
            env: { NOTEBOOK_MODE: o.mode ?? 'good', NOTEBOOK_SOURCES_DIR: FIXTURE, NOTEBOOK_LOG: log },
          },
    'session-7',
  );
  adapters.push(nb);
  const policy = bundledPolicy();
  const caller = testCaller({
    policy,
    urls: { local: local.url },
    keys: {},
    notebooklm: nb,
    localOnly: o.localOnly,
    stateDir: dir,
  }).caller;
  return {
    caller,
    audit: () => new AuditLog(join(dir, 'audit.jsonl')).read().map((e) => e.audit),
    log: () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, string>),
  };
}

const Q = 'How does the ledger survive a crash with a torn line?';

describe('Stage 0 synthesis through NotebookLM (MCP over stdio)', () => {
  it('a grounded answer: NotebookLM serves, its citation is verified with the line, the session and notebook ids are passed', async () => {
    const s = setup();
    const r = await synthesise(s.caller, { question: Q, sources: await sources(Q) });
    assert.equal(r.provider, 'notebooklm');
    assert.equal(r.unreliable, false);
    assert.equal(r.citations.length, 1);
    assert.ok(r.citations[0]!.verified && r.citations[0]!.path!.includes('ledger'), JSON.stringify(r.citations));
    assert.ok(r.citations[0]!.line! > 0);
    assert.equal(local.requests.length, 0, 'the local summariser was not needed');
    assert.deepEqual(
      s.log().map((l) => [l.notebook_id, l.session_id]),
      [['nb-parcel-desk', 'session-7']],
    );
    assert.match(renderSynth(r, Q), /## Sources\n\n1\. ✓ .*ledger.*:\d+: "/);
  });

  it('invented citations: unverified, asked once more, then marked unreliable (GR-008)', async () => {
    const s = setup({ mode: 'invented' });
    const r = await synthesise(s.caller, { question: Q, sources: await sources(Q) });
    assert.equal(r.calls, 2);
    assert.equal(r.unreliable, true);
    assert.match(r.citations[0]!.problem ?? '', /the quote is not in /);
    assert.ok(
      s
        .audit()
        .some((l) =>
          /GR-008: stage0_synth: 1 of 1 citations from notebooklm\/notebooklm could not be verified; asked once more/.test(
            l,
          ),
        ),
    );
    assert.ok(
      s.audit().some((l) => /GR-008: stage0_synth: the answer from notebooklm\/notebooklm is unreliable/.test(l)),
    );
    assert.match(renderSynth(r, Q), /Unreliable \(GR-008\)[\s\S]*✗ UNVERIFIED/);
  });

  it('the MCP server fails (error, or it does not start): the local summariser answers, with a GR-005 line naming why', async () => {
    for (const mode of ['error', 'crash']) {
      const s = setup({ mode });
      const srcs = await sources(Q);
      const quote = srcs.find((x) => x.path === 'src/storage/ledger.rs')!.text.split('\n')[0]!;
      local.queue.push({
        kind: 'ok',
        text: JSON.stringify({
          answer: 'It drops the torn line.',
          citations: [{ source: 'src/storage/ledger.rs', quote }],
        }),
      });
      const r = await synthesise(s.caller, { question: Q, sources: srcs });
      assert.equal(r.provider, 'local', mode);
      assert.equal(r.unreliable, false);
      const fb = s.audit().find((l) => l.startsWith('GR-005: notebooklm/notebooklm -> local/'));
      assert.match(fb ?? '', mode === 'error' ? /reported an error: notebook not found/ : /did not start/, mode);
    }
  });

  it('no MCP server configured: the local summariser, and the audit line says what to set', async () => {
    const s = setup({ configured: false });
    local.queue.push(
      { kind: 'ok', text: JSON.stringify({ answer: 'x', citations: [] }) },
      { kind: 'ok', text: JSON.stringify({ answer: 'x', citations: [] }) },
    );
    const r = await synthesise(s.caller, { question: Q, sources: await sources(Q) });
    assert.equal(r.provider, 'local');
    assert.equal(r.unreliable, true, 'an answer citing nothing is not grounded');
    assert.ok(
      s
        .audit()
        .some((l) => /notebooklm: no MCP server is configured \(setting switchyard\.notebooklm\.server\)/.test(l)),
    );
  });

  it('under local_only NotebookLM is never asked (the MCP server is not even started)', async () => {
    const s = setup({ localOnly: true });
    local.queue.push({
      kind: 'ok',
      text: JSON.stringify({
        answer: 'x',
        citations: [{ source: 'src/storage/ledger.rs', quote: 'The parcel ledger: an append-only file of JSON lines' }],
      }),
    });
    const r = await synthesise(s.caller, { question: Q, sources: await sources(Q) });
    assert.equal(r.provider, 'local');
    assert.throws(() => s.log(), /ENOENT/, 'no tool call reached the MCP server');
  });
});

describe('citation checks', () => {
  const srcs: Source[] = [
    {
      path: 'docs/deploy.md',
      text: "Line one.\nCertificates come from Let's Encrypt;\n   renewal runs every 60 days.\n",
    },
  ];
  it('source and quote must both hold; whitespace and case are forgiven; a bare file name finds its path', () => {
    const c = checkCitations(
      {
        answer: 'a',
        citations: [
          { source: 'deploy.md', quote: "certificates come from Let's Encrypt; renewal runs every 60 days" },
          { source: 'docs/other.md', quote: 'anything at all here' },
          { source: 'docs/deploy.md', quote: 'renewal runs every 90 days' },
        ],
      },
      srcs,
    );
    assert.deepEqual(
      c.map((x) => [x.verified, x.line, x.problem]),
      [
        [true, 2, null],
        [false, null, '"docs/other.md" is not one of the sources'],
        [false, null, 'the quote is not in docs/deploy.md'],
      ],
    );
  });
  it('tool results: structured content, JSON text, or plain text without citations', () => {
    assert.deepEqual(
      parseToolResult({ structuredContent: { answer: 'a', citations: [{ source: 's', quote: 'q' }] } }),
      { answer: 'a', citations: [{ source: 's', quote: 'q' }] },
    );
    assert.deepEqual(
      parseToolResult({ content: [{ type: 'text', text: '{"text":"b","sources":[{"title":"t","excerpt":"e"}]}' }] }),
      { answer: 'b', citations: [{ source: 't', quote: 'e' }] },
    );
    assert.deepEqual(parseToolResult({ content: [{ type: 'text', text: 'just words' }] }), {
      answer: 'just words',
      citations: [],
    });
  });
});
