// Reading ledger lines fast. Opening a ledger replays every event after the checkpoint, and a long one must
// open in well under two seconds (1,000,000 events). A JSON.parse per line alone takes 1.5-2.4 s on this
// machine, so the lines our own writer produces are read straight from the bytes: the fixed key order of
// `Ledger.write`, numbers as digits, ids as ASCII. Strings are not even made: ids and the attributes of a
// reservation (role, tier, provider, model, task: they repeat from call to call, and are decoded once with
// JSON.parse) are looked up by their bytes in open-addressing tables (ByteTable); a Map keyed by fresh strings
// cost half the replay. Any line that is not exactly in that shape (an older writer, an escape, a release with
// its reason, a hand edit) takes the slow path, JSON.parse; a line neither can read is torn. Sums are kept per
// group (attributes x local day) and added to the books once at the end: additions commute, so the books come
// out the same as applying the events one by one.
export interface Attrs {
  role: string;
  tier: string;
  provider: string;
  model: string;
  task: string | null;
}

/** A commit or release as the ledger applies it. */
export interface Settle {
  e: 'commit' | 'release';
  id: string;
  ts: number;
  pico?: number;
  in?: number;
  cached?: number;
  out?: number;
}

/** What a batch adds to the books: one entry per group, and the reservations still open at its end. */
export interface BatchResult {
  groups: { attrs: Attrs; day: string; held: number; spent: number; calls: number; tin: number; tout: number }[];
  open: { id: string; ts: number; attrs: Attrs; day: string; pico: number }[];
}

/** A literal: its bytes as a DataView (compared 4 bytes at a time) and its length. */
interface Lit {
  v: DataView;
  length: number;
}
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const enc = (s: string): Lit => {
  const b = Uint8Array.from(Buffer.from(s, 'latin1'));
  return { v: view(b), length: b.length };
};
/** a[i, i + n) === b[j, j + n), 4 bytes at a time (DataView reads are inlined: a native compare costs more in calls). */
function same(a: DataView, i: number, b: DataView, j: number, n: number): boolean {
  let k = 0;
  for (; k + 4 <= n; k += 4) if (a.getInt32(i + k) !== b.getInt32(j + k)) return false;
  for (; k < n; k++) if (a.getUint8(i + k) !== b.getUint8(j + k)) return false;
  return true;
}
const COMMIT = enc('{"e":"commit","id":"');
const RESERVE = enc('{"e":"reserve","id":"');
const RECORD = enc('{"e":"record","id":"');
const TS = enc('","ts":');
const PICO = enc(',"pico":');
const IN = enc(',"in":');
const CACHED = enc(',"cached":');
const OUT = enc(',"out":');

/** Bytes to a string, one byte per character: Buffer's own latin1Slice where it has one (toString wraps it in
 * three more calls, a third of the replay's string-making time), toString otherwise. */
const latin1: (b: Buffer, s: number, e: number) => string =
  typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice === 'function'
    ? (b, s, e) => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(s, e)
    : (b, s, e) => b.toString('latin1', s, e);

/**
 * Byte ranges of one buffer as keys of numbers (FNV-style hashes, linear probing, deletion by tombstones, entries
 * reused from a free list). Settled reservations are deleted, so the table holds only what is open: it stays
 * small and in the processor's cache however long the ledger.
 */
class ByteTable {
  private slots = new Int32Array(64); // entry + 1; 0 empty; -1 deleted
  private readonly val: number[] = [];
  private readonly off: number[] = [];
  private readonly len: number[] = [];
  private readonly hash: number[] = [];
  private readonly free: number[] = [];
  private used = 0; // slots live or deleted
  private dv: DataView;
  constructor(data: Buffer) {
    this.dv = view(data);
  }

