// The Getting Started walkthrough (contributes.walkthroughs): each step is checked off when what it teaches has
// really happened in this window (a key stored, the server ready, a Tutor answer, a classification, a plan, an agent
// task, a Judge verdict), through a context key the step's completionEvents name.
import * as vscode from 'vscode';

export type WalkStep = 'key' | 'server' | 'tutor' | 'classify' | 'plan' | 'agent' | 'audit';

const done = new Set<WalkStep>();

export const WALKTHROUGH_ID = 'switchyard.switchyard#switchyard.gettingStarted';

/** Marks a step done (once per window; VS Code keeps a completed step checked across sessions). */
export function stepDone(step: WalkStep): void {
  if (done.has(step)) return;
  done.add(step);
  void vscode.commands.executeCommand('setContext', `switchyard.walkthrough.${step}`, true);
}
