import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Locked-down webview HTML: default-src 'none', one nonce'd script, styles and scripts only from dist/media. */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, name: string, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'media', f));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource} data:; font-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('codicon.css')}">
<link rel="stylesheet" href="${media('webview.css')}">
<title>${title}</title></head>
<body class="${name}"><main id="app" aria-live="polite"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${media(`${name}.js`)}"></script></body></html>`;
}

export const webviewOptions = (extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions => ({
  enableScripts: true,
  enableCommandUris: false,
  retainContextWhenHidden: false,
  localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
});