  /** Empty, over other bytes (the arrays and a small table are kept for reuse). */
  reset(dv: DataView): void {
    this.dv = dv;
    if (this.slots.length > 64) this.slots = new Int32Array(64);
    else this.slots.fill(0);
    this.val.length = 0;
    this.off.length = 0;
    this.len.length = 0;
    this.hash.length = 0;
    this.free.length = 0;
    this.used = 0;
  }

  /** FNV-style over the first and last 16 bytes and the length (keys are compared in full anyway). */
  static hashEnds(v: DataView, s: number, e: number): number {
    return e - s <= 32
      ? ByteTable.hashOf(v, s, e)
      : ByteTable.hashOf(v, s, s + 16) ^ Math.imul(ByteTable.hashOf(v, e - 16, e), 0x9e3779b1) ^ (e - s);
  }

  /** FNV-style, 4 bytes a step. */
  static hashOf(v: DataView, s: number, e: number): number {
    let h = 0x811c9dc5 ^ (e - s),
      i = s;
    for (; i + 4 <= e; i += 4) {
      h = Math.imul(h ^ v.getInt32(i, true), 0x01000193);
      h ^= h >>> 15;
    }
    for (; i < e; i++) h = Math.imul(h ^ v.getUint8(i), 0x01000193);
    return (h ^ (h >>> 13)) | 0;
  }

  /** Keys in the table. */
  get size(): number {
    return this.off.length - this.free.length;
  }

  /** The value of the key b[s, e) (b may view another buffer than the table's), or -1. */
  find(h: number, b: DataView, s: number, e: number): number {
    const i = this.slotOf(h, b, s, e);
    return i < 0 ? -1 : this.val[this.slots[i]! - 1]!;
  }

  /** Deletes the key whose hash is h and value is `value` (values are unique here): no bytes compared. */
  deleteValue(h: number, value: number): void {
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = this.slots[i]!;
      if (x === 0) return;
      if (x > 0 && this.hash[x - 1] === h && this.val[x - 1] === value) {
        this.free.push(x - 1);
        this.slots[i] = -1;
        return;
      }
    }
  }

  /** Sets the value of the key data[s, e), as Map.set does. */
  set(h: number, s: number, e: number, value: number): void {
    const i = this.slotOf(h, this.dv, s, e);
    if (i >= 0) {
      this.val[this.slots[i]! - 1] = value;
      return;
    }
    let v = this.free.pop();
    if (v === undefined) {
      v = this.off.length;
      this.off.push(s);
      this.len.push(e - s);
      this.hash.push(h);
      this.val.push(value);
    } else {
      this.off[v] = s;
      this.len[v] = e - s;
      this.hash[v] = h;
      this.val[v] = value;
    }
    if ((this.used + 1) * 2 > this.slots.length) this.rehash();
    this.place(v);
  }

  private slotOf(h: number, b: DataView, s: number, e: number): number {
    const mask = this.slots.length - 1;
    const n = e - s;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = this.slots[i]!;
      if (x === 0) return -1;
      if (x < 0) continue;
      const v = x - 1;
      if (this.hash[v] === h && this.len[v] === n && same(this.dv, this.off[v]!, b, s, n)) return i;
    }
  }

  private place(v: number): void {
    const mask = this.slots.length - 1;
    let i = this.hash[v]! & mask;
    while (this.slots[i]! > 0) i = (i + 1) & mask;
    if (this.slots[i] === 0) this.used++;
    this.slots[i] = v + 1;
  }

  /** A table sized for the live keys (at most a quarter full), without the tombstones. */
  private rehash(): void {
    const old = this.slots;
    let n = 64;
    while (n < (this.size + 1) * 4) n *= 2;
    this.slots = new Int32Array(n);
    this.used = 0;
    for (const x of old) if (x > 0) this.place(x - 1);
  }
}

