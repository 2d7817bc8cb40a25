// edit_file's matcher: `old_text` exactly, else one unique match under growing tolerance (line endings and
// trailing spaces, then indentation, then blank lines, then runs of inner spaces, then one elided line). A match
// that is not unique is never applied: the model gets the candidates' line numbers instead. The replacement keeps
// the file's line endings and moves `new_text` to the indentation the matched lines really have.

export type EditOutcome =
  | { ok: true; text: string; how: string; line: number; count: number }
  | { ok: false; kind: 'missing' | 'ambiguous' | 'empty'; message: string };

interface Pass {
  name: string;
  norm: (line: string) => string;
  /** Blank lines are left out on both sides before comparing. */
  skipBlank?: boolean;
  /** One line of the file may sit between two lines of old_text (the model left out an unchanged line). */
  elide?: boolean;
}

const PASSES: Pass[] = [
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
      const [start, end] = found[0]!;
      const replaced = reindent(newLines, oldLines, fileLines.slice(start, end));
      const out = [...fileLines.slice(0, start), ...replaced, ...fileLines.slice(end)];
      return { ok: true, text: out.join(eol), how: pass.name, line: start + 1, count: 1 };
    }
    if (found.length > 1) {
      const where = found.map(([s]) => s + 1).join(', ');
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

/** Every [start, end) range of file lines that old_text's lines match under `pass`. */
function matches(file: string[], old: string[], pass: Pass): [number, number][] {
  const want = old.map(pass.norm).filter((l) => !pass.skipBlank || l !== '');
  const norm = file.map(pass.norm);
  const out: [number, number][] = [];
  for (let s = 0; s < file.length; s++) {
    if (norm[s] !== want[0]) continue;
    const end = matchFrom(norm, want, s, pass);
    if (end !== null) out.push([s, end]);
    if (out.length > 5) break;
  }
  return out;
}

function matchFrom(norm: string[], want: string[], s: number, pass: Pass): number | null {
  let i = s,
    k = 0,
    elided = false;
  while (k < want.length) {
    if (i >= norm.length) return null;
    if (pass.skipBlank && norm[i] === '') {
      i++;
      continue;
    }
    if (norm[i] === want[k]) {
      i++;
      k++;
    } else if (pass.elide && !elided && k > 0 && norm[i + 1] === want[k]) {
      elided = true;
      i += 2;
      k++;
    } else return null;
  }
  return i;
}

const indentOf = (l: string) => /^[ \t]*/.exec(l)![0];

/** new_text moved from old_text's indentation to the file's (the first non-blank line of each says which). */
function reindent(lines: string[], oldLines: string[], matched: string[]): string[] {
  const oldFirst = oldLines.find((l) => l.trim() !== '');
  const fileFirst = matched.find((l) => l.trim() !== '');
  if (oldFirst === undefined || fileFirst === undefined) return lines;
  const from = indentOf(oldFirst),
    to = indentOf(fileFirst);
  if (from === to) return lines;
  const unit =
    to.includes('\t') && !from.includes('\t')
      ? { from: ' '.repeat(Math.max(1, guessWidth(oldLines))), to: '\t' }
      : null;
  return lines.map((l) => {
    if (l.trim() === '') return l;
    let ind = indentOf(l);
    if (ind.startsWith(from)) ind = to + ind.slice(from.length);
    else if (from.startsWith(ind)) ind = to.slice(0, Math.max(0, to.length - (from.length - ind.length)));
    if (unit) ind = ind.split(unit.from).join(unit.to);
    return ind + l.trimStart();
  });
}

function guessWidth(lines: string[]): number {
  const widths = lines.map((l) => indentOf(l).length).filter((w) => w > 0);
  return widths.length ? Math.min(...widths) : 4;
}

/** The file lines most like old_text's first lines, for the model's next try. */
function nearest(file: string[], old: string[]): string {
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
