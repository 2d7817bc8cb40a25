// TypeScript/JavaScript and Python: the same flags with each language's notions. Exported API is
// `export` (TS/JS) or a public module-level name (Python); packages are package.json / pyproject.toml.
import type { Node, Tree } from 'web-tree-sitter';
import type { RiskFlag } from '../policy/constants.js';
import type { Evidence } from './types.js';
import { PERSISTENCE_WORDS, SECURITY_WORDS, SHARED_STATE_WORDS, words } from './vocab.js';

export type ScriptLanguage = 'typescript' | 'javascript' | 'python';
export interface ScriptSide {
  tree: Tree;
  changed: Set<number>;
  lineOf: (row: number) => number;
  lines: string[];
}
export interface ScriptContext {
  path: string;
  language: ScriptLanguage;
  isTestFile: boolean;
  isPackage: boolean;
}

const COMMENTS = new Set(['comment', 'html_comment']);
const TS_DECLS = new Set([
  'function_declaration',
  'generator_function_declaration',
  'class_declaration',
  'abstract_class_declaration',
  'interface_declaration',
  'type_alias_declaration',
  'enum_declaration',
  'lexical_declaration',
  'variable_declaration',
  'function_signature',
  'module',
  'internal_module',
]);
const ASYNC_CALLS = new RegExp(
  String.raw`^(Promise\.(all|race|any|allSettled)|setImmediate|queueMicrotask|Atomics\.\w+|` +
    String.raw`asyncio\.\w+|threading\.\w+|multiprocessing\.\w+|concurrent\.futures\.\w+|` +
    String.raw`trio\.\w+|anyio\.\w+)$`,
);
const CONC_WORDS = new Set([
  'worker',
  'workers',
  'worker_threads',
  'mutex',
  'semaphore',
  'lock',
  'rlock',
  'atomics',
  'shared_array_buffer',
  'asyncio',
  'threading',
  'thread',
  'multiprocessing',
  'executor',
  'thread_pool_executor',
  'process_pool_executor',
  'queue',
  'trio',
  'anyio',
  'gather',
  'create_task',
  'ensure_future',
]);
const FFI_WORDS = new Set([
  'ctypes',
  'cffi',
  'ffi',
  'ffi_napi',
  'koffi',
  'napi',
  'dlopen',
  'cdll',
  'windll',
  'wasm',
  'webassembly',
]);
const DYNAMIC_CODE = /^(eval|exec|compile|Function|__import__)$/;
const EXEC_WORDS = new Set(['child_process', 'exec_sync', 'exec_file', 'spawn_sync', 'subprocess', 'popen', 'shell']);

export function analyzeScript(side: ScriptSide, ctx: ScriptContext): { evidence: Evidence[]; sharedState: boolean } {
  const f = new ScriptFindings(side, ctx);
  if (ctx.isTestFile || side.changed.size === 0) return { evidence: f.out, sharedState: false };
  const visit = (n: Node, parents: Node[]): void => {
    const sr = n.startPosition.row,
      er = n.endPosition.row;
    let touched = false;
    for (let r = sr; r <= er && !touched; r++) touched = side.changed.has(r);
    if (!touched || COMMENTS.has(n.type)) return;
    if (side.changed.has(sr)) onChangedNode(f, n, sr, parents);
    if (n.type === 'await_expression' || n.type === 'await')
      f.add('async_concurrency', n.endPosition.row, n.type, 'await changed');
    const next = [...parents, n];
    for (const c of n.children) if (c) visit(c, next);
  };
  visit(side.tree.rootNode, []);
  if (ctx.isPackage) exportedApi(f, side, ctx);
  return { evidence: f.out, sharedState: f.sharedState };
}

