// Commands whose capability is not built yet say so plainly instead of failing.
import * as vscode from 'vscode';

export const NOT_YET: Record<string, string> = {
  'switchyard.judge.audit': 'the Judge audit',
};

export function notYet(command: string, title: string): () => Promise<string> {
  return async () => {
    const what = NOT_YET[command] ?? 'this capability';
    const msg = `Switchyard: ${title}: ${what} is not available in this version yet. Routing, the policy and "Explain Routing Decisions" work today.`;
    void vscode.window.showInformationMessage(msg, 'Explain Routing Decisions').then((pick) => {
      if (pick) void vscode.commands.executeCommand('switchyard.route.explain');
    });
    return msg;
  };
}
