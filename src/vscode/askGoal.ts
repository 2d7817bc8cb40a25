// The one question behind "Plan a Change" and "Start a Task": what should change, in a few words (a goal a script
// passes is taken as it is). Both ask it the same way and accept the same answers.
import * as vscode from 'vscode';

export const MAX_GOAL_CHARS = 2000;

export async function askGoal(
  given: unknown,
  o: { title: string; prompt: string; placeHolder: string },
): Promise<string | undefined> {
  if (typeof given === 'string' && given.trim().length >= 5) return given.trim();
  const goal = await vscode.window.showInputBox({
    ...o,
    ignoreFocusOut: true,
    validateInput: (v) =>
      v.trim().length < 5
        ? 'Say in a few words what should change.'
        : v.length > MAX_GOAL_CHARS
          ? `Keep the goal under ${MAX_GOAL_CHARS} characters; attach detail as a selection.`
          : null,
  });
  return goal?.trim() || undefined;
}
