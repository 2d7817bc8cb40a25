// The budget ledger (GR-011): an append-only event log in the state folder, shared by every VS Code window
// and CLI process. Reserve is check-and-append under a cross-process lock (a mkdir lock, no native module; on
// Linux in /dev/shm, see lock.ts); commit and release are single O_APPEND writes, synced. Each line starts with
// a newline, so a line torn by a crash is closed by the next writer and skipped on replay, and never swallows a
// good line. Lines are read by replay.ts.
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Policy, ProviderId } from '../policy/schema.js';
import type { BudgetPort, CapStatus, Usage } from './port.js';
import { picoToUsd } from './cost.js';
import { dayOf, monthOf } from './calendar.js';
import { lockPathFor, tryLock } from './lock.js';
import { Batch, readLines, type BatchResult, type Settle } from './replay.js';
import { usd } from '../util/money.js';

const EMPTY = Buffer.alloc(0);
/** The buffer the usual small reads go to. */
const SCRATCH_BYTES = 64 * 1024;

export type LedgerEvent =
  | {
      e: 'reserve';
      id: string;
      ts: number;
      role: string;
      tier: string;
      provider: string;
      model: string;
      task: string | null;
      pico: number;
    }
  | { e: 'commit'; id: string; ts: number; pico: number; in?: number; cached?: number; out?: number }
  | { e: 'release'; id: string; ts: number; why?: string }
  /** A call with nothing reserved (local calls: no cost, but their tokens count). */
  | {
      e: 'record';
      id: string;
      ts: number;
      role: string;
      tier: string;
      provider: string;
      model: string;
      task: string | null;
      pico: number;
      in?: number;
      cached?: number;
      out?: number;
    };

/** A reservation not yet committed or released. */
export interface OpenReservation {
  id: string;
  ts: number;
  role: string;
  tier: string;
  provider: string;
  model: string;
  task: string | null;
  day: string;
  month: string;
  pico: number;
}

/** Sums for one period bucket (a day, a month or a task): all, per role, per tier, per provider. */
export interface Agg {
  total: number;
  role: Record<string, number>;
  tier: Record<string, number>;
  provider: Record<string, number>;
  calls: number;
  tin: number;
  tout: number;
  local: number;
}
const agg = (): Agg => ({ total: 0, role: {}, tier: {}, provider: {}, calls: 0, tin: 0, tout: 0, local: 0 });
export interface Books {
  day: Record<string, Agg>;
  month: Record<string, Agg>;
  task: Record<string, Agg>;
}
const books = (): Books => ({ day: {}, month: {}, task: {} });

type Cap = Policy['budget']['caps'][number];
const PERIOD: Record<Cap['period'], string> = { day: 'daily', month: 'monthly', task: 'per-task' };
const usdOf = (pico: number) => usd(picoToUsd(pico));
/** A reservation never committed or released (its process died) stops counting after this long. */
export const ABANDON_AFTER_MS = 30 * 60_000;
/** A checkpoint of the sums is written after this many events, so that opening a long ledger stays fast. */
const CHECKPOINT_EVERY = 50_000;

/** One bucket's sums while a batch is merged. */
class Acc {
  total = 0;
  calls = 0;
  tin = 0;
  tout = 0;
  local = 0;
  readonly role = new Map<string, number>();
  readonly tier = new Map<string, number>();
  readonly provider = new Map<string, number>();
}
const addTo = (m: Map<string, number>, k: string, d: number) => m.set(k, (m.get(k) ?? 0) + d);
/** n calls and their tokens (local tokens also apart: they cost nothing but still count). */
function countCalls(
  a: { calls: number; tin: number; tout: number; local: number },
  provider: string,
  n: number,
  tin: number,
  tout: number,
): void {
  a.calls += n;
  a.tin += tin;
  a.tout += tout;
  if (provider === 'local') a.local += tin + tout;
}

/**
 * Sums per day, month and task gathered in Maps, then added to the books once per key: the books' objects, keyed
 * by whatever roles and providers appear, cost about 10 us a group when updated group by group.
 */
