import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';

let css: string | undefined;

/**
 * Locked-down webview HTML: default-src 'none', one nonce'd script from dist/media and one nonce'd style.
 * The stylesheet is inlined and the icon font is linked by the script after the first render, so that
 * nothing but the script itself stands between the panel and its first paint.
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', f));
  css ??= readFileSync(vscode.Uri.joinPath(extensionUri, 'dist', 'media', 'webview.css').fsPath, 'utf8').replace(/<\//g, '<\\/');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'nonce-${nonce}'; img-src ${webview.cspSource} data:; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${css}</style>
<title>${title}</title></head>
<body class="${name}" data-codicons="${media('codicon.css')}"><main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${media(`${name}.js`)}"></script></body></html>`;
}

export const webviewOptions = (extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions => ({
  enableScripts: true,
  enableCommandUris: false,
  retainContextWhenHidden: false,
  localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
});
