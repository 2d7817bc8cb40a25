// What every role service (Implementer, Librarian, Architect, Judge, Stage 0, Tutor) is given, and the ceremony
// each one's model work shares: a cancellable notification, the failure toast, the meter refreshed afterwards.
import * as vscode from 'vscode';
import type { Policy } from '../core/policy/schema.js';
import { CallFailed, type CallResult } from '../core/providers/call.js';
import type { Stage0Service } from './context.js';
import { signalOf, type EditorModelCalls } from './modelCalls.js';

export interface RoleDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  policy: () => Policy;
  /** The stricter of the setting and the policy (GR-009). */
  localOnly: () => boolean;
  calls: () => EditorModelCalls;
  /** After a call: the budget meter (and, for a local answer, the runtime's tokens per second) follow it. */
  afterCall: (r?: CallResult) => void;
  stage0: () => Stage0Service;
}

/** A cancel by the user ends the work quietly; anything else is shown. */
export const isCancel = (e: unknown): boolean =>
  (e instanceof CallFailed && e.kind === 'cancelled') || (e instanceof Error && e.message === 'cancelled');

/**
 * Runs a role's model work under a cancellable notification titled `title`. A failure is shown with the action that
 * fixes it (CallRefused / CallFailed toasts); a cancel is not. Either way the meter is refreshed after.
 * Resolves to undefined when the work did not complete.
 */
export async function runRole<T>(
  deps: Pick<RoleDeps, 'calls' | 'afterCall'>,
  title: string,
  work: (report: (message: string) => void, signal: AbortSignal) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) => work((message) => progress.report({ message }), signalOf(token)),
    );
  } catch (e) {
    if (!isCancel(e)) await deps.calls().showFailure(e);
    return undefined;
  } finally {
    deps.afterCall();
  }
}