class Sums {
  private readonly by = { day: new Map<string, Acc>(), month: new Map<string, Acc>(), task: new Map<string, Acc>() };
  private static acc(m: Map<string, Acc>, k: string): Acc {
    let a = m.get(k);
    if (!a) {
      a = new Acc();
      m.set(k, a);
    }
    return a;
  }

  add(
    at: { role: string; tier: string; provider: string; task: string | null },
    day: string,
    month: string,
    d: number,
    calls = 0,
    tin = 0,
    tout = 0,
  ): void {
    const accs = [Sums.acc(this.by.day, day), Sums.acc(this.by.month, month)];
    if (at.task) accs.push(Sums.acc(this.by.task, at.task));
    for (const a of accs) {
      a.total += d;
      addTo(a.role, at.role, d);
      addTo(a.tier, at.tier, d);
      addTo(a.provider, at.provider, d);
      if (calls) countCalls(a, at.provider, calls, tin, tout);
    }
  }

  into(b: Books): void {
    for (const kind of ['day', 'month', 'task'] as const) {
      for (const [k, s] of this.by[kind]) {
        const a = (b[kind][k] ??= agg());
        a.total += s.total;
        a.calls += s.calls;
        a.tin += s.tin;
        a.tout += s.tout;
        a.local += s.local;
        for (const [r, d] of s.role) a.role[r] = (a.role[r] ?? 0) + d;
        for (const [t, d] of s.tier) a.tier[t] = (a.tier[t] ?? 0) + d;
        for (const [p, d] of s.provider) a.provider[p] = (a.provider[p] ?? 0) + d;
      }
    }
  }
}

export class Ledger implements BudgetPort {
  /** reserved + committed: what caps are checked against */
  private held = books();
  /** committed only: what is shown as spent */
  private spent = books();
  readonly open = new Map<string, OpenReservation>();
  private offset = 0;
  private tail: Buffer = EMPTY; // a partial last line (a writer mid-write, or torn)
  private sinceCheckpoint = 0;
  readonly torn: number[] = [];
  /** How the last open went: from a checkpoint plus the events after it, or a full replay. */
  readonly opened: { from: 'checkpoint' | 'replay'; events: number } = { from: 'replay', events: 0 };
  private fd: number | null = null;
  private batch: Batch | null = null;
  private scratch: Buffer | null = null;
  /** The lock directory (see lockPathFor). */
  readonly lockPath: string;

