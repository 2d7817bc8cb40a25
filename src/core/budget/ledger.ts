// The budget ledger (GR-011): an append-only event log in the state folder, shared by every VS Code window
// and CLI process. Reserve is check-and-append under a cross-process lock (proper-lockfile: a mkdir lock, no
// native module); commit and release are single O_APPEND writes, synced. Each line starts with a newline, so a
// line torn by a crash is closed by the next writer and skipped on replay, and never swallows a good line.
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Policy, ProviderId } from '../policy/schema.js';
import type { BudgetPort } from '../providers/call.js';
import type { Usage } from '../providers/types.js';
import type { CapStatus } from '../router/types.js';
import { picoToUsd } from './cost.js';

export type LedgerEvent =
  | { e: 'reserve'; id: string; ts: number; role: string; tier: string; provider: string; model: string; task: string | null; pico: number }
  | { e: 'commit'; id: string; ts: number; pico: number; in?: number; cached?: number; out?: number }
  | { e: 'release'; id: string; ts: number; why?: string }
  /** A call with nothing reserved (local calls: no cost, but their tokens count). */
  | { e: 'record'; id: string; ts: number; role: string; tier: string; provider: string; model: string; task: string | null; pico: number; in?: number; cached?: number; out?: number };

export interface Entry {
  id: string; ts: number; role: string; tier: string; provider: string; model: string; task: string | null;
  day: string; month: string; reserved: number; actual: number | null; state: 'reserved' | 'committed' | 'released';
  tokens_in: number; tokens_out: number;
}

