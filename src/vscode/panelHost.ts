// One webview panel with a typed message table: created or revealed, restored after a reload (the
// serializer calls attach), a ready handshake, and every incoming message validated before it is acted on.
import * as vscode from 'vscode';
import type { z } from 'zod';
import { webviewHtml, webviewOptions } from './webviewHtml.js';

export abstract class PanelHost<In extends { type: string }, Out> implements vscode.Disposable {
  protected panel: vscode.WebviewPanel | undefined;
  private ready = false;
  protected readonly disposables: vscode.Disposable[] = [];

  constructor(protected readonly extensionUri: vscode.Uri, protected readonly log: vscode.LogOutputChannel,
    private readonly view: { type: string; script: string; title: string; incoming: z.ZodType<In> }) {}

  /** Handles a validated message other than `ready`. */
  protected abstract onMessage(msg: In): void;
  /** The state to send now (after ready, and whenever it changes). */
  protected abstract state(): Out | null;

  show(): void {
    if (this.panel) { this.panel.reveal(); this.post(); return; }
    this.attach(vscode.window.createWebviewPanel(this.view.type, this.view.title, vscode.ViewColumn.Active, webviewOptions(this.extensionUri)));
  }

  attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, this.view.script, this.view.title);
    panel.webview.onDidReceiveMessage((raw) => this.receive(raw), undefined, this.disposables);
    panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.disposables);
  }

  private receive(raw: unknown): void {
    const msg = this.view.incoming.safeParse(raw);
    if (!msg.success) { this.log.warn(`${this.view.script} view: dropped an invalid message: ${JSON.stringify(raw)?.slice(0, 200)}`); return; }
    if (msg.data.type === 'ready') { this.ready = true; this.post(); return; }
    this.onMessage(msg.data);
  }

  protected post(): void {
    if (!this.panel || !this.ready) return;
    const s = this.state();
    if (s !== null) void this.panel.webview.postMessage(s);
  }

  dispose(): void { this.panel?.dispose(); for (const d of this.disposables.splice(0)) d.dispose(); }
}
