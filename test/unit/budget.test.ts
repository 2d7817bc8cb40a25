import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import { costPico, pricesFor, worstCasePico } from '../../src/core/budget/cost.js';
import { ABANDON_AFTER_MS, Ledger } from '../../src/core/budget/ledger.js';
import { promptTokens } from '../../src/core/budget/tokens.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import type { Usage } from '../../src/core/providers/types.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sy-ledger-'));
const USAGE: Usage = { input_tokens: 1000, cached_input_tokens: 0, cache_write_5m_tokens: 0, cache_write_1h_tokens: 0, output_tokens: 100, reasoning_tokens: 0, reported: true };
const USD = 1e12;
const policyWith = (caps: Policy['budget']['caps']): Policy => { const p = structuredClone(bundledPolicy()); p.budget.caps = caps; return p; };
const sonnet = { role: 'architect' as const, tier: 'cloud_quality', provider: 'anthropic' as const, model: 'claude-sonnet-4-6', task_id: 'T-1' };

describe('budget: exact cost and the reservation arithmetic', () => {
  it('prices are integer pico-dollars; the cost of a call is the usage times the price, cached and written tokens apart', () => {
    const p = pricesFor(bundledPolicy(), 'deepseek', 'deepseek-v4-pro')!;
    assert.deepEqual([p.input, p.cached_input, p.output], [435_000, 3_625, 870_000]);
    assert.equal(costPico({ ...USAGE, input_tokens: 3, cached_input_tokens: 1000, output_tokens: 7 }, p), 3 * 435_000 + 1000 * 3_625 + 7 * 870_000);
    assert.equal(pricesFor(bundledPolicy(), 'local', 'anything')!.output, 0);
  });

  it('the worst case counts prompt tokens with a tokenizer (with a margin for non-OpenAI tokenizers) plus every allowed output token', () => {
    const text = 'fn main() { println!("hello, world"); }';
    const openai = promptTokens(text, 'openai');
    assert.ok(openai > 8 && openai < 30, `${openai}`);
    assert.ok(promptTokens(text, 'anthropic') > openai);
    const p = pricesFor(bundledPolicy(), 'anthropic', 'claude-sonnet-4-6')!;
    assert.equal(worstCasePico(100, 4000, p), 100 * 3_750_000 + 4000 * 15_000_000);
  });

  it('reserve holds the worst case; commit replaces it by the actual cost; release frees it; spend per cap follows', async () => {
    const dir = tmp();
    const policy = policyWith([{ id: 'daily', scope: 'global', period: 'day', usd: 10 }, { id: 'task', scope: 'global', period: 'task', usd: 2 }, { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', usd: 3 }]);
    const l = new Ledger(join(dir, 'ledger.jsonl'), () => policy);
    const a = await l.reserve({ ...sonnet, pico: 0.5 * USD });
    assert.ok(a.ok);
    const snap = () => Object.fromEntries(l.snapshot('T-1').map((c) => [c.id, c.spent_usd]));
    assert.deepEqual(snap(), { daily: 0.5, task: 0.5, 'judge.daily': 0 });
    l.commit(a.id, 0.123 * USD, USAGE);
    assert.deepEqual(snap(), { daily: 0.123, task: 0.123, 'judge.daily': 0 });
    const b = await l.reserve({ ...sonnet, role: 'judge', tier: 'premium_judge', pico: 1 * USD });
    assert.ok(b.ok);
    assert.deepEqual(snap(), { daily: 1.123, task: 1.123, 'judge.daily': 1 });
    l.release(b.id);
    assert.deepEqual(snap(), { daily: 0.123, task: 0.123, 'judge.daily': 0 });
    // Another process (a fresh ledger on the same file) replays to the same state.
    const again = new Ledger(join(dir, 'ledger.jsonl'), () => policy);
    assert.deepEqual(again.snapshot('T-1'), l.snapshot('T-1'));
    assert.equal(again.books().task['T-1']!.tout, 100);
    assert.equal(again.open.size, 0);
  });

  it('each cap refuses with a message naming it, the spend, and what the user can do', async () => {
    const caps: Policy['budget']['caps'] = [
      { id: 'daily', scope: 'global', period: 'day', usd: 10 }, { id: 'monthly', scope: 'global', period: 'month', usd: 100 },
      { id: 'task', scope: 'global', period: 'task', usd: 2 }, { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', usd: 3 },
      { id: 'premium_judge.monthly', scope: 'tier', target: 'premium_judge', period: 'month', usd: 30 },
    ];
    const l = new Ledger(join(tmp(), 'ledger.jsonl'), () => policyWith(caps));
    const refuse = async (r: Parameters<Ledger['reserve']>[0]) => { const x = await l.reserve(r); assert.equal(x.ok, false); return (x as { message: string }).message; };
    assert.match(await refuse({ ...sonnet, pico: 2.5 * USD }), /^GR-011: the per-task cap "task" of \$2\.00 would be passed: \$0\.00 spent, and this call to anthropic\/claude-sonnet-4-6 may cost up to \$2\.50\. The call is refused, not moved to a cheaper model\. .*start a new task/);
    assert.match(await refuse({ ...sonnet, task_id: null, pico: 10.5 * USD }), /daily cap "daily" of \$10\.00 .*wait for the next day/);
    assert.match(await refuse({ ...sonnet, task_id: null, role: 'judge', tier: 'premium_judge', pico: 3.5 * USD }), /daily judge cap "judge\.daily" of \$3\.00/);
    const held = await l.reserve({ ...sonnet, task_id: null, pico: 1.5 * USD });
    assert.ok(held.ok);
    assert.match(await refuse({ ...sonnet, task_id: 'T-2', pico: 9 * USD }), /"daily" .* \$0\.00 spent and \$1\.50 reserved by calls in flight/);
    const caps2 = policyWith([{ id: 'monthly', scope: 'global', period: 'month', usd: 1 }, { id: 'premium_judge.monthly', scope: 'tier', target: 'premium_judge', period: 'month', usd: 0.5 }]);
    const l2 = new Ledger(join(tmp(), 'ledger.jsonl'), () => caps2);
    assert.match((await l2.reserve({ ...sonnet, pico: 1.01 * USD }) as { message: string }).message, /monthly cap "monthly" of \$1\.00 .*wait for the next month/);
    assert.match((await l2.reserve({ ...sonnet, tier: 'premium_judge', role: 'judge', pico: 0.6 * USD }) as { message: string }).message, /monthly premium_judge cap "premium_judge\.monthly" of \$0\.50/);
  });

  it('a reservation whose process died stops counting after 30 minutes, with a release line saying why', async () => {
    let now = Date.parse('2026-11-26T10:00:00');
    const path = join(tmp(), 'ledger.jsonl');
    const policy = policyWith([{ id: 'daily', scope: 'global', period: 'day', usd: 1 }]);
    const l = new Ledger(path, () => policy, () => now);
    assert.ok((await l.reserve({ ...sonnet, pico: 0.9 * USD })).ok);
    assert.equal((await l.reserve({ ...sonnet, pico: 0.5 * USD })).ok, false);
    now += ABANDON_AFTER_MS + 1;
    assert.ok((await l.reserve({ ...sonnet, pico: 0.5 * USD })).ok);
    assert.match(readFileSync(path, 'utf8'), /"e":"release".*abandoned/);
  });

  it('a torn last line (a crash mid-write) is skipped on replay and never swallows the next entry', async () => {
    const path = join(tmp(), 'ledger.jsonl');
    const policy = policyWith([{ id: 'daily', scope: 'global', period: 'day', usd: 100 }]);
    const l = new Ledger(path, () => policy);
    const a = await l.reserve({ ...sonnet, pico: USD });
    assert.ok(a.ok);
    l.commit(a.id, 0.25 * USD, USAGE);
    appendFileSync(path, '\n{"e":"commit","id":"torn-entr');
    const l2 = new Ledger(path, () => policy);
    const b = await l2.reserve({ ...sonnet, pico: USD });
    assert.ok(b.ok);
    l2.commit(b.id, 0.5 * USD, USAGE);
    const l3 = new Ledger(path, () => policy);
    assert.equal(l3.snapshot(null)[0]!.spent_usd, 0.75);
    assert.equal(l3.torn.length, 1);
  });
});

describe('budget: several processes on one ledger', () => {
  let child: string;
  before(() => {
    child = join(tmp(), 'child.cjs');
    buildSync({ entryPoints: ['test/support/ledgerChild.ts'], outfile: child, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent' });
  });
  const run = (args: string[]) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const done = new Promise<{ code: number | null; out: string; err: string }>((r) => p.on('exit', (code) => r({ code, out, err })));
    return { p, done, out: () => out };
  };

  it('50 processes racing for the last dollars never pass the cap by a cent', async () => {
    const path = join(tmp(), 'ledger.jsonl');
    const pico = 0.07 * USD; // $1.00 holds 14 of these, not 15
    const results = await Promise.all(Array.from({ length: 50 }, () => run(['race', path, '1', String(pico)]).done));
    for (const r of results) assert.equal(r.code, 0, r.err);
    const ids = results.flatMap((r) => r.out.split('\n').filter(Boolean));
    assert.equal(ids.length, 14);
    assert.equal(new Set(ids).size, 14);
    const l = new Ledger(path, () => policyWith([{ id: 'daily', scope: 'global', period: 'day', usd: 1 }]));
    assert.equal(Math.round(l.snapshot(null)[0]!.spent_usd * 100), 98);
  });

  it('a writer killed with SIGKILL mid-write loses no committed entry', async () => {
    const path = join(tmp(), 'ledger.jsonl');
    const c = run(['commits', path]);
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (c.out().split('\n').length > 60) { clearInterval(t); resolve(); } }, 5); });
    c.p.kill('SIGKILL');
    await c.done;
    const acknowledged = c.out().split('\n').filter((x) => /^[0-9a-f-]{36}$/.test(x));
    assert.ok(acknowledged.length >= 60);
    const l = new Ledger(path, () => policyWith([{ id: 'daily', scope: 'global', period: 'day', usd: 1e6 }]));
    const committed = new Set(readFileSync(path, 'utf8').split('\n').flatMap((line) => { try { const e = JSON.parse(line); return e.e === 'commit' ? [e.id] : []; } catch { return []; } }));
    for (const id of acknowledged) assert.ok(committed.has(id), `committed entry ${id} lost`);
    for (const id of acknowledged) assert.ok(!l.open.has(id), `entry ${id} replayed as still open`);
    assert.ok(l.books().month[Object.keys(l.books().month)[0]!]!.calls >= acknowledged.length);
    // And the ledger still takes new entries after the crash.
    const r = await l.reserve({ ...sonnet, pico: 1 });
    assert.ok(r.ok);
    l.commit(r.id, 1, USAGE);
    const l2 = new Ledger(path, () => policyWith([]));
    assert.ok(!l2.open.has(r.id));
    assert.equal(l2.books().month[Object.keys(l2.books().month)[0]!]!.calls, l.books().month[Object.keys(l.books().month)[0]!]!.calls);
  });
});

describe('switchyard budget (CLI)', () => {
  it('prints spend per cap, the tightest cap, spend per role and provider, in-flight reservations and the projection', async () => {
    const { spawnSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const state = tmp();
    const l = new Ledger(join(state, 'ledger.jsonl'), () => bundledPolicy());
    const a = await l.reserve({ ...sonnet, pico: 1 * USD });
    assert.ok(a.ok);
    l.commit(a.id, 0.25 * USD, USAGE);
    const b = await l.reserve({ ...sonnet, role: 'judge', tier: 'premium_judge', task_id: null, pico: 0.5 * USD });
    assert.ok(b.ok);
    const res = spawnSync(process.execPath, ['--import', pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href, 'src/cli/main.ts', 'budget', '--state', state, '--task', 'T-1'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const r = JSON.parse(res.stdout);
    const cap = (id: string) => r.caps.find((c: { id: string }) => c.id === id);
    assert.deepEqual([cap('daily').spent_usd, cap('daily').reserved_usd], [0.25, 0.5]);
    assert.equal(cap('task').spent_usd, 0.25);
    assert.equal(r.tightest.id, 'judge.daily'); // $0.50 of $3 (17 %) is tighter than $0.25 of $2 and $0.75 of $10
    assert.equal(r.month.by_role.architect, 0.25);
    assert.equal(r.in_flight.length, 1);
    assert.equal(r.in_flight[0].role, 'judge');
    assert.ok(r.projection.month_end_usd >= 0.25);
  });
});

describe('budget: the checkpoint', () => {
  it('a long ledger opens from its checkpoint with the same sums as a full replay; a replaced log is replayed in full', async () => {
    const { writeFileSync, rmSync } = await import('node:fs');
    const path = join(tmp(), 'ledger.jsonl');
    const day0 = Date.now() - 3 * 86_400_000;
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const id = `id-${i}`;
      lines.push(`\n{"e":"reserve","id":"${id}","ts":${day0 + i * 1000},"role":"architect","tier":"cloud_quality","provider":"anthropic","model":"claude-sonnet-4-6","task":"T-${i % 7}","pico":5000000}`);
      lines.push(`\n{"e":"commit","id":"${id}","ts":${day0 + i * 1000 + 10},"pico":${1_000_000 + i},"in":10,"cached":0,"out":3}`);
    }
    writeFileSync(path, lines.join(''));
    const policy = policyWith([{ id: 'monthly', scope: 'global', period: 'month', usd: 1e6 }]);
    const full = new Ledger(path, () => policy);
    assert.equal(full.opened.from, 'replay');
    const r = await full.reserve({ ...sonnet, pico: USD / 100 });
    assert.ok(r.ok);
    full.commit(r.id, USD / 1000, USAGE);
    const fromCheckpoint = new Ledger(path, () => policy);
    assert.equal(fromCheckpoint.opened.from, 'checkpoint');
    assert.ok(fromCheckpoint.opened.events < 10, `replayed ${fromCheckpoint.opened.events} events after the checkpoint`);
    rmSync(`${path}.checkpoint`);
    const replayed = new Ledger(path, () => policy);
    assert.deepEqual(fromCheckpoint.books(), replayed.books());
    assert.deepEqual(fromCheckpoint.snapshot('T-1'), replayed.snapshot('T-1'));
    // The log replaced by another (shorter, different) one: the checkpoint no longer matches and is ignored.
    new Ledger(path, () => policy); // writes a checkpoint again
    writeFileSync(path, lines.slice(0, 100).join(''));
    const other = new Ledger(path, () => policy);
    assert.equal(other.opened.from, 'replay');
    assert.equal(Object.values(other.books().month).reduce((n, a) => n + a.calls, 0), 50);
  });
});
