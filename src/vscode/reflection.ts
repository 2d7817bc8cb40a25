// The reflector after a failed Implementer task, in the editor: the lesson is written through the workspace (an
// open playbook with unsaved edits is not overwritten behind the user's back), and offered to open.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { PLAYBOOK_PATH, reflect, type FailedTask, type ReflectResult } from '../core/reflector/reflector.js';
import type { RoleDeps } from './roles.js';

/** After a failed task: a lesson in .switchyard/playbook.md (the local model; Kimi only for interesting failures). */
export async function reflectOnFailure(
  deps: Pick<RoleDeps, 'calls' | 'log'>,
  root: string,
  t: FailedTask,
): Promise<ReflectResult | null> {
  const file = join(root, PLAYBOOK_PATH);
  try {
    const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
    const r = await reflect(deps.calls().core, t, before);
    // Written through the workspace (an open, edited playbook is not overwritten behind the user's back).
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open?.isDirty) {
      deps.log.warn(
        `reflector: ${PLAYBOOK_PATH} has unsaved edits; the lesson for ${t.task_id} was not written (signature: ${r.signature})`,
      );
      return r;
    }
    await vscode.workspace.fs.writeFile(uri, Buffer.from(r.playbook, 'utf8'));
    deps.log.info(
      `reflector: ` +
        (r.action === 'written'
          ? `lesson "${r.lesson?.title}" written by ${r.result?.provider}/${r.result?.model}`
          : 'a known failure counted again') +
        ' ' +
        `in ${PLAYBOOK_PATH} (${r.interesting.interesting ? `interesting: ${r.interesting.why.join('; ')}` : 'routine'})`,
    );
    for (const line of r.result?.audit ?? []) deps.log.info(line);
    if (r.action === 'written') {
      void vscode.window
        .showInformationMessage(
          `Switchyard reflector: a lesson from the failed task was added to ${PLAYBOOK_PATH}.`,
          'Open Playbook',
        )
        .then((p) => {
          if (p) void vscode.window.showTextDocument(uri);
        });
    }
    return r;
  } catch (e) {
    deps.log.warn(`reflector: no lesson for ${t.task_id}: ${(e as Error).message}`);
    return null;
  }
}
