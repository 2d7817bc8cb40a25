// Rust detectors: what the changed lines touch, read from the syntax tree on both sides of a change.
import type { Node, Tree } from 'web-tree-sitter';
import type { RiskFlag } from '../policy/constants.js';
import type { Evidence } from './types.js';
import {
  CLI_ATTRS,
  CLI_DERIVES,
  CONCURRENCY_WORDS,
  CONFIG_TYPE_NAME,
  FFI_PATH_ROOTS,
  PERSISTENCE_WORDS,
  SECURITY_WORDS,
  SHARED_STATE_WORDS,
  TOKEN_CREDENTIAL_CONTEXT,
  TOKEN_LEXER_CONTEXT,
  words,
} from './vocab.js';

export interface RustSide {
  tree: Tree;
  /** Rows (0-based, in the parsed text) that the change added (after side) or removed (before side). */
  changed: Set<number>;
  /** Maps a parsed row to the 1-based line number in the real file. */
  lineOf: (row: number) => number;
  lines: string[];
}

export interface RustContext {
  path: string;
  isLib: boolean;
  isTestFile: boolean;
  /** false when the file is a private module of its crate */ moduleExported?: boolean;
}

export interface RustFindings {
  evidence: Evidence[];
  sharedState: boolean;
}

const COMMENTS = new Set([
  'line_comment',
  'block_comment',
  'doc_comment',
  'inner_doc_comment_marker',
  'outer_doc_comment_marker',
]);
const ITEMS = new Set([
  'function_item',
  'function_signature_item',
  'struct_item',
  'enum_item',
  'union_item',
  'trait_item',
  'type_item',
  'const_item',
  'static_item',
  'mod_item',
  'use_declaration',
  'macro_definition',
  'impl_item',
  'associated_type',
  'extern_crate_declaration',
  'foreign_mod_item',
]);

/** A node on the walk's current path. Node objects are made only where a rule needs one (they are costly). */
interface Frame {
  type: string;
  sr: number;
  er: number;
  si: number;
  ei: number;
  node?: Node;
}
/** Attributes that change what a public item offers (trait impls, layout, availability, serialized form). */
const API_ATTRS = new Set([
  'derive',
  'non_exhaustive',
  'repr',
  'cfg',
  'deprecated',
  'serde',
  'macro_export',
  'export_name',
  'no_mangle',
]);
/** Items whose own text starts with their visibility (attributes are separate siblings). */
const PRIVATE_CHECKABLE = new Set([
  'function_item',
  'struct_item',
  'enum_item',
  'union_item',
  'const_item',
  'static_item',
  'type_item',
  'mod_item',
  'use_declaration',
]);
const BODIES = new Set(['block', 'declaration_list', 'field_declaration_list', 'enum_variant_list']);
const NEED_NODE = new Set([...ITEMS, 'field_declaration', 'enum_variant', 'attribute_item', 'macro_invocation']);

// Tree questions asked once per node during one analysis (each one crosses into WASM): node ids are
// unique within a tree, and analyzeRust is synchronous, so one table reset per call is safe.
let memo = new Map<string, Map<number, unknown>>();
function once<T>(kind: string, node: Node, f: () => T): T {
  let m = memo.get(kind);
  if (!m) {
    m = new Map();
    memo.set(kind, m);
  }
  if (m.has(node.id)) return m.get(node.id) as T;
  const v = f();
  m.set(node.id, v);
  return v;
}

export function analyzeRust(side: RustSide, ctx: RustContext): RustFindings {
  memo = new Map();
  if (ctx.isTestFile || side.changed.size === 0) return { evidence: [], sharedState: false };
  const a = new RustAnalysis(side, ctx);
  a.walk();
  for (const [row, path] of a.anchors) {
    a.enclosingUnsafe(row, path);
    a.enclosingItem(row, path);
  }
  return { evidence: a.out, sharedState: a.sharedState };
}

