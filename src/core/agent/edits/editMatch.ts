// edit_file's matcher: `old_text` exactly, else one unique match under growing tolerance (line endings and
// trailing spaces, then indentation, then blank lines, then runs of inner spaces, then one elided line). A match
// that is not unique is never applied: the model gets the candidates' line numbers instead. The replacement keeps
// the file's line endings and the file's own text of the lines the edit does not change.
import { diffArrays, type ArrayChange } from 'diff';

export type EditOutcome =
  | { ok: true; text: string; how: string; line: number; count: number }
  | { ok: false; kind: 'missing' | 'ambiguous' | 'empty'; message: string };

export interface Pass {
  name: string;
  norm: (line: string) => string;
  /** Blank lines are left out on both sides before comparing. */
  skipBlank?: boolean;
  /** One line of the file may sit between two lines of old_text (the model left out an unchanged line). */
  elide?: boolean;
}

export const PASSES: Pass[] = [
  { name: 'line endings and trailing spaces ignored', norm: (l) => l.trimEnd() },
  { name: 'indentation ignored', norm: (l) => l.trim() },
  { name: 'indentation and blank lines ignored', norm: (l) => l.trim(), skipBlank: true },
  { name: 'all runs of spaces ignored', norm: (l) => l.trim().replace(/\s+/g, ' '), skipBlank: true },
  { name: 'one elided line allowed', norm: (l) => l.trim().replace(/\s+/g, ' '), skipBlank: true, elide: true },
];

const lineNo = (text: string, index: number) => text.slice(0, index).split('\n').length;

export function applyEdit(content: string, oldText: string, newText: string, replaceAll = false): EditOutcome {
  if (oldText === '') return { ok: false, kind: 'empty', message: 'old_text is empty; use write_file for a new file' };
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const exact = occurrences(content, oldText);
  if (exact.length === 1 || (replaceAll && exact.length > 1)) {
    const text = content.split(oldText).join(withEol(newText, eol));
    return { ok: true, text, how: 'exact', line: lineNo(content, exact[0]!), count: exact.length };
  }
  if (exact.length > 1) {
    const lines = exact.map((i) => lineNo(content, i)).join(', ');
    return {
      ok: false,
      kind: 'ambiguous',
      message:
        `old_text occurs ${exact.length} times (lines ${lines}); add surrounding lines to make it unique, ` +
        `or set replace_all`,
    };
  }
  const fileLines = content.split('\n').map((l) => l.replace(/\r$/, ''));
  const rawOld = oldText.replace(/\r\n/g, '\n').split('\n');
  const oldLines = trimBlankEnds(rawOld);
  const newLines = trimLike(newText.replace(/\r\n/g, '\n').split('\n'), rawOld, oldLines);
  if (oldLines.every((l) => l.trim() === ''))
    return { ok: false, kind: 'missing', message: 'old_text is only blank lines; include the code around it' };
  for (const pass of PASSES) {
    const found = matches(fileLines, oldLines, pass);
    if (found.length === 1) {
      const m = found[0]!;
      const spliced = splice(fileLines, m, oldLines, newLines, pass);
      if (!spliced)
        return {
          ok: false,
          kind: 'ambiguous',
          message:
            `old_text matches at line ${m.start + 1} only without a line of the file that it leaves out, next to ` +
            'the lines it adds: copy old_text from the file again, every line',
        };
      const out = [...fileLines.slice(0, m.start), ...spliced, ...fileLines.slice(m.end)];
      return { ok: true, text: out.join(eol), how: pass.name, line: m.start + 1, count: 1 };
    }
    if (found.length > 1) {
      const where = found.map((f) => f.start + 1).join(', ');
      return {
        ok: false,
        kind: 'ambiguous',
        message: `old_text matches ${found.length} places with ${pass.name} (lines ${where}); add surrounding lines to make it unique`,
      };
    }
  }
  return { ok: false, kind: 'missing', message: `old_text was not found. ${nearest(fileLines, oldLines)}` };
}