/** The evidence of one side, one per flag and line. */
class ScriptFindings {
  readonly out: Evidence[] = [];
  sharedState = false;
  private readonly seen = new Set<string>();
  constructor(
    private readonly side: ScriptSide,
    private readonly ctx: ScriptContext,
  ) {}
  add(flag: RiskFlag, row: number, node: string, why: string): void {
    const line = this.side.lineOf(row);
    if (this.seen.has(`${flag}:${line}`)) return;
    this.seen.add(`${flag}:${line}`);
    const text = (this.side.lines[row] ?? '').trim().slice(0, 160);
    this.out.push({ flag, path: this.ctx.path, line, node, text, why });
  }
}

const IDENTIFIERS = new Set(['identifier', 'property_identifier', 'type_identifier', 'shorthand_property_identifier']);
const CONC_PARTS = new Set(['mutex', 'semaphore', 'asyncio', 'threading', 'multiprocessing', 'atomics']);
const CALLS = new Set(['call_expression', 'call', 'new_expression']);

function onChangedNode(f: ScriptFindings, n: Node, row: number, parents: Node[]): void {
  const t = n.type;
  const parent = parents[parents.length - 1];
  if (t === 'async') f.add('async_concurrency', row, parent?.type ?? t, '`async` changed');
  if (IDENTIFIERS.has(t)) identifier(f, n, row, parent);
  if ((t === 'member_expression' || t === 'attribute') && ASYNC_CALLS.test(n.text))
    f.add('async_concurrency', row, t, n.text);
  if (
    t === 'string' &&
    (parent?.type === 'import_statement' ||
      /^(require|import)$/.test(parents[parents.length - 2]?.child(0)?.text ?? ''))
  )
    importedModule(f, n, row);
}

function identifier(f: ScriptFindings, n: Node, row: number, parent: Node | undefined): void {
  const t = n.type;
  const text = n.text;
  const ws = words(text);
  const joined = ws.join('_');
  if (
    ws.some((w) => SECURITY_WORDS.has(w)) ||
    /(api_key|private_key|client_secret|access_token|refresh_token|auth_token|id_token|exec_policy)/.test(joined)
  )
    f.add('security_sandbox', row, t, `identifier ${text}`);
  if (EXEC_WORDS.has(joined) || ws.includes('subprocess') || ws.includes('popen'))
    f.add('security_sandbox', row, t, `process execution: ${text}`);
  if (CONC_WORDS.has(joined) || ws.some((w) => CONC_PARTS.has(w))) {
    f.add('async_concurrency', row, t, text);
    if (ws.some((w) => SHARED_STATE_WORDS.has(w) || w === 'lock' || w === 'shared')) f.sharedState = true;
  }
  if (FFI_WORDS.has(joined) || ws.some((w) => FFI_WORDS.has(w))) f.add('unsafe_ffi', row, t, `FFI: ${text}`);
  if (DYNAMIC_CODE.test(text) && CALLS.has(parent?.type ?? '')) f.add('unsafe_ffi', row, t, `dynamic code: ${text}()`);
  if (
    PERSISTENCE_WORDS.has(joined) ||
    ws.some((w) => w === 'migration' || w === 'migrations' || w === 'pickle' || w === 'shelve')
  )
    f.add('persistence_schema', row, t, `identifier ${text}`);
}

