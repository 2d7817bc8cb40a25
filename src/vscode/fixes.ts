// Every error toast comes with the action that fixes it: a missing or refused key opens "Set API Key" for that
// provider, a stopped local server offers to start it, a budget refusal opens the budget, no folder opens one.
import * as vscode from 'vscode';
import { CallFailed, CallRefused } from '../core/providers/call.js';

export interface Fix {
  label: string;
  command: string;
  args?: unknown[];
}

export const OPEN_FOLDER: Fix = { label: 'Open Folder', command: 'workbench.action.files.openFolder' };

/** The action that fixes a failed or refused model call, or null when there is none to offer. */
export function fixForCall(e: unknown): Fix | null {
  if (e instanceof CallRefused) {
    if (e.guardrail === 'GR-011') return { label: 'Show Budget', command: 'switchyard.budget.show' };
    if (e.guardrail === 'GR-009')
      return { label: 'Open Settings', command: 'workbench.action.openSettings', args: ['switchyard.localOnly'] };
    return null;
  }
  if (!(e instanceof CallFailed)) return null;
  if (e.kind === 'no_key') {
    // One provider in the chain: straight to its key; several: the picker.
    const cloud = [...new Set((e.decision?.chain ?? []).map((l) => l.provider).filter((p) => p !== 'local'))];
    return { label: 'Set API Key', command: 'switchyard.keys.set', ...(cloud.length === 1 ? { args: cloud } : {}) };
  }
  if (e.kind === 'auth') {
    const provider = /^local:/.test(e.message) ? 'local' : e.attempts.at(-1)?.provider;
    return { label: 'Set API Key', command: 'switchyard.keys.set', ...(provider ? { args: [provider] } : {}) };
  }
  if (e.kind === 'unavailable' && /no local model server is running/.test(e.message))
    return { label: 'Start Local Model Server', command: 'switchyard.runtime.start' };
  return null;
}

/** An error toast with its fix first, then any other actions; runs what the user picks. */
export async function showError(
  text: string,
  fix: Fix | null,
  others: { label: string; run: () => void }[] = [],
): Promise<void> {
  const labels = [...(fix ? [fix.label] : []), ...others.map((o) => o.label)];
  const pick = await vscode.window.showErrorMessage(text, ...labels);
  if (fix && pick === fix.label) await vscode.commands.executeCommand(fix.command, ...(fix.args ?? []));
  else others.find((o) => o.label === pick)?.run();
}
