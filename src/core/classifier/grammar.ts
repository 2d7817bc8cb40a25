// Tree-sitter grammars, loaded lazily and once (WASM: no native modules in the extension).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';

const GRAMMARS = {
  rust: 'tree-sitter-rust.wasm',
  typescript: 'tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-tsx.wasm',
  javascript: 'tree-sitter-javascript.wasm',
  python: 'tree-sitter-python.wasm',
} as const;
export type GrammarName = keyof typeof GRAMMARS;

let init: Promise<void> | undefined;
export const grammarStats = { initMs: 0, loads: 0, fastTransfers: false };

/** Where the .wasm files are: next to the bundle (dist/grammars) or in node_modules during development. */
const located = new Map<string, string>();
function locate(file: string): string {
  const known = located.get(file);
  if (known) return known;
  const candidates = [
    process.env.SWITCHYARD_GRAMMARS_DIR && join(process.env.SWITCHYARD_GRAMMARS_DIR, file),
    join(__dirname, 'grammars', file),
    join(__dirname, '..', 'grammars', file),
  ];
  // Next to the bundle first; resolving packages in node_modules (development) costs milliseconds each.
  let found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) {
    for (const pkg of [
      'tree-sitter-rust/package.json',
      'tree-sitter-typescript/package.json',
      'tree-sitter-javascript/package.json',
      'tree-sitter-python/package.json',
      'web-tree-sitter',
    ]) {
      try {
        const c = join(dirname(require.resolve(pkg)), file);
        candidates.push(c);
        if (existsSync(c)) {
          found = c;
          break;
        }
      } catch {
        /* not installed */
      }
    }
  }
  if (!found) throw new Error(`grammar file ${file} not found (looked in: ${candidates.filter(Boolean).join(', ')})`);
  located.set(file, found);
  return found;
}

/** The Emscripten module web-tree-sitter runs on (the options given to Parser.init become it). */
interface EmscriptenModule {
  locateFile: (f: string) => string;
  setValue?: (ptr: number, value: number, type?: string) => void;
  getValue?: (ptr: number, type?: string) => number;
  HEAP32?: Int32Array;
}

/**
 * web-tree-sitter moves every cursor step and node through a transfer buffer with Emscripten's generic
 * setValue/getValue, which look at the type's name as a string on every call: about an eighth of a warm
 * classification. Emscripten makes the options object given to Parser.init the module itself (MODULARIZE:
 * `Module = moduleArg`) and web-tree-sitter calls these through it, so their "i32" case is answered here
 * straight from HEAP32 (looked up on each call: Emscripten replaces it when memory grows), the rest by the
 * originals. Only on little-endian hosts (every platform VS Code runs on), where HEAP32 is what Emscripten's
 * little-endian stores write; anything unexpected leaves the module as it was.
 */
export function fastTransfers(mod: EmscriptenModule): boolean {
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const set = mod.setValue,
    get = mod.getValue;
  if (!little || typeof set !== 'function' || typeof get !== 'function' || !(mod.HEAP32 instanceof Int32Array))
    return false;
  mod.setValue = (ptr, value, type = 'i8') => {
    if (type === 'i32') mod.HEAP32![ptr >> 2] = value;
    else set(ptr, value, type);
  };
  mod.getValue = (ptr, type = 'i8') => (type === 'i32' ? mod.HEAP32![ptr >> 2]! : get(ptr, type));
  grammarStats.fastTransfers = true;
  return true;
}

/**
 * One parser per grammar, made once and reused: parsing is synchronous, so callers never share one
 * at the same time, and a parser per call would leave WASM memory behind.
 */
const parsers = new Map<GrammarName, Promise<Parser>>();

export function parserFor(name: GrammarName): Promise<Parser> {
  let p = parsers.get(name);
  if (!p) {
    const t0 = performance.now();
    // The grammar compiles (V8 compiles WASM off the main thread) while the runtime starts: the two overlap.
    const compiled = readFile(locate(GRAMMARS[name])).then((bytes) => WebAssembly.compile(bytes));
    if (!init) {
      const mod: EmscriptenModule = { locateFile: (f: string) => locate(f) };
      init = Parser.init(mod).then(() => {
        fastTransfers(mod);
      });
    }
    p = Promise.all([init, compiled]).then(([, mod]) => {
      const lang = Language.loadSync(mod);
      grammarStats.loads++;
      grammarStats.initMs = performance.now() - t0;
      const parser = new Parser();
      parser.setLanguage(lang);
      return parser;
    });
    p.catch(() => parsers.delete(name)); // a failed load may be retried
    parsers.set(name, p);
  }
  return p;
}
