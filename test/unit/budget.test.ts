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
import type { Usage } from '../../src/core/budget/port.js';
import { policyWithCaps } from './helpers/policy.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sy-ledger-'));
const USAGE: Usage = {
  input_tokens: 1000,
  cached_input_tokens: 0,
  cache_write_5m_tokens: 0,
  cache_write_1h_tokens: 0,
  output_tokens: 100,
  reasoning_tokens: 0,
  reported: true,
};
const USD = 1e12;
const sonnet = {
  role: 'architect' as const,
  tier: 'cloud_quality',
  provider: 'anthropic' as const,
  model: 'claude-sonnet-4-6',
  task_id: 'T-1',
};

describe('budget: exact cost and the reservation arithmetic', () => {
  it('prices are integer pico-dollars; the cost of a call is the usage times the price, cached and written tokens apart', () => {
    const p = pricesFor(bundledPolicy(), 'deepseek', 'deepseek-v4-pro')!;
    assert.deepEqual([p.input, p.cached_input, p.output], [435_000, 3_625, 870_000]);
    assert.equal(
      costPico({ ...USAGE, input_tokens: 3, cached_input_tokens: 1000, output_tokens: 7 }, p),
      3 * 435_000 + 1000 * 3_625 + 7 * 870_000,
    );
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
    const policy = policyWithCaps([
      { id: 'daily', scope: 'global', period: 'day', usd: 10 },
      { id: 'task', scope: 'global', period: 'task', usd: 2 },
      { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', usd: 3 },
    ]);
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
      { id: 'daily', scope: 'global', period: 'day', usd: 10 },
      { id: 'monthly', scope: 'global', period: 'month', usd: 100 },
      { id: 'task', scope: 'global', period: 'task', usd: 2 },
      { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', usd: 3 },
      { id: 'premium_judge.monthly', scope: 'tier', target: 'premium_judge', period: 'month', usd: 30 },
    ];
    const l = new Ledger(join(tmp(), 'ledger.jsonl'), () => policyWithCaps(caps));
    const refuse = async (r: Parameters<Ledger['reserve']>[0]) => {
      const x = await l.reserve(r);
      assert.equal(x.ok, false);
      return (x as { message: string }).message;
    };
    assert.match(
      await refuse({ ...sonnet, pico: 2.5 * USD }),
      /^GR-011: the per-task cap "task" of \$2\.00 would be passed: \$0\.00 spent, and this call to anthropic\/claude-sonnet-4-6 may cost up to \$2\.50\. The call is refused, not moved to a cheaper model\. .*start a new task/,
    );
    assert.match(
      await refuse({ ...sonnet, task_id: null, pico: 10.5 * USD }),
      /daily cap "daily" of \$10\.00 .*wait for the next day/,
    );
    assert.match(
      await refuse({ ...sonnet, task_id: null, role: 'judge', tier: 'premium_judge', pico: 3.5 * USD }),
      /daily judge cap "judge\.daily" of \$3\.00/,
    );
    const held = await l.reserve({ ...sonnet, task_id: null, pico: 1.5 * USD });
    assert.ok(held.ok);
    assert.match(
      await refuse({ ...sonnet, task_id: 'T-2', pico: 9 * USD }),
      /"daily" .* \$0\.00 spent and \$1\.50 reserved by calls in flight/,
    );
    const caps2 = policyWithCaps([
      { id: 'monthly', scope: 'global', period: 'month', usd: 1 },
      { id: 'premium_judge.monthly', scope: 'tier', target: 'premium_judge', period: 'month', usd: 0.5 },
    ]);
    const l2 = new Ledger(join(tmp(), 'ledger.jsonl'), () => caps2);
    assert.match(
      ((await l2.reserve({ ...sonnet, pico: 1.01 * USD })) as { message: string }).message,
      /monthly cap "monthly" of \$1\.00 .*wait for the next month/,
    );
    assert.match(
      ((await l2.reserve({ ...sonnet, tier: 'premium_judge', role: 'judge', pico: 0.6 * USD })) as { message: string })
        .message,
      /monthly premium_judge cap "premium_judge\.monthly" of \$0\.50/,
    );
  });

  it('a reservation whose process died stops counting after 30 minutes, with a release line saying why', async () => {
    let now = Date.parse('2026-11-26T10:00:00');
    const path = join(tmp(), 'ledger.jsonl');
    const policy = policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 1 }]);
    const l = new Ledger(
      path,
      () => policy,
      () => now,
    );
    assert.ok((await l.reserve({ ...sonnet, pico: 0.9 * USD })).ok);
    assert.equal((await l.reserve({ ...sonnet, pico: 0.5 * USD })).ok, false);
    now += ABANDON_AFTER_MS + 1;
    assert.ok((await l.reserve({ ...sonnet, pico: 0.5 * USD })).ok);
    assert.match(readFileSync(path, 'utf8'), /"e":"release".*abandoned/);
  });

  it('a torn last line (a crash mid-write) is skipped on replay and never swallows the next entry', async () => {
    const path = join(tmp(), 'ledger.jsonl');
    const policy = policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 100 }]);
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
    buildSync({
      entryPoints: ['test/support/ledgerChild.ts'],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'silent',
    });
  });
  const run = (args: string[]) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
      p.on('exit', (code) => r({ code, out, err })),
    );
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
    const l = new Ledger(path, () => policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 1 }]));
    assert.equal(Math.round(l.snapshot(null)[0]!.spent_usd * 100), 98);
  });

  it('a writer killed with SIGKILL mid-write loses no committed entry', async () => {
    const path = join(tmp(), 'ledger.jsonl');
    const c = run(['commits', path]);
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (c.out().split('\n').length > 60) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    c.p.kill('SIGKILL');
    await c.done;
    const acknowledged = c
      .out()
      .split('\n')
      .filter((x) => /^[0-9a-f-]{36}$/.test(x));
    assert.ok(acknowledged.length >= 60);
    const l = new Ledger(path, () => policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 1e6 }]));
    const committed = new Set(
      readFileSync(path, 'utf8')
        .split('\n')
        .flatMap((line) => {
          try {
            const e = JSON.parse(line);
            return e.e === 'commit' ? [e.id] : [];
          } catch {
            return [];
          }
        }),
    );
    for (const id of acknowledged) assert.ok(committed.has(id), `committed entry ${id} lost`);
    for (const id of acknowledged) assert.ok(!l.open.has(id), `entry ${id} replayed as still open`);
    assert.ok(l.books().month[Object.keys(l.books().month)[0]!]!.calls >= acknowledged.length);
    // And the ledger still takes new entries after the crash.
    const r = await l.reserve({ ...sonnet, pico: 1 });
    assert.ok(r.ok);
    l.commit(r.id, 1, USAGE);
    const l2 = new Ledger(path, () => policyWithCaps([]));
    assert.ok(!l2.open.has(r.id));
    assert.equal(
      l2.books().month[Object.keys(l2.books().month)[0]!]!.calls,
      l.books().month[Object.keys(l.books().month)[0]!]!.calls,
    );
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
    const res = spawnSync(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href,
        'src/cli/bin.ts',
        'budget',
        '--state',
        state,
        '--task',
        'T-1',
      ],
      { encoding: 'utf8' },
    );
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
      lines.push(
        `\n{"e":"reserve","id":"${id}","ts":${day0 + i * 1000},"role":"architect","tier":"cloud_quality","provider":"anthropic","model":"claude-sonnet-4-6","task":"T-${i % 7}","pico":5000000}`,
      );
      lines.push(
        `\n{"e":"commit","id":"${id}","ts":${day0 + i * 1000 + 10},"pico":${1_000_000 + i},"in":10,"cached":0,"out":3}`,
      );
    }
    writeFileSync(path, lines.join(''));
    const policy = policyWithCaps([{ id: 'monthly', scope: 'global', period: 'month', usd: 1e6 }]);
    const full = new Ledger(path, () => policy);
    assert.equal(full.opened.from, 'replay');
    const r = await full.reserve({ ...sonnet, pico: USD / 100 });
    assert.ok(r.ok);
    full.commit(r.id, USD / 1000, USAGE);
    const fromCheckpoint = new Ledger(path, () => policy);
    assert.equal(fromCheckpoint.opened.from, 'checkpoint');
    assert.ok(
      fromCheckpoint.opened.events < 10,
      `replayed ${fromCheckpoint.opened.events} events after the checkpoint`,
    );
    rmSync(`${path}.checkpoint`);
    const replayed = new Ledger(path, () => policy);
    assert.deepEqual(fromCheckpoint.books(), replayed.books());
    assert.deepEqual(fromCheckpoint.snapshot('T-1'), replayed.snapshot('T-1'));
    // The log replaced by another (shorter, different) one: the checkpoint no longer matches and is ignored.
    new Ledger(path, () => policy); // writes a checkpoint again
    writeFileSync(path, lines.slice(0, 100).join(''));
    const other = new Ledger(path, () => policy);
    assert.equal(other.opened.from, 'replay');
    assert.equal(
      Object.values(other.books().month).reduce((n, a) => n + a.calls, 0),
      50,
    );
  });
});

