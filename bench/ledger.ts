// Issue 6: reserve + commit latency on the real ledger (lock, catch-up read, synced append), and replay time.
import { spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/core/budget/ledger.js';
import type { Policy } from '../src/core/policy/schema.js';
import type { Figure } from './router.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The 1,000,000 events, written in pieces from a function of its own: the bench's own garbage (a million strings)
 * is gone before the replay, whose time would otherwise include collecting it. */
function writeBig(path: string): void {
  const fd = openSync(path, 'w');
  const day0 = Date.now() - 30 * 86_400_000;
  for (let k = 0; k < 500_000; k += 10_000) {
    const parts: string[] = [];
    for (let i = k; i < k + 10_000; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const ts = day0 + i * 5000;
      parts.push(
        `\n{"e":"reserve","id":"${id}","ts":${ts},"role":"${i % 3 ? 'architect' : 'judge'}","tier":"cloud_quality","provider":"anthropic","model":"claude-sonnet-4-6","task":"T-${i % 500}","pico":120000000}`,
      );
      parts.push(
        `\n{"e":"commit","id":"${id}","ts":${ts + 900},"pico":${40_000_000 + (i % 1000)},"in":1200,"cached":300,"out":400}`,
      );
    }
    writeSync(fd, parts.join(''));
  }
  closeSync(fd);
}

export async function benchLedger(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-ledger-'));

  const policy = {
    budget: {
      currency: 'USD',
      caps: [
        { id: 'daily', scope: 'global', period: 'day', usd: 1e9 },
        { id: 'monthly', scope: 'global', period: 'month', usd: 1e9 },
        { id: 'task', scope: 'global', period: 'task', usd: 1e9 },
        { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', usd: 1e9 },
      ],
    },
  } as unknown as Policy;
  const usage = {
    input_tokens: 1200,
    cached_input_tokens: 300,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    output_tokens: 400,
    reasoning_tokens: 0,
    reported: true,
  };
  const ledger = new Ledger(join(dir, 'ledger.jsonl'), () => policy);
  const req = {
    role: 'architect' as const,
    tier: 'cloud_quality',
    provider: 'anthropic' as const,
    model: 'claude-sonnet-4-6',
    task_id: 'T-1',
    pico: 123_456_789,
  };
  for (let i = 0; i < 50; i++) {
    const r = await ledger.reserve(req);
    if (r.ok) ledger.commit(r.id, 1000, usage);
  }
  // Flush what earlier sections (or an earlier run's 165 MB replay file) left to write back: the synced commit
  // would otherwise wait behind their writeback, and measure them, not the ledger.
  spawnSync('sync');
  // Side by side with two floors on the same disk, alternated with the pairs so that the disk's noise falls on
  // all alike: one bare append + fdatasync of a commit line, and the pair's own file work without its code (a
  // reservation line appended, then a commit line appended and synced).
  const floorFd = openSync(join(dir, 'floor.jsonl'), 'a');
  const ioFd = openSync(join(dir, 'io.jsonl'), 'a');
  const line = `\n${JSON.stringify({ e: 'commit', id: '00000000-0000-4000-8000-000000000000', ts: Date.now(), pico: 100_000, in: 1200, cached: 300, out: 400 })}`;
  const reserveLine = `\n${JSON.stringify({ e: 'reserve', id: '00000000-0000-4000-8000-000000000000', ts: Date.now(), role: req.role, tier: req.tier, provider: req.provider, model: req.model, task: req.task_id, pico: req.pico })}`;
  const xs: number[] = [];
  const floor: number[] = [];
  const io: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = performance.now();
    const r = await ledger.reserve(req);
    if (r.ok) ledger.commit(r.id, 100_000 + i, usage);
    xs.push(performance.now() - t);
    const f = performance.now();
    writeSync(floorFd, line);
    fdatasyncSync(floorFd);
    floor.push(performance.now() - f);
    const g = performance.now();
    writeSync(ioFd, reserveLine);
    writeSync(ioFd, line);
    fdatasyncSync(ioFd);
    io.push(performance.now() - g);
  }
  closeSync(floorFd);
  closeSync(ioFd);
  // 1,000,000 events (reserve + commit pairs over 30 days, several tasks and roles), replayed by a fresh ledger.
  const big = join(dir, 'big.jsonl');
  writeBig(big);
  spawnSync('sync'); // the 165 MB written back before the replays read it, not while
  // A full replay (no checkpoint), then opens that start from the checkpoint the replay left behind.
  const full: number[] = [];
  const fromCheckpoint: number[] = [];
  const monthCalls = (l: Ledger) => Object.values(l.books().month).reduce((n, a) => n + a.calls, 0);
  for (let i = 0; i < 3; i++) {
    rmSync(`${big}.checkpoint`, { force: true });
    const t = performance.now();
    const l = new Ledger(big, () => policy);
    full.push(performance.now() - t);
    if (l.opened.from !== 'replay' || monthCalls(l) !== 500_000)
      throw new Error(`full replay: ${l.opened.from}, ${monthCalls(l)} calls`);
    const t2 = performance.now();
    const c = new Ledger(big, () => policy);
    fromCheckpoint.push(performance.now() - t2);
    if (c.opened.from !== 'checkpoint' || monthCalls(c) !== 500_000)
      throw new Error(`checkpoint open: ${c.opened.from}, ${monthCalls(c)} calls`);
  }
  rmSync(dir, { recursive: true, force: true });
  const p99 = pct(xs, 0.99);
  const replay = pct(full, 0.5);
  const opened = pct(fromCheckpoint, 0.5);
  return [
    {
      name: 'ledger reserve + commit (lock, catch-up read, append, synced commit), 3,000 pairs',
      value: `p50 ${pct(xs, 0.5).toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${pct(xs, 1).toFixed(3)} ms`,
      goal: 'p99 < 2 ms',
      ok: p99 < 2,
    },
    {
      name: '  floor, same run and disk: one bare append + fdatasync',
      value: `p50 ${pct(floor, 0.5).toFixed(3)} ms, p99 ${pct(floor, 0.99).toFixed(3)} ms, max ${pct(floor, 1).toFixed(3)} ms`,
    },
    {
      name: "  the pair's file work alone: 2 appends + fdatasync",
      value: `p50 ${pct(io, 0.5).toFixed(3)} ms, p99 ${pct(io, 0.99).toFixed(3)} ms, max ${pct(io, 1).toFixed(3)} ms`,
    },
    {
      name: 'ledger full replay of 1,000,000 events, no checkpoint (median of 3)',
      value: `${replay.toFixed(0)} ms`,
      goal: '< 2 s',
      ok: replay < 2000,
    },
    {
      name: 'ledger open of the same 1,000,000 events from its checkpoint',
      value: `${opened.toFixed(1)} ms`,
      goal: '< 2 s',
      ok: opened < 2000,
    },
  ];
}
