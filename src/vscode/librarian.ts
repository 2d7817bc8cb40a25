// "Synthesise or Clean Up Documents (Librarian)": documents from the explorer (files or a folder), the active
// file, or a pick; the §3 predicates computed and shown; the result opened as a new Markdown document
// (synthesis) or offered as a reviewed edit of the same files (clean-up); evidence under .switchyard/evidence/.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { newTaskId, TaskEvidence } from '../core/evidence/taskEvidence.js';
import {
  librarianSignals,
  runLibrarian,
  type LibDoc,
  type LibMode,
  type LibrarianResult,
} from '../core/librarian/librarian.js';
import { listFiles, loadText } from '../core/retrieval/walk.js';
import { sha256 } from '../core/util/hash.js';
import { relativeInside } from '../core/util/paths.js';
import { runRole, type RoleDeps } from './roles.js';
import { OPEN_FOLDER, showError } from './fixes.js';

const DOC_EXT = /\.(md|markdown|mdx|txt|rst|adoc)$/i;
const MAX_DOCS = 400;

export interface LibrarianArgs {
  paths?: string[];
  mode?: LibMode;
  goal?: string;
  sweep?: boolean;
  apply?: boolean;
}

interface LibrarianJob {
  r: LibrarianResult;
  served: string;
  why: string;
  evidence: TaskEvidence;
  taskId: string;
}

/** Why this model served the job, in the words of the toasts and the document's footer. */
function whyServed(r: LibrarianResult): string {
  if (r.escalated_on.length) return `escalated on ${r.escalated_on.join(', ')}`;
  if (r.result.decision.degraded) return `a degraded route: ${r.result.decision.reasons.at(-1) ?? 'see the audit log'}`;
  return 'routine, local';
}

async function askMode(count: number): Promise<LibMode | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Synthesise', description: 'one new document from these', mode: 'synthesise' as const },
      {
        label: 'Clean up',
        description: 'fix structure and duplication in these files (you review the edits)',
        mode: 'cleanup' as const,
      },
    ],
    { title: `Switchyard Librarian: ${count} document(s)` },
  );
  return picked?.mode;
}

