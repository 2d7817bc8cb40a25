// Where one hunk goes in the text earlier hunks of its file left. A hunk is placed by its text (its context and
// removed lines), exactly, else with edit_file's tolerances (trailing whitespace, then indentation). Where the text
// occurs more than once, what the hunk says chooses, and only when the choice is certain:
// - its line numbers: the occurrence nearest the stated line (moved by earlier hunks, as GNU patch does), when it
//   lies within NEAR_LINES of it and the next one is at least twice as far and APART_LINES farther;
// - its `*** Begin Patch` @@ lines: the first occurrence after them, when the next one is at least twice as far;
// - nothing (`@@ ... @@`): the text must be unique.
// Anything else is a refusal that names the places. Never a guess: a wrong place is worse than a refusal.
import { IndentMap, nearest, PASSES } from './editMatch.js';
import type { PatchHunk } from './patchTypes.js';

/** How far (lines) from the stated line a placement by line numbers may be. */
export const NEAR_LINES = 50;
/**
 * How many lines farther than the chosen occurrence the next must be, besides twice as far: a hunk whose numbers
 * are a few lines off (a model's often are) must not reach the other occurrence.
 */
export const APART_LINES = 6;

/** Exact lines first, then edit_file's line-by-line tolerances (those that keep old and file lines paired). */
const TIERS = [
  { name: 'exact', norm: (l: string) => l.replace(/\r$/, '') },
  ...PASSES.filter((p) => !p.skipBlank && !p.elide).map((p) => ({ name: p.name, norm: p.norm })),
];
const INDENT_TIER = TIERS.length - 1;

export interface Where {
  /** Lines before it are not searched: earlier hunks of the file were placed there (hunks come in file order). */
  cursor: number;
  /** The 0-based line the hunk's numbers put its first old line at, after earlier hunks' drift; null: none. */
  expected: number | null;
  /** A line of the current text as the patch numbers it (1-based), for messages. */
  lineOf: (i: number) => number;
}

/** Lines [start, end) of the text become `lines`. */
export type Placed =
  { ok: true; start: number; end: number; lines: string[]; how: string | null } | { ok: false; message: string };

type Choice = { ok: true; at: number } | { ok: false; message: string };

const listLines = (at: number[], w: Where) => {
  const shown = at.slice(0, 6).map((i) => w.lineOf(i));
  return `line${at.length > 1 ? 's' : ''} ${shown.join(', ')}${at.length > 6 ? ` and ${at.length - 6} more` : ''}`;
};

/** Every start line at or after `from` where `old` matches the file under `norm` (at the end only, `atEnd`). */
function candidates(file: string[], old: string[], from: number, norm: (l: string) => string, atEnd: boolean) {
  const want = old.map(norm);
  const out: number[] = [];
  const last = file.length - old.length;
  for (let s = atEnd ? Math.max(from, last) : from; s <= last; s++) {
    let k = 0;
    while (k < want.length && norm(file[s + k]!) === want[k]) k++;
    if (k === want.length) out.push(s);
  }
  return out;
}

/**
 * The occurrence nearest `expected`, when certain: within NEAR_LINES, and the next at least twice as far and
 * APART_LINES farther.
 */
function byNumbers(at: number[], expected: number, w: Where): Choice {
  if (at.length === 1) return { ok: true, at: at[0]! };
  const by = [...at].sort((a, b) => Math.abs(a - expected) - Math.abs(b - expected) || a - b);
  const d1 = Math.abs(by[0]! - expected),
    d2 = Math.abs(by[1]! - expected);
  if (d1 <= NEAR_LINES && d2 >= 2 * d1 && d2 - d1 >= APART_LINES) return { ok: true, at: by[0]! };
  const both = [by[0]!, by[1]!].sort((a, b) => a - b);
  return {
    ok: false,
    message:
      `its text occurs at ${listLines(at, w)}; its line numbers put it at line ${w.lineOf(expected)}, and neither ` +
      `line ${w.lineOf(both[0]!)} nor line ${w.lineOf(both[1]!)} is certain (the nearer must be within ` +
      `${NEAR_LINES} lines, the next at least twice as far and ${APART_LINES} lines farther): add context lines to ` +
      'tell them apart',
  };
}

