// apply_patch without a workspace: a patch over the texts `read` gives, computed in memory. Either every file of
// the patch applies, or nothing does (a refusal that says which file, which hunk and why). The agent's tool
// (agent/tools.ts) guards the paths and the sizes around this; the edit benchmark (bench/) calls it directly.
import { parsePatchFiles, type PatchHunk } from './patchFiles.js';
import { placeHunk } from './placeHunk.js';
/** One file the patch changes: its text before and after (null: absent), and how it was placed. */
export interface PatchChange {
  path: string;
  before: string | null;
  after: string | null;
  how: string;
}
export type PatchOutcome =
  | {
      ok: true;
      changes: PatchChange[];
      /** Every path the patch's header lines name (the caller's guard checks each one). */
      headerPaths: string[];
    }
  | { ok: false; message: string };

/** The text of a workspace-relative path, or null where the file does not exist. */
export type ReadText = (path: string) => string | null;

/** The file's line ending is CRLF: most of its lines end so (added lines get the file's usual ending). */
function mostlyCrlf(text: string): boolean {
  const all = text.split('\n').length - 1;
  const crlf = text.split('\r\n').length - 1;
  return crlf > 0 && 2 * crlf >= all;
}

const label = (h: PatchHunk) =>
  h.oldStart !== null ? `@@ -${h.oldStart}` : h.anchors.length > 0 ? `@@ ${h.anchors.join(' / ')}` : '@@';

/**
 * The hunks in order over the evolving text. Each is placed by placeHunk.ts; a hunk's stated line is moved by what
 * earlier hunks added or removed and by how far the previous numbered hunk landed from its own (as GNU patch does).
 */
function hunksOver(
  p: string,
  before: string,
  hunks: PatchHunk[],
): { ok: true; text: string; notes: string[] } | { ok: false; message: string } {
  const crlf = mostlyCrlf(before);
  let lines = before === '' ? [] : before.split('\n');
  let finalNewline = before === '' || before.endsWith('\n');
  if (before.endsWith('\n')) lines.pop();
  // Each line carries its own line ending's \r (a mixed file keeps each line's); the last line of a CRLF file
  // without a final newline gets one while hunks apply (a line may come after it), taken off again at the end.
  if (crlf && !finalNewline && lines.length > 0) lines[lines.length - 1] += '\r';
  let cursor = 0,
    delta = 0,
    drift = 0;
  const notes: string[] = [];
  for (const [k, h] of hunks.entries()) {
    const base = h.oldStart === null ? null : Math.max(0, h.oldStart - 1) + delta;
    const expected = base === null ? null : Math.max(0, base + drift);
    const shift = delta;
    const r = placeHunk(lines, h, { cursor, expected, lineOf: (i) => i - shift + 1 }, crlf);
    if (!r.ok) return { ok: false, message: `${p} hunk ${k + 1} (${label(h)}): ${r.message}` };
    if (r.end === lines.length && h.oldNoEol !== h.newNoEol) finalNewline = !h.newNoEol;
    lines = [...lines.slice(0, r.start), ...r.lines, ...lines.slice(r.end)];
    if (base !== null) drift = r.start - base;
    delta += r.lines.length - (r.end - r.start);
    cursor = r.start + r.lines.length;
    if (r.how) notes.push(`hunk ${k + 1}: ${r.how}`);
  }
  if (crlf && !finalNewline && lines.length > 0) lines[lines.length - 1] = lines[lines.length - 1]!.replace(/\r$/, '');
  return { ok: true, text: lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : ''), notes };
}

/**
 * Applies `patch` to the files `read` returns. `resolve` maps a path as the patch writes it to the path the
 * changes name (the tool's guard: it throws its refusal for a path outside the workspace); default: as written.
 */
export function applyPatchText(patch: string, read: ReadText, resolve: (p: string) => string = (p) => p): PatchOutcome {
  const files = parsePatchFiles(patch);
  if (!files.ok) return files;
  // The texts as the patch's earlier files left them (a patch may name a file twice), and how each changed.
  const now = new Map<string, string | null>();
  const first = new Map<string, string | null>();
  const hows = new Map<string, string[]>();
  const text = (p: string) => (now.has(p) ? now.get(p)! : read(p));
  const set = (p: string, after: string | null, how: string) => {
    if (!first.has(p)) first.set(p, read(p));
    now.set(p, after);
    hows.set(p, [...(hows.get(p) ?? []), how]);
  };
  const refuse = (message: string): PatchOutcome => ({ ok: false, message });
  const placed = (n: number, notes: string[]) => `${n} hunk(s)${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  for (const f of files.files) {
    const p = resolve(f.path);
    const current = text(p);
    const exists = current !== null;
    if (f.kind === 'create') {
      if (exists) return refuse(`${p} already exists; patch it, or use write_file`);
      set(p, f.added, 'new file');
      continue;
    }
    if (f.kind === 'rename' || f.kind === 'copy') {
      const from = resolve(f.from);
      const source = text(from);
      if (source === null) return refuse(`${from} does not exist`);
      if (exists) return refuse(`${p} already exists; the ${f.kind} would overwrite it`);
      const r = hunksOver(p, source, f.hunks);
      if (!r.ok) return refuse(r.message);
      if (f.kind === 'rename') set(from, null, `renamed to ${p}`);
      const moved = `${f.kind === 'rename' ? 'renamed' : 'copied'} from ${from}`;
      set(p, r.text, f.hunks.length > 0 ? `${moved}, ${placed(f.hunks.length, r.notes)}` : moved);
      continue;
    }
    if (!exists) return refuse(`${p} does not exist`);
    if (f.kind === 'delete') {
      set(p, null, 'deleted');
      continue;
    }
    const r = hunksOver(p, current, f.hunks);
    if (!r.ok) return refuse(r.message);
    set(p, r.text, placed(f.hunks.length, r.notes));
  }
  const changes: PatchChange[] = [];
  for (const [path, before] of first) {
    const after = now.get(path)!;
    if (before !== null || after !== null) changes.push({ path, before, after, how: hows.get(path)!.join('; ') });
  }
  return { ok: true, changes, headerPaths: files.headerPaths };
}
