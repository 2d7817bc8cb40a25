// Paths that come from a model or a webview: kept inside the workspace, whatever they say.
import { isAbsolute, normalize, sep } from 'node:path';

/** A workspace-relative path that stays inside the workspace (and out of .git), or null. */
export function relativeInside(path: string): string | null {
  const p = path.trim().replace(/\\/g, '/');
  if (!p || isAbsolute(p) || /^[a-zA-Z]:/.test(p) || p.includes('\0')) return null;
  const n = normalize(p);
  if (
    n === '..' ||
    n.startsWith(`..${sep}`) ||
    n.startsWith('../') ||
    n === '.git' ||
    n.startsWith(`.git${sep}`) ||
    n.startsWith('.git/')
  )
    return null;
  return n.split(sep).join('/');
}
