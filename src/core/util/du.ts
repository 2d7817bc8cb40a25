// The bytes a folder holds (its files, recursively), for the bounds on what a task may keep.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export function folderBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      const st = lstatSync(p);
      total += st.isDirectory() ? folderBytes(p) : st.size;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}
