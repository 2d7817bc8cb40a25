// Unified diffs in, one FilePatch per file out. Never throws: what cannot be read is reported.
import { parsePatch } from 'diff';

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
  for (const section of sections) {
    try {
      for (const p of parsePatch(section)) files.push(fromParsed(p, section));
    } catch (e) {
      const lenient = lenientParse(section);
      lenient.problems.push(
        `could not fully parse the diff of ${lenient.newPath ?? lenient.oldPath ?? 'a file'}: ${(e as Error).message.trim()}; ` +
          `counted what could be read`,
      );
      files.push(lenient);
    }
  }
  const real = files.filter((f) => f.oldPath || f.newPath);
  if (real.length === 0 && normalized.trim() !== '') problems.push('no file changes found: is this a unified diff?');
  return { files: real, problems };
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
