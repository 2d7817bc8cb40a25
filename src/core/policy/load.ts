// Policy loading: JSON with comments, version gate, schema validation with line numbers.
import {
  createScanner,
  findNodeAtLocation,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import { z } from 'zod';
import { policySizeProblem, wholeFile as whole, type PolicyProblem } from './bounds.js';
import { SUPPORTED_POLICY_MAJOR } from './constants.js';
import { PolicySchema, type Policy } from './schema.js';

export type { PolicyProblem } from './bounds.js';

export interface PolicyWarning {
  field: string;
  message: string;
}

export type PolicyLoad =
  | { ok: true; policy: Policy; warnings: PolicyWarning[]; source: string }
  | { ok: false; problems: PolicyProblem[]; source: string };

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: PolicyProblem[],
  ) {
    super(formatProblems(source, problems));
    this.name = 'PolicyError';
  }
}

export function formatProblems(source: string, problems: PolicyProblem[]): string {
  return problems
    .map((p) => {
      const where = p.line ? `${source}:${p.line}:${p.column}` : source;
      return `${where}: ${p.field ? `${p.field}: ` : ''}${p.reason}`;
    })
    .join('\n');
}

/** The bundled policy nests five levels deep; nothing a policy means needs more than this. */
export const MAX_POLICY_DEPTH = 64;
/** Problems listed one by one; the rest are counted ("and N more"). */
export const MAX_POLICY_PROBLEMS = 20;
/** Keys that would be object structure, not data, in a JavaScript object: refused wherever they appear. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot read: its values, as it declares them.
const TOKEN = { openBrace: 1, closeBrace: 2, openBracket: 3, closeBracket: 4, eof: 17 } as const;

/** Size, encoding and nesting, checked in one linear pass before the parser (which recurses) sees the text. */
function boundsProblem(text: string): PolicyProblem | null {
  const size = policySizeProblem(Buffer.byteLength(text, 'utf8'));
  if (size) return size;
  if (text.startsWith('\uFFFD\uFFFD') || text.includes('\u0000'))
    return whole('the file looks like UTF-16 (or another encoding with NUL bytes): save it as UTF-8');
  const scanner = createScanner(text, false);
  let depth = 0;
  for (let k: number = scanner.scan(); k !== TOKEN.eof; k = scanner.scan()) {
    if (k === TOKEN.openBrace || k === TOKEN.openBracket) {
      if (++depth > MAX_POLICY_DEPTH) {
        const at = lineLocator(text)(scanner.getTokenOffset());
        return {
          field: '',
          reason: `nested more than ${MAX_POLICY_DEPTH} levels deep (a policy nests about five)`,
          ...at,
        };
      }
    } else if (k === TOKEN.closeBrace || k === TOKEN.closeBracket) depth--;
  }
  return null;
}

/** The first problems, then one line that counts the rest. */
function capped(problems: PolicyProblem[]): PolicyProblem[] {
  if (problems.length <= MAX_POLICY_PROBLEMS) return problems;
  const more = problems.length - MAX_POLICY_PROBLEMS;
  return [...problems.slice(0, MAX_POLICY_PROBLEMS), whole(`and ${more} more problem${more === 1 ? '' : 's'}`)];
}

/** Parses and validates policy text. Never throws; never returns a half-read policy. */
export function parsePolicyText(text: string, source: string, today?: string): PolicyLoad {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 with a BOM reads as UTF-8
  const bounds = boundsProblem(text);
  if (bounds) return { ok: false, problems: [bounds], source };
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const lineAt = lineLocator(text);
  if (errors.length > 0 || !tree) {
    const problems = (errors.length ? errors : [{ error: 0, offset: 0, length: 0 } as unknown as ParseError]).map(
      (e) => ({
        field: '',
        reason: `invalid JSON: ${e.error ? printParseErrorCode(e.error) : 'empty document'}`,
        ...lineAt(e.offset),
      }),
    );
    return { ok: false, problems: capped(problems), source };
  }
  if (tree.type !== 'object') {
    return {
      ok: false,
      source,
      problems: [{ field: '', reason: 'a policy must be a JSON object', ...lineAt(tree.offset) }],
    };
  }
  const keys = prototypeKeys(tree).map((k) => ({
    field: k.path,
    reason: `"${k.key}" is not allowed as a key (it would change the object's structure, not its data)`,
    ...lineAt(k.offset),
  }));
  if (keys.length) return { ok: false, source, problems: capped(keys) };
  const raw = nodeValue(tree);
  const versionProblem = checkVersion(raw.policy_version);
  if (versionProblem) {
    const node = findNodeAtLocation(tree, ['policy_version']);
    return {
      ok: false,
      source,
      problems: [{ field: 'policy_version', reason: versionProblem, ...lineAt(node?.offset ?? tree.offset) }],
    };
  }
  const parsed = PolicySchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, source, problems: capped(issuesToProblems(parsed.error.issues, tree, lineAt)) };
  }
  return { ok: true, policy: parsed.data, warnings: lifecycleWarnings(parsed.data, today), source };
}

