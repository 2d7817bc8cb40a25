// A unified diff (as models and git write it) read into files and hunks. Each hunk becomes an old/new text pair
// that edit_file's matcher places, so a hunk whose line numbers or whitespace drifted still lands where its text is.
export interface PatchHunk {
  oldStart: number;
  old: string;
  new: string;
}
export type PatchFile =
  | { kind: 'modify'; path: string; hunks: PatchHunk[] }
  | { kind: 'create'; path: string; added: string }
  | { kind: 'delete'; path: string };

const strip = (p: string) =>
  p
    .replace(/\t.*$/, '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .replace(/^[ab]\//, '');

export function parsePatchFiles(text: string): { ok: true; files: PatchFile[] } | { ok: false; message: string } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const files: PatchFile[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!lines[i]!.startsWith('--- ') || !lines[i + 1]?.startsWith('+++ ')) {
      i++;
      continue;
    }
    const from = strip(lines[i]!.slice(4)),
      to = strip(lines[i + 1]!.slice(4));
    i += 2;
    const hunks: PatchHunk[] = [];
    while (i < lines.length && lines[i]!.startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]!);
      if (!m) return { ok: false, message: `line ${i + 1}: not a hunk header: ${lines[i]}` };
      i++;
      const old: string[] = [],
        neu: string[] = [];
      while (i < lines.length && !lines[i]!.startsWith('@@') && !lines[i]!.startsWith('--- ')) {
        const l = lines[i]!;
        if (l.startsWith('\\')) {
          i++;
          continue;
        }
        const tag = l[0] ?? ' ';
        const body = l.slice(1);
        if (tag === ' ' || l === '') {
          old.push(body);
          neu.push(body);
        } else if (tag === '-') old.push(body);
        else if (tag === '+') neu.push(body);
        else break; // `diff --git`, `index ...`: the next file's header
        i++;
      }
      while (
        old.length &&
        neu.length &&
        old[old.length - 1] === '' &&
        neu[neu.length - 1] === '' &&
        i >= lines.length
      ) {
        old.pop();
        neu.pop();
      }
      hunks.push({ oldStart: Number(m[1]), old: old.join('\n'), new: neu.join('\n') });
    }
    if (hunks.length === 0) return { ok: false, message: `${to}: the file has no @@ hunk` };
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
