// apply_patch without a workspace: a patch over the texts `read` gives, computed in memory. Either every file of
// the patch applies, or nothing does (a refusal that says which file, which hunk and why). The agent's tool
// (agent/tools.ts) guards the paths and the sizes around this; the edit benchmark (bench/) calls it directly.
import { applyEdit } from './editMatch.js';
import { parsePatchFiles, type PatchHunk } from './patchFiles.js';

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

/**
 * The hunks in order over the evolving text. Each is placed by its text; where that text occurs more than once,
 * its line number picks the occurrence (as GNU patch does): the stated line, moved by what earlier hunks added or
 * removed and by how far the previous hunk landed from its own stated line.
 */
function hunksOver(
  p: string,
  before: string,
  hunks: PatchHunk[],
): { ok: true; text: string } | { ok: false; message: string } {
  let text = before;
  let shift = 0;
  for (const [k, h] of hunks.entries()) {
    const expected = Math.max(1, h.oldStart + shift);
    const r = applyEdit(text, h.old, h.new, false, h.oldStart > 0 ? expected : undefined);
    if (!r.ok) return { ok: false, message: `${p} hunk ${k + 1} (@@ -${h.oldStart}): ${r.message}` };
    text = r.text;
    const count = (s: string) => (s === '' ? 0 : s.split('\n').length);
    shift += r.line - expected + count(h.new) - count(h.old);
  }
  return { ok: true, text };
}

/**
 * Applies `patch` to the files `read` returns. `resolve` maps a path as the patch writes it to the path the
 * changes name (the tool's guard: it throws its refusal for a path outside the workspace); default: as written.
 */
export function applyPatchText(patch: string, read: ReadText, resolve: (p: string) => string = (p) => p): PatchOutcome {
  const files = parsePatchFiles(patch);
  if (!files.ok) return files;
  const changes: PatchChange[] = [];
  const refuse = (message: string): PatchOutcome => ({ ok: false, message });
  for (const f of files.files) {
    const p = resolve(f.path);
    const current = read(p);
    const exists = current !== null;
    if (f.kind === 'create') {
      if (exists) return refuse(`${p} already exists; patch it, or use write_file`);
      changes.push({ path: p, before: null, after: f.added, how: 'new file' });
      continue;
    }
    if (f.kind === 'rename' || f.kind === 'copy') {
      const from = resolve(f.from);
      const source = read(from);
      if (source === null) return refuse(`${from} does not exist`);
      if (exists) return refuse(`${p} already exists; the ${f.kind} would overwrite it`);
      const r = hunksOver(p, source, f.hunks);
      if (!r.ok) return refuse(r.message);
      if (f.kind === 'rename') changes.push({ path: from, before: source, after: null, how: `renamed to ${p}` });
      changes.push({
        path: p,
        before: null,
        after: r.text,
        how: `${f.kind === 'rename' ? 'renamed' : 'copied'} from ${from}`,
      });
      continue;
    }
    if (!exists) return refuse(`${p} does not exist`);
    if (f.kind === 'delete') {
      changes.push({ path: p, before: current, after: null, how: 'deleted' });
      continue;
    }
    const r = hunksOver(p, current, f.hunks);
    if (!r.ok) return refuse(r.message);
    changes.push({ path: p, before: current, after: r.text, how: `${f.hunks.length} hunk(s)` });
  }
  return { ok: true, changes, headerPaths: files.headerPaths };
}