  constructor(
    readonly path: string,
    private readonly policy: () => Policy,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, 'a'));
    this.lockPath = lockPathFor(path);
    if (this.loadCheckpoint()) this.opened.from = 'checkpoint';
    const before = this.sinceCheckpoint;
    this.refresh();
    this.opened.events = this.sinceCheckpoint - before;
  }

  get checkpointPath(): string {
    return `${this.path}.checkpoint`;
  }

  /** Reads what other processes appended since the last look (at start: the whole log, or what follows the checkpoint). */
  refresh(): void {
    const fd = this.handle();
    const head = this.tail.length;
    // Most reads are the line or two written since the last look: straight into a scratch buffer after the
    // tail, no fstat (its Stats object was a fifth of the garbage of a reserve+commit). The size is asked for
    // only when that read finds nothing (to notice a log truncated or replaced by a shorter one) or fills the
    // scratch buffer (then the rest is read into one buffer of the right size).
    const scratch = (this.scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
    let data = scratch;
    let got = 0;
    if (head < SCRATCH_BYTES) {
      this.tail.copy(scratch, 0);
      got = readSync(fd, scratch, head, SCRATCH_BYTES - head, this.offset);
    }
    if (got === 0 || head + got === SCRATCH_BYTES) {
      const size = fstatSync(fd).size;
      if (size < this.offset) {
        this.reset();
        this.refresh();
        return;
      }
      const want = size - this.offset; // counted from the offset: includes what the scratch read holds
      if (want === 0) return;
      data = Buffer.allocUnsafe(head + Math.max(want, got)); // a log that shrank since the read is noticed next time
      if (head < SCRATCH_BYTES) scratch.copy(data, 0, 0, head + got);
      else this.tail.copy(data, 0);
      while (got < want) {
        const n = readSync(fd, data, head + got, want - got, this.offset + got);
        if (n <= 0) break;
        got += n;
      }
    }
    const start = this.offset - head; // the file offset of data[0]
    this.offset += got;
    const len = head + got;
    const torn: number[] = [];
    // One batch kept for the small reads after each reserve and commit; a long read gets its own (its arrays
    // would otherwise stay as large as the longest read).
    const batch =
      len > SCRATCH_BYTES
        ? new Batch(data, (ev) => this.apply(ev), dayOf)
        : (this.batch ??= new Batch(data, (ev) => this.apply(ev), dayOf)).reset(data);
    let s = readLines(batch, data, 0, len, torn);
    // A complete last line has no newline after it yet (the next writer brings it): apply it if it reads.
    if (s < len && data[len - 1] === 0x7d && batch.line(s, len)) s = len;
    this.merge(batch.result());
    this.tail = s < len ? Buffer.from(data.subarray(s, len)) : EMPTY;
    for (const t of torn) this.torn.push(start + t);
    this.sinceCheckpoint += batch.events;
    if (this.sinceCheckpoint >= CHECKPOINT_EVERY) this.writeCheckpoint();
  }

  private reset(): void {
    this.held = books();
    this.spent = books();
    this.open.clear();
    this.offset = 0;
    this.tail = EMPTY;
  }

  /** Adds what a batch of lines read (replay.ts) to the books and the open reservations. */
  private merge(r: BatchResult): void {
    if (r.groups.length <= 16) {
      // A few lines (a window following the others' writes): straight into the books, nothing to gather first.
      for (const g of r.groups) {
        const at = {
          role: g.attrs.role,
          tier: g.attrs.tier,
          provider: g.attrs.provider,
          task: g.attrs.task,
          day: g.day,
          month: g.day.slice(0, 7),
        };
        Ledger.bump(this.held, at, g.held);
        if (g.calls > 0) Ledger.bump(this.spent, at, g.spent, { n: g.calls, tin: g.tin, tout: g.tout });
      }
    } else {
      this.gather(r);
    }
    for (const o of r.open)
      this.open.set(o.id, { id: o.id, ts: o.ts, ...o.attrs, day: o.day, month: o.day.slice(0, 7), pico: o.pico });
  }

  private gather(r: BatchResult): void {
    const held = new Sums(),
      spent = new Sums();
    for (const g of r.groups) {
      const month = g.day.slice(0, 7);
      held.add(g.attrs, g.day, month, g.held);
      if (g.calls > 0) spent.add(g.attrs, g.day, month, g.spent, g.calls, g.tin, g.tout);
    }
    held.into(this.held);
    spent.into(this.spent);
  }

  private static bump(
    b: Books,
    r: Pick<OpenReservation, 'day' | 'month' | 'task' | 'role' | 'tier' | 'provider'>,
    d: number,
    call?: { n: number; tin: number; tout: number },
  ): void {
    const aggs = [(b.day[r.day] ??= agg()), (b.month[r.month] ??= agg())];
    if (r.task) aggs.push((b.task[r.task] ??= agg()));
    for (const a of aggs) {
      a.total += d;
      a.role[r.role] = (a.role[r.role] ?? 0) + d;
      a.tier[r.tier] = (a.tier[r.tier] ?? 0) + d;
      a.provider[r.provider] = (a.provider[r.provider] ?? 0) + d;
      if (call) countCalls(a, r.provider, call.n, call.tin, call.tout);
    }
  }

  /** Applies one event this process wrote or a commit/release of a reservation opened before the batch. */
  private apply(ev: Settle): void {
    const r = this.open.get(ev.id);
    if (!r) return; // unknown or already settled
    this.open.delete(ev.id);
    if (ev.e === 'commit') {
      const pico = ev.pico ?? 0;
      Ledger.bump(this.held, r, pico - r.pico);
      Ledger.bump(this.spent, r, pico, { n: 1, tin: (ev.in ?? 0) + (ev.cached ?? 0), tout: ev.out ?? 0 });
    } else {
      Ledger.bump(this.held, r, -r.pico);
    }
  }

  // The checkpoint: the sums and open reservations up to a byte offset, with the 64 bytes before that offset
  // as an anchor; any mismatch (a truncated or replaced log) means a full replay instead.
  private anchor(offset: number): string {
    const fd = openSync(this.path, 'r');
    try {
      const n = Math.min(64, offset);
      const b = Buffer.alloc(n);
      readSync(fd, b, 0, n, offset - n);
      return b.toString('base64');
    } finally {
      closeSync(fd);
    }
  }

  private writeCheckpoint(): void {
    if (this.tail.length) return; // only at a line boundary
    try {
      const tmp = `${this.checkpointPath}.${process.pid}.tmp`;
      writeFileSync(
        tmp,
        JSON.stringify({
          v: 1,
          offset: this.offset,
          anchor: this.anchor(this.offset),
          held: this.held,
          spent: this.spent,
          open: [...this.open.values()],
        }),
      );
      renameSync(tmp, this.checkpointPath);
      this.sinceCheckpoint = 0;
    } catch {
      /* a checkpoint is an optimisation: without it the next open replays */
    }
  }

  private loadCheckpoint(): boolean {
    try {
      const c = JSON.parse(readFileSync(this.checkpointPath, 'utf8')) as {
        v: number;
        offset: number;
        anchor: string;
        held: Books;
        spent: Books;
        open: OpenReservation[];
      };
      if (c.v !== 1 || statSync(this.path).size < c.offset || this.anchor(c.offset) !== c.anchor) return false;
      this.held = c.held;
      this.spent = c.spent;
      this.offset = c.offset;
      for (const r of c.open) this.open.set(r.id, r);
      return true;
    } catch {
      return false;
    }
  }

  /** One descriptor for the process's life: reads at offsets, appends with O_APPEND ('a+'). */
  private handle(): number {
    return (this.fd ??= openSync(this.path, 'a+'));
  }

  /** One line, appended with O_APPEND in one write; the leading newline closes any torn line before it. */
  private write(ev: LedgerEvent, sync: boolean): void {
    const fd = this.handle();
    writeSync(fd, `\n${JSON.stringify(ev)}`);
    if (sync) fdatasyncSync(fd);
  }

  private expireAbandoned(): void {
    const t = this.now();
    for (const r of [...this.open.values()]) {
      if (t - r.ts > ABANDON_AFTER_MS) {
        const ev: LedgerEvent = {
          e: 'release',
          id: r.id,
          ts: t,
          why: 'abandoned: no commit within 30 minutes (its process ended)',
        };
        this.write(ev, false);
        this.apply(ev);
      }
    }
  }

  private bucket(b: Books, c: Cap, taskId: string | null): Agg | undefined {
    if (c.period === 'task') return taskId ? b.task[taskId] : undefined;
    const t = this.now();
    return c.period === 'day' ? b.day[dayOf(t)] : b.month[monthOf(t)];
  }
  private static pick(a: Agg | undefined, c: Cap): number {
    if (!a) return 0;
    return c.scope === 'global' ? a.total : c.scope === 'role' ? (a.role[c.target!] ?? 0) : (a.tier[c.target!] ?? 0);
  }

  snapshot(taskId: string | null): CapStatus[] {
    this.refresh();
    return this.policy().budget.caps.flatMap((c) => {
      if (c.period === 'task' && !taskId) return [];
      return [
        {
          id: c.id,
          scope: c.scope,
          ...(c.target ? { target: c.target } : {}),
          period: c.period,
          cap_usd: c.usd,
          spent_usd: picoToUsd(Ledger.pick(this.bucket(this.held, c, taskId), c)),
        },
      ];
    });
  }

  /** Spend (committed only) and spend plus reservations in flight, of a cap now. */
  capUse(c: Cap, taskId: string | null): { spent: number; held: number } {
    return {
      spent: Ledger.pick(this.bucket(this.spent, c, taskId), c),
      held: Ledger.pick(this.bucket(this.held, c, taskId), c),
    };
  }

  /** Committed sums per day, per month and per task (for reports). */
  books(): Books {
    return this.spent;
  }

  /** Check-and-append under the lock: no two processes can both take the last dollars. */
  async reserve(
    r: Parameters<BudgetPort['reserve']>[0],
  ): Promise<{ ok: true; id: string } | { ok: false; message: string }> {
    const release = await this.lock();
    try {
      this.refresh();
      this.expireAbandoned();
      for (const c of this.policy().budget.caps) {
        if (c.scope === 'role' && c.target !== r.role) continue;
        if (c.scope === 'tier' && c.target !== r.tier) continue;
        if (c.period === 'task' && !r.task_id) continue;
        const held = Ledger.pick(this.bucket(this.held, c, r.task_id), c);
        const limit = Math.round(c.usd * 1e12);
        if (held + r.pico > limit) {
          const spent = Ledger.pick(this.bucket(this.spent, c, r.task_id), c);
          const scope = c.scope === 'global' ? '' : ` ${c.target}`;
          return {
            ok: false,
            message:
              `GR-011: the ${PERIOD[c.period]}${scope} cap "${c.id}" of ${usdOf(limit)} would be passed: ${usdOf(spent)} ` +
              `spent${held > spent ? ` and ${usdOf(held - spent)} reserved by calls in flight` : ''}, and this ` +
              `call to ${r.provider}/${r.model} may cost up to ${usdOf(r.pico)}. The call is refused, not moved ` +
              `to a cheaper model. Raise the cap (budget.caps in .switchyard/policy.json, or "Show Budget" ` +
              `> Edit caps), ${c.period === 'task' ? 'start a new task' : `wait for the next ${c.period}`}, ` +
              `lower the maximum output tokens, or use the local lane.`,
          };
        }
      }
      const id = randomUUID();
      // Not synced: every process reads the page cache, and an unsynced reservation lost to a power cut only
      // loses a hold; the commit that settles it is synced.
      const ev: LedgerEvent = {
        e: 'reserve',
        id,
        ts: this.now(),
        role: r.role,
        tier: r.tier,
        provider: r.provider,
        model: r.model,
        task: r.task_id,
        pico: r.pico,
      };
      this.write(ev, false);
      this.refresh();
      return { ok: true, id };
    } finally {
      release();
    }
  }

  /**
   * The cross-process lock (lock.ts). A busy lock is retried with jittered waits; a lock left by a killed
   * process is stale after 5 s and taken over. Given up after about 20 s of waiting, with an error that says so.
   */
  private async lock(): Promise<() => void> {
    const since = Date.now();
    for (let attempt = 0; ; attempt++) {
      let release: (() => void) | null;
      try {
        release = tryLock(this.lockPath);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new Error(
          `The budget ledger's lock ${this.lockPath} could not be made (${err.code ?? 'error'}: ${err.message}); ` +
            `nothing was reserved. Free space or permissions in ${dirname(this.lockPath)}, or set SWITCHYARD_LOCK_DIR ` +
            `to a writable folder that every process using ${this.path} shares.`,
        );
      }
      if (release) return release;
      if (Date.now() - since > 20_000)
        throw new Error(
          `The budget ledger ${this.path} stayed locked for 20 s (lock ${this.lockPath}). Another Switchyard ` +
            `process may be stuck; the lock is taken over once it is 5 s old, so try again.`,
        );
      await new Promise((r) => setTimeout(r, 1 + Math.random() * Math.min(20, attempt)));
    }
  }

  commit(id: string, pico: number, usage: Usage): void {
    this.write(
      {
        e: 'commit',
        id,
        ts: this.now(),
        pico,
        in: usage.input_tokens + usage.cache_write_5m_tokens + usage.cache_write_1h_tokens,
        cached: usage.cached_input_tokens,
        out: usage.output_tokens,
      },
      true,
    );
    this.refresh();
  }

  release(id: string): void {
    this.write({ e: 'release', id, ts: this.now() }, true);
    this.refresh();
  }

  /** A call that reserved nothing (local): no cost, its tokens still count. */
  record(r: {
    role: string;
    tier: string;
    provider: ProviderId;
    model: string;
    task_id: string | null;
    pico: number;
    usage: Usage;
  }): void {
    this.write(
      {
        e: 'record',
        id: randomUUID(),
        ts: this.now(),
        role: r.role,
        tier: r.tier,
        provider: r.provider,
        model: r.model,
        task: r.task_id,
        pico: r.pico,
        in: r.usage.input_tokens,
        cached: r.usage.cached_input_tokens,
        out: r.usage.output_tokens,
      },
      true,
    );
    this.refresh();
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
