// Is a path argument inside the workspace? Lexically (path.resolve from the command's working folder) and through
// the real path of its nearest existing ancestor, so a symlink inside the workspace that leads out counts as outside,
// and so does a dangling symlink (writing through it would create its target, wherever that is).
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { CommandContext } from './types.js';

/** Is `p` the folder `root` or inside it? Both absolute and normalized. */
export function within(root: string, p: string): boolean {
  if (p === root) return true;
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}

/** Does an argument look like a path that might point out of the workspace (absolute, home, or with a `..` part)? */
export function looksLikePath(s: string): boolean {
  return (
    s.startsWith('/') ||
    s.startsWith('\\') ||
    s.startsWith('~') ||
    /^[A-Za-z]:[\\/]/.test(s) ||
    s.split(/[\\/]/).includes('..')
  );
}

function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
}

type Real = { real: string } | { dangling: string };

/** The real path of `abs`: realpath of its nearest existing ancestor, with the missing rest appended. */
function realOfNearest(abs: string): Real {
  const rest: string[] = [];
  let at = abs;
  for (;;) {
    try {
      return { real: join(realpathSync(at), ...rest.reverse()) };
    } catch {
      // A link whose target is missing: realpath fails, lstat does not. Following it would leave the check behind.
      try {
        if (lstatSync(at).isSymbolicLink()) return { dangling: at };
      } catch {
        // does not exist: try the parent
      }
    }
    const up = dirname(at);
    if (up === at) return { real: abs };
    rest.push(at.slice(up.length).replace(/^[\\/]+/, ''));
    at = up;
  }
}

/** Why `p` (as the command would see it, relative to ctx.cwd) is not inside the workspace; null when it is. */
export function pathProblem(p: string, ctx: CommandContext): string | null {
  // No shell expands `~`, but a program may (and a model that writes it means the home folder).
  if (p.startsWith('~')) return `\`${p}\` is a path in a home folder, outside the workspace`;
  const root = resolve(ctx.root);
  const abs = resolve(ctx.cwd, p);
  if (!within(root, abs)) return `\`${p}\` is outside the workspace (it resolves to ${abs})`;
  const r = realOfNearest(abs);
  if ('dangling' in r)
    return `\`${p}\` goes through a dangling symlink (${r.dangling}) that may lead out of the workspace`;
  if (!within(realRoot(root), r.real))
    return `\`${p}\` leads outside the workspace through a symlink (it really is ${r.real})`;
  return null;
}
