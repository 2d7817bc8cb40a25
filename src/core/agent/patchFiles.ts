// apply_patch's unified diff, read by the `diff` library's parser (as implement/patch.ts reads one) into files and
// hunks. Each hunk becomes an old/new text pair that edit_file's matcher places, so a hunk whose line numbers or
// whitespace drifted still lands where its text is.
import { parsePatch } from 'diff';

export interface PatchHunk {
  oldStart: number;
  old: string;
  new: string;
}
export type PatchFile =
  | { kind: 'modify'; path: string; hunks: PatchHunk[] }
  | { kind: 'create'; path: string; added: string }
  | { kind: 'delete'; path: string };

const clean = (p: string | undefined) =>
  (p ?? '')
    .replace(/\t.*$/, '')
    .trim()
    .replace(/^[ab]\//, '');

function hunkText(lines: string[]): [string, string] {
  const old: string[] = [];
  const neu: string[] = [];
  for (const l of lines) {
    if (l.startsWith('\\')) continue; // "\ No newline at end of file"
    if (l[0] !== '+') old.push(l.slice(1));
    if (l[0] !== '-') neu.push(l.slice(1));
  }
  return [old.join('\n'), neu.join('\n')];
}

export function parsePatchFiles(text: string): { ok: true; files: PatchFile[] } | { ok: false; message: string } {
  let patches;
  try {
    patches = parsePatch(text.replace(/\r\n/g, '\n'));
  } catch (e) {
    return { ok: false, message: `the unified diff does not parse: ${(e as Error).message}` };
  }
  const files: PatchFile[] = [];
  for (const p of patches) {
    const from = clean(p.oldFileName),
      to = clean(p.newFileName);
    if (!from && !to) continue;
    if (p.hunks.length === 0) return { ok: false, message: `${to || from}: the file has no @@ hunk` };
    const hunks = p.hunks.map((h) => {
      const [old, neu] = hunkText(h.lines);
      return { oldStart: h.oldStart, old, new: neu };
    });
    if (from === '/dev/null') {
      const added = hunks.map((h) => h.new).join('\n');
      files.push({ kind: 'create', path: to, added: added.endsWith('\n') ? added : `${added}\n` });
    } else if (to === '/dev/null') files.push({ kind: 'delete', path: from });
    else files.push({ kind: 'modify', path: to, hunks });
  }
  if (files.length === 0)
    return {
      ok: false,
      message: 'no file in the patch: a unified diff has "--- a/path" and "+++ b/path" lines, then @@ hunks',
    };
  return { ok: true, files };
}