/** One analysis of one side: the walk's state and the evidence it finds. */
class RustAnalysis {
  readonly out: Evidence[] = [];
  sharedState = false;
  /** changed code row -> the path to its first token */
  readonly anchors = new Map<number, Frame[]>();
  private readonly seen = new Set<string>();
  private readonly sorted: number[];
  private readonly text: string;
  /** Where each row starts (tree-sitter's indices are JS string indices here): no Point objects in the walk. */
  private readonly starts: number[] = [0];
  private readonly frames: Frame[] = [];

  constructor(
    private readonly side: RustSide,
    private readonly ctx: RustContext,
  ) {
    this.sorted = [...side.changed].sort((a, b) => a - b);
    this.text = side.lines.join('\n');
    for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  add(flag: RiskFlag, row: number, node: Node | string, why: string): void {
    const line = this.side.lineOf(row);
    const key = `${flag}:${line}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.out.push({
      flag,
      path: this.ctx.path,
      line,
      node: typeof node === 'string' ? node : node.type,
      text: (this.side.lines[row] ?? '').trim().slice(0, 160),
      why,
    });
  }

  /** Any changed row in [a, b]? (binary search) */
  private touches(a: number, b: number): boolean {
    const sorted = this.sorted;
    let lo = 0,
      hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < a) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]! <= b;
  }

  private rowOf(idx: number): number {
    const starts = this.starts;
    let lo = 0,
      hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= idx) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private textOf(f: Frame): string {
    return this.text.slice(f.si, f.ei);
  }

  /** One walk over the parts of the tree that touch changed rows (a cursor: no Node objects for the rest). */
  walk(): void {
    const { side, frames } = this;
    const cursor = side.tree.walk();
    for (;;) {
      const type = cursor.nodeType;
      const si = cursor.startIndex,
        ei = cursor.endIndex;
      const sr = this.rowOf(si),
        er = ei > si ? this.rowOf(ei - 1) : sr;
      let descend = false;
      if (this.touches(sr, er) && !COMMENTS.has(type)) {
        const node = NEED_NODE.has(type) ? cursor.currentNode : undefined;
        if (!(node && inTestItem(node))) {
          const frame: Frame = { type, sr, er, si, ei, node };
          if (side.changed.has(sr)) this.token(frame);
          if (type === 'await_expression' && side.changed.has(er))
            this.add('async_concurrency', er, type, '.await changed');
          frames.push(frame);
          descend = cursor.gotoFirstChild();
          if (!descend) {
            if (side.changed.has(sr) && !this.anchors.has(sr)) this.anchors.set(sr, [...frames]);
            frames.pop();
          }
        }
      }
      if (descend) continue;
      let done = false;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          done = true;
          break;
        }
        frames.pop();
      }
      if (done) break;
    }
    cursor.delete();
  }

  /** Unsafe code, extern blocks and hand-written serde impls around a changed code row. */
  enclosingUnsafe(row: number, path: Frame[]): void {
    for (let i = path.length - 1; i >= 0; i--) {
      const f = path[i]!;
      const n = f.node;
      if (f.type === 'unsafe_block') this.add('unsafe_ffi', row, f.type, 'change inside an unsafe block');
      else if (f.type === 'foreign_mod_item') this.add('unsafe_ffi', row, f.type, 'change inside an extern block');
      else if (n && (f.type === 'function_item' || f.type === 'function_signature_item') && hasModifier(n, 'unsafe'))
        this.add('unsafe_ffi', row, n, 'change inside an unsafe fn');
      else if (n && f.type === 'function_item' && hasExternAbi(n))
        this.add('unsafe_ffi', row, n, 'change inside an extern "ABI" fn');
      else if (n && (f.type === 'impl_item' || f.type === 'trait_item') && hasChildToken(n, 'unsafe'))
        this.add('unsafe_ffi', row, n, `change inside an unsafe ${f.type === 'impl_item' ? 'impl' : 'trait'}`);
      if (n && f.type === 'impl_item') {
        const trait = once(
          'implTrait',
          n,
          () => n.childForFieldName('trait')?.text.split('::').pop()?.replace(/<.*$/s, '') ?? '',
        );
        if (trait === 'Serialize' || trait === 'Deserialize' || trait === 'Visitor')
          this.add('persistence_schema', row, n, `hand-written serde ${trait} impl changed`);
      }
    }
  }

  /** Public API and serde types: the innermost item (a node on the path) around a changed code row. */
  enclosingItem(row: number, path: Frame[]): void {
    let ai = path.length - 1;
    while (ai >= 0 && !path[ai]!.node) ai--;
    if (ai < 0) return;
    const af = path[ai]!;
    const anchor = af.node!;
    // Rows strictly inside the anchor's body (after its opening row) all get the same answer: ask once.
    const inBody = path.slice(ai + 1).some((f) => BODIES.has(f.type) && f.sr < row);
    const rowClass = row === af.sr ? 'head' : inBody ? 'body' : 'other';
    // Fast path: an item whose text does not start with `pub` (and is not a trait's) cannot be API.
    const plainPrivate =
      PRIVATE_CHECKABLE.has(af.type) &&
      !this.text.startsWith('pub', af.si) &&
      !path.some((f) => f.type === 'trait_item');
    const api = plainPrivate
      ? null
      : rowClass === 'body'
        ? once('apiBody', anchor, () => publicApiChange(anchor, row, this.ctx))
        : publicApiChange(anchor, row, this.ctx);
    if (api) this.add('public_api', row, api.node, api.why);
    const schema = once('serde', anchor, () => serdeTypeChange(anchor, this.ctx));
    if (schema) {
      this.add('persistence_schema', row, schema.node, schema.why);
      if (schema.config) this.add('public_api', row, schema.node, `config schema: ${schema.why}`);
    }
  }

  /** Rules for a node that starts on a changed row. */
  private token(f: Frame): void {
    const row = f.sr;
    const frames = this.frames;
    const parent = frames[frames.length - 1]?.type ?? '';
    switch (f.type) {
      case 'unsafe':
        return this.add('unsafe_ffi', row, parent || f.type, '`unsafe` written or removed');
      case 'pointer_type':
        return this.add('unsafe_ffi', row, f.type, 'raw pointer type');
      case 'extern_modifier':
        return this.add('unsafe_ffi', row, f.type, 'extern ABI');
      case 'foreign_mod_item':
        return this.add('unsafe_ffi', row, f.type, 'extern block');
      case 'extern_crate_declaration':
        if (FFI_PATH_ROOTS.has(f.node?.childForFieldName('name')?.text ?? ''))
          this.add('unsafe_ffi', row, f.type, 'FFI crate');
        return;
      case 'async':
        return this.add('async_concurrency', row, parent || f.type, '`async` changed');
      case 'attribute_item':
        if (f.node) this.attribute(f.node, row);
        return;
      case 'macro_invocation':
        return this.macro(f, row);
      case 'scoped_identifier':
      case 'scoped_type_identifier':
      case 'scoped_use_list':
        return this.scopedPath(f, row);
      case 'static_item':
        if (/\bstatic\s+mut\b/.test(this.textOf(f).slice(0, 60))) {
          this.add('async_concurrency', row, f.type, 'static mut: shared state');
          this.sharedState = true;
        }
        return;
      case 'identifier':
      case 'type_identifier':
      case 'field_identifier':
        return this.identifier(f, parent, frames[frames.length - 2]?.type ?? '');
    }
  }

  private macro(f: Frame, row: number): void {
    const name = f.node?.childForFieldName('macro')?.text ?? '';
    if (/^(tokio::|futures::)?(select|join|try_join|pin)$/.test(name))
      this.add('async_concurrency', row, f.type, `${name}! changed`);
    if (/^(lazy_static|thread_local)$/.test(name)) {
      this.add('async_concurrency', row, f.type, `${name}! shared state`);
      this.sharedState = true;
    }
  }

  private scopedPath(f: Frame, row: number): void {
    const text = this.textOf(f);
    const root = text.split('::')[0]!.replace(/^::/, '').trim();
    if (FFI_PATH_ROOTS.has(root) || /^(std|core)::(ffi|os::raw)\b/.test(text))
      this.add('unsafe_ffi', row, f.type, `${root}:: path (FFI)`);
    // Spawning processes is what sandboxing and exec policy govern.
    if (/^(std::|tokio::|async_process::)?process::Command\b|^Command::new$|^(std::)?os::unix::process\b/.test(text))
      this.add('security_sandbox', row, f.type, `process execution: ${text}`);
  }

  private identifier(f: Frame, parent: string, grandparent: string): void {
    const row = f.sr;
    const text = this.textOf(f);
    const ws = words(text);
    const joined = ws.join('_');
    if (isConcurrencyIdentifier(f.type, text, ws, parent, grandparent)) {
      this.add('async_concurrency', row, f.type, text);
      if (
        SHARED_STATE_WORDS.has(joined) ||
        ws.some((w) => SHARED_STATE_WORDS.has(w)) ||
        text === 'Arc' ||
        /^(lock|try_lock|fetch_add|fetch_sub|compare_exchange|store|load|swap)$/.test(text)
      )
        this.sharedState = true;
    }
    // Security: identifiers that name credentials, crypto, sandboxing or permission logic.
    if (isSecurityIdentifier(ws, f.type, parent)) this.add('security_sandbox', row, f.type, `identifier ${text}`);
    // Persistence: identifiers that name formats and migrations.
    if (
      PERSISTENCE_WORDS.has(joined) ||
      ws.some((w) => w === 'migration' || w === 'migrations' || w === 'lockfile' || w === 'receipt')
    )
      this.add('persistence_schema', row, f.type, `identifier ${text}`);
  }

  private attribute(n: Node, row: number): void {
    const attr = n.namedChildren.find((c) => c?.type === 'attribute');
    const name = attr?.namedChildren[0]?.text ?? '';
    const args =
      attr?.namedChildren
        .slice(1)
        .map((c) => c?.text ?? '')
        .join(' ') ?? '';
    if (/^(no_mangle|export_name|link|link_name|link_section|unsafe)$/.test(name))
      this.add('unsafe_ffi', row, n, `#[${name}]`);
    if (name === 'derive') {
      const derived = args
        .replace(/[()\s]/g, '')
        .split(',')
        .map((d) => d.split('::').pop()!);
      if (derived.some((d) => d === 'Serialize' || d === 'Deserialize'))
        this.add('persistence_schema', row, n, 'serde derive changed');
      if (derived.some((d) => CLI_DERIVES.has(d))) this.add('public_api', row, n, 'CLI surface: clap derive changed');
    }
    if (name === 'serde') this.add('persistence_schema', row, n, '#[serde(...)] changed');
    if (CLI_ATTRS.has(name)) this.add('public_api', row, n, `CLI surface: #[${name}(...)] changed`);
  }
}

const CONCURRENCY_PARTS = [
  'mutex',
  'rwlock',
  'atomic',
  'semaphore',
  'condvar',
  'mpsc',
  'oneshot',
  'crossbeam',
  'rayon',
  'joinhandle',
  'joinset',
];
const CONCURRENCY_NAMES = new Set(['Arc', 'spawn', 'spawn_blocking', 'spawn_local', 'JoinHandle', 'JoinSet']);
const LOCK_METHOD =
  /^(lock|try_lock|read_lock|write_lock|lock_exclusive|lock_shared|fetch_add|fetch_sub|compare_exchange|swap|store|load)$/;
const GENERIC_WORD = /^(join|select|send|sync|watch|notify|cancel|abort|thread|timeout|barrier|channel|broadcast)$/;

/** A type or call that means threads, tasks, channels, locks or atomics (and not a generic word). */
function isConcurrencyIdentifier(type: string, text: string, ws: string[], parent: string, gp: string): boolean {
  const joined = ws.join('_');
  const scoped = parent === 'scoped_identifier' || parent === 'scoped_type_identifier';
  const methodCall = parent === 'field_expression' && gp === 'call_expression';
  const conc =
    CONCURRENCY_WORDS.has(joined) ||
    ws.some((w) => CONCURRENCY_PARTS.includes(w)) ||
    CONCURRENCY_NAMES.has(text) ||
    (type === 'field_identifier' && methodCall && LOCK_METHOD.test(text)) ||
    (type === 'type_identifier' &&
      (text === 'Send' || text === 'Sync') &&
      (parent === 'trait_bounds' || parent === 'impl_item'));
  const generic = GENERIC_WORD.test(joined) && !scoped && type !== 'type_identifier';
  return conc && !generic;
}

function attributesOf(n: Node): string[] {
  return once('attrs', n, () => attributesOfUncached(n));
}
function attributesOfUncached(n: Node): string[] {
  const out: string[] = [];
  for (
    let s = n.previousNamedSibling;
    s && (s.type === 'attribute_item' || COMMENTS.has(s.type));
    s = s.previousNamedSibling
  ) {
    if (s.type === 'attribute_item') out.push(s.text);
  }
  return out;
}

const TEST_ATTR = /#\[\s*(cfg\s*\(\s*test\s*\)|(tokio::|async_std::)?test\b|rstest|test_case|bench|proptest)/;
function inTestItem(n: Node): boolean {
  return (n.type === 'mod_item' || n.type === 'function_item') && attributesOf(n).some((a) => TEST_ATTR.test(a));
}

const hasChildToken = (n: Node, type: string) => n.children.some((c) => c?.type === type);
function hasModifier(n: Node, mod: string): boolean {
  const mods = n.children.find((c) => c?.type === 'function_modifiers');
  return !!mods && mods.children.some((c) => c?.type === mod);
}
function hasExternAbi(n: Node): boolean {
  const mods = n.children.find((c) => c?.type === 'function_modifiers');
  return !!mods && mods.children.some((c) => c?.type === 'extern_modifier');
}

/** `pub` exactly: pub(crate), pub(super) and pub(in ...) are not visible outside the crate. */
function isExported(item: Node): boolean {
  return once('exported', item, () => isExportedUncached(item));
}
function isExportedUncached(item: Node): boolean {
  const vis = item.children.find((c) => c?.type === 'visibility_modifier');
  if (!vis || vis.text.replace(/\s/g, '') !== 'pub') return false;
  for (let p = item.parent; p; p = p.parent) {
    if (p.type === 'function_item' || p.type === 'block') return false;
    if (p.type === 'mod_item') {
      const v = p.children.find((c) => c?.type === 'visibility_modifier');
      if (!v || v.text.replace(/\s/g, '') !== 'pub' || inTestItem(p)) return false;
    }
  }
  return true;
}

type ApiChange = { node: Node; why: string } | null;

const isPubExactly = (c: Node | null) => c?.type === 'visibility_modifier' && c.text.replace(/\s/g, '') === 'pub';

function publicApiChange(anchor: Node, row: number, ctx: RustContext): ApiChange {
  if (!ctx.isLib || ctx.moduleExported === false) return null;
  // The innermost item around the change, and whether the change is in its signature or only its body.
  // An attribute line belongs to the item after it; only attributes that change what users get count.
  const attr = anchor.type === 'attribute_item' ? anchor : ancestorOfType(anchor, ['attribute_item']);
  if (attr) return attributeApiChange(attr);
  let item: Node | null = anchor;
  while (item && !ITEMS.has(item.type) && item.type !== 'field_declaration' && item.type !== 'enum_variant')
    item = item.parent;
  if (!item) return null;
  if (item.type === 'field_declaration') {
    const owner = ancestorOfType(item, ['struct_item', 'union_item', 'enum_item']);
    return owner && isExported(owner) && item.children.some(isPubExactly)
      ? { node: item, why: `pub field of pub ${kindWord(owner)} ${nameOf(owner)} changed` }
      : null;
  }
  if (item.type === 'enum_variant') {
    const owner = ancestor(item, 'enum_item');
    return owner && isExported(owner) ? { node: item, why: `variant of pub enum ${nameOf(owner)} changed` } : null;
  }
  return itemApiChange(item, row);
}

/** An attribute line: it belongs to the item (or field, or variant) after it. */
function attributeApiChange(attr: Node): ApiChange {
  const name = attr.namedChildren.find((c) => c?.type === 'attribute')?.namedChildren[0]?.text ?? '';
  if (!API_ATTRS.has(name)) return null;
  let next = attr.nextNamedSibling;
  while (next && (next.type === 'attribute_item' || COMMENTS.has(next.type))) next = next.nextNamedSibling;
  if (!next) return null;
  if (next.type === 'field_declaration' || next.type === 'enum_variant') {
    const owner = ancestorOfType(next, ['struct_item', 'union_item', 'enum_item']);
    const variant = next.type === 'enum_variant';
    const pubField = variant || next.children.some(isPubExactly);
    return owner && isExported(owner) && pubField
      ? { node: next, why: `#[${name}] on a public ${variant ? 'variant' : 'field'} of ${nameOf(owner)} changed` }
      : null;
  }
  if (ITEMS.has(next.type) && isExported(next))
    return { node: next, why: `#[${name}] of pub ${kindWord(next)} ${nameOf(next)} changed` };
  return null;
}

/** A change on `row` of an item: its signature (or head) is API when the item is exported. */
function itemApiChange(item: Node, row: number): ApiChange {
  const body = once('body', item, () => item.childForFieldName('body'));
  const inSignature =
    !body ||
    row < body.startPosition.row ||
    (row === body.startPosition.row && row === item.startPosition.row) ||
    item.type === 'trait_item' ||
    item.type === 'impl_item';
  const head = row === item.startPosition.row;
  switch (item.type) {
    case 'function_item':
    case 'function_signature_item':
      return fnApiChange(item, inSignature);
    case 'impl_item': {
      // Adding or removing a trait impl for a type is API; editing inside it is handled per method above.
      const trait = item.childForFieldName('trait');
      return head && trait
        ? { node: item, why: `impl ${trait.text} for ${item.childForFieldName('type')?.text ?? '?'} changed` }
        : null;
    }
    case 'mod_item':
      return head && isExported(item) ? { node: item, why: `pub mod ${nameOf(item)} changed` } : null;
    case 'struct_item':
    case 'union_item':
    case 'enum_item': {
      if (!isExported(item)) return null;
      const fields = item.childForFieldName('body');
      const tuple = fields?.type === 'ordered_field_declaration_list';
      if (fields && row > fields.startPosition.row && !tuple && item.type !== 'enum_item') return null; // private field
      return { node: item, why: `pub ${kindWord(item)} ${nameOf(item)} changed` };
    }
    case 'macro_definition':
      return attributesOf(item).some((a) => /macro_export/.test(a))
        ? { node: item, why: `exported macro ${nameOf(item)} changed` }
        : null;
  }
  if (!isExported(item)) return null;
  return { node: item, why: `pub ${kindWord(item)} ${nameOf(item)} changed` };
}

function fnApiChange(item: Node, inSignature: boolean): ApiChange {
  const trait = ancestor(item, 'trait_item');
  if (trait) {
    if (!isExported(trait)) return null;
    return inSignature || item.type === 'function_signature_item'
      ? { node: item, why: `trait item of pub trait ${nameOf(trait)} changed` }
      : null;
  }
  const impl = ancestor(item, 'impl_item');
  if (impl && impl.childForFieldName('trait')) return null; // a trait impl's method signatures are fixed by the trait
  if (!isExported(item) || !inSignature) return null;
  if (impl && privateTypeInFile(impl)) return null; // methods of a type the crate does not export
  return { node: item, why: `pub fn ${nameOf(item)} signature changed` };
}

function serdeTypeChange(anchor: Node, ctx: RustContext): { node: Node; why: string; config: boolean } | null {
  const owner = ancestorOfType(anchor, ['struct_item', 'enum_item', 'union_item']);
  if (!owner || ancestor(owner, 'function_item')) return null;
  const attrs = attributesOf(owner).join(' ');
  const m = /derive\s*\(([^)]*)\)/g;
  let derives = '';
  for (let x = m.exec(attrs); x; x = m.exec(attrs)) derives += `${x[1]},`;
  const ser = /\bSerialize\b/.test(derives),
    de = /\bDeserialize\b/.test(derives);
  if (!ser && !de) return null;
  const name = nameOf(owner);
  const config = de && (CONFIG_TYPE_NAME.test(name) || /(^|\/)(config|settings)(\/|\.rs$|_)/.test(ctx.path));
  return {
    node: owner,
    why: `serde ${[ser && 'Serialize', de && 'Deserialize'].filter(Boolean).join('/')} type ${name} changed`,
    config,
  };
}