function importedModule(f: ScriptFindings, n: Node, row: number): void {
  const t = n.type;
  const mod = n.text.replace(/^['"`]|['"`]$/g, '');
  if (/^(node:)?(child_process|worker_threads|cluster)$/.test(mod))
    f.add(mod.includes('child') ? 'security_sandbox' : 'async_concurrency', row, t, `import ${mod}`);
  if (/^(ffi-napi|koffi|node-ffi|bindings|node-addon-api)$/.test(mod) || mod.endsWith('.node'))
    f.add('unsafe_ffi', row, t, `import ${mod}`);
  if (/(crypto|jsonwebtoken|bcrypt|argon2|passport|oauth|keytar|tls|https)$/.test(mod))
    f.add('security_sandbox', row, t, `import ${mod}`);
}

/** Exported API: per changed code row, the declaration around it. */
function exportedApi(f: ScriptFindings, side: ScriptSide, ctx: ScriptContext): void {
  for (const row of [...side.changed].sort((a, b) => a - b)) {
    const line = side.lines[row] ?? '';
    const col = line.search(/\S/);
    if (col < 0) continue;
    const n = side.tree.rootNode.descendantForPosition({ row, column: col });
    if (!n || hasAncestor(n, COMMENTS)) continue;
    const api = ctx.language === 'python' ? pythonApi(n, row) : tsApi(n, row);
    if (api) f.add('public_api', row, api.node, api.why);
  }
}

function hasAncestor(n: Node, types: Set<string>): boolean {
  for (let p: Node | null = n; p; p = p.parent) if (types.has(p.type)) return true;
  return false;
}

/** TS/JS: inside an `export` statement, outside function bodies (a body-only change is not API). */
function tsApi(n: Node, row: number): { node: string; why: string } | null {
  let exp: Node | null = null;
  for (let p: Node | null = n; p; p = p.parent)
    if (p.type === 'export_statement') {
      exp = p;
      break;
    }
  if (!exp) return null;
  const decl = exp.childForFieldName('declaration');
  const name =
    decl?.childForFieldName('name')?.text ??
    decl?.namedChildren[0]?.childForFieldName('name')?.text ??
    exp.text.slice(0, 40);
  // Inside a function or method body?
  for (let p: Node | null = n; p && p !== exp; p = p.parent) {
    if (
      p.type === 'statement_block' &&
      p.parent &&
      /function|method|arrow_function/.test(p.parent.type) &&
      row > p.startPosition.row
    )
      return null;
    if (
      (p.type === 'method_definition' || p.type === 'public_field_definition') &&
      p.children.some((c) => c?.type === 'accessibility_modifier' && /private|protected/.test(c.text))
    )
      return null;
    if (p.type === 'method_definition' && p.childForFieldName('name')?.type === 'private_property_identifier')
      return null;
  }
  if (decl && !TS_DECLS.has(decl.type)) return null;
  return {
    node: decl?.type ?? 'export_statement',
    why: `exported ${decl?.type.replace(/_declaration$/, '') ?? 'binding'} ${name} changed`,
  };
}

/** Python: a public (no leading underscore) module-level def or class, its signature; or __all__. */
function pythonApi(n: Node, row: number): { node: string; why: string } | null {
  let def: Node | null = null;
  for (let p: Node | null = n; p; p = p.parent) {
    if (p.type === 'function_definition' || p.type === 'class_definition') def = p;
    if (p.type === 'expression_statement' && p.parent?.type === 'module' && /^__all__\s*[+]?=/.test(p.text))
      return { node: 'assignment', why: '__all__ changed' };
  }
  if (!def) return null;
  // the enclosing defs, outermost first: a module-level def, or a method of a module-level class
  const chain: Node[] = [];
  for (let p: Node | null = def; p; p = p.parent)
    if (p.type === 'function_definition' || p.type === 'class_definition') chain.unshift(p);
  if (
    chain.some(
      (d) =>
        (d.childForFieldName('name')?.text ?? '').startsWith('_') &&
        !/^__\w+__$/.test(d.childForFieldName('name')?.text ?? ''),
    )
  )
    return null;
  if (chain.length > 1 && chain[0]!.type === 'function_definition') return null; // a function nested in a function
  const inner = chain[chain.length - 1]!;
  const body = inner.childForFieldName('body');
  if (inner.type === 'function_definition' && body && row >= body.startPosition.row && row !== inner.startPosition.row)
    return null;
  if (inner.type === 'class_definition' && body && row >= body.startPosition.row && row !== inner.startPosition.row)
    return null;
  return {
    node: inner.type,
    why:
      `public ${inner.type === 'class_definition' ? 'class' : 'def'} ${chain.map((d) => d.childForFieldName('name')?.text).join('.')} ` +
      `signature changed`,
  };
}