/** The first occurrence after `from` (the line after an @@ line), when the next is at least twice as far. */
function forward(at: number[], from: number, what: string, w: Where): Choice {
  if (at.length === 1) return { ok: true, at: at[0]! };
  const d1 = at[0]! - from,
    d2 = at[1]! - from;
  if (d2 > d1 && d2 >= 2 * d1) return { ok: true, at: at[0]! };
  return {
    ok: false,
    message:
      `${what} occurs at ${listLines(at, w)}, about as near the @@ line${from > 0 ? ` (line ${w.lineOf(from - 1)})` : ''}: ` +
      'add a more specific @@ line or more context',
  };
}

function unique(at: number[], w: Where): Choice {
  if (at.length === 1) return { ok: true, at: at[0]! };
  return {
    ok: false,
    message:
      `its text occurs ${at.length} times (${listLines(at, w)}); a hunk without line numbers must match one place: ` +
      'add context lines, or the @@ -a,b +c,d @@ line numbers',
  };
}

/** The line an @@ anchor names: equal to it (surrounding space aside), else starting with it. */
function anchorLine(file: string[], anchor: string, from: number, w: Where): Choice {
  const want = anchor.trim();
  for (const test of [(l: string) => l.trim() === want, (l: string) => l.trim().startsWith(want)]) {
    const at: number[] = [];
    for (let i = from; i < file.length; i++) if (test(file[i]!)) at.push(i);
    if (at.length > 0) return forward(at, from, `the @@ line "${anchor}"`, w);
  }
  return {
    ok: false,
    message: `no line reads "${anchor}"${from > 0 ? ` after line ${w.lineOf(from - 1)}` : ''} (its @@ line)`,
  };
}

export function placeHunk(file: string[], h: PatchHunk, w: Where, crlf: boolean): Placed {
  const old = h.lines.filter((l) => l.op !== '+').map((l) => l.text);
  // After each @@ line, the next is searched; the context from the last one's line on (it may repeat that line).
  let from = w.cursor;
  for (const [k, a] of h.anchors.entries()) {
    const r = anchorLine(file, a, k === 0 ? from : from + 1, w);
    if (!r.ok) return r;
    from = r.at;
  }
  if (old.length === 0) {
    if (file.length === 0) return { ok: true, start: 0, end: 0, lines: added(h, null, crlf), how: null };
    if (h.atEnd) return { ok: true, start: file.length, end: file.length, lines: added(h, null, crlf), how: null };
    return {
      ok: false,
      message:
        'it only adds lines, with no context line to place them by: include a line or two of the file before ' +
        'and after them',
    };
  }
  if (old.every((l) => l.trim() === ''))
    return { ok: false, message: 'its context and removed lines are only blank lines: include the code around them' };
  for (const [t, tier] of TIERS.entries()) {
    const at = candidates(file, old, from, tier.norm, h.atEnd);
    if (at.length === 0) continue;
    const choice =
      h.anchors.length > 0
        ? forward(at, from, 'its text', w)
        : w.expected !== null
          ? byNumbers(at, w.expected, w)
          : unique(at, w);
    if (!choice.ok) return choice;
    const start = choice.at;
    // The text and the numbers must agree: a looser match nearer the stated line makes the choice uncertain.
    if (w.expected !== null && h.anchors.length === 0 && t < INDENT_TIER) {
      const loose = candidates(file, old, from, TIERS[INDENT_TIER]!.norm, h.atEnd);
      const d = Math.abs(start - w.expected);
      const nearer = loose.find((c) => c !== start && Math.abs(c - w.expected!) <= d);
      if (nearer !== undefined)
        return {
          ok: false,
          message:
            `its text is at line ${w.lineOf(start)}, and with ${TIERS[INDENT_TIER]!.name} also at line ` +
            `${w.lineOf(nearer)}, as near its line numbers' line ${w.lineOf(w.expected)}: copy its lines from the ` +
            'file again',
        };
    }
    const lines = splice(file, start, h, t === INDENT_TIER, crlf);
    if (typeof lines === 'string') return { ok: false, message: lines };
    const notes = [
      t > 0 ? tier.name : '',
      w.expected !== null && start !== w.expected
        ? `${start - w.expected > 0 ? '+' : ''}${start - w.expected} lines`
        : '',
    ].filter(Boolean);
    return { ok: true, start, end: start + old.length, lines, how: notes.length > 0 ? notes.join(', ') : null };
  }
  const before = candidates(file, old, 0, TIERS[INDENT_TIER]!.norm, h.atEnd).filter((c) => c < from);
  if (before.length > 0)
    return {
      ok: false,
      message:
        `its text is at ${listLines(before, w)}, before ${h.anchors.length > 0 ? 'its @@ line' : 'the previous hunk'}: ` +
        'the hunks of a file must come in its order',
    };
  const end = h.atEnd ? ' at the end of the file (its "End of File" / "No newline" mark)' : '';
  return {
    ok: false,
    message: `its context and removed lines were not found${end}. ${nearest(
      file.map((l) => l.replace(/\r$/, '')),
      old,
    )}`,
  };
}