function checkVersion(v: unknown): string | null {
  if (typeof v !== 'string')
    return `missing or not a string; this Switchyard reads policy version ${SUPPORTED_POLICY_MAJOR}.x`;
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) return `"${v}" is not a version such as ${SUPPORTED_POLICY_MAJOR}.0.0`;
  const major = Number(m[1]);
  if (major < SUPPORTED_POLICY_MAJOR)
    return (
      `policy version ${v} is older than this Switchyard supports (${SUPPORTED_POLICY_MAJOR}.x): ` +
      `migrate it to MODEL-POLICY ${SUPPORTED_POLICY_MAJOR}.0.0 (start from \`switchyard policy show\`)`
    );
  if (major > SUPPORTED_POLICY_MAJOR)
    return (
      `policy version ${v} is newer than this Switchyard supports (${SUPPORTED_POLICY_MAJOR}.x): ` + `update Switchyard`
    );
  return null;
}

function issuesToProblems(
  issues: z.core.$ZodIssue[],
  tree: Node,
  lineAt: (o: number) => { line: number; column: number },
): PolicyProblem[] {
  return issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as (string | number)[];
    let reason = issue.message;
    if (issue.code === 'unrecognized_keys') {
      reason = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      path.push(issue.keys[0]!);
    }
    // Point at the deepest node that exists: the field itself, or its parent when it is missing.
    let node: Node | undefined;
    for (let n = path.length; n >= 0 && !node; n--) node = findNodeAtLocation(tree, path.slice(0, n));
    const keyNode = node?.parent?.type === 'property' ? node.parent : node;
    return { field: path.join('.'), reason, ...lineAt(keyNode?.offset ?? 0) };
  });
}

/** Warns about model ids the policy names that a provider has deprecated or retired. */
export function lifecycleWarnings(policy: Policy, today = new Date().toISOString().slice(0, 10)): PolicyWarning[] {
  const byId = new Map(policy.model_lifecycle.map((l) => [`${l.provider}:${l.id}`, l]));
  const out: PolicyWarning[] = [];
  for (const [key, m] of Object.entries(policy.models).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const l = byId.get(`${m.provider}:${m.id}`);
    if (!l) continue;
    const past = l.date <= today;
    const verb =
      l.status === 'retired'
        ? past
          ? 'was retired on'
          : 'retires on'
        : past
          ? 'is deprecated since'
          : 'is deprecated; it retires on';
    out.push({
      field: `models.${key}.id`,
      message: `${m.provider} model "${m.id}" ${verb} ${l.date}; use "${l.replacement}" instead`,
    });
  }
  return out;
}

/** Every prototype key of the document, with its path (the tree's depth is bounded before this runs). */
function prototypeKeys(node: Node, path: (string | number)[] = []): { key: string; path: string; offset: number }[] {
  if (node.type === 'array') return (node.children ?? []).flatMap((c, i) => prototypeKeys(c, [...path, i]));
  if (node.type !== 'object') return [];
  return (node.children ?? []).flatMap((prop) => {
    const [k, v] = prop.children ?? [];
    if (!k || !v) return [];
    const key = String(k.value);
    const here = PROTOTYPE_KEYS.has(key) ? [{ key, path: [...path, key].join('.'), offset: k.offset }] : [];
    return [...here, ...prototypeKeys(v, [...path, key])];
  });
}

function nodeValue(node: Node): any {
  switch (node.type) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [k, v] = prop.children ?? [];
        // Plain data even if a prototype key got this far: defined, never assigned through the prototype chain.
        if (k && v)
          Object.defineProperty(o, String(k.value), { value: nodeValue(v), enumerable: true, writable: true });
      }
      return o;
    }
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

function lineLocator(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0,
      hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}