function occurrences(hay: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

const withEol = (text: string, eol: string) =>
  eol === '\r\n' ? text.replace(/\r?\n/g, '\r\n') : text.replace(/\r\n/g, '\n');

function trimBlankEnds(lines: string[]): string[] {
  let a = 0,
    b = lines.length;
  while (a < b && lines[a]!.trim() === '') a++;
  while (b > a && lines[b - 1]!.trim() === '') b--;
  return lines.slice(a, b);
}

/** new_text without the blank lines old_text had around it (the match is of whole lines, without them). */
function trimLike(lines: string[], rawOld: string[], oldLines: string[]): string[] {
  const lead = rawOld.findIndex((l) => l.trim() !== '');
  const trail = rawOld.length - lead - oldLines.length;
  let a = 0,
    b = lines.length;
  for (let k = 0; k < lead && a < b && lines[a]!.trim() === ''; k++) a++;
  for (let k = 0; k < trail && b > a && lines[b - 1]!.trim() === ''; k++) b--;
  return lines.slice(a, b);
}

interface Match {
  start: number;
  end: number;
  /** For each old_text line, the file line it matched (-1: a blank line left out of the comparison). */
  at: number[];
}

/** Every range of file lines that old_text's lines match under `pass`. */
function matches(file: string[], old: string[], pass: Pass): Match[] {
  const norm = file.map(pass.norm);
  const want = old.map(pass.norm);
  const first = want.findIndex((l) => !pass.skipBlank || l !== '');
  const out: Match[] = [];
  for (let s = 0; s < file.length && out.length <= 5; s++) {
    if (norm[s] !== want[first]) continue;
    const m = matchFrom(norm, want, s, pass);
    if (m) out.push(m);
  }
  return out;
}

function matchFrom(norm: string[], want: string[], s: number, pass: Pass): Match | null {
  return (pass.elide ? tryMatchFrom(norm, want, s, pass, true) : null) ?? tryMatchFrom(norm, want, s, pass, false);
}

/** `elideBeforeBlank`: the left-out line may be the one just before a blank line of old_text. */
function tryMatchFrom(norm: string[], want: string[], s: number, pass: Pass, elideBeforeBlank: boolean): Match | null {
  const at: number[] = [];
  let i = s,
    elided = false;
  for (let k = 0; k < want.length; k++) {
    if (pass.skipBlank && want[k] === '') {
      // A blank line of old_text goes with the file's blank line where there is one (else it is left out).
      if (norm[i] === '') at.push(i++);
      else if (elideBeforeBlank && !elided && k > 0 && norm[i + 1] === '') {
        elided = true;
        at.push(i + 1);
        i += 2;
      } else at.push(-1);
      continue;
    }
    while (pass.skipBlank && i < norm.length && norm[i] === '' && k > 0) i++;
    if (i >= norm.length) return null;
    if (norm[i] === want[k]) at.push(i++);
    else if (pass.elide && !elided && k > 0) {
      // The left-out line, then the blank lines after it that the comparison skips.
      let j = i + 1;
      while (pass.skipBlank && j < norm.length && norm[j] === '') j++;
      if (norm[j] !== want[k]) return null;
      elided = true;
      at.push(j);
      i = j + 1;
    } else return null;
  }
  return { start: s, end: i, at };
}

/**
 * The matched file lines with the edit's own change applied: the lines old_text and new_text share stay as the
 * file has them (its indentation, its blank lines, a line the model left out); removed lines go; added lines come
 * in at their place, moved to the file's indentation.
 */
function splice(file: string[], m: Match, old: string[], neu: string[], pass: Pass): string[] | null {
  const ops = slideInsertions(diffArrays(old.map(pass.norm), neu.map(pass.norm)));
  const pairs = m.at.flatMap((f, k) => (f >= 0 ? [{ model: old[k]!, file: file[f]! }] : []));
  const indent = new IndentMap(pairs);
  const out: string[] = [];
  let cursor = m.start;
  let k = 0,
    b = 0,
    lastKept = false;
  // File lines before the one old line k matched: blank lines the comparison skipped, or a line the model left out.
  const keepUpTo = (f: number, blankOnly: boolean) => {
    while (cursor < f && (!blankOnly || file[cursor]!.trim() === '')) out.push(file[cursor++]!);
  };
  // A line the model left out is kept only between two lines the edit keeps, with nothing added between them:
  // next to a change, which side of it the line goes is a guess.
  const elidedBefore = (f: number) => file.slice(cursor, f).some((l) => l.trim() !== '');
  const { kept: keptAt, addsBefore } = opsByOldLine(ops, old.length);
  const quietGap = (k: number) => {
    let prev = k - 1;
    while (prev >= 0 && m.at[prev]! < 0) prev--;
    const adds = addsBefore.slice(prev + 1, k + 1).some((x) => x > 0);
    return prev >= 0 && keptAt[prev]! && keptAt[k]! && !adds;
  };
  const nextAligned = () => m.at.slice(k).find((f) => f >= 0) ?? m.end;
  for (const op of ops) {
    const n = op.count ?? op.value.length;
    for (let j = 0; j < n; j++) {
      if (op.added) {
        // A block inserted after a kept line, ending in a blank line: the file's blank lines there come first.
        if (j === 0 && lastKept && op.value[n - 1] === '') keepUpTo(nextAligned(), true);
        // A line the model left out, in the gap where it adds lines: which side it goes is not known.
        if (elidedBefore(nextAligned())) return null;
        out.push(indent.line(neu[b++]!));
        continue;
      }
      if (m.at[k]! >= 0 && elidedBefore(m.at[k]!) && !quietGap(k)) return null;
      const f = m.at[k++]!;
      const wasKept = lastKept || k === 1;
      lastKept = !op.removed;
      if (op.removed) {
        if (f >= 0) {
          // Blank lines between two removed lines go with them; before the first, they stay.
          if (wasKept) keepUpTo(f, false);
          cursor = f + 1;
        }
        continue;
      }
      // A line the edit keeps: the file's own text, unless the edit changes it in what the pass ignores (indentation).
      const changed = old[k - 1] !== neu[b];
      const kept = neu[b++]!;
      if (f >= 0) {
        keepUpTo(f, false);
        out.push(changed ? indent.line(kept) : file[cursor]!);
        cursor++;
      } else if (changed && kept.trim() !== '') out.push(indent.line(kept));
    }
  }
  keepUpTo(m.end, false);
  return out;
}

/**
 * The same change with each inserted or removed block moved down past kept lines equal to its first line
 * (`A, +'', +X, ''` reads `A, '', +X, +''`): kept lines come first, so that a line the model left out before them
 * keeps its place.
 */
function slideInsertions(ops: ArrayChange<string>[]): ArrayChange<string>[] {
  const flat = ops.flatMap((op) => op.value.map((v) => ({ v, added: !!op.added, removed: !!op.removed })));
  const kind = (l: { added: boolean; removed: boolean }) => (l.added ? 'a' : l.removed ? 'r' : 'k');
  for (let i = 0; i < flat.length; i++) {
    const k = kind(flat[i]!);
    if (k === 'k' || (i > 0 && kind(flat[i - 1]!) === k)) continue;
    let j = i;
    while (j < flat.length && kind(flat[j]!) === k) j++;
    const next = flat[j];
    if (next && kind(next) === 'k' && next.v === flat[i]!.v) {
      flat.splice(j, 1);
      flat.splice(i, 0, next);
    }
  }
  const out: ArrayChange<string>[] = [];
  for (const l of flat) {
    const last = out[out.length - 1];
    if (last && !!last.added === l.added && !!last.removed === l.removed) {
      last.value.push(l.v);
      last.count = last.value.length;
    } else out.push({ value: [l.v], count: 1, added: l.added, removed: l.removed });
  }
  return out;
}

/** Per old_text line: whether the edit keeps it, and how many lines the edit adds just before it. */
function opsByOldLine(ops: ArrayChange<string>[], n: number): { kept: boolean[]; addsBefore: number[] } {
  const kept: boolean[] = [];
  const addsBefore = new Array<number>(n + 1).fill(0);
  for (const op of ops) {
    const count = op.count ?? op.value.length;
    if (op.added) addsBefore[kept.length] = (addsBefore[kept.length] ?? 0) + count;
    else for (let j = 0; j < count; j++) kept.push(!op.removed);
  }
  return { kept, addsBefore };
}

/**
 * How the model's indentation maps to the file's, learnt from the lines they share: the most common difference in
 * columns (a model's tab counts as one of the file's indentation steps; a file's tab as one of the model's).
 */
export class IndentMap {
  readonly fileTabs: boolean;
  readonly modelTabs: boolean;
  private readonly fileStep: number;
  private readonly modelStep: number;
  /** The shift, in the file's unit, from the model's indentation to the file's. */
  readonly delta: number;
  /** Every pair of lines it learnt from is shifted by the same amount. */
  readonly uniform: boolean;

  constructor(pairs: { model: string; file: string }[]) {
    const code = pairs.filter((p) => p.model.trim() !== '' && !/^\s*\*/.test(p.file));
    this.fileTabs = code.some((p) => indentOf(p.file).includes('\t'));
    this.modelTabs = code.some((p) => indentOf(p.model).includes('\t'));
    this.fileStep = this.fileTabs ? 1 : step(code.map((p) => indentOf(p.file).length));
    this.modelStep = this.modelTabs ? 1 : step(code.map((p) => indentOf(p.model).length));
    const diffs = new Map<number, number>();
    for (const p of code) {
      const d = this.fileCols(indentOf(p.file)) - this.modelCols(indentOf(p.model));
      diffs.set(d, (diffs.get(d) ?? 0) + 1);
    }
    this.delta = [...diffs].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
    this.uniform = diffs.size <= 1;
  }

  /** The model's indentation is the file's: its lines can be taken as written. */
  get identity(): boolean {
    return this.delta === 0 && this.fileTabs === this.modelTabs;
  }

  /** Columns in the file's unit (tabs: levels; spaces: columns). */
  private fileCols(ind: string): number {
    return this.fileTabs ? tabs(ind) + spaces(ind) / 4 : spaces(ind) + tabs(ind) * this.fileStep;
  }

  /** The model's indentation in the file's unit. */
  private modelCols(ind: string): number {
    if (this.fileTabs) return this.modelTabs ? tabs(ind) + spaces(ind) / 4 : spaces(ind) / this.modelStep;
    return spaces(ind) + tabs(ind) * this.fileStep;
  }

  line(l: string): string {
    if (l.trim() === '') return l;
    const cols = Math.max(0, this.modelCols(indentOf(l)) + this.delta);
    const ind = this.fileTabs
      ? '\t'.repeat(Math.floor(cols)) + ' '.repeat(Math.round((cols % 1) * 4))
      : ' '.repeat(Math.round(cols));
    return ind + l.trimStart();
  }
}

const indentOf = (l: string) => /^[ \t]*/.exec(l)![0];
const tabs = (ind: string) => (ind.match(/\t/g) ?? []).length;
const spaces = (ind: string) => (ind.match(/ /g) ?? []).length;

/** The indentation step of a set of widths: their greatest common divisor (2 when it says 1, 4 when none). */
function step(widths: number[]): number {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const g = widths.filter((w) => w > 0).reduce(gcd, 0);
  return g === 0 ? 4 : g === 1 ? 2 : g;
}

/** The file lines most like old_text's first lines, for the model's next try. */
export function nearest(file: string[], old: string[]): string {
  const target = old.find((l) => l.trim() !== '')!.trim();
  const scored = file
    .map((l, i) => ({ i, l, score: similarity(l.trim(), target) }))
    .filter((x) => x.score > 0.3)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, 3);
  if (scored.length === 0) return 'No line of the file resembles its first line; read the file again.';
  const list = scored.map((x) => `line ${x.i + 1}: ${x.l.trim().slice(0, 120)}`).join('; ');
  return `The nearest lines to its first line are ${list}. Read the file around them and try again with the exact text.`;
}

/** Dice coefficient over character bigrams: cheap and good enough to point at the right line. */
function similarity(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length < 2 || b.length < 2) return 0;
  const grams = (s: string) => {
    const m = new Map<string, number>();
    for (let i = 0; i < s.length - 1; i++) m.set(s.slice(i, i + 2), (m.get(s.slice(i, i + 2)) ?? 0) + 1);
    return m;
  };
  const ga = grams(a),
    gb = grams(b);
  let both = 0;
  for (const [g, n] of ga) both += Math.min(n, gb.get(g) ?? 0);
  return (2 * both) / (a.length - 1 + (b.length - 1));
}