/** The impl's type is declared in this file without `pub` (so its methods are not reachable from outside). */
function privateTypeInFile(impl: Node): boolean {
  return once('privateType', impl, () => privateTypeInFileUncached(impl));
}
function privateTypeInFileUncached(impl: Node): boolean {
  const typeName = impl.childForFieldName('type')?.text.replace(/<.*$/s, '').trim();
  if (!typeName) return false;
  const scope = impl.parent;
  for (const c of scope?.namedChildren ?? []) {
    if (!c || !['struct_item', 'enum_item', 'union_item', 'type_item'].includes(c.type)) continue;
    if (c.childForFieldName('name')?.text === typeName) return !isExported(c);
  }
  return false;
}

function ancestor(n: Node, type: string): Node | null {
  return once(`anc:${type}`, n, () => {
    for (let p = n.parent; p; p = p.parent) if (p.type === type) return p;
    return null;
  });
}
function ancestorOfType(n: Node, types: string[]): Node | null {
  return once(`ancOf:${types.join(',')}`, n, () => {
    for (let p: Node | null = n; p; p = p.parent) if (types.includes(p.type)) return p;
    return null;
  });
}
const nameOf = (n: Node) => n.childForFieldName('name')?.text ?? n.childForFieldName('type')?.text ?? '?';
const kindWord = (n: Node) =>
  n.type
    .replace(/_item$|_declaration$/, '')
    .replace('function', 'fn')
    .replace('_', ' ');