/** The hunk's added lines alone (a hunk with no old lines), in the file's line ending. */
function added(h: PatchHunk, indent: ((l: string) => string) | null, crlf: boolean): string[] {
  return h.lines.filter((l) => l.op === '+').map((l) => (indent ? indent(l.text) : l.text) + (crlf ? '\r' : ''));
}

const indentOf = (l: string) => /^[ \t]*/.exec(l)![0];

/**
 * The matched lines with the hunk applied: kept lines as the file has them, removed lines gone, added lines as the
 * hunk writes them. Where the match ignored indentation: when the removed lines are as the file has them, the added
 * lines (written with them) are taken as written; else all the hunk's lines must be shifted alike, and the added
 * lines move with them. A shift seen in context lines alone (none removed) is refused: it could be the model's or
 * the loss of it, so the added lines' indentation is not known.
 */
function splice(file: string[], start: number, h: PatchHunk, indentTier: boolean, crlf: boolean): string[] | string {
  let indent: ((l: string) => string) | null = null;
  if (indentTier) {
    const pairs = (op: string) => {
      const out: { model: string; file: string }[] = [];
      let k = start;
      for (const l of h.lines) {
        if (l.op === '+') continue;
        if (l.op === op && l.text.trim() !== '') out.push({ model: l.text, file: file[k]!.replace(/\r$/, '') });
        k++;
      }
      return out;
    };
    const same = (ps: { model: string; file: string }[]) => ps.every((p) => indentOf(p.model) === indentOf(p.file));
    const removed = pairs('-');
    const all = [...removed, ...pairs(' ')];
    // The removed lines as the file has them: the added lines, written with them, are taken as written.
    if (!(removed.length > 0 && same(removed)) && !same(all)) {
      const m = new IndentMap(all);
      const adds = h.lines.some((l) => l.op === '+' && l.text.trim() !== '');
      if (adds && (!m.uniform || (removed.length === 0 && m.delta !== 0)))
        return (
          "its lines' indentation differs from the file's " +
          (m.uniform ? 'in its context lines, and it removes none' : 'by different amounts on different lines') +
          ", so the added lines' indentation is not known: copy its lines from the file again"
        );
      if (!m.identity) indent = (l) => m.line(l);
    }
  }
  const out: string[] = [];
  let k = start;
  for (const l of h.lines) {
    if (l.op === ' ') out.push(file[k++]!);
    else if (l.op === '-') k++;
    else out.push((indent ? indent(l.text) : l.text) + (crlf ? '\r' : ''));
  }
  return out;
}
