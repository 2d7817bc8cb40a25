// Stage 0's tokenizer: deterministic, no model. Identifiers are split the way people search for them
// (parseHttpRequest -> parse, http, request, and the whole identifier), lower-cased; very common words and
// keywords carry no signal and are dropped.

const STOP = new Set([
  'the', 'and', 'for', 'with', 'that', 'this', 'from', 'are', 'was', 'were', 'not', 'but', 'have', 'has', 'had',
  'you', 'your', 'its', 'our', 'they', 'them', 'then', 'than', 'there', 'these', 'those', 'into', 'onto', 'over',
  'all', 'any', 'can', 'will', 'would', 'should', 'could', 'may', 'might', 'must', 'does', 'did', 'done', 'been',
  'being', 'how', 'what', 'when', 'where', 'which', 'who', 'why', 'also', 'just', 'only', 'some', 'such', 'each',
  'other', 'more', 'most', 'very', 'about', 'after', 'before', 'here', 'out', 'use', 'used', 'using', 'one', 'two',
  'of', 'to', 'in', 'on', 'at', 'by', 'or', 'an', 'as', 'is', 'it', 'be', 'if', 'do', 'so', 'no', 'we', 'us', 'my',
  // keywords common to most languages
  'fn', 'let', 'mut', 'pub', 'impl', 'self', 'crate', 'mod', 'const', 'static', 'return', 'else', 'while', 'loop',
  'match', 'struct', 'enum', 'trait', 'type', 'where', 'super', 'function', 'var', 'export', 'import', 'default',
  'class', 'new', 'def', 'none', 'true', 'false', 'null', 'undefined', 'void', 'string', 'str', 'int', 'bool',
]);

const WORD = /[A-Za-z_][A-Za-z0-9_]*|[0-9]+/g;
const CAMEL = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g;

function keep(t: string): boolean {
  return t.length >= 2 && t.length <= 48 && !STOP.has(t) && !/^[0-9]+$/.test(t);
}

/** The tokens of a text, in order, with repeats (term frequency counts them). */
export function tokenize(text: string, out: string[] = []): string[] {
  for (const m of text.matchAll(WORD)) {
    const word = m[0];
    const parts: string[] = [];
    for (const seg of word.split('_')) {
      if (!seg) continue;
      const sub = seg.match(CAMEL);
      if (sub) for (const s of sub) parts.push(s.toLowerCase());
    }
    for (const p of parts) if (keep(p)) out.push(p);
    if (parts.length > 1) {
      const whole = word.toLowerCase();
      if (keep(whole)) out.push(whole);
    }
  }
  return out;
}

/** The tokens of a workspace path: every folder and the file name, split like identifiers. */
export function pathTokens(path: string): string[] {
  return tokenize(path.replace(/\.[A-Za-z0-9]+$/, '').replace(/[/\\.\-]/g, ' '));
}