describe('budget: replay reads every line as JSON.parse would', () => {
  // An oracle: the plain reading (JSON.parse per line, events applied one by one), against which the fast byte
  // reader (replay.ts) is checked on a ledger with everything a real one can hold.
  function oracle(text: string) {
    type B = Record<
      string,
      {
        total: number;
        calls: number;
        tin: number;
        tout: number;
        local: number;
        role: Record<string, number>;
        tier: Record<string, number>;
        provider: Record<string, number>;
      }
    >;
    const spent = { day: {} as B, month: {} as B, task: {} as B };
    const heldMonth: Record<string, number> = {};
    const open = new Map<
      string,
      { role: string; tier: string; provider: string; task: string | null; ts: number; pico: number }
    >();
    const day = (ts: number) => {
      const x = new Date(ts);
      return `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, '0')}-${String(x.getDate()).padStart(2, '0')}`;
    };
    const add = (
      r: { role: string; tier: string; provider: string; task: string | null; ts: number },
      d: number,
      tin: number,
      tout: number,
    ) => {
      const keys: [keyof typeof spent, string][] = [
        ['day', day(r.ts)],
        ['month', day(r.ts).slice(0, 7)],
      ];
      if (r.task) keys.push(['task', r.task]);
      for (const [k, v] of keys) {
        const a = (spent[k][v] ??= { total: 0, calls: 0, tin: 0, tout: 0, local: 0, role: {}, tier: {}, provider: {} });
        a.total += d;
        a.calls++;
        a.tin += tin;
        a.tout += tout;
        if (r.provider === 'local') a.local += tin + tout;
        a.role[r.role] = (a.role[r.role] ?? 0) + d;
        a.tier[r.tier] = (a.tier[r.tier] ?? 0) + d;
        a.provider[r.provider] = (a.provider[r.provider] ?? 0) + d;
      }
    };
    const hold = (ts: number, d: number) => {
      const m = day(ts).slice(0, 7);
      heldMonth[m] = (heldMonth[m] ?? 0) + d;
    };
    let torn = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      let ev: any;
      try {
        ev = JSON.parse(line);
      } catch {
        torn++;
        continue;
      }
      if (!ev || typeof ev !== 'object') {
        torn++;
        continue;
      }
      if (ev.e === 'reserve') {
        open.set(ev.id, ev);
        hold(ev.ts, ev.pico);
      } else if (ev.e === 'record') {
        hold(ev.ts, ev.pico);
        add(ev, ev.pico, (ev.in ?? 0) + (ev.cached ?? 0), ev.out ?? 0);
      } else if (ev.e === 'commit' || ev.e === 'release') {
        const r = open.get(ev.id);
        if (!r) continue;
        open.delete(ev.id);
        if (ev.e === 'commit') {
          hold(r.ts, ev.pico - r.pico);
          add(r, ev.pico, (ev.in ?? 0) + (ev.cached ?? 0), ev.out ?? 0);
        } else hold(r.ts, -r.pico);
      }
    }
    return { spent, heldMonth, open: [...open.keys()].sort(), torn };
  }
  const view = (l: Ledger) => {
    const pick = (
      b: Record<
        string,
        {
          total: number;
          calls: number;
          tin: number;
          tout: number;
          local: number;
          role: Record<string, number>;
          tier: Record<string, number>;
          provider: Record<string, number>;
        }
      >,
    ) =>
      Object.fromEntries(
        Object.entries(b).map(([k, a]) => [
          k,
          {
            total: a.total,
            calls: a.calls,
            tin: a.tin,
            tout: a.tout,
            local: a.local,
            role: a.role,
            tier: a.tier,
            provider: a.provider,
          },
        ]),
      );
    const books = l.books();
    const months = Object.keys(books.month);
    return {
      spent: { day: pick(books.day), month: pick(books.month), task: pick(books.task) },
      months,
      open: [...l.open.keys()].sort(),
    };
  };

  it('fast and slow lines, escapes, other languages, records, releases, torn and unknown lines: the same books as JSON.parse; also read in pieces', () => {
    const lines: string[] = [];
    const t0 = Date.UTC(2026, 9, 20, 21, 0, 0); // crosses local midnights and a month end
    const roles = ['architect', 'judge', 'implementer'];
    const tasks = ['T-1', 'tâche-é', null, 'T "quoted"', '任务'];
    const models = ['claude-sonnet-4-6', 'gpt-5.1', 'qwen3-coder:30b', 'model "x" \\ y'];
    let n = 0;
    for (let i = 0; i < 4000; i++) {
      const ts = t0 + i * 997_000;
      const id = i % 97 === 5 ? `id-é-${i}` : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const a = {
        role: roles[i % 3],
        tier: i % 2 ? 'cloud_quality' : 'cloud_fast',
        provider: i % 5 ? 'anthropic' : 'openai',
        model: models[i % 4],
        task: tasks[i % 5],
      };
      if (i % 11 === 3) {
        lines.push(
          JSON.stringify({ e: 'record', id, ts, ...a, provider: 'local', pico: 0, in: 50 + i, cached: i % 3, out: 7 }),
        );
        continue;
      }
      // the writer's own key order, and now and then an older writer's order (slow path)
      lines.push(
        i % 13 === 0
          ? JSON.stringify({ pico: 1000 + i, e: 'reserve', ts, id, ...a })
          : JSON.stringify({ e: 'reserve', id, ts, ...a, pico: 5_000_000 + i }),
      );
      if (i % 7 === 1) continue; // left open
      if (i % 17 === 2) {
        lines.push(JSON.stringify({ e: 'release', id, ts: ts + 5, why: 'refused by "the" provider' }));
        continue;
      }
      const c = {
        e: 'commit',
        id,
        ts: ts + 10,
        pico: 1_000_000 + i * 3,
        in: 100 + i,
        cached: i % 50,
        out: 20 + (i % 9),
      };
      lines.push(i % 19 === 4 ? JSON.stringify({ ...c, extra: true }) : JSON.stringify(c));
      if (i % 23 === 6) lines.push(JSON.stringify(c)); // a duplicate commit: ignored
      if (i % 29 === 7)
        lines.push('{"e":"commit","id":"no-such-reservation","ts":1,"pico":5,"in":1,"cached":0,"out":1}');
      if (i % 31 === 8) lines.push('{"e":"commit","id":"torn-mid-wr');
      if (i % 37 === 9) lines.push('null');
      n++;
    }
    assert.ok(n > 2000);
    const text = lines.map((l) => `\n${l}`).join('');
    const want = oracle(text);
    const dir = tmp();
    const whole = new Ledger(join(dir, 'whole.jsonl'), () => policyWithCaps([]));
    appendFileSync(whole.path, text);
    whole.refresh();
    const got = view(whole);
    assert.deepEqual(got.spent, want.spent);
    assert.deepEqual(got.open, want.open);
    assert.equal(whole.torn.length, want.torn);
    // held = spent + open reservations: checked through the monthly cap's use
    for (const m of got.months) {
      const [y, mo] = m.split('-').map(Number);
      const l = new Ledger(
        whole.path,
        () => policyWithCaps([{ id: 'm', scope: 'global', period: 'month', usd: 1e9 }]),
        () => new Date(y!, mo! - 1, 15).getTime(),
      );
      assert.equal(l.capUse({ id: 'm', scope: 'global', period: 'month', usd: 1e9 }, null).held, want.heldMonth[m], m);
    }
    // The same file read in pieces cut anywhere (a reservation in one piece, its commit in the next; a line cut in two).
    const pieces = new Ledger(join(dir, 'pieces.jsonl'), () => policyWithCaps([]));
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length;) {
      const next = Math.min(bytes.length, at + 5_000 + (at % 7_919));
      appendFileSync(pieces.path, bytes.subarray(at, next));
      pieces.refresh();
      at = next;
    }
    assert.deepEqual(view(pieces).spent, want.spent);
    assert.deepEqual(view(pieces).open, want.open);
    assert.equal(pieces.torn.length, want.torn);
  });
});

