// The files and hunks a patch holds, whichever format it came in (patchFiles.ts reads them, placeHunk.ts places
// the hunks, applyPatch.ts applies them).

/** One line of a hunk: kept (' '), removed ('-') or added ('+'). */
export interface HunkLine {
  op: ' ' | '-' | '+';
  text: string;
}

export interface PatchHunk {
  /** The hunk's first old line as its header states it (1-based); null where the header has no line numbers. */
  oldStart: number | null;
  /** The old line count the header states; null where it states none. */
  oldCount: number | null;
  lines: HunkLine[];
  /** `*** Begin Patch` `@@ ...` lines, outermost first: each narrows where the rest of the hunk is searched. */
  anchors: string[];
  /** The hunk's old lines end the file (`*** End of File`, or `\ No newline at end of file` after an old line). */
  atEnd: boolean;
  /** The old / new side's last line has no newline (`\ No newline at end of file`). */
  oldNoEol: boolean;
  newNoEol: boolean;
  /** The old and new lines, joined (for callers that want the texts). */
  old: string;
  new: string;
}
export type PatchFile =
  | { kind: 'modify'; path: string; hunks: PatchHunk[] }
  | { kind: 'create'; path: string; added: string }
  | { kind: 'delete'; path: string }
  /** git's rename (the old file goes) or copy (it stays); hunks may be empty (a pure rename). */
  | { kind: 'rename' | 'copy'; from: string; path: string; hunks: PatchHunk[] };

export type ReadFiles = { ok: true; files: PatchFile[] } | { ok: false; message: string };

export type ParsedPatch =
  | {
      ok: true;
      files: PatchFile[];
      /** Every path the patch's header lines name (diff --git, rename/copy from/to), for the guard. */
      headerPaths: string[];
    }
  | { ok: false; message: string };

/** git's file mode of a symbolic link. */
export const SYMLINK_MODE = '120000';

/** A hunk from its lines, with its old and new texts. */
export function makeHunk(lines: HunkLine[], o: Partial<Omit<PatchHunk, 'lines' | 'old' | 'new'>> = {}): PatchHunk {
  const side = (skip: HunkLine['op']) =>
    lines
      .filter((l) => l.op !== skip)
      .map((l) => l.text)
      .join('\n');
  return {
    oldStart: o.oldStart ?? null,
    oldCount: o.oldCount ?? null,
    lines,
    anchors: o.anchors ?? [],
    atEnd: o.atEnd ?? false,
    oldNoEol: o.oldNoEol ?? false,
    newNoEol: o.newNoEol ?? false,
    old: side('+'),
    new: side('-'),
  };
}
