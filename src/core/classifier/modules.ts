// Is a module file of a library reachable from outside the crate? A `pub fn` in a private module is
// not public API unless something re-exports it. Read from the `mod` declarations of parent modules.
import type { RepoReader } from './types.js';

export type Reach = 'public' | 'private' | 'unknown';

const modDecl = (name: string) => new RegExp(`^[ \\t]*(pub(?:\\s*\\([^)]*\\))?\\s+)?mod\\s+(?:r#)?${name}\\s*;`, 'm');
const reexport = (name: string) => new RegExp(`pub\\s+use\\s+(?:(?:self|crate|super)::)*${name}\\b`);

/**
 * Follows `src/a/b.rs` up through `src/a.rs` (or `src/a/mod.rs`) to `src/lib.rs`: public when every
 * step is declared `pub mod`, or re-exported with `pub use`; private when a step is a private `mod`.
 */
export async function moduleReach(crateDir: string, path: string, read: RepoReader['readCurrent']): Promise<Reach> {
  const prefix = crateDir === '.' ? '' : `${crateDir}/`;
  if (!path.startsWith(`${prefix}src/`)) return 'unknown';
  const rel = path.slice(`${prefix}src/`.length).replace(/\.rs$/, '');
  if (rel === 'lib') return 'public';
  const segs = rel.split('/');
  if (segs[segs.length - 1] === 'mod') segs.pop();
  let reach: Reach = 'public';
  for (let i = 0; i < segs.length; i++) {
    const parentSegs = segs.slice(0, i);
    const candidates =
      parentSegs.length === 0
        ? [`${prefix}src/lib.rs`]
        : [`${prefix}src/${parentSegs.join('/')}.rs`, `${prefix}src/${parentSegs.join('/')}/mod.rs`];
    let parentText: string | undefined;
    for (const c of candidates) {
      parentText = await read(c);
      if (parentText !== undefined) break;
    }
    if (parentText === undefined) return 'unknown';
    const name = segs[i]!;
    const m = modDecl(name).exec(parentText);
    if (!m) return 'unknown'; // declared through a macro, #[path], or not at all: do not guess
    const vis = (m[1] ?? '').replace(/\s/g, '');
    if (vis === 'pub') continue;
    if (reexport(name).test(parentText)) continue; // a private module whose items are re-exported
    reach = 'private';
    break;
  }
  return reach;
}