describe('budget: the cross-process lock', () => {
  it('lives in /dev/shm on Linux, named by the ledger real path (a symlinked folder meets the same lock); SWITCHYARD_LOCK_DIR moves it; elsewhere beside the ledger', async () => {
    const { lockPathFor } = await import('../../src/core/budget/lock.js');
    const { symlinkSync, mkdirSync } = await import('node:fs');
    const dir = tmp();
    mkdirSync(join(dir, 'real'));
    symlinkSync(join(dir, 'real'), join(dir, 'link'));
    const a = lockPathFor(join(dir, 'real', 'ledger.jsonl'), {}, 'linux');
    assert.match(a, /^\/dev\/shm\/switchyard-\d+-[0-9a-f]{20}\.lock$/);
    assert.equal(lockPathFor(join(dir, 'link', 'ledger.jsonl'), {}, 'linux'), a);
    assert.notEqual(lockPathFor(join(dir, 'real', 'other.jsonl'), {}, 'linux'), a);
    assert.ok(
      lockPathFor(join(dir, 'real', 'ledger.jsonl'), { SWITCHYARD_LOCK_DIR: dir }, 'linux').startsWith(
        `${dir}/switchyard-`,
      ),
    );
    assert.equal(lockPathFor(join(dir, 'real', 'ledger.jsonl'), {}, 'darwin'), join(dir, 'real', 'ledger.jsonl.lock'));
    assert.equal(
      lockPathFor(join(dir, 'real', 'ledger.jsonl'), { SWITCHYARD_LOCK_DIR: join(dir, 'missing') }, 'linux'),
      join(dir, 'real', 'ledger.jsonl.lock'),
    );
  });

  it('a held lock makes reserve wait until it is freed; a lock left by a dead process (older than 5 s) is taken over', async () => {
    const { mkdirSync, rmdirSync, utimesSync, existsSync } = await import('node:fs');
    const l = new Ledger(join(tmp(), 'ledger.jsonl'), () =>
      policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 100 }]),
    );
    mkdirSync(l.lockPath);
    let freed = 0;
    setTimeout(() => {
      freed = Date.now();
      rmdirSync(l.lockPath);
    }, 150);
    const r = await l.reserve({ ...sonnet, pico: USD });
    assert.ok(r.ok);
    assert.ok(freed > 0 && Date.now() >= freed, 'reserve went ahead before the holder freed the lock');
    mkdirSync(l.lockPath);
    const old = (Date.now() - 10_000) / 1000;
    utimesSync(l.lockPath, old, old);
    const t = Date.now();
    assert.ok((await l.reserve({ ...sonnet, pico: USD })).ok);
    assert.ok(Date.now() - t < 1_000, 'a stale lock was waited on');
    assert.equal(existsSync(l.lockPath), false, 'the lock is freed after the reservation');
  });
});

