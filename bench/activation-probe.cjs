// Loads dist/extension.js with a stand-in `vscode` module and times require + activate().
// Run in a fresh process per sample (module caches would otherwise hide the load cost).
const Module = require('node:module');
const path = require('node:path');

function fake(name = 'vscode') {
  const fn = function () {
    return fake(`${name}()`);
  };
  return new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined; // not a promise
      if (prop === Symbol.toPrimitive) return () => `/tmp/${name}`;
      if (prop === 'fsPath' || prop === 'path') return `/tmp/switchyard-bench/${String(prop)}`;
      if (prop === 'workspaceFolders') return undefined;
      return fake(`${name}.${String(prop)}`);
    },
    set() {
      return true;
    },
    apply() {
      return fake(`${name}()`);
    },
    construct() {
      return fake(`new ${name}`);
    },
  });
}
// The top level is a plain object (esbuild copies a module's own properties); below it, anything goes.
const vscode = Object.fromEntries(
  [
    'window',
    'workspace',
    'commands',
    'languages',
    'extensions',
    'env',
    'Uri',
    'EventEmitter',
    'StatusBarAlignment',
    'ThemeColor',
    'MarkdownString',
    'CodeAction',
    'CodeActionKind',
    'Diagnostic',
    'DiagnosticSeverity',
    'Range',
    'ViewColumn',
    'TabInputWebview',
    'Disposable',
    'ExtensionMode',
  ].map((k) => [k, fake(`vscode.${k}`)]),
);
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

const t0 = performance.now();
const ext = require(path.resolve(process.argv[2] || 'dist/extension.js'));
const t1 = performance.now();
const api = ext.activate({
  subscriptions: [],
  extensionUri: vscode.Uri,
  globalStorageUri: vscode.Uri,
  secrets: vscode,
});
const t2 = performance.now();
process.stdout.write(
  JSON.stringify({ requireMs: t1 - t0, activateMs: t2 - t1, reportedMs: (api.testing ?? api).activationMs }),
);
// The extension keeps working after activate() (it follows the budget ledger): the probe has measured what it
// came for, so it ends here instead of waiting for those watchers.
process.exit(0);
