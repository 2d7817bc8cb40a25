// Stage 0 in the editor: the workspace index (built once with a progress notification, then kept up to date
// as files are saved, created and deleted), "Search Context (Stage 0)" with every score explained, the context
// block the Architect, Implementer and Judge start from, and "Ask the Workspace Sources" (citation-grounded
// synthesis through NotebookLM or the local summariser).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { callerEmbedder } from '../core/retrieval/embeddings.js';
import { explainLine } from '../core/retrieval/rank.js';
import { Stage0, type BuildStats, type ContextBlock } from '../core/retrieval/stage0.js';
import { renderSynth, synthesise } from '../core/retrieval/synth.js';
import { loadText } from '../core/retrieval/walk.js';
import { relativeInside } from '../core/util/paths.js';
import { config } from './config.js';
import { signalOf, type EditorModelCalls } from './modelCalls.js';

export class Stage0Service implements vscode.Disposable {
  private stage0: Stage0 | null = null;
  private building: Promise<Stage0> | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  last: BuildStats | null = null;

  private readonly calls: () => EditorModelCalls;
  private readonly log: vscode.LogOutputChannel;

  constructor(deps: { calls: () => EditorModelCalls; log: vscode.LogOutputChannel }) {
    this.calls = deps.calls;
    this.log = deps.log;
    const rel = (uri: vscode.Uri) => {
      const root = this.root();
      return root && uri.scheme === 'file' ? relativeInside(vscode.workspace.asRelativePath(uri, false)) : null;
    };
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    this.disposables.push(
      watcher,
      vscode.workspace.onDidSaveTextDocument((d) => {
        const p = rel(d.uri);
        if (p && this.stage0) void this.stage0.refresh(p);
      }),
      watcher.onDidCreate((u) => {
        const p = rel(u);
        if (p && this.stage0) void this.stage0.refresh(p);
      }),
      watcher.onDidDelete((u) => {
        const p = rel(u);
        if (p && this.stage0) this.stage0.forget(p);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (config.affects(e, 'context')) {
          this.stage0 = null;
          this.log.info('Stage 0: settings changed; the index is rebuilt on next use');
        }
      }),
    );
  }

  private root(): string | null {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
  }

