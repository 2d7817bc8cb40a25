// Tree-sitter grammars, loaded lazily and once (WASM: no native modules in the extension).
import { existsSync } from 'node:fs';
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
const languages = new Map<GrammarName, Promise<Language>>();
export const grammarStats = { initMs: 0, loads: 0 };

/** Where the .wasm files are: next to the bundle (dist/grammars) or in node_modules during development. */
function locate(file: string): string {
  const candidates = [
    process.env.SWITCHYARD_GRAMMARS_DIR && join(process.env.SWITCHYARD_GRAMMARS_DIR, file),
    join(__dirname, 'grammars', file),
    join(__dirname, '..', 'grammars', file),
  ];
  for (const pkg of ['tree-sitter-rust/package.json', 'tree-sitter-typescript/package.json', 'tree-sitter-javascript/package.json', 'tree-sitter-python/package.json', 'web-tree-sitter']) {
    try { candidates.push(join(dirname(require.resolve(pkg)), file)); } catch { /* not installed */ }
  }
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found) throw new Error(`grammar file ${file} not found (looked in: ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

export async function parserFor(name: GrammarName): Promise<Parser> {
  const t0 = performance.now();
  init ??= Parser.init({ locateFile: (f: string) => locate(f) });
  await init;
  let lang = languages.get(name);
  if (!lang) {
    lang = Language.load(locate(GRAMMARS[name]));
    languages.set(name, lang);
    grammarStats.loads++;
    const l = await lang;
    grammarStats.initMs = performance.now() - t0;
    const p = new Parser(); p.setLanguage(l); return p;
  }
  const p = new Parser();
  p.setLanguage(await lang);
  return p;
}