export class LibrarianService implements vscode.Disposable {
  last: (LibrarianResult & { evidence: string; opened?: string }) | null = null;
  private readonly proposed = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly deps: RoleDeps) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider('switchyard-librarian', {
      provideTextDocumentContent: (u) => this.proposed.get(u.toString()) ?? '',
    });
  }

  /** From the explorer: (clicked, selected[]); from the palette: nothing; from scripts: LibrarianArgs. */
  async run(clicked?: vscode.Uri | LibrarianArgs, selected?: vscode.Uri[]): Promise<LibrarianResult | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void showError('Switchyard Librarian: open a folder first.', OPEN_FOLDER);
      return undefined;
    }
    const root = folder.uri.fsPath;
    const args: LibrarianArgs = clicked && !(clicked instanceof vscode.Uri) ? clicked : {};
    const given =
      clicked instanceof vscode.Uri
        ? selected?.length
          ? selected
          : [clicked]
        : (args.paths ?? []).map((p) => vscode.Uri.joinPath(folder.uri, p));
    const uris = given.length ? given : await this.pickDocuments(folder);
    if (!uris) return undefined;
    const collected = await this.collect(root, uris, args.sweep ?? false);
    if (!collected) return undefined;
    const { docs, sweep } = collected;
    const mode = args.mode ?? (await askMode(docs.length));
    if (!mode) return undefined;
    const goal =
      args.goal ??
      (await vscode.window.showInputBox({
        title: 'Switchyard Librarian',
        prompt: 'Anything the result must focus on? (optional)',
        ignoreFocusOut: true,
      }));
    if (goal === undefined) return undefined;
    const related = goal ? await this.related(goal, docs) : undefined;
    const s = librarianSignals({ mode, docs, sweep, goal, related });
    const held = Object.entries(s.signals)
      .filter(([, v]) => v)
      .map(([k]) => k);
    this.deps.log.info(
      `librarian: ${docs.length} document(s), ~${s.context_estimate} tokens, ${s.contradictions.length} ` +
        `contradiction(s)${held.length ? `; §3 predicates: ${held.join(', ')}` : ''}`,
    );
    const taskId = newTaskId('lib');
    const evidence = TaskEvidence.forTask(root, taskId);
    const title = `Switchyard Librarian: ${mode === 'synthesise' ? 'synthesising' : 'cleaning up'} ${docs.length} document(s)…`;
    const r = await runRole(this.deps, title, (_report, signal) =>
      runLibrarian(this.deps.calls().core, this.deps.policy(), {
        mode,
        docs,
        sweep,
        goal: goal || undefined,
        ...(related ? { related } : {}),
        task_id: taskId,
        signal,
      }),
    );
    if (!r) return undefined;
    for (const line of r.result.audit) this.deps.log.info(line);
    const served = `${r.result.provider}/${r.result.model}`;
    const why = whyServed(r);
    evidence.write('librarian.json', {
      mode,
      goal: goal || null,
      sweep,
      related: related ?? null,
      inputs: docs.map((d) => ({ path: d.path, sha256: sha256(d.text) })),
      context_estimate: s.context_estimate,
      contradictions: s.contradictions,
      signals: s.signals,
      served: { provider: r.result.provider, model: r.result.model, rule: r.result.decision.rule },
      escalated_on: r.escalated_on,
      local_first: r.local_first ?? null,
      output: r.output,
      audit: r.result.audit,
    });
    this.last = { ...r, evidence: evidence.dir };
    const job = { r, served, why, evidence, taskId };
    if (mode === 'synthesise') await this.showSynthesis(job);
    else await this.offerCleanup(folder, docs, job, args.apply === true);
    return r;
  }

  /** The palette's question: the active file, some documents, or a whole folder. */
  private async pickDocuments(folder: vscode.WorkspaceFolder): Promise<vscode.Uri[] | undefined> {
    let uris: vscode.Uri[] = [];
    const active = vscode.window.activeTextEditor?.document.uri;
    const pick = await vscode.window.showQuickPick(
      [
        ...(active?.scheme === 'file' ? [{ label: '$(file) The active file', id: 'active' }] : []),
        { label: '$(files) Choose documents…', id: 'files' },
        { label: '$(folder) A whole folder (a full sweep: the Librarian may escalate to Kimi K2)', id: 'folder' },
      ],
      { title: 'Switchyard Librarian: which documents?' },
    );
    if (!pick) return undefined;
    if (pick.id === 'active') uris = [active!];
    else {
      const chosen = await vscode.window.showOpenDialog({
        defaultUri: folder.uri,
        canSelectMany: pick.id === 'files',
        canSelectFiles: pick.id === 'files',
        canSelectFolders: pick.id === 'folder',
        filters: pick.id === 'files' ? { Documents: ['md', 'markdown', 'mdx', 'txt', 'rst', 'adoc'] } : undefined,
      });
      if (!chosen?.length) return undefined;
      uris = chosen;
    }
    return uris;
  }

  /** The documents: files as given, folders swept (gitignore respected, documents only). */
  private async collect(root: string, uris: vscode.Uri[], sweepAsked: boolean) {
    const docs: LibDoc[] = [];
    let sweep = sweepAsked;
    for (const u of uris) {
      const rel = relativeInside(vscode.workspace.asRelativePath(u, false));
      if (!rel || u.scheme !== 'file') {
        void vscode.window.showErrorMessage(
          `Switchyard Librarian: ${u.fsPath} is outside the workspace; the Librarian reads only workspace documents.`,
        );
        return undefined;
      }
      const stat = await vscode.workspace.fs.stat(u);
      const paths =
        stat.type & vscode.FileType.Directory
          ? ((sweep = true),
            (await listFiles(join(root, rel))).filter((p) => DOC_EXT.test(p)).map((p) => `${rel}/${p}`))
          : [rel];
      for (const p of paths) {
        const l = loadText(root, p);
        if ('text' in l) docs.push({ path: p, text: l.text });
        else this.deps.log.warn(`librarian: skipped ${p} (${l.skipped})`);
      }
    }
    if (docs.length === 0) {
      void vscode.window.showWarningMessage(
        'Switchyard Librarian: no document to work on (Markdown, text, reStructuredText or AsciiDoc).',
      );
      return undefined;
    }
    if (docs.length > MAX_DOCS) {
      void vscode.window.showErrorMessage(
        `Switchyard Librarian: ${docs.length} documents is more than ${MAX_DOCS}; pick a smaller folder.`,
      );
      return undefined;
    }
    return { docs, sweep };
  }

  /** Stage 0: with a goal, the other workspace files it concerns are named for reference (paths and why, not text). */
  private async related(goal: string, docs: LibDoc[]): Promise<string | undefined> {
    const b = await this.deps.stage0().block(
      goal,
      docs.map((d) => d.path),
      2000,
    );
    const others = b?.results.filter((r) => !docs.some((d) => d.path === r.path)) ?? [];
    if (!others.length) return undefined;
    return (
      `Related files elsewhere in the workspace (Stage 0 retrieval, for reference; not part of the ` +
      `job):\n` +
      others
        .map((r) => {
          const matched = r.why.lexical.terms.map((t) => t.term).join(', ') || 'by co-change';
          return `- ${r.path} (relevance ${r.relevance}; matched ${matched})`;
        })
        .join('\n')
    );
  }

  private async showSynthesis(job: LibrarianJob): Promise<void> {
    const { r, served, why, evidence } = job;
    // The document first (its first line names the editor tab), who wrote it and why at the end.
    const footer =
      `\n\n<!-- Switchyard Librarian · ${served} (${why}) · confidence ${r.output.confidence} · ` +
      `evidence ${vscode.workspace.asRelativePath(evidence.dir, false)} -->\n`;
    const questions = r.output.open_questions.length
      ? `\n\n## Open questions\n\n${r.output.open_questions.map((q) => `- ${q}`).join('\n')}\n`
      : '';
    const body = (r.output.document ?? '').trim() || `# ${r.output.title}`;
    const doc = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: `${body.startsWith('#') ? '' : `# ${r.output.title}\n\n`}${body}${questions}${footer}`,
    });
    await vscode.window.showTextDocument(doc, { preview: false });
    if (this.last) this.last.opened = doc.getText();
    void vscode.window.showInformationMessage(
      `Switchyard Librarian: "${r.output.title}" by ${served} (${why}). Save the new document where it belongs.`,
    );
  }

  /** Clean-up: only the documents it was given may change; the user sees each diff and decides. */
  private async offerCleanup(folder: vscode.WorkspaceFolder, docs: LibDoc[], job: LibrarianJob, apply: boolean) {
    const { r, served, why, evidence, taskId } = job;
    const given = new Set(docs.map((d) => d.path));
    const edits = (r.output.files ?? [])
      .filter((f) => {
        const ok = given.has(relativeInside(f.path) ?? '');
        if (!ok) this.deps.log.warn(`librarian: ignored an edit to ${f.path}: not one of the documents given`);
        return ok;
      })
      .filter((f) => docs.find((d) => d.path === relativeInside(f.path))!.text !== f.text);
    if (edits.length === 0) {
      void vscode.window.showInformationMessage(`Switchyard Librarian: ${served} proposes no change (${why}).`);
      return;
    }
    for (const f of edits) {
      const right = vscode.Uri.from({ scheme: 'switchyard-librarian', path: `/${f.path}`, query: taskId });
      this.proposed.set(right.toString(), f.text);
      await vscode.commands.executeCommand(
        'vscode.diff',
        vscode.Uri.joinPath(folder.uri, f.path),
        right,
        `${f.path} ↔ Librarian (${served})`,
        { preview: false },
      );
    }
    const pick = apply
      ? 'Apply All'
      : await vscode.window.showInformationMessage(
          `Switchyard Librarian: ${edits.length} file(s) to change, by ${served} (${why}).`,
          'Apply All',
          'Discard',
        );
    if (pick === 'Apply All') {
      const we = new vscode.WorkspaceEdit();
      for (const f of edits) {
        const uri = vscode.Uri.joinPath(folder.uri, relativeInside(f.path)!);
        const doc = await vscode.workspace.openTextDocument(uri);
        we.replace(uri, new vscode.Range(0, 0, doc.lineCount, 0), f.text);
      }
      await vscode.workspace.applyEdit(we);
      await vscode.workspace.saveAll(false);
      evidence.write(
        'applied.json',
        edits.map((f) => ({ path: f.path, sha256: sha256(f.text) })),
      );
    }
  }

  dispose(): void {
    this.registration.dispose();
  }
}
