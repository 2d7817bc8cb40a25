// What apply_patch reads: a unified diff (diffReader.ts) or the `*** Begin Patch` format OpenAI's models write
// (codexPatch.ts), both into the same files and hunks, which placeHunk.ts places. The git extended headers are
// checked here, on the text itself (a patch is untrusted input): a symlink (mode 120000) is never created, a binary
// patch is never applied, and every path a rename or copy names is handed back for the workspace's guard.
import { readCodexPatch } from './codexPatch.js';
import { readUnifiedDiff } from './diffReader.js';

import { SYMLINK_MODE, type ParsedPatch } from './patchTypes.js';

export type { HunkLine, ParsedPatch, PatchFile, PatchHunk } from './patchTypes.js';

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

/**
 * The patch is in the `*** Begin Patch` format: that line (possibly inside a shell heredoc) comes before any line of
 * a unified diff (a unified diff whose context holds such a line stays a unified diff).
 */
function isCodex(text: string): boolean {
  for (const l of text.split('\n')) {
    if (/^\s*\*\*\* Begin Patch\s*$/.test(l)) return true;
    if (/^(diff --git |--- |\+\+\+ |@@)/.test(l)) return false;
  }
  return false;
}

export function parsePatchFiles(text: string): ParsedPatch {
  const unix = text.replace(/\r\n/g, '\n');
  if (isCodex(unix)) {
    const r = readCodexPatch(unix);
    return r.ok ? { ok: true, files: r.files, headerPaths: [] } : r;
  }
  const head = headers(unix);
  if (!head.ok) return head;
  const r = readUnifiedDiff(unix);
  if (!r.ok) return r;
  if (r.files.length === 0)
    return {
      ok: false,
      message:
        'no file in the patch: a unified diff has "--- a/path" and "+++ b/path" lines, then @@ hunks ' +
        '(or send the "*** Begin Patch" format)',
    };
  return { ok: true, files: r.files, headerPaths: head.paths };
}
