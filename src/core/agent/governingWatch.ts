// What a command or a check wrote among the files that govern the agent or define the checks. The sandbox keeps the
// existing ones read-only, but a check can still create new ones (a CI file, an .npmrc, a nested Makefile) or edit
// a manifest's governing keys; those are undone right after it ran, and the model is told. Only the user edits them.
import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { GOVERNING_GLOBS, GOVERNING_MANIFEST_GLOBS, governingReason } from './governing.js';
import type { Workspace } from './workspace.js';

const candidate = picomatch([...GOVERNING_GLOBS, ...GOVERNING_MANIFEST_GLOBS], { dot: true, nocase: true });

/** The governing files of the workspace and their bytes (a handful in any workspace). */
export function governingSnapshot(ws: Workspace): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of ws.files()) {
    if (!candidate(f)) continue;
    try {
      out.set(f, readFileSync(ws.abs(f)));
    } catch {
      /* unreadable: not ours to keep */
    }
  }
  return out;
}

/** Undoes what changed among them since `before` (created: removed; changed or removed: put back). */
export function undoGoverningChanges(ws: Workspace, before: Map<string, Buffer>): string[] {
  const now = governingSnapshot(ws);
  const undone: string[] = [];
  for (const path of new Set([...before.keys(), ...now.keys()])) {
    const a = before.get(path);
    const b = now.get(path);
    if (a && b && a.equals(b)) continue;
    const why = governingReason(path, a?.toString('utf8') ?? null, b?.toString('utf8') ?? null);
    if (!why) continue; // e.g. a manifest whose dependencies changed: an ordinary change
    try {
      const known = ws.originals.has(path);
      ws.apply([{ path, after: a ? a.toString('utf8') : null }]);
      if (!known) ws.originals.delete(path); // the undo is not the task's change
      undone.push(`${path} (${why})`);
    } catch (e) {
      undone.push(`${path} (${why}; could not be undone: ${(e as Error).message})`);
    }
  }
  return undone.sort();
}

/** The note for the model and the audit line when something was undone. */
export const undoneNote = (what: string, undone: string[]) =>
  `Switchyard undid what ${what} wrote to files that govern the agent or define the checks: ${undone.join('; ')}. ` +
  'Only the user edits those files; if the change needs them, ask the user.';