/** The sums of one set of attributes on one local day. */
type Group = BatchResult['groups'][number];
/** A set of attributes, and its groups by day number (the last one looked up kept at hand). */
interface Seg {
  attrs: Attrs;
  days: Map<number, Group>;
  lastDay: number;
  lastG: Group | null;
}
const seg = (attrs: Attrs): Seg => ({ attrs, days: new Map(), lastDay: -1, lastG: null });
/**
 * A reservation opened in this batch: its id as the bytes data[idOff, idEnd) (hash `hash`) or, from the slow
 * path, as a string. Settled records are reused.
 */
interface Res {
  g: Group;
  pico: number;
  ts: number;
  open: boolean;
  idOff: number;
  idEnd: number;
  hash: number;
  idStr: string | null;
}

function validAttrs(o: unknown): o is Attrs {
  if (!o || typeof o !== 'object') return false;
  const a = o as Record<string, unknown>;
  return (
    typeof a.role === 'string' &&
    typeof a.tier === 'string' &&
    typeof a.provider === 'string' &&
    typeof a.model === 'string' &&
    (a.task === null || typeof a.task === 'string')
  );
}
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The lines of one buffer, read and summed; `result()` says what they add to the books. */
export class Batch {
  /** Attribute bytes -> index into `segs` (null: bytes that do not decode to attributes). */
  private readonly segBytes: ByteTable;
  private readonly segs: (Seg | null)[] = [];
  /** Attribute blocks already decoded, by their bytes (kept by reset). */
  private readonly known = new Map<string, Attrs | null>();
  /** Attributes read by the slow path, by their JSON. */
  private readonly segSlow = new Map<string, Seg>();
  private groups: Group[] = [];
  /** Reservations opened in this batch, by id bytes (fast path) or id string (slow path): index into `res`. */
  private readonly ids: ByteTable;
  private readonly idSlow = new Map<string, number>();
  private readonly res: Res[] = [];
  /** Indices of settled records in `res`, free for the next reservation. */
  private readonly free: number[] = [];
  private ne = 0; // where the last number read ended (or, read backwards, started)
  /** The local day the last timestamp fell in: [dStart, dEnd), its number and name (events come in time order). */
  private dStart = 0;
  private dEnd = 0;
  private dNum = -1;
  private dName = '';
  private readonly dNums = new Map<string, number>();
  /** Events read (fast or slow). */
  events = 0;

  /**
   * @param data the bytes the lines are in (kept until `result()`)
   * @param settleOlder applies a commit or release whose reservation was opened before this batch
   * @param dayOf the calendar day of a timestamp
   */
  private dv: DataView;
  constructor(
    private data: Buffer,
    private readonly settleOlder: (ev: Settle) => void,
    private readonly dayOf: (ts: number) => string,
  ) {
    this.dv = view(data);
    this.segBytes = new ByteTable(data);
    this.ids = new ByteTable(data);
  }

  /**
   * Empty again, over other bytes: a ledger keeps one batch for the small reads that follow every reserve and
   * commit (a new one each time was most of the garbage of a reserve+commit, and its collections showed in the
   * 99th percentile).
   */
  reset(data: Buffer): this {
    this.data = data;
    this.dv = view(data);
    this.segBytes.reset(this.dv);
    this.ids.reset(this.dv);
    this.segs.length = 0;
    this.res.length = 0;
    this.free.length = 0;
    this.groups = [];
    this.segSlow.clear();
    this.idSlow.clear();
    this.events = 0;
    return this;
  }

  /** Reads the line data[s, e) (no newline in it) and applies it; false if it cannot be read (torn). */
  line(s: number, e: number): boolean {
    const b = this.data;
    const ok = b[s + 6] === 0x63 ? this.fastCommit(b, s, e) : b[s + 6] === 0x72 ? this.fastReserve(b, s, e) : false;
    if (!ok && !this.slow(b, s, e)) return false;
    this.events++;
    return true;
  }

  private lit(i: number, e: number, l: Lit): number {
    if (i < 0 || i + l.length > e || !same(this.dv, i, l.v, 0, l.length)) return -1;
    return i + l.length;
  }

