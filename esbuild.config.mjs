// One esbuild config, three targets (extension, CLI, webviews) plus the extension-host test bundles.
// Usage: node esbuild.config.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { nodeShim as shim, treeSitterNodeModule, vscodeOnce } from './scripts/esbuild-shims.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// mainFields: prefer ESM builds; jsonc-parser's UMD build hides its requires from the bundler.
// keepNames: error classes are told apart by name (the SDKs' APIConnectionError and friends), minified or not.
const base = {
  mainFields: ['module', 'main'],
  bundle: true,
  sourcemap: !production,
  minify: production,
  keepNames: true,
  logLevel: 'warning',
  legalComments: 'none',
};

// ESM-only dependencies (web-tree-sitter's loader) read import.meta.url and import Node's `module`: see scripts/esbuild-shims.mjs.
const nodeShim = { ...shim, plugins: [treeSitterNodeModule] };
const extensionShim = { ...shim, plugins: [treeSitterNodeModule, vscodeOnce] };

const targets = [
  // The extension: Node, CommonJS, `vscode` provided by the host.
  // dist/lazy.js holds what needs the validator (zod) and is required on first use, so activation stays light.
  {
    ...base,
    entryPoints: {
      extension: 'src/vscode/extension.ts',
      lazy: 'src/vscode/lazy.ts',
      indexWorker: 'src/core/retrieval/indexWorker.ts',
    },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', './lazy.js'],
    ...extensionShim,
  },
  // The CLI: the same core, no editor.
  {
    ...base,
    entryPoints: { cli: 'src/cli/bin.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    ...nodeShim,
  }, // keeps main.ts's #! line
  // Webviews: the browser.
  {
    ...base,
    entryPoints: Object.fromEntries(
      readdirSync('media/src')
        .filter((f) => f.endsWith('.ts'))
        .map((f) => [f.replace(/\.ts$/, ''), `media/src/${f}`]),
    ),
    outdir: 'dist/media',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];
if (!production) {
  // Extension-host tests (mocha inside VS Code) and the @vscode/test-electron launcher.
  targets.push({
    ...base,
    entryPoints: { 'suite/index': 'test/vscode/suite/index.ts', runElectron: 'test/vscode/runElectron.ts' },
    outdir: 'dist/test',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', '@vscode/test-electron'],
  });
}

if (production) rmSync('dist', { recursive: true, force: true }); // no stale maps or test bundles in a package
mkdirSync('dist/media', { recursive: true });
copyFileSync('media/webview.css', 'dist/media/webview.css');
// Codicons (the icon font of VS Code) for the webviews.
for (const f of ['codicon.css', 'codicon.ttf'])
  copyFileSync(`node_modules/@vscode/codicons/dist/${f}`, `dist/media/${f}`);
// Tree-sitter's runtime and grammars, next to the bundles that load them (dist/grammars).
mkdirSync('dist/grammars', { recursive: true });
copyFileSync('node_modules/web-tree-sitter/web-tree-sitter.wasm', 'dist/grammars/web-tree-sitter.wasm');
for (const g of [
  'tree-sitter-rust/tree-sitter-rust',
  'tree-sitter-typescript/tree-sitter-typescript',
  'tree-sitter-typescript/tree-sitter-tsx',
  'tree-sitter-javascript/tree-sitter-javascript',
  'tree-sitter-python/tree-sitter-python',
]) {
  copyFileSync(`node_modules/${g}.wasm`, `dist/grammars/${g.split('/')[1]}.wasm`);
}
if (watch) {
  for (const t of targets) await (await esbuild.context(t)).watch();
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
