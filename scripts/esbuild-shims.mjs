// What CommonJS bundles of ESM-only dependencies need on Node (shared by esbuild.config.mjs and the benches, so
// that what is measured is what ships).
import { readFile } from 'node:fs/promises';

/** web-tree-sitter reads import.meta.url; a CommonJS bundle gets a real one, and Node's `module` up front. */
export const nodeShim = {
  define: { 'import.meta.url': '__sy_import_meta_url' },
  banner: {
    js: "var __sy_import_meta_url = require('url').pathToFileURL(__filename).href; var __sy_node_module = require('module');",
  },
};

/**
 * web-tree-sitter's Emscripten loader starts with `await import("module")` to make a `require`. In a CommonJS
 * bundle that dynamic import starts Node's whole ESM loader before the runtime's WASM is even fetched (about
 * 5 ms of the grammar's first load here). The module is handed over from the banner instead; a later
 * web-tree-sitter without that line is left as it is.
 */
export const treeSitterNodeModule = {
  name: 'web-tree-sitter-node-module',
  setup(build) {
    build.onLoad({ filter: /web-tree-sitter[\\/]web-tree-sitter\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      return { contents: src.replace('await import("module")', '__sy_node_module'), loader: 'js' };
    });
  },
};

/**
 * Every module of the extension imports `vscode`; esbuild would wrap the host's API object once per importing module
 * (an ESM namespace copy with a getter per property), each on load. One ESM module re-exports it instead, so it
 * is wrapped once and the modules share it.
 */
export const vscodeOnce = {
  name: 'vscode-once',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.namespace === 'vscode-once'
        ? { path: 'vscode', external: true }
        : { path: 'vscode', namespace: 'vscode-once' },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-once' }, () => ({
      contents: "export * from 'vscode';",
      loader: 'js',
    }));
  },
};
