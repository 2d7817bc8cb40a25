// apply_patch's unified diff, read by the `diff` library's parser (as edits/answer.ts reads one) into files and
// hunks. Each hunk becomes an old/new text pair that edit_file's matcher places, so a hunk whose line numbers or
// whitespace drifted still lands where its text is. The git extended headers are read here too, from the text
// itself as well as from the parser (a patch is untrusted input): a symlink (mode 120000) is never created, a
// binary patch is never applied, and every path a rename or copy names is handed back for the workspace's guard.
import { parsePatch } from 'diff';

export interface PatchHunk {
  oldStart: number;
  old: string;
  new: string;
}
export type PatchFile =
  | { kind: 'modify'; path: string; hunks: PatchHunk[] }
  | { kind: 'create'; path: string; added: string }
  | { kind: 'delete'; path: string }
  /** git's rename (the old file goes) or copy (it stays); hunks may be empty (a pure rename). */
  | { kind: 'rename' | 'copy'; from: string; path: string; hunks: PatchHunk[] };

export type ParsedPatch =
  | {
      ok: true;
      files: PatchFile[];
      /** Every path the patch's header lines name (diff --git, rename/copy from/to), for the guard. */
      headerPaths: string[];
    }
  | { ok: false; message: string };

/** git's file mode of a symbolic link. */
const SYMLINK_MODE = '120000';

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

/**
 * The header lines, read from the text (a hunk's lines start with ' ', '+', '-' or '\', so a header line at the
 * start of a line is a header): modes that make a symlink, binary patches, and the paths of renames and copies.
 */
function headers(text: string): { ok: true; paths: string[] } | { ok: false; message: string } {
  const paths: string[] = [];
  for (const line of text.split('\n')) {
    const mode = /^(new file mode|new mode|deleted file mode|old mode|index [0-9a-f]+\.\.[0-9a-f]+)\s+(\d+)\s*$/.exec(
      line,
    );
    if (mode && mode[2] === SYMLINK_MODE)
      return {
        ok: false,
        message: `the patch makes or changes a symlink ("${line.trim()}"); the agent does not create or edit links`,
      };
    if (/^(GIT binary patch|Binary files .* differ)/.test(line))
      return { ok: false, message: 'the patch is binary; the agent edits text files only' };
    const named = /^(rename from|rename to|copy from|copy to) (.+)$/.exec(line);
    if (named) paths.push(named[2]!.trim());
    const git = /^diff --git a\/(\S+) b\/(\S+)\s*$/.exec(line);
    if (git) paths.push(git[1]!, git[2]!);
  }
  return { ok: true, paths };
}

const NUMBERED = /^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@/;

/**
 * Hunk headers without line numbers (`@@ ... @@`, a bare `@@`, as models write them) given the numbers the parser
 * needs: the counts from the hunk's own lines, the start 0, which the placement reads as "no line number" (the
 * hunk is then placed by its text alone, which must be unique).
 */
export function numberHunks(text: string): string {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.startsWith('@@') || NUMBERED.test(l)) continue;
    let old = 0,
      neu = 0;
    for (let j = i + 1; j < lines.length; j++) {
      const h = lines[j]!;
      if (h.startsWith('@@') || h.startsWith('--- ') || h.startsWith('diff --git ')) break;
      if (h.startsWith('\\')) continue;
      if (h.startsWith('+')) neu++;
      else if (h.startsWith('-')) old++;
      else if (h.startsWith(' ') || h === '') {
        if (h === '' && j === lines.length - 1) break;
        old++;
        neu++;
      } else break;
    }
    lines[i] = `@@ -0,${old} +0,${neu} @@`;
  }
  return lines.join('\n');
}

export function parsePatchFiles(text: string): ParsedPatch {
  if (/^\*\*\* Begin Patch\s*$/m.test(text))
    return {
      ok: false,
      message:
        'the "*** Begin Patch" format is not supported here yet: send a unified diff (--- a/path, +++ b/path, @@ ' +
        'hunks), or use edit_file',
    };
  const unix = numberHunks(text.replace(/\r\n/g, '\n'));
  const head = headers(unix);
  if (!head.ok) return head;
  let patches;
  try {
    patches = parsePatch(unix);
  } catch (e) {
    return { ok: false, message: `the unified diff does not parse: ${(e as Error).message}` };
  }
  const files: PatchFile[] = [];
  for (const p of patches) {
    const from = clean(p.oldFileName),
      to = clean(p.newFileName);
    if (!from && !to) continue;
    if (p.newMode === SYMLINK_MODE || p.oldMode === SYMLINK_MODE)
      return { ok: false, message: `${to || from}: the patch makes or changes a symlink; the agent does not` };
    if (p.isBinary) return { ok: false, message: `${to || from}: the patch is binary; the agent edits text only` };
    const hunks = p.hunks.map((h) => {
      const [old, neu] = hunkText(h.lines);
      return { oldStart: h.oldStart, old, new: neu };
    });
    if ((p.isRename || p.isCopy) && from && to && from !== '/dev/null' && to !== '/dev/null') {
      files.push({ kind: p.isRename ? 'rename' : 'copy', from, path: to, hunks });
      continue;
    }
    if (p.hunks.length === 0)
      return {
        ok: false,
        message:
          p.oldMode || p.newMode
            ? `${to || from}: the patch changes only the file mode; the agent does not change modes`
            : `${to || from}: the file has no @@ hunk`,
      };
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
  return { ok: true, files, headerPaths: head.paths };
}