const HASH_WORDS = new Set(['sha1', 'sha2', 'sha256', 'sha384', 'sha512', 'blake2', 'blake3', 'md5', 'digest']);

function isSecurityIdentifier(ws: string[], type: string, parent: string): boolean {
  const hits = ws.filter((w) => SECURITY_WORDS.has(w));
  if (hits.length > 0) {
    // A hash named as data (a `sha256` field, a `digest` variable) is a format, not crypto code:
    // hashing counts where a hasher type, path or call is used.
    if (hits.every((w) => HASH_WORDS.has(w))) {
      const used = type === 'type_identifier' || /^scoped_|use_|call_expression|generic_type/.test(parent);
      if (!used) return false;
    }
    return true;
  }
  const joined = ws.join('_');
  if (
    /^(api_key|access_key|private_key|secret_key|signing_key|session_key|client_secret|exec_policy|execpolicy)$/.test(
      joined,
    ) ||
    /(api_key|private_key|client_secret|exec_policy)/.test(joined)
  )
    return true;
  if (ws.includes('token') || ws.includes('tokens')) {
    if (ws.some((w) => TOKEN_LEXER_CONTEXT.has(w))) return false;
    return ws.some((w) => TOKEN_CREDENTIAL_CONTEXT.has(w) && w !== 'token' && w !== 'tokens');
  }
  return false;
}
