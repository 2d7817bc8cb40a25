// A unified diff read into files and hunks, as models write them as well as as git does: a hunk header with line
// numbers (`@@ -12,7 +12,8 @@`), with numbers but no counts (`@@ -12 +12 @@`), or with none (`@@ ... @@`, a bare
// `@@`). A counted hunk is read to its counts, and on while more hunk lines follow (a model that miscounted); an
// uncounted one up to the next header. An empty line inside a hunk is an empty context line (its space was lost).
import { makeHunk, type HunkLine, type PatchFile, type PatchHunk, type ReadFiles } from './patchTypes.js';

const NUMBERED = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

const clean = (p: string) =>
  p
    .replace(/\t.*$/, '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .replace(/^[ab]\//, '');

interface Building {
  from: string | null;
  to: string | null;
  /** From git's `rename from/to` and `copy from/to` lines. */
  moved?: { kind: 'rename' | 'copy'; from?: string; to?: string };
  modes: boolean;
  /** git's `new file mode` / `deleted file mode`: an empty file made or deleted has no hunk. */
  made?: 'new' | 'deleted';
  headers: boolean;
  hunks: PatchHunk[];
}

/** A line that ends a hunk: the next hunk, the next file, or (`tail`: past its counts) git's mail signature. */
function stops(lines: string[], j: number, tail: boolean): boolean {
  const l = lines[j]!;
  if (l.startsWith('@@') || l.startsWith('diff ')) return true;
  if (l.startsWith('--- ') && lines[j + 1]?.startsWith('+++ ') && lines[j + 2]?.startsWith('@@')) return true;
  // git format-patch's signature: "-- " then git's version ("2.39.2"), as the line after it (a removed "- " line
  // is followed by another hunk line, or ends the patch without a version after it).
  return tail && l === '-- ' && /^\d+\.\d+[\w.]*$/.test(lines[j + 1] ?? '');
}

/** Whether a hunk line follows, past empty lines, before anything else. */
function moreHunkLines(lines: string[], j: number): boolean {
  let k = j;
  while (k < lines.length && lines[k] === '') k++;
  return k < lines.length && /^[ +-]/.test(lines[k]!) && !stops(lines, k, true);
}

function readHunk(lines: string[], i: number): { hunk: PatchHunk; next: number } {
  const m = NUMBERED.exec(lines[i]!);
  const counted = !!m && (m[2] !== undefined || m[4] !== undefined);
  let oldLeft = counted ? Number(m[2] ?? 1) : 0;
  let newLeft = counted ? Number(m[4] ?? 1) : 0;
  const body: (HunkLine & { loose: boolean })[] = [];
  let oldNoEol = false,
    newNoEol = false;
  let j = i + 1;
  for (; j < lines.length; j++) {
    const l = lines[j]!;
    const past = !counted || (oldLeft <= 0 && newLeft <= 0);
    if (stops(lines, j, past)) break;
    if (l.startsWith('\\')) {
      // "\ No newline at end of file": the line before it is the last of its side(s).
      const prev = body[body.length - 1];
      if (prev && prev.op !== '+') oldNoEol = true;
      if (prev && prev.op !== '-') newNoEol = true;
      continue;
    }
    // Past the counts, only more hunk lines are read on (a hunk the model miscounted).
    if (counted && past && !/^[ +-]/.test(l) && !(l === '' && moreHunkLines(lines, j))) break;
    const prefixed = l !== '' && ' +-'.includes(l[0]!);
    const op = (prefixed ? l[0] : ' ') as HunkLine['op'];
    body.push({ op, text: prefixed ? l.slice(1) : l, loose: !prefixed });
    if (op !== '+') oldLeft--;
    if (op !== '-') newLeft--;
  }
  // Empty or unprefixed lines at the end of an uncounted hunk are what follows the patch, not context.
  if (!counted) while (body.length > 0 && body[body.length - 1]!.loose) body.pop();
  const hunk = makeHunk(
    body.map(({ op, text }) => ({ op, text })),
    {
      oldStart: m ? Number(m[1]) : null,
      oldCount: counted ? Number(m[2] ?? 1) : null,
      atEnd: oldNoEol,
      oldNoEol,
      newNoEol,
    },
  );
  return { hunk, next: j };
}

function finish(b: Building): PatchFile | string | null {
  const from = b.moved?.from ?? b.from;
  const to = b.moved?.to ?? b.to;
  if (!from && !to) return null;
  if (b.moved && from && to && from !== '/dev/null' && to !== '/dev/null')
    return { kind: b.moved.kind, from, path: to, hunks: b.hunks };
  const name = (to && to !== '/dev/null' ? to : from)!;
  if (b.hunks.length === 0 && b.made === 'new' && to) return { kind: 'create', path: to, added: '' };
  if (b.hunks.length === 0 && b.made === 'deleted' && from) return { kind: 'delete', path: from };
  if (b.hunks.length === 0)
    return b.modes
      ? `${name}: the patch changes only the file mode; the agent does not change modes`
      : `${name}: the file has no @@ hunk`;
  if (from === '/dev/null' || !from) {
    const added = b.hunks.flatMap((h) => h.lines.filter((l) => l.op !== '-').map((l) => l.text));
    const last = b.hunks[b.hunks.length - 1]!;
    const text = added.join('\n') + (added.length > 0 && !last.newNoEol ? '\n' : '');
    return { kind: 'create', path: to!, added: text };
  }
  if (to === '/dev/null' || !to) return { kind: 'delete', path: from };
  return { kind: 'modify', path: to, hunks: b.hunks };
}

export function readUnifiedDiff(text: string): ReadFiles {
  const lines = text.split('\n');
  const files: PatchFile[] = [];
  let cur: Building | null = null;
  const fresh = (): Building => ({ from: null, to: null, modes: false, headers: false, hunks: [] });
  const flush = (): string | null => {
    if (!cur) return null;
    const r = finish(cur);
    cur = null;
    if (typeof r === 'string') return r;
    if (r) files.push(r);
    return null;
  };
  for (let i = 0; i < lines.length;) {
    const l = lines[i]!;
    if (l.startsWith('diff --git ')) {
      const bad = flush();
      if (bad) return { ok: false, message: bad };
      cur = fresh();
      const git = /^diff --git (\S+) (\S+)\s*$/.exec(l);
      if (git) [cur.from, cur.to] = [clean(git[1]!), clean(git[2]!)];
      i++;
      continue;
    }
    if (l.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      if (!cur || cur.headers || cur.hunks.length > 0) {
        const bad = flush();
        if (bad) return { ok: false, message: bad };
        cur = fresh();
      }
      cur.from = clean(l.slice(4));
      cur.to = clean(lines[i + 1]!.slice(4));
      cur.headers = true;
      i += 2;
      continue;
    }
    if (l.startsWith('@@')) {
      if (!cur)
        return {
          ok: false,
          message:
            `a hunk ("${l.slice(0, 60)}", line ${i + 1}) comes before any file header: start each file with ` +
            '"--- a/path" and "+++ b/path" lines',
        };
      const r = readHunk(lines, i);
      cur.hunks.push(r.hunk);
      i = r.next;
      continue;
    }
    if (cur) {
      const moved = /^(rename|copy) (from|to) (.+)$/.exec(l);
      if (moved) {
        const kind = moved[1] as 'rename' | 'copy';
        cur.moved = { ...(cur.moved?.kind === kind ? cur.moved : {}), kind, [moved[2]!]: moved[3]!.trim() };
      }
      if (/^(old mode|new mode) /.test(l)) cur.modes = true;
      if (l.startsWith('new file mode ')) cur.made = 'new';
      if (l.startsWith('deleted file mode ')) cur.made = 'deleted';
    }
    i++;
  }
  const bad = flush();
  if (bad) return { ok: false, message: bad };
  return { ok: true, files };
}
