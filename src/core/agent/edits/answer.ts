// The Implementer's patches: search/replace blocks (the format local coders follow most reliably) or a
// unified diff, applied in memory against the workspace's files. A patch that does not apply is a
// PatchError that says which block and why: a failed attempt, never a crash and never a partial write.
import { applyPatch, createTwoFilesPatch, parsePatch } from 'diff';
import { relativeInside } from '../../util/paths.js';

export interface FileChange {
  path: string;
  before: string | null;
  after: string;
}

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

export const PATCH_FORMAT = [
  'Answer with search/replace blocks only, one per change, in this exact form:',
  '',
  'path/from/the/workspace/root.rs',
  '<<<<<<< SEARCH',
  'the exact lines to replace, copied from the file (whitespace included), with enough lines to be unique',
  '=======',
  'the new lines',
  '>>>>>>> REPLACE',
  '',
  'To create a file, leave the SEARCH part empty. Keep each SEARCH short but unique. No other prose.',
].join('\n');

interface Block {
  path: string;
  search: string;
  replace: string;
}

const BLOCK_RE =
  /^([^\n]*)\n(?:```[^\n]*\n)?<{5,9} SEARCH[^\n]*\n([\s\S]*?)^={5,9}[ \t]*\n([\s\S]*?)^>{5,9} REPLACE[^\n]*$/gm;

export function parseBlocks(text: string): Block[] {
  const out: Block[] = [];
  const t = text.replace(/\r\n/g, '\n');
  for (const m of t.matchAll(BLOCK_RE)) {
    const path = m[1]!
      .trim()
      .replace(/^`+|`+$/g, '')
      .replace(/^(?:\*\*|#+\s*|File:\s*)/i, '')
      .replace(/\*\*$/, '')
      .trim();
    out.push({ path, search: m[2]!, replace: m[3]! });
  }
  return out;
}

const looksLikeDiff = (t: string) => /^--- [^\n]+\n\+\+\+ [^\n]+\n@@ /m.test(t);

/** Applies the model's answer to the files it names. Throws PatchError when any part does not apply. */
export async function applyAnswer(
  text: string,
  read: (path: string) => Promise<string | undefined>,
): Promise<FileChange[]> {
  const blocks = parseBlocks(text);
  if (blocks.length > 0) return applyBlocks(blocks, read);
  if (looksLikeDiff(text)) return applyUnified(text, read);
  throw new PatchError('the answer holds no search/replace block and no unified diff');
}

async function applyBlocks(
  blocks: Block[],
  read: (path: string) => Promise<string | undefined>,
): Promise<FileChange[]> {
  const files = new Map<string, FileChange>();
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const path = relativeInside(b.path);
    if (!path) throw new PatchError(`block ${i + 1}: "${b.path.slice(0, 120)}" is not a path inside the workspace`);
    let f = files.get(path);
    if (!f) {
      const before = (await read(path)) ?? null;
      f = { path, before, after: before ?? '' };
      files.set(path, f);
    }
    if (b.search.trim() === '') {
      if (f.before !== null)
        throw new PatchError(`block ${i + 1}: ${path} exists; an empty SEARCH only creates new files`);
      f.after += b.replace;
      continue;
    }
    if (f.before === null && f.after === '') throw new PatchError(`block ${i + 1}: ${path} does not exist`);
    f.after = replaceOnce(f.after, b.search, b.replace, `block ${i + 1} (${path})`);
  }
  return [...files.values()].filter((f) => f.after !== f.before);
}

function replaceOnce(text: string, search: string, replace: string, where: string): string {
  const at = text.indexOf(search);
  if (at >= 0) {
    if (text.indexOf(search, at + 1) >= 0)
      throw new PatchError(`${where}: the SEARCH text occurs more than once; include more lines to make it unique`);
    return text.slice(0, at) + replace + text.slice(at + search.length);
  }
  // Tolerate trailing whitespace differences line by line, nothing looser.
  const norm = (s: string) => s.split('\n').map((l) => l.trimEnd());
  const lines = text.split('\n');
  const want = norm(search.replace(/\n$/, ''));
  const hits: number[] = [];
  for (let i = 0; i + want.length <= lines.length; i++) {
    if (want.every((w, k) => lines[i + k]!.trimEnd() === w)) hits.push(i);
  }
  if (hits.length === 1) {
    const i = hits[0]!;
    const rep = replace.replace(/\n$/, '').split('\n');
    return [...lines.slice(0, i), ...rep, ...lines.slice(i + want.length)].join('\n');
  }
  if (hits.length > 1)
    throw new PatchError(`${where}: the SEARCH text occurs more than once; include more lines to make it unique`);
  throw new PatchError(`${where}: the SEARCH text is not in the file (it must match the current file exactly)`);
}

async function applyUnified(text: string, read: (path: string) => Promise<string | undefined>): Promise<FileChange[]> {
  const out: FileChange[] = [];
  let patches;
  try {
    patches = parsePatch(text);
  } catch (e) {
    throw new PatchError(`the unified diff does not parse: ${(e as Error).message}`);
  }
  for (const p of patches) {
    const name = (p.newFileName && p.newFileName !== '/dev/null' ? p.newFileName : (p.oldFileName ?? '')).replace(
      /^[ab]\//,
      '',
    );
    const path = relativeInside(name);
    if (!path) throw new PatchError(`the diff names "${name.slice(0, 120)}", not a path inside the workspace`);
    const before = (await read(path)) ?? null;
    const after = applyPatch(before ?? '', p);
    if (after === false)
      throw new PatchError(`the diff for ${path} does not apply to the current file (its context lines do not match)`);
    out.push({ path, before, after });
  }
  return out.filter((f) => f.after !== f.before);
}

/** One git-style unified diff of file changes (each against its text before; null: absent), for the classifier,
 * the evidence and the task view. */
export function unifiedDiff(changes: { path: string; before: string | null; after: string | null }[]): string {
  return changes
    .map((c) => {
      const body = createTwoFilesPatch(
        c.before === null ? '/dev/null' : `a/${c.path}`,
        c.after === null ? '/dev/null' : `b/${c.path}`,
        c.before ?? '',
        c.after ?? '',
        '',
        '',
        { context: 3 },
      );
      const lines = body.split('\n').filter((l) => !/^={10,}$/.test(l) && !l.startsWith('Index: '));
      const mode = c.before === null ? 'new file mode 100644\n' : c.after === null ? 'deleted file mode 100644\n' : '';
      return `diff --git a/${c.path} b/${c.path}\n${mode}${lines.join('\n')}`;
    })
    .join('');
}
