// The before and after text of a changed file, with which rows changed and their real line numbers.
import type { Hunk } from './unifiedDiff.js';

export interface SideText {
  text: string;
  changed: Set<number>;
  lineOf: (row: number) => number;
}
export interface Sides {
  before: SideText | null;
  after: SideText | null;
  full: boolean;
}

/** The whole file before and after, when the base text is known and the hunks apply to it. */
export function fullSides(base: string, hunks: Hunk[]): Sides | null {
  const src = base.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  const removed = new Set<number>();
  const added = new Set<number>();
  let i = 0; // next base row to copy
  for (const h of hunks) {
    const start = Math.max(0, h.oldStart - 1);
    if (start < i) return null;
    while (i < start) out.push(src[i++] ?? '');
    for (const l of h.lines) {
      const tag = l[0],
        body = l.slice(1);
      if (tag === '\\') continue; // "\ No newline at end of file"
      if (tag === ' ') {
        if ((src[i] ?? '').trimEnd() !== body.trimEnd()) return null;
        out.push(src[i++]!);
      } else if (tag === '-') {
        if ((src[i] ?? '').trimEnd() !== body.trimEnd()) return null;
        removed.add(i++);
      } else if (tag === '+') {
        added.add(out.length);
        out.push(body);
      }
    }
  }
  while (i < src.length) out.push(src[i++]!);
  return {
    before: { text: src.join('\n'), changed: removed, lineOf: (r) => r + 1 },
    after: { text: out.join('\n'), changed: added, lineOf: (r) => r + 1 },
    full: true,
  };
}

/** Only what the hunks show: context plus removed lines, and context plus added lines. */
export function fragmentSides(hunks: Hunk[], isNew: boolean, isDeleted: boolean): Sides {
  const build = (keep: '-' | '+', startOf: (h: Hunk) => number): SideText => {
    const lines: string[] = [];
    const map: number[] = [];
    const changed = new Set<number>();
    for (const h of hunks) {
      if (lines.length) {
        lines.push('');
        map.push(0);
      }
      // git's function context line (`impl Counts {`, `mod tests {`) gives the parser the enclosing item.
      let open = 0;
      let headerIndent = -1;
      const firstLine =
        h.lines.find((l) => (l[0] === ' ' || l[0] === keep) && l.slice(1).trim() !== '')?.slice(1) ?? '';
      // The context encloses the hunk only if the hunk starts deeper than it (git names the last item above, even a closed one).
      const encloses =
        !!h.context && (firstLine.search(/\S/) > h.context.search(/\S/) || firstLine.trim().startsWith('}'));
      if (
        h.context &&
        encloses &&
        /[{(]\s*$/.test(h.context) &&
        !h.lines.some((l) => l.slice(1).trim() === h.context!.trim())
      ) {
        if (/^\s*mod tests?\s*\{/.test(h.context)) {
          lines.push('#[cfg(test)]');
          map.push(0);
        }
        lines.push(h.context);
        map.push(0);
        open = h.context.trim().endsWith('{') ? 1 : 0;
        headerIndent = h.context.search(/\S/);
      }
      let n = startOf(h);
      let depth = 0;
      for (const l of h.lines) {
        const tag = l[0];
        if (tag !== ' ' && tag !== keep) continue;
        let text = l.slice(1);
        const delta = braceDelta(text);
        if (depth + delta < 0) {
          if (open > 0 && text.search(/\S/) === headerIndent && text.trim().startsWith('}'))
            open--; // closes the context item
          else if (tag === ' ')
            text = ''; // closes a block opened above the hunk: it would end the enclosing item early
          else depth += delta;
        } else depth += delta;
        if (tag === keep) changed.add(lines.length);
        lines.push(text);
        map.push(n++);
      }
      // Close what the hunk left open, so the last item parses whole.
      for (let i = 0; i < Math.max(0, depth) + open; i++) {
        lines.push('}');
        map.push(0);
      }
    }
    return { text: lines.join('\n'), changed, lineOf: (r) => map[r] ?? 0 };
  };
  return {
    before: isNew ? null : build('-', (h) => h.oldStart),
    after: isDeleted ? null : build('+', (h) => h.newStart),
    full: false,
  };
}

/** Net `{` minus `}` of a line of Rust-like code, ignoring strings, chars and line comments. */
export function braceDelta(line: string): number {
  let d = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '/' && line[i + 1] === '/') break;
    if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\') i++;
        i++;
      }
      continue;
    }
    if (c === "'" && line[i + 2] === "'") {
      i += 2;
      continue;
    }
    if (c === '{') d++;
    else if (c === '}') d--;
  }
  return d;
}
