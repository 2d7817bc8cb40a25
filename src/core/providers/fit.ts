// The one fitting step of a chat call (issue 31): what a role sends is made to fit the window of the model that
// serves it, minus the output it reserves. What may go, and in which order, is the role's declaration on its
// messages (`CutSpec`): retrieved context before older history, say; the instruction and the output schema carry
// none and are never cut. The same messages, window and counter give the same cut.
import type { ChatMessage, CutSpec } from './types.js';

/** What one cut removed, for the audit line (GR-005). */
export interface Cut {
  label: string;
  removed: number;
  of: number;
  unit: 'parts' | 'messages';
}

export type Fitted =
  | { ok: true; messages: ChatMessage[]; tokens: number; cuts: Cut[] }
  /** Even with everything cuttable gone, `minimum` tokens remain: more than `budget`. */
  | { ok: false; minimum: number; budget: number };

/** The prompt's size in the serving model's tokens. */
export type Counter = (messages: ChatMessage[]) => Promise<number>;

/** A message as the wire sees it: the declaration stays here, never in a request. */
export function sendable(m: ChatMessage): ChatMessage {
  if (!('cut' in m)) return m;
  const { cut: _cut, ...rest } = m as ChatMessage & { cut?: CutSpec };
  return rest as ChatMessage;
}

/**
 * A user or system message whose `body` may be cut, a block at a time from its end (blocks: its paragraphs, and
 * any paragraph over 2,000 characters by its lines). `head` stays.
 */
export function cuttableText(
  role: 'system' | 'user',
  head: string,
  body: string,
  o: { order: number; label: string },
): { role: 'system' | 'user'; content: string; cut: CutSpec } {
  const parts = blocks(body);
  return { role, content: head + parts.join('\n\n'), cut: { ...o, head, parts, sep: '\n\n' } };
}

function blocks(body: string): string[] {
  const out: string[] = [];
  for (const para of body.split(/\n{2,}/)) {
    if (para.length <= 2_000) {
      if (para) out.push(para);
      continue;
    }
    let cur = '';
    for (const line of para.split('\n').flatMap((l) => l.match(/[\s\S]{1,2000}/g) ?? [''])) {
      if (cur && cur.length + line.length + 1 > 2_000) {
        out.push(cur);
        cur = line;
      } else cur = cur ? `${cur}\n${line}` : line;
    }
    if (cur) out.push(cur);
  }
  return out;
}

interface Unit {
  /** Messages it removes whole, or the message whose last part it removes. */
  messages: number[];
  part: boolean;
  label: string;
}

/** The units of a cut, in the order they go: by `order`; parts from the end of each message; whole messages oldest first. */
function units(messages: ChatMessage[]): Unit[] {
  const declared = messages.flatMap((m, i) => {
    const cut = (m as { cut?: CutSpec }).cut;
    return cut ? [{ i, cut }] : [];
  });
  const orders = [...new Set(declared.map((d) => d.cut.order))].sort((a, b) => a - b);
  const out: Unit[] = [];
  for (const order of orders) {
    const here = declared.filter((d) => d.cut.order === order);
    for (const { i, cut } of here.filter((d) => d.cut.parts)) {
      for (let k = cut.parts!.length - 1; k >= 0; k--) out.push({ messages: [i], part: true, label: cut.label });
    }
    const seen = new Set<string>();
    for (const { i, cut } of here.filter((d) => !d.cut.parts)) {
      const key = cut.group ?? `#${i}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const all = cut.group ? here.filter((d) => !d.cut.parts && d.cut.group === cut.group).map((d) => d.i) : [i];
      out.push({ messages: all, part: false, label: cut.label });
    }
  }
  return out;
}

/** The messages after the first `n` units are cut, with a note where parts were left out. */
function apply(messages: ChatMessage[], all: Unit[], n: number): { messages: ChatMessage[]; cuts: Cut[] } {
  const gone = new Set<number>();
  const partsGone = new Map<number, number>();
  for (const u of all.slice(0, n)) {
    if (u.part) partsGone.set(u.messages[0]!, (partsGone.get(u.messages[0]!) ?? 0) + 1);
    else u.messages.forEach((i) => gone.add(i));
  }
  const cuts = new Map<string, Cut>();
  const tally = (label: string, unit: Cut['unit'], removed: number, of: number) => {
    const c = cuts.get(`${unit}:${label}`) ?? { label, removed: 0, of: 0, unit };
    c.removed += removed;
    c.of += of;
    cuts.set(`${unit}:${label}`, c);
  };
  const wholeOf = new Map<string, number>();
  messages.forEach((m) => {
    const cut = (m as { cut?: CutSpec }).cut;
    if (cut && !cut.parts) wholeOf.set(cut.label, (wholeOf.get(cut.label) ?? 0) + 1);
  });
  const out: ChatMessage[] = [];
  messages.forEach((m, i) => {
    const cut = (m as { cut?: CutSpec }).cut;
    if (gone.has(i)) return tally(cut!.label, 'messages', 1, 0);
    const k = partsGone.get(i) ?? 0;
    if (!cut?.parts || k === 0) return out.push(sendable(m));
    const kept = cut.parts.slice(0, cut.parts.length - k);
    tally(cut.label, 'parts', k, cut.parts.length);
    const note = `[${k} of ${cut.parts.length} parts of the ${cut.label} left out to fit the model's context window]`;
    const body = kept.length ? `${kept.join(cut.sep ?? '\n\n')}${cut.sep ?? '\n\n'}${note}` : note;
    out.push({ ...sendable(m), content: `${cut.head ?? ''}${body}` } as ChatMessage);
  });
  for (const c of cuts.values()) if (c.unit === 'messages') c.of = wholeOf.get(c.label) ?? c.removed;
  // In the order they were cut, as the audit line reads.
  const rank = (c: Cut) => all.findIndex((u) => u.label === c.label && u.part === (c.unit === 'parts'));
  return { messages: out, cuts: [...cuts.values()].sort((a, b) => rank(a) - rank(b)) };
}

/**
 * Fit `messages` into `budget` tokens as `count` measures them. Cuts are searched by halving over the declared
 * order (at most about log2(units) + 2 counts), so the cut is the smallest prefix of the order that fits.
 */
export async function fitMessages(messages: ChatMessage[], budget: number, count: Counter): Promise<Fitted> {
  const whole = messages.map(sendable);
  const tokens = await count(whole);
  if (tokens <= budget) return { ok: true, messages: whole, tokens, cuts: [] };
  const all = units(messages);
  const at = async (n: number) => {
    const a = apply(messages, all, n);
    return { ...a, tokens: await count(a.messages) };
  };
  const most = await at(all.length);
  if (most.tokens > budget) return { ok: false, minimum: most.tokens, budget };
  let lo = 0; // does not fit
  let hi = all.length; // fits
  let best = most;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const t = await at(mid);
    if (t.tokens <= budget) {
      hi = mid;
      best = t;
    } else lo = mid;
  }
  return { ok: true, messages: best.messages, tokens: best.tokens, cuts: best.cuts };
}

/** The audit wording of a fit: what was cut, from which model's window. */
export function cutWords(cuts: Cut[]): string {
  return cuts
    .map((c) =>
      c.unit === 'parts' ? `${c.removed} of ${c.of} parts of the ${c.label}` : `${c.removed} ${c.label} message(s)`,
    )
    .join(', ');
}