type Cap = Policy['budget']['caps'][number];
const pad = (n: number) => String(n).padStart(2, '0');
/** Days and months are the user's local calendar (a daily cap resets at local midnight). */
export function dayOf(ts: number): string { const d = new Date(ts); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
export const monthOf = (ts: number) => dayOf(ts).slice(0, 7);

/** The counter keys an entry adds to: every (scope, target, period) a cap can name. */
function keysOf(e: Pick<Entry, 'role' | 'tier' | 'task' | 'day' | 'month'>): string[] {
  const k = [`g|d|${e.day}`, `g|m|${e.month}`, `r|d|${e.role}|${e.day}`, `r|m|${e.role}|${e.month}`, `t|d|${e.tier}|${e.day}`, `t|m|${e.tier}|${e.month}`];
  if (e.task) k.push(`g|t|${e.task}`, `r|t|${e.role}|${e.task}`, `t|t|${e.tier}|${e.task}`);
  return k;
}
function capKey(c: Cap, now: number, task: string | null): string | null {
  const s = c.scope === 'global' ? 'g' : c.scope === 'role' ? 'r' : 't';
  const target = c.scope === 'global' ? '' : `${c.target}|`;
  if (c.period === 'task') return task ? `${s}|t|${target}${task}` : null;
  return `${s}|${c.period === 'day' ? 'd' : 'm'}|${target}${c.period === 'day' ? dayOf(now) : monthOf(now)}`;
}

const PERIOD: Record<Cap['period'], string> = { day: 'daily', month: 'monthly', task: 'per-task' };
const usd = (pico: number) => `$${picoToUsd(pico).toFixed(2)}`;
/** A reservation never committed or released (its process died) stops counting after this long. */
export const ABANDON_AFTER_MS = 30 * 60_000;

export class Ledger implements BudgetPort {
  readonly entries = new Map<string, Entry>();
  /** reserved + committed, per counter key: what caps are checked against */
  private held = new Map<string, number>();
  /** committed only */
  private spent = new Map<string, number>();
  private offset = 0;
  private tail = ''; // a partial last line (a writer mid-write, or torn)
  readonly torn: number[] = [];
  private readonly lockTarget: string;

  constructor(readonly path: string, private readonly policy: () => Policy, private readonly now: () => number = Date.now) {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, 'a'));
    this.lockTarget = path;
    this.refresh();
  }

  /** Reads what other processes appended since the last look (at start: the whole log). */
  refresh(): void {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) { this.reset(); }
      if (size === this.offset) return;
      const buf = Buffer.allocUnsafe(size - this.offset);
      let got = 0;
      while (got < buf.length) { const n = readSync(fd, buf, got, buf.length - got, this.offset + got); if (n <= 0) break; got += n; }
      this.offset += got;
      const text = this.tail + buf.toString('utf8', 0, got);
      const lines = text.split('\n');
      this.tail = lines.pop() ?? '';
      for (const line of lines) this.applyLine(line);
      // A complete last line has no newline after it yet (the next writer brings it): apply it if it parses.
      if (this.tail && this.tail.endsWith('}') && this.tryApply(this.tail)) this.tail = '';
    } finally { closeSync(fd); }
  }

  private reset(): void { this.entries.clear(); this.held.clear(); this.spent.clear(); this.offset = 0; this.tail = ''; }

  private applyLine(line: string): void {
    if (line.length === 0) return;
    if (!this.tryApply(line)) this.torn.push(this.offset);
  }

  private tryApply(line: string): boolean {
    let ev: LedgerEvent;
    try { ev = JSON.parse(line) as LedgerEvent; } catch { return false; }
    this.apply(ev);
    return true;
  }

  private add(map: Map<string, number>, e: Entry, delta: number): void {
    if (delta === 0) return;
    for (const k of keysOf(e)) map.set(k, (map.get(k) ?? 0) + delta);
  }

  private apply(ev: LedgerEvent): void {
    switch (ev.e) {
      case 'reserve': case 'record': {
        if (this.entries.has(ev.id)) return;
        const e: Entry = { id: ev.id, ts: ev.ts, role: ev.role, tier: ev.tier, provider: ev.provider, model: ev.model, task: ev.task, day: dayOf(ev.ts), month: monthOf(ev.ts),
          reserved: ev.e === 'reserve' ? ev.pico : 0, actual: ev.e === 'record' ? ev.pico : null, state: ev.e === 'record' ? 'committed' : 'reserved',
          tokens_in: ev.e === 'record' ? (ev.in ?? 0) + (ev.cached ?? 0) : 0, tokens_out: ev.e === 'record' ? ev.out ?? 0 : 0 };
        this.entries.set(ev.id, e);
        this.add(this.held, e, ev.pico);
        if (ev.e === 'record') this.add(this.spent, e, ev.pico);
        return;
      }
      case 'commit': {
        const e = this.entries.get(ev.id);
        if (!e || e.state === 'committed') return;
        const before = e.state === 'reserved' ? e.reserved : 0;
        this.add(this.held, e, ev.pico - before);
        this.add(this.spent, e, ev.pico);
        e.actual = ev.pico; e.state = 'committed'; e.tokens_in = (ev.in ?? 0) + (ev.cached ?? 0); e.tokens_out = ev.out ?? 0;
        return;
      }
      case 'release': {
        const e = this.entries.get(ev.id);
        if (!e || e.state !== 'reserved') return;
        this.add(this.held, e, -e.reserved);
        e.state = 'released';
        return;
      }
    }
  }

  /** One line, appended with O_APPEND in one write and synced; the leading newline closes any torn line before it. */
  private write(ev: LedgerEvent, sync: boolean): void {
    const fd = openSync(this.path, 'a');
    try { writeSync(fd, `\n${JSON.stringify(ev)}`); if (sync) fdatasyncSync(fd); } finally { closeSync(fd); }
  }

  private expireAbandoned(): void {
    const t = this.now();
    for (const e of this.entries.values()) {
      if (e.state === 'reserved' && t - e.ts > ABANDON_AFTER_MS) {
        const ev: LedgerEvent = { e: 'release', id: e.id, ts: t, why: 'abandoned: no commit within 30 minutes (its process ended)' };
        this.write(ev, false);
        this.apply(ev);
      }
    }
  }

  snapshot(taskId: string | null): CapStatus[] {
    this.refresh();
    const t = this.now();
    return this.policy().budget.caps.flatMap((c) => {
      const k = capKey(c, t, taskId);
      if (!k) return [];
      return [{ id: c.id, scope: c.scope, ...(c.target ? { target: c.target } : {}), period: c.period, cap_usd: c.usd, spent_usd: picoToUsd(this.held.get(k) ?? 0) }];
    });
  }

  /** Spend (committed only) and in-flight reservations of a cap now. */
  capUse(c: Cap, taskId: string | null): { spent: number; held: number } {
    const k = capKey(c, this.now(), taskId);
    return k ? { spent: this.spent.get(k) ?? 0, held: this.held.get(k) ?? 0 } : { spent: 0, held: 0 };
  }

  /** Check-and-append under the lock: no two processes can both take the last dollars. */
  async reserve(r: Parameters<BudgetPort['reserve']>[0]): Promise<{ ok: true; id: string } | { ok: false; message: string }> {
    const release = await lockfile.lock(this.lockTarget, { stale: 5_000, update: 1_000, realpath: false, retries: { retries: 400, minTimeout: 1, maxTimeout: 25, factor: 1.3, randomize: true } });
    try {
      this.refresh();
      this.expireAbandoned();
      const t = this.now();
      for (const c of this.policy().budget.caps) {
        if (c.scope === 'role' && c.target !== r.role) continue;
        if (c.scope === 'tier' && c.target !== r.tier) continue;
        const k = capKey(c, t, r.task_id);
        if (!k) continue;
        const held = this.held.get(k) ?? 0;
        const limit = Math.round(c.usd * 1e12);
        if (held + r.pico > limit) {
          const spent = this.spent.get(k) ?? 0;
          const scope = c.scope === 'global' ? '' : ` ${c.target}`;
          return { ok: false, message: `GR-011: the ${PERIOD[c.period]}${scope} cap "${c.id}" of ${usd(limit)} would be passed: ${usd(spent)} spent${held > spent ? ` and ${usd(held - spent)} reserved by calls in flight` : ''}, and this call to ${r.provider}/${r.model} may cost up to ${usd(r.pico)}. The call is refused, not moved to a cheaper model. Raise the cap (budget.caps in .switchyard/policy.json, or "Show Budget" > Edit caps), ${c.period === 'task' ? 'start a new task' : `wait for the next ${c.period}`}, lower the maximum output tokens, or use the local lane.` };
        }
      }
      const id = randomUUID();
      const ev: LedgerEvent = { e: 'reserve', id, ts: t, role: r.role, tier: r.tier, provider: r.provider, model: r.model, task: r.task_id, pico: r.pico };
      this.write(ev, true);
      this.apply(ev);
      return { ok: true, id };
    } finally {
      await release();
    }
  }

  commit(id: string, pico: number, usage: Usage): void {
    const ev: LedgerEvent = { e: 'commit', id, ts: this.now(), pico, in: usage.input_tokens + usage.cache_write_5m_tokens + usage.cache_write_1h_tokens, cached: usage.cached_input_tokens, out: usage.output_tokens };
    this.write(ev, true);
    this.refresh();
  }

  release(id: string): void {
    this.write({ e: 'release', id, ts: this.now() }, true);
    this.refresh();
  }

  /** A call that reserved nothing (local): no cost, its tokens still count. */
  record(r: { role: string; tier: string; provider: ProviderId; model: string; task_id: string | null; pico: number; usage: Usage }): void {
    this.write({ e: 'record', id: randomUUID(), ts: this.now(), role: r.role, tier: r.tier, provider: r.provider, model: r.model, task: r.task_id, pico: r.pico, in: r.usage.input_tokens, cached: r.usage.cached_input_tokens, out: r.usage.output_tokens }, true);
    this.refresh();
  }
}