  /** The index, built on first use with a progress notification the user can cancel. */
  async index(force = false): Promise<Stage0 | null> {
    const root = this.root();
    if (!root) return null;
    if (this.stage0 && !force) return this.stage0;
    if (this.building) return this.building;
    const embeddings = config.contextEmbeddings();
    const s = new Stage0({
      root,
      exclude: config.contextExclude(),
      embedder: embeddings ? callerEmbedder(this.calls().core) : null,
      ...(embeddings ? { embeddingsFile: join(root, '.switchyard', 'index', 'embeddings.json') } : {}),
      git: vscode.workspace.isTrusted,
      // dist/indexWorker.js, next to this bundle: large workspaces are indexed off the extension host's thread.
      workerScript: join(__dirname, 'indexWorker.js'),
    });
    this.building = Promise.resolve(
      vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Switchyard: indexing the workspace (Stage 0)',
          cancellable: true,
        },
        async (progress, token) => {
          let shown = 0;
          const stats = await s.build({
            signal: signalOf(token),
            onProgress: (p) => {
              if (p.phase === 'listing') {
                progress.report({ message: `listing files… ${p.done || ''}` });
                return;
              }
              const pct = p.total ? Math.floor((p.done / p.total) * 100) : 0;
              progress.report({
                message:
                  `${p.phase === 'reading' ? 'reading' : 'embedding'} ${p.done.toLocaleString()} of ${p.total.toLocaleString()} ` +
                  `files`,
                increment: p.phase === 'reading' ? Math.max(0, pct - shown) : undefined,
              });
              if (p.phase === 'reading') shown = Math.max(shown, pct);
            },
          });
          if (embeddings) await this.ignoreIndexFolder(root);
          return stats;
        },
      ),
    )
      .then((stats) => {
        this.last = stats;
        this.log.info(
          `Stage 0: indexed ${stats.indexed} of ${stats.files} files (${stats.terms} terms) in ${stats.ms} ` +
            `ms${stats.threads ? ` on ${stats.threads} worker threads` : ''}; skipped ${stats.skipped.binary} ` +
            `binary, ${stats.skipped.too_large} too large, ${stats.skipped.unreadable} unreadable` +
            (stats.embeddings
              ? `; embeddings ${stats.embeddings.model} (dimension ${stats.embeddings.dim}), ${stats.embedded} embedded`
              : ''),
        );
        for (const n of stats.notes) this.log.warn(`Stage 0: ${n}`);
        this.stage0 = s;
        return s;
      })
      .finally(() => {
        this.building = null;
      });
    return this.building;
  }

  /** The index folder holds derived data: keep it out of git. */
  private async ignoreIndexFolder(root: string): Promise<void> {
    try {
      await mkdir(join(root, '.switchyard', 'index'), { recursive: true });
      await writeFile(join(root, '.switchyard', 'index', '.gitignore'), '*\n', { flag: 'wx' });
    } catch {
      /* there already */
    }
  }

  async rebuild(): Promise<void> {
    try {
      await this.index(true);
      const st = this.last;
      if (st)
        void vscode.window.showInformationMessage(
          `Switchyard Stage 0: ${st.indexed.toLocaleString()} files indexed in ` +
            `${st.ms < 1000 ? `${st.ms} ms` : `${(st.ms / 1000).toFixed(1)} s`}${st.notes.length ? ` (${st.notes[0]})` : ''}.`,
        );
    } catch (e) {
      this.report(e);
    }
  }

  private report(e: unknown): void {
    const msg = (e as Error).message;
    if (msg === 'cancelled') {
      this.log.info('Stage 0: indexing cancelled by the user; the previous index (if any) stays in use');
      return;
    }
    this.log.error(`Stage 0: ${msg}`);
    void vscode.window.showErrorMessage(`Switchyard Stage 0: ${msg}`);
  }

  /** The block a role's prompt starts from; empty (and logged) when there is no workspace or the build failed. */
  async block(query: string, touched: string[] = [], maxChars = 8000): Promise<ContextBlock | null> {
    try {
      const s = await this.index();
      if (!s || !query.trim()) return null;
      const b = await s.context({ query, touched, maxChars });
      this.log.info(
        `Stage 0: ${b.results.length} file(s) for "${query.slice(0, 80)}" in ${b.ms} ms: ` +
          (b.results.map((r) => `${r.path} (${r.relevance})`).join(', ') || 'none'),
      );
      return b;
    } catch (e) {
      this.log.warn(`Stage 0: no context (${(e as Error).message})`);
      return null;
    }
  }

  /** "Search Context (Stage 0)": a query, the ranked files with why, and the best lines opened on pick. */
  async search(query?: string): Promise<{ path: string; relevance: number; why: string }[]> {
    const q =
      query ??
      (await vscode.window.showInputBox({
        title: 'Switchyard: Search Context (Stage 0)',
        prompt: 'Words, identifiers or a question; ranked by BM25 (and embeddings when on), explained',
        ignoreFocusOut: true,
      }));
    if (!q?.trim()) return [];
    let s: Stage0 | null;
    try {
      s = await this.index();
    } catch (e) {
      this.report(e);
      return [];
    }
    if (!s) {
      void vscode.window.showWarningMessage('Switchyard Stage 0: open a folder first.');
      return [];
    }
    const r = await s.query(q, { k: 12 });
    const rows = r.results.map((x) => ({ path: x.path, relevance: x.relevance, why: explainLine(x) }));
    this.log.info(
      `Stage 0 search "${q}" (${r.ms} ms, ` +
        `${'model' in r.semantic ? `hybrid with ${r.semantic.model}` : `lexical only: ${r.semantic.unavailable}`}):\n` +
        rows.map((x) => `  ${x.why}`).join('\n'),
    );
    if (query !== undefined) return rows;
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { path: string }>();
    qp.title = `Stage 0: ${rows.length} file(s) for "${q}" (${r.ms} ms)`;
    qp.placeholder = rows.length
      ? 'Pick a file to open it at its best lines; the detail says how it was ranked'
      : 'No file matches; try other words';
    qp.matchOnDescription = true;
    qp.matchOnDetail = true;
    qp.items = rows.map((x) => {
      const m = /^#\d+ [^:]+: relevance [\d.]+, (mmr [\d.]+); (.*)$/.exec(x.why);
      return {
        label: x.path,
        description: `relevance ${x.relevance}${m ? ` · ${m[1]}` : ''}`,
        detail: m ? m[2] : x.why,
        path: x.path,
      };
    });
    qp.onDidAccept(async () => {
      const pick = qp.selectedItems[0];
      qp.hide();
      if (!pick) return;
      const root = this.root()!;
      const loaded = loadText(root, pick.path);
      const terms = s!.lexical.queryTerms(q);
      const line =
        'text' in loaded
          ? Math.max(
              0,
              loaded.text.split('\n').findIndex((l) => terms.some((t) => l.toLowerCase().includes(t))),
            )
          : 0;
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(join(root, pick.path)));
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 0, line, 0) });
    });
    qp.onDidHide(() => qp.dispose());
    qp.show();
    return rows;
  }

  /** "Ask the Workspace Sources": Stage 0 picks the sources, NotebookLM (or the local summariser) answers with citations. */
  async ask(question?: string): Promise<string | null> {
    const q =
      question ??
      (await vscode.window.showInputBox({
        title: 'Switchyard: Ask the Workspace Sources',
        prompt: 'A question answered from your documents, every claim cited (GR-008)',
        ignoreFocusOut: true,
      }));
    if (!q?.trim()) return null;
    try {
      const s = await this.index();
      if (!s) {
        void vscode.window.showWarningMessage('Switchyard: open a folder first.');
        return null;
      }
      const root = this.root()!;
      const found = await s.query(q, { k: 6 });
      const sources = found.results
        .map((r) => loadText(root, r.path))
        .flatMap((l) => ('text' in l ? [{ path: l.path, text: l.text.slice(0, 20_000) }] : []));
      const r = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Switchyard: asking the sources (Stage 0 synthesis)…',
          cancellable: true,
        },
        (_p, token) => synthesise(this.calls().core, { question: q, sources, signal: signalOf(token) }),
      );
      const text = renderSynth(r, q);
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: text });
      await vscode.window.showTextDocument(doc, { preview: false });
      this.log.info(
        `Stage 0 synthesis: ${r.provider}/${r.model}, ${r.citations.filter((c) => c.verified).length} ` +
          `of ${r.citations.length} citations verified${r.unreliable ? ' (UNRELIABLE, GR-008)' : ''}`,
      );
      return text;
    } catch (e) {
      if ((e as Error).message === 'cancelled') return null;
      await this.calls().showFailure(e);
      return null;
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