  /** Digits at i (1 to 15 of them, so the value is exact); -1 if none. Sets `ne` to where they end. */
  private num(b: Buffer, i: number, e: number): number {
    if (i < 0) return -1;
    let v = 0,
      k = i;
    for (; k < e; k++) {
      const c = b[k]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    if (k === i || k - i > 15) return -1;
    this.ne = k;
    return v;
  }

  /** The literal l ending just before index k (and after `floor`): its first index, or -1. */
  private litBack(k: number, floor: number, l: Lit): number {
    const i = k - l.length;
    if (k < 0 || i < floor || !same(this.dv, i, l.v, 0, l.length)) return -1;
    return i;
  }

  /** Digits ending just before index k (1 to 15 of them); -1 if none. Sets `ne` to where they start. */
  private back(b: Buffer, k: number, floor: number): number {
    if (k < 0) return -1;
    let i = k;
    while (i > floor) {
      const c = b[i - 1]!;
      if (c < 0x30 || c > 0x39) break;
      i--;
    }
    if (i === k || k - i > 15) return -1;
    let v = 0;
    for (let x = i; x < k; x++) v = v * 10 + (b[x]! - 0x30);
    this.ne = i;
    return v;
  }

  /** An id: printable ASCII up to the closing quote, no escapes. Returns the quote's index, or -1. */
  private static idEnd(b: Buffer, i: number, e: number): number {
    if (i < 0) return -1;
    for (let k = i; k < e; k++) {
      const c = b[k]!;
      if (c === 0x22) return k > i ? k : -1;
      if (c < 0x20 || c > 0x7e || c === 0x5c) return -1;
    }
    return -1;
  }

  private fastCommit(b: Buffer, s: number, e: number): boolean {
    const i = this.lit(s, e, COMMIT);
    const j = Batch.idEnd(b, i, e);
    if (j < 0) return false;
    const ts = this.num(b, this.lit(j, e, TS), e);
    if (ts < 0) return false;
    const pico = this.num(b, this.lit(this.ne, e, PICO), e);
    if (pico < 0) return false;
    const tin = this.num(b, this.lit(this.ne, e, IN), e);
    if (tin < 0) return false;
    const cached = this.num(b, this.lit(this.ne, e, CACHED), e);
    if (cached < 0) return false;
    const out = this.num(b, this.lit(this.ne, e, OUT), e);
    if (out < 0) return false;
    if (this.ne + 1 !== e || b[this.ne] !== 0x7d) return false;
    let k = this.ids.find(ByteTable.hashOf(this.dv, i, j), this.dv, i, j);
    if (k < 0 && this.idSlow.size) k = this.idSlow.get(latin1(b, i, j)) ?? -1;
    if (k < 0) this.settleOlder({ e: 'commit', id: latin1(b, i, j), ts, pico, in: tin, cached, out });
    else this.commit(k, pico, tin + cached, out);
    return true;
  }

  private fastReserve(b: Buffer, s: number, e: number): boolean {
    let i = this.lit(s, e, RESERVE);
    const record = i < 0;
    if (record) i = this.lit(s, e, RECORD);
    const j = Batch.idEnd(b, i, e);
    if (j < 0) return false;
    const ts = this.num(b, this.lit(j, e, TS), e);
    if (ts < 0) return false;
    const segStart = this.ne + 1;
    if (b[this.ne] !== 0x2c || b[e - 1] !== 0x7d) return false;
    // The numbers at the end are read backwards from the closing brace: no search for where the attributes end.
    let tin = 0,
      cached = 0,
      out = 0,
      k = e - 1;
    if (record) {
      out = this.back(b, k, segStart);
      k = this.litBack(this.ne, segStart, OUT);
      if (out < 0 || k < 0) return false;
      cached = this.back(b, k, segStart);
      k = this.litBack(this.ne, segStart, CACHED);
      if (cached < 0 || k < 0) return false;
      tin = this.back(b, k, segStart);
      k = this.litBack(this.ne, segStart, IN);
      if (tin < 0 || k < 0) return false;
    }
    const pico = this.back(b, k, segStart);
    const segEnd = this.litBack(this.ne, segStart, PICO);
    if (pico < 0 || segEnd <= segStart) return false;
    const h = ByteTable.hashEnds(this.dv, segStart, segEnd);
    let v = this.segBytes.find(h, this.dv, segStart, segEnd);
    if (v < 0) {
      // Decoded once per batch, and kept across the batches of one ledger (the same few blocks recur).
      const key = latin1(b, segStart, segEnd);
      let attrs = this.known.get(key);
      if (attrs === undefined) {
        let o: unknown = null;
        try {
          o = JSON.parse(`{${b.toString('utf8', segStart, segEnd)}}`);
        } catch {
          /* not ours: the slow path decides */
        }
        attrs = validAttrs(o)
          ? { role: o.role, tier: o.tier, provider: o.provider, model: o.model, task: o.task }
          : null;
        if (this.known.size >= 4_096) this.known.clear();
        this.known.set(key, attrs);
      }
      v = this.segs.length;
      this.segBytes.set(h, segStart, segEnd, v);
      this.segs.push(attrs ? seg(attrs) : null);
    }
    const sg = this.segs[v]!;
    if (sg === null) return false;
    const g = this.group(sg, ts);
    if (record) this.record(g, pico, tin + cached, out);
    else this.reserve(g, ts, pico, i, j, null);
    return true;
  }

  private slow(b: Buffer, s: number, e: number): boolean {
    let ev: unknown;
    try {
      ev = JSON.parse(b.toString('utf8', s, e));
    } catch {
      return false;
    }
    if (!ev || typeof ev !== 'object') return false;
    const v = ev as Record<string, unknown>;
    if (typeof v.id !== 'string' || !isNum(v.ts)) return false;
    const n = (x: unknown) => (isNum(x) ? x : 0);
    switch (v.e) {
      case 'reserve':
      case 'record': {
        if (!isNum(v.pico) || !validAttrs(v)) return false;
        const key = JSON.stringify([v.role, v.tier, v.provider, v.model, v.task]);
        let sg = this.segSlow.get(key);
        if (!sg) {
          sg = seg({ role: v.role, tier: v.tier, provider: v.provider, model: v.model, task: v.task });
          this.segSlow.set(key, sg);
        }
        const g = this.group(sg, v.ts);
        if (v.e === 'record') this.record(g, v.pico, n(v.in) + n(v.cached), n(v.out));
        else this.reserve(g, v.ts, v.pico, -1, -1, v.id);
        return true;
      }
      case 'commit':
      case 'release': {
        if (v.e === 'commit' && !isNum(v.pico)) return false;
        let k = this.idSlow.get(v.id) ?? -1;
        if (k < 0 && this.ids.size) {
          const id = view(Buffer.from(v.id, 'utf8'));
          k = this.ids.find(ByteTable.hashOf(id, 0, id.byteLength), id, 0, id.byteLength);
        }
        if (k < 0)
          this.settleOlder(
            v.e === 'commit'
              ? {
                  e: 'commit',
                  id: v.id,
                  ts: v.ts,
                  pico: v.pico as number,
                  in: n(v.in),
                  cached: n(v.cached),
                  out: n(v.out),
                }
              : { e: 'release', id: v.id, ts: v.ts },
          );
        else if (v.e === 'commit') this.commit(k, v.pico as number, n(v.in) + n(v.cached), n(v.out));
        else if (this.res[k]!.open) {
          this.res[k]!.g.held -= this.res[k]!.pico;
          this.settle(k);
        }
        return true;
      }
      default:
        return false;
    }
  }

  private group(sg: Seg, ts: number): Group {
    if (ts < this.dStart || ts >= this.dEnd) this.setDay(ts);
    const d = this.dNum;
    if (sg.lastDay === d) return sg.lastG!;
    let g = sg.days.get(d);
    if (g === undefined) {
      g = { attrs: sg.attrs, day: this.dName, held: 0, spent: 0, calls: 0, tin: 0, tout: 0 };
      this.groups.push(g);
      sg.days.set(d, g);
    }
    sg.lastDay = d;
    sg.lastG = g;
    return g;
  }

  /** The local calendar day of ts (midnight to midnight, whatever the day's length) becomes the current one. */
  private setDay(ts: number): void {
    const x = new Date(ts);
    this.dStart = new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
    this.dEnd = new Date(x.getFullYear(), x.getMonth(), x.getDate() + 1).getTime();
    if (!(ts >= this.dStart && ts < this.dEnd)) {
      this.dStart = ts;
      this.dEnd = ts + 1;
    } // a clock oddity: this one timestamp only
    this.dName = this.dayOf(ts);
    let n = this.dNums.get(this.dName);
    if (n === undefined) {
      n = this.dNums.size;
      this.dNums.set(this.dName, n);
    }
    this.dNum = n;
  }

  /** A reservation: its id either the bytes data[i, j) or, from the slow path, a string. */
  private reserve(g: Group, ts: number, pico: number, i: number, j: number, id: string | null): void {
    g.held += pico;
    const hash = id === null ? ByteTable.hashOf(this.dv, i, j) : 0;
    const r: Res = { g, pico, ts, open: true, idOff: i, idEnd: j, hash, idStr: id };
    let k = this.free.pop();
    if (k === undefined) {
      k = this.res.length;
      this.res.push(r);
    } else this.res[k] = r;
    if (id === null) this.ids.set(hash, i, j, k);
    else this.idSlow.set(id, k);
  }

  /** A reservation committed or released: out of the tables, its record free for the next one. */
  private settle(k: number): void {
    const r = this.res[k]!;
    r.open = false;
    if (r.idStr === null) this.ids.deleteValue(r.hash, k);
    else this.idSlow.delete(r.idStr);
    this.free.push(k);
  }

  /** A call's cost and tokens (a record, or a commit). */
  private static spend(g: Group, pico: number, tin: number, tout: number): void {
    g.spent += pico;
    g.calls++;
    g.tin += tin;
    g.tout += tout;
  }

  /** A call that reserved nothing: held and spent alike. */
  private record(g: Group, pico: number, tin: number, tout: number): void {
    g.held += pico;
    Batch.spend(g, pico, tin, tout);
  }

  /** The reservation becomes the actual cost. */
  private commit(k: number, pico: number, tin: number, tout: number): void {
    const r = this.res[k]!;
    if (!r.open) return; // already settled
    r.g.held += pico - r.pico;
    Batch.spend(r.g, pico, tin, tout);
    this.settle(k);
  }

  result(): BatchResult {
    const open: BatchResult['open'] = [];
    for (const r of this.res) {
      if (!r.open) continue;
      open.push({
        id: r.idStr ?? latin1(this.data, r.idOff, r.idEnd),
        ts: r.ts,
        attrs: r.g.attrs,
        day: r.g.day,
        pico: r.pico,
      });
    }
    return { groups: this.groups, open };
  }
}

/**
 * Reads the lines of data[from, to) into the batch: the bytes between one newline and the next (a line starts
 * with its newline, so a line torn by a crash is ended by the next writer's). Unreadable lines are added to
 * `torn` (their index in data). Returns where the bytes after the last newline begin (an unfinished line).
 */
export function readLines(batch: Batch, data: Buffer, from: number, to: number, torn: number[]): number {
  let s = from;
  for (let nl = data.indexOf(10, s); nl >= 0 && nl < to; s = nl + 1, nl = data.indexOf(10, s)) {
    if (nl > s && !batch.line(s, nl)) torn.push(s);
  }
  return s;
}
