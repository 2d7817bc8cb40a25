// One webview panel with a typed message table: created or revealed, restored after a reload (the
// serializer calls attach), a ready handshake, and every incoming message validated before it is acted on.
import * as vscode from 'vscode';
import type { z } from 'zod';
import { validateMessage } from '../core/protocol/validate.js';
import { webviewHtml, webviewOptions } from './webviewHtml.js';

export abstract class PanelHost<In extends { type: string }, Out> implements vscode.Disposable {
  protected panel: vscode.WebviewPanel | undefined;
  private ready = false;
  /** When a new panel was asked for; cleared at the view's ready message. */
  private openedAt: number | null = null;
  /** From the command to the view's ready message (the panel-open figure), and the view's own share of it. */
  openMs: number | null = null;
  viewLoadMs: number | null = null;
  protected readonly disposables: vscode.Disposable[] = [];

  constructor(
    protected readonly extensionUri: vscode.Uri,
    protected readonly log: vscode.LogOutputChannel,
    private readonly view: {
      type: string;
      script: string;
      title: string;
      incoming: z.ZodType<In>;
      /** Keep the view alive in a background tab (a chat that streams, a review being edited): coming back is instant. */
      retain?: boolean;
      /** Files the view adds after its first paint: data attribute name -> file in dist/media. */
      lazy?: Record<string, string>;
    },
  ) {}

  /** Handles a validated message other than `ready`. */
  protected abstract onMessage(msg: In): void | Promise<void>;
  /** The state to send now (after ready, and whenever it changes). */
  protected abstract state(): Out | null;
  /** The state carried in the HTML for the view's first paint (it is sent again after ready). */
  protected initial(): Out | null {
    return this.state();
  }

  show(column: vscode.ViewColumn = vscode.ViewColumn.Active): void {
    if (this.panel) {
      this.panel.reveal();
      this.post();
      return;
    }
    this.openedAt = performance.now();
    this.attach(
      vscode.window.createWebviewPanel(
        this.view.type,
        this.view.title,
        column,
        webviewOptions(this.extensionUri, this.view.retain),
      ),
    );
  }

  get visible(): boolean {
    return this.panel !== undefined;
  }

  attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = webviewOptions(this.extensionUri, this.view.retain);
    panel.webview.html = webviewHtml(
      panel.webview,
      this.extensionUri,
      this.view.script,
      this.view.title,
      this.view.lazy,
      this.initial(),
    );
    panel.webview.onDidReceiveMessage((raw) => this.receive(raw), undefined, this.disposables);
    panel.onDidDispose(
      () => {
        this.panel = undefined;
      },
      undefined,
      this.disposables,
    );
  }

  private receive(raw: unknown): void {
    const msg = validateMessage(this.view.incoming, raw, this.view.script, (s) => this.log.warn(s));
    if (!msg) return;
    if (msg.type === 'ready') {
      this.ready = true;
      if (this.openedAt !== null) {
        const ms = (msg as { ms?: number }).ms;
        this.openMs = performance.now() - this.openedAt;
        this.viewLoadMs = ms ?? null;
        this.openedAt = null;
        this.log.info(
          `${this.view.script} view: panel ready in ${this.openMs.toFixed(0)} ms` +
            (ms !== undefined ? ` (the view's own load: ${ms.toFixed(0)} ms)` : ''),
        );
      }
    }
    void Promise.resolve(this.onMessage(msg)).catch((e: unknown) =>
      this.log.error(`${this.view.script} view: ${(e as Error).message}`),
    );
    if (msg.type === 'ready') this.post();
  }

  protected post(): void {
    const s = this.state();
    if (s !== null) this.send(s);
  }

  /** Posts one message to the view once it said it is ready (earlier ones would be lost: it re-asks with `ready`). */
  protected send(msg: Out): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(msg);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
