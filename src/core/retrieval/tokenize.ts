// Stage 0's tokenizer: deterministic, no model. Identifiers are split the way people search for them
// (parseHttpRequest -> parse, http, request, and the whole identifier), lower-cased; very common words and
// keywords carry no signal and are dropped.

const STOP = new Set([
  'the',
  'and',
  'for',
  'with',
  'that',
  'this',
  'from',
  'are',
  'was',
  'were',
  'not',
  'but',
  'have',
  'has',
  'had',
  'you',
  'your',
  'its',
  'our',
  'they',
  'them',
  'then',
  'than',
  'there',
  'these',
  'those',
  'into',
  'onto',
  'over',
  'all',
  'any',
  'can',
  'will',
  'would',
  'should',
  'could',
  'may',
  'might',
  'must',
  'does',
  'did',
  'done',
  'been',
  'being',
  'how',
  'what',
  'when',
  'where',
  'which',
  'who',
  'why',
  'also',
  'just',
  'only',
  'some',
  'such',
  'each',
  'other',
  'more',
  'most',
  'very',
  'about',
  'after',
  'before',
  'here',
  'out',
  'use',
  'used',
  'using',
  'one',
  'two',
  'of',
  'to',
  'in',
  'on',
  'at',
  'by',
  'or',
  'an',
  'as',
  'is',
  'it',
  'be',
  'if',
  'do',
  'so',
  'no',
  'we',
  'us',
  'my',
  // keywords common to most languages
  'fn',
  'let',
  'mut',
  'pub',
  'impl',
  'self',
  'crate',
  'mod',
  'const',
  'static',
  'return',
  'else',
  'while',
  'loop',
  'match',
  'struct',
  'enum',
  'trait',
  'type',
  'where',
  'super',
  'function',
  'var',
  'export',
  'import',
  'default',
  'class',
  'new',
  'def',
  'none',
  'true',
  'false',
  'null',
  'undefined',
  'void',
  'string',
  'str',
  'int',
  'bool',
]);

const isLower = (c: number) => c >= 97 && c <= 122;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWord = (c: number) => isLower(c) || isUpper(c) || isDigit(c) || c === 95;

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 16777619;
/** FNV-1a over the lower-cased span: the hash `scan` computes on the fly for all-lower-case words. */
export function spanHash(text: string, s: number, e: number): number {
  let h = FNV_OFFSET;
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), FNV_PRIME);
  }
  return h >>> 0;
}
export const MIN_TOKEN = 2;
export const MAX_TOKEN = 48;
export const STOP_WORDS: ReadonlySet<string> = STOP;

/**
 * The scanner behind both tokenizers: calls `emit(start, end)` for every token span of `text` (the token is the
 * span lower-cased). Identifiers are split at underscores and case changes (HTTPRequest: HTTP, Request), and a
 * split identifier is also emitted whole; numbers are skipped. Length and stop words are the caller's check.
 */
export function scan(text: string, emit: (start: number, end: number, hash: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c0 = text.charCodeAt(i);
    if (!isWord(c0)) {
      i++;
      continue;
    }
    const s = i;
    let simple = true;
    let h = FNV_OFFSET;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (isLower(c) || isDigit(c)) {
        h = Math.imul(h ^ c, FNV_PRIME);
        i++;
        continue;
      }
      if (isUpper(c) || c === 95) {
        simple = false;
        i++;
        continue;
      }
      break;
    }
    if (isDigit(c0)) continue; // numbers carry no signal
    if (simple) {
      emit(s, i, h >>> 0);
      continue;
    }
    let parts = 0;
    let p = s;
    while (p < i) {
      const c = text.charCodeAt(p);
      if (c === 95) {
        p++;
        continue;
      }
      let q = p + 1;
      if (isDigit(c)) {
        while (q < i && isDigit(text.charCodeAt(q))) q++;
        p = q;
        parts++;
        continue;
      }
      if (isUpper(c)) {
        if (q < i && isLower(text.charCodeAt(q))) {
          while (q < i && isLower(text.charCodeAt(q))) q++;
        } else {
          while (q < i && isUpper(text.charCodeAt(q))) q++;
          if (q < i && isLower(text.charCodeAt(q)) && q - p > 1) q--; // HTTPRequest: the R starts the next part
        }
      } else {
        while (q < i && isLower(text.charCodeAt(q))) q++;
      }
      emit(p, q, -1);
      parts++;
      p = q;
    }
    if (parts > 1) emit(s, i, -1);
  }
}

/** The tokens of a text, in order, with repeats (term frequency counts them). */
export function tokenize(text: string, out: string[] = []): string[] {
  scan(text, (s, e) => {
    if (e - s < MIN_TOKEN || e - s > MAX_TOKEN) return;
    const t = text.slice(s, e).toLowerCase();
    if (!STOP.has(t)) out.push(t);
  });
  return out;
}

/** A workspace path as text to tokenize: every folder and the file name, without the extension. */
export const pathText = (path: string) => path.replace(/\.[A-Za-z0-9]+$/, '').replace(/[/\\.\-]/g, ' ');
