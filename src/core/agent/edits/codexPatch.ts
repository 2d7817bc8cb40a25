// The `*** Begin Patch` format that OpenAI's models are trained to write (the apply_patch tool of OpenAI's Codex),
// read into the same files and hunks as a unified diff:
//
//   *** Begin Patch
//   *** Add File: path          then the file's lines, each starting with +
//   *** Delete File: path
//   *** Update File: path       then, optionally, *** Move to: new/path
//   @@ class Foo                @@ lines (none, one, or several): each narrows where the rest is searched
//   @@     def bar              (the first line after the previous one that reads so)
//    context / -removed / +added lines
//   *** End of File             the hunk's old lines end the file
//   *** End Patch
//
// A hunk that only adds lines, with no @@ line, is appended at the end of the file (as Codex does). A header with
// unified line numbers (`@@ -12,7 +12,8 @@`) gives the hunk its stated line; `@@ ... @@` is a bare `@@`.
import { makeHunk, type HunkLine, type PatchFile, type PatchHunk, type ReadFiles } from './patchTypes.js';

const FILE_OP = /^\*\*\* (Add|Delete|Update) File:(.*)$/;
const NUMBERED = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/;

interface Chunk {
  anchors: string[];
  lines: (HunkLine & { loose: boolean })[];
  atEnd: boolean;
  oldStart: number | null;
  oldCount: number | null;
}

const fail = (message: string): ReadFiles => ({ ok: false, message: `*** Begin Patch: ${message}` });

export function readCodexPatch(text: string): ReadFiles {
  const all = text.split('\n');
  const begin = all.findIndex((l) => l.trim() === '*** Begin Patch');
  let end = -1;
  for (let k = all.length - 1; k > begin; k--)
    if (all[k]!.trim() === '*** End Patch') {
      end = k;
      break;
    }
  if (end < 0) return fail('no "*** End Patch" line (was the patch cut off?); nothing was applied');
  const lines = all.slice(begin + 1, end);
  const lineNo = (i: number) => begin + 2 + i;
  const files: PatchFile[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '') {
      i++;
      continue;
    }
    const op = FILE_OP.exec(l.trimEnd());
    if (!op)
      return fail(
        `line ${lineNo(i)} ("${l.slice(0, 80)}"): expected "*** Add File: path", "*** Delete File: path" or ` +
          '"*** Update File: path"',
      );
    const path = op[2]!.trim();
    if (!path) return fail(`line ${lineNo(i)}: "*** ${op[1]} File:" names no path`);
    i++;
    let j = i;
    while (j < lines.length && !FILE_OP.test(lines[j]!.trimEnd())) j++;
    const body = lines.slice(i, j);
    if (op[1] === 'Delete') {
      if (body.some((b) => b.trim() !== ''))
        return fail(`*** Delete File: ${path} is followed by lines; a deletion has none`);
      files.push({ kind: 'delete', path });
    } else if (op[1] === 'Add') {
      const added = addedText(body);
      if (typeof added !== 'string') return fail(`*** Add File: ${path}, line ${lineNo(i + added.at)}: ${added.why}`);
      files.push({ kind: 'create', path, added });
    } else {
      const r = update(path, body, (k) => lineNo(i + k));
      if (typeof r === 'string') return fail(r);
      files.push(r);
    }
    i = j;
  }
  if (files.length === 0) return fail('the patch names no file');
  return { ok: true, files };
}

/** An added file's text: each line starts with `+` (empty lines at its end are the patch's spacing). */
function addedText(body: string[]): string | { at: number; why: string } {
  let n = body.length;
  while (n > 0 && body[n - 1]!.trim() === '') n--;
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const b = body[k]!;
    if (b === '') out.push('');
    else if (b.startsWith('+')) out.push(b.slice(1));
    else return { at: k, why: `each line of a new file starts with "+" (got "${b.slice(0, 60)}")` };
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function update(path: string, body: string[], lineNo: (k: number) => number): PatchFile | string {
  let k = 0;
  while (k < body.length && body[k]!.trim() === '') k++;
  let moveTo: string | null = null;
  const move = /^\*\*\* Move to:(.*)$/.exec(body[k]?.trimEnd() ?? '');
  if (move) {
    moveTo = move[1]!.trim();
    if (!moveTo) return `line ${lineNo(k)}: "*** Move to:" names no path`;
    k++;
  }
  const chunks: Chunk[] = [];
  const fresh = (): Chunk => ({ anchors: [], lines: [], atEnd: false, oldStart: null, oldCount: null });
  let cur = fresh();
  const close = () => {
    // Empty lines at the end of a hunk are the patch's spacing (before `*** End of File`, the file's own).
    while (!cur.atEnd && cur.lines.length > 0 && cur.lines[cur.lines.length - 1]!.loose) cur.lines.pop();
    if (cur.lines.length > 0 || cur.anchors.length > 0 || cur.atEnd) chunks.push(cur);
    cur = fresh();
  };
  for (; k < body.length; k++) {
    const l = body[k]!;
    if (l.startsWith('@@')) {
      if (cur.lines.length > 0) close();
      const numbered = NUMBERED.exec(l);
      if (numbered) {
        cur.oldStart = Number(numbered[1]);
        cur.oldCount = numbered[2] === undefined ? null : Number(numbered[2]);
        continue;
      }
      const anchor = l
        .slice(2)
        .replace(/^\s*\.\.\.\s*@@\s*$/, '')
        .trim();
      if (anchor) cur.anchors.push(anchor);
      continue;
    }
    if (l.trim() === '*** End of File') {
      cur.atEnd = true;
      close();
      continue;
    }
    if (l.startsWith('***')) return `${path}, line ${lineNo(k)}: "${l.slice(0, 60)}" is not a line of an update`;
    // A line without its one-character prefix: an empty line is an empty context line, any other a context line
    // that lost its leading space (placing it checks it against the file).
    const prefixed = l !== '' && ' +-'.includes(l[0]!);
    cur.lines.push({
      op: (prefixed ? l[0] : ' ') as HunkLine['op'],
      text: prefixed ? l.slice(1) : l,
      loose: l === '',
    });
  }
  close();
  const hunks: PatchHunk[] = [];
  for (const [n, c] of chunks.entries()) {
    if (c.lines.length === 0) return `${path}: hunk ${n + 1} has @@ lines but no context, - or + line`;
    const onlyAdds = c.lines.every((l) => l.op === '+');
    hunks.push(
      makeHunk(
        c.lines.map(({ op, text }) => ({ op, text })),
        {
          anchors: c.anchors,
          oldStart: c.oldStart,
          oldCount: c.oldCount,
          // Codex appends a hunk that only adds lines at the end of the file (with no @@ line to say where else).
          atEnd: c.atEnd || (onlyAdds && c.anchors.length === 0 && c.oldStart === null),
        },
      ),
    );
  }
  if (hunks.length === 0 && moveTo === null) return `*** Update File: ${path} has no hunk`;
  return moveTo === null ? { kind: 'modify', path, hunks } : { kind: 'rename', from: path, path: moveTo, hunks };
}