describe('budget: a lock that cannot be made', () => {
  it('refuses with an error naming the lock, the cause and SWITCHYARD_LOCK_DIR; nothing is written to the ledger', async () => {
    const { writeFileSync, readFileSync: read, rmSync } = await import('node:fs');
    const l = new Ledger(join(tmp(), 'ledger.jsonl'), () =>
      policyWithCaps([{ id: 'daily', scope: 'global', period: 'day', usd: 100 }]),
    );
    // A file where the lock's folder should be: mkdir fails with ENOTDIR.
    const blocker = join(tmp(), 'not-a-dir');
    writeFileSync(blocker, '');
    (l as unknown as { lockPath: string }).lockPath = join(blocker, 'x.lock');
    await assert.rejects(
      l.reserve({ ...sonnet, pico: USD }),
      (e: Error) =>
        /could not be made \(ENOTDIR/.test(e.message) &&
        /SWITCHYARD_LOCK_DIR/.test(e.message) &&
        e.message.includes(blocker),
    );
    assert.equal(read(l.path, 'utf8'), '');
    rmSync(blocker);
  });
});

describe('budget: replay under random interleavings', () => {
  it('many reservations open at once, settled in random order, some twice, some never: the same as applying the events one by one', () => {
    // A small seeded generator: the same sequence on every run.
    let seed = 0x9e3779b9;
    const rnd = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const dir = tmp();
    for (let round = 0; round < 3; round++) {
      const lines: string[] = [];
      const open: string[] = [];
      const held = new Map<string, number>();
      let spent = 0,
        calls = 0,
        heldSum = 0;
      const t0 = Date.UTC(2026, 10, 3, 12);
      for (let i = 0; i < 6000; i++) {
        const ts = t0 + i * 1000;
        if (open.length < 300 && (open.length === 0 || rnd() < 0.55)) {
          const id =
            rnd() < 0.5
              ? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
              : `r${round}-${i}-${Math.floor(rnd() * 1e9).toString(36)}`;
          const pico = 1_000_000 + Math.floor(rnd() * 1e6);
          lines.push(
            JSON.stringify({
              e: 'reserve',
              id,
              ts,
              role: rnd() < 0.5 ? 'architect' : 'judge',
              tier: 'cloud_quality',
              provider: 'anthropic',
              model: 'claude-sonnet-4-6',
              task: `T-${i % 13}`,
              pico,
            }),
          );
          open.push(id);
          held.set(id, pico);
          heldSum += pico;
        } else {
          const k = Math.floor(rnd() * open.length);
          const id = open.splice(k, 1)[0]!;
          const r = held.get(id)!;
          held.delete(id);
          if (rnd() < 0.2) {
            lines.push(JSON.stringify({ e: 'release', id, ts }));
            heldSum -= r;
          } else {
            const pico = Math.floor(rnd() * 2e6);
            lines.push(JSON.stringify({ e: 'commit', id, ts, pico, in: 10, cached: 1, out: 2 }));
            heldSum += pico - r;
            spent += pico;
            calls++;
            if (rnd() < 0.05)
              lines.push(JSON.stringify({ e: 'commit', id, ts: ts + 1, pico: 999, in: 1, cached: 0, out: 1 })); // a repeat: ignored
          }
        }
      }
      const text = lines.map((l) => `\n${l}`).join('');
      const month = { id: 'm', scope: 'global' as const, period: 'month' as const, usd: 1e9 };
      const check = (l: Ledger) => {
        assert.equal(
          Object.values(l.books().month).reduce((n, a) => n + a.total, 0),
          spent,
        );
        assert.equal(
          Object.values(l.books().month).reduce((n, a) => n + a.calls, 0),
          calls,
        );
        assert.deepEqual([...l.open.keys()].sort(), [...open].sort());
        assert.equal(l.capUse(month, null).held, heldSum);
      };
      const whole = new Ledger(
        join(dir, `w${round}.jsonl`),
        () => policyWithCaps([month]),
        () => t0,
      );
      appendFileSync(whole.path, text);
      whole.refresh();
      check(whole);
      const pieces = new Ledger(
        join(dir, `p${round}.jsonl`),
        () => policyWithCaps([month]),
        () => t0,
      );
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length;) {
        const next = Math.min(bytes.length, at + 1 + Math.floor(rnd() * 40_000));
        appendFileSync(pieces.path, bytes.subarray(at, next));
        pieces.refresh();
        at = next;
      }
      check(pieces);
    }
  });
});

describe('budget: a log replaced under an open ledger', () => {
  it('a shorter log (truncated, or replaced by a restore) is noticed at the next read and read again from its start', async () => {
    const { writeFileSync } = await import('node:fs');
    const policy = policyWithCaps([{ id: 'monthly', scope: 'global', period: 'month', usd: 1e6 }]);
    const path = join(tmp(), 'ledger.jsonl');
    const l = new Ledger(path, () => policy);
    for (let i = 0; i < 20; i++) {
      const r = await l.reserve({ ...sonnet, pico: USD });
      assert.ok(r.ok);
      l.commit(r.id, USD / 100, USAGE);
    }
    assert.equal(l.snapshot(null)[0]!.spent_usd, 0.2);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    writeFileSync(
      path,
      lines
        .slice(0, 10)
        .map((x) => `\n${x}`)
        .join(''),
    ); // the first 5 calls only
    assert.equal(l.snapshot(null)[0]!.spent_usd, 0.05);
    assert.equal(
      Object.values(l.books().month).reduce((n, a) => n + a.calls, 0),
      5,
    );
  });
});
