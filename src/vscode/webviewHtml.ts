import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as vscode from 'vscode';
import { embedJson } from '../core/protocol/embed.js';

/** A view's script up to this size goes inside its HTML; a larger one is linked (see webviewHtml). */
const INLINE_SCRIPT_MAX = 48 * 1024;
const media = (extensionUri: vscode.Uri, f: string) => vscode.Uri.joinPath(extensionUri, 'dist', 'media', f);
let css: string | undefined;
/** Each view's script as inline text, or null when it is linked: decided once (a package's files do not change). */
const inline = new Map<string, string | null>();
function inlineScript(extensionUri: vscode.Uri, name: string): string | null {
  let js = inline.get(name);
  if (js === undefined) {
    const path = media(extensionUri, `${name}.js`).fsPath;
    js = statSync(path).size <= INLINE_SCRIPT_MAX ? readFileSync(path, 'utf8') : null;
    if (js !== null && /<\/script|<!--/i.test(js)) js = null; // could not sit inside <script> as is
    inline.set(name, js);
  }
  return js;
}

/**
 * Locked-down webview HTML: default-src 'none', scripts and styles only with a nonce from crypto. The stylesheet
 * is inlined, and so is the view's script when it is small (the shell of the Tutor, the plan review): every file
 * a webview fetches goes through VS Code's service worker and the workbench, so a view whose first paint needs
 * no fetch opens sooner. What is not needed for the first paint (the icon font, the Tutor's Markdown renderer)
 * is added by the view afterwards, from the URLs on <body> (`lazy`: data attribute name -> file in dist/media).
 * `initial` is the view's first state, carried as a JSON block (see embed.ts) and drawn before the view says ready.
 */
export function webviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  name: string,
  title: string,
  lazy: Record<string, string> = {},
  initial: unknown = null,
): string {
  const nonce = randomBytes(16).toString('base64');
  const url = (f: string) => webview.asWebviewUri(media(extensionUri, f)).toString();
  css ??= readFileSync(media(extensionUri, 'webview.css').fsPath, 'utf8').replace(/<\//g, '<\\/');
  const js = inlineScript(extensionUri, name);
  const data = Object.entries({ codicons: 'codicon.css', ...lazy })
    .map(([k, f]) => ` data-${k}="${url(f)}"`)
    .join('');
  return (
    `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" ` +
    `content="default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; img-src ${webview.cspSource} ` +
    `data:; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" ` +
    `content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${css}</style>
<title>${title}</title></head>
<body ` +
    `class="${name}"${data}><main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
${
  initial !== null
    ? `<script type="application/json" id="initial-state" nonce="${nonce}">${embedJson(initial)}</script>
`
    : ''
}${js !== null ? `<script nonce="${nonce}">${js}</script>` : `<script nonce="${nonce}" src="${url(`${name}.js`)}"></script>`}</body></html>`
  );
}

export const webviewOptions = (
  extensionUri: vscode.Uri,
  retainContextWhenHidden = false,
): vscode.WebviewPanelOptions & vscode.WebviewOptions => ({
  enableScripts: true,
  enableCommandUris: false,
  retainContextWhenHidden,
  localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
});
