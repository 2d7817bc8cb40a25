// Unified diffs in, one FilePatch per file out. Never throws: what cannot be read is reported.
import { parsePatch } from 'diff';
import { relativeInside } from '../util/paths.js';

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
  /** git's function context after the second @@ (e.g. `impl Counts {`), when present. */
  context?: string;
}

export interface FilePatch {
  oldPath: string | null; // null when added
  newPath: string | null; // null when deleted
  binary: boolean;
  rename: boolean;
  modeOnly: boolean;
  hunks: Hunk[];
  problems: string[];
}

export interface ParsedDiff {
  files: FilePatch[];
  problems: string[];
}

const strip = (p: string | undefined): string | null => {
  if (!p || p === '/dev/null') return null;
  const t = p.replace(/\t.*$/, '').replace(/^"(.*)"$/, '$1');
  return /^[ab]\//.test(t) ? t.slice(2) : t;
};

export function parseUnifiedDiff(text: string): ParsedDiff {
  const problems: string[] = [];
  if (text.includes('\uFFFD'))
    problems.push('the diff contains bytes that are not UTF-8; affected lines were read as replacement characters');
  const normalized = text.replace(/\r\n/g, '\n');
  // Split at file boundaries first, so one garbled file does not lose the others.
  const sections = splitSections(normalized);
  const files: FilePatch[] = [];
  let firstLine = 1;
  for (const section of sections) {
    const unread = unreadableHunks(section, firstLine);
    firstLine += section.split('\n').length;
    try {
      for (const p of parsePatch(section)) {
        const f = fromParsed(p, section);
        for (const u of unread) f.problems.push(u);
        files.push(f);
      }
    } catch (e) {
      const lenient = lenientParse(section);
      for (const u of unread) lenient.problems.push(u);
      lenient.problems.push(
        `could not fully parse the diff of ${lenient.newPath ?? lenient.oldPath ?? 'a file'}: ${(e as Error).message.trim()}; ` +
          `counted what could be read`,
      );
      files.push(lenient);
    }
  }
  const real = files.filter((f) => f.oldPath || f.newPath);
  if (real.length === 0 && normalized.trim() !== '') problems.push('no file changes found: is this a unified diff?');
  return { files: real.filter((f) => inside(f, problems)), problems };
}

const HUNK_HEADER = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/;

/**
 * Hunk headers the parsers would skip without a word (`@@@@`, `@ -1,1 +1,2 @@`): each one is reported with its
 * line and the changed lines under it, so that the classification says it is partial instead of counting nothing.
 */
function unreadableHunks(section: string, firstLine: number): string[] {
  const lines = section.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.startsWith('@') || HUNK_HEADER.test(l)) continue;
    let changed = 0;
    for (let k = i + 1; k < lines.length && !lines[k]!.startsWith('@') && !lines[k]!.startsWith('diff --git '); k++)
      if (/^[+-]/.test(lines[k]!) && !/^(\+\+\+|---) /.test(lines[k]!)) changed++;
    const shown = l.length > 60 ? `${l.slice(0, 60)}…` : l;
    out.push(
      `line ${firstLine + i}: a hunk header that cannot be read (${JSON.stringify(shown)}); ` +
        (changed === 1 ? 'its 1 changed line was not classified' : `its ${changed} changed lines were not classified`),
    );
  }
  return out;
}

/** A file whose path leaves the repository (or names .git) is refused: nothing outside is ever opened. */
function inside(f: FilePatch, problems: string[]): boolean {
  const bad = [f.oldPath, f.newPath].filter((p): p is string => p !== null && relativeInside(p) === null);
  if (bad.length === 0) return true;
  problems.push(`${bad[0]}: the path leaves the repository (or names .git); this file was refused, not classified`);
  return false;
}

function splitSections(text: string): string[] {
  const lines = text.split('\n');
  const git = lines.some((l) => l.startsWith('diff --git '));
  const out: string[][] = [];
  let cur: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const boundary = git
      ? l.startsWith('diff --git ')
      : l.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ') === true && cur.some((c) => c.startsWith('@@'));
    if (boundary && cur.length) {
      out.push(cur);
      cur = [];
    }
    cur.push(l);
  }
  if (cur.length) out.push(cur);
  return out.map((s) => s.join('\n'));
}

function fromParsed(p: ReturnType<typeof parsePatch>[number], section: string): FilePatch {
  const git = /^diff --git a\/(.+?) b\/(.+)$/m.exec(section);
  let oldPath = strip(p.oldFileName);
  let newPath = strip(p.newFileName);
  if (/^new file mode/m.test(section)) oldPath = null;
  if (/^deleted file mode/m.test(section)) newPath = null;
  if (git && !p.oldFileName && !p.newFileName) {
    oldPath = git[1]!;
    newPath = git[2]!;
  }
  const modeOnly = /^old mode /m.test(section) && p.hunks.length === 0;
  const contexts = [...section.matchAll(/^@@ [^@]* @@ ?(.*)$/gm)].map((m) => m[1]!.trim());
  return {
    oldPath,
    newPath,
    binary: p.isBinary === true || /^Binary files /m.test(section) || /^GIT binary patch/m.test(section),
    rename: p.isRename === true || /^rename (from|to) /m.test(section),
    modeOnly,
    hunks: p.hunks.map((h, i) => ({
      oldStart: h.oldStart,
      oldLines: h.oldLines,
      newStart: h.newStart,
      newLines: h.newLines,
      lines: h.lines,
      ...(contexts[i] ? { context: contexts[i] } : {}),
    })),
    problems: [],
  };
}

/** A best-effort reading of a section the strict parser refused (a truncated or garbled hunk). */
function lenientParse(section: string): FilePatch {
  const lines = section.split('\n');
  const oldPath = strip(lines.find((l) => l.startsWith('--- '))?.slice(4));
  const newPath = strip(lines.find((l) => l.startsWith('+++ '))?.slice(4));
  const hunks: Hunk[] = [];
  let cur: Hunk | null = null;
  for (const l of lines) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(l);
    if (m) {
      cur = {
        oldStart: +m[1]!,
        oldLines: +(m[2] ?? 1),
        newStart: +m[3]!,
        newLines: +(m[4] ?? 1),
        lines: [],
        context: l.replace(/^@@ [^@]* @@ ?/, '').trim() || undefined,
      };
      hunks.push(cur);
      continue;
    }
    if (
      cur &&
      (l.startsWith('+') || l.startsWith('-') || l.startsWith(' ')) &&
      !l.startsWith('+++') &&
      !l.startsWith('---')
    )
      cur.lines.push(l);
  }
  return { oldPath, newPath, binary: false, rename: false, modeOnly: false, hunks, problems: [] };
}
