// "Switchyard: Start a Task": one sentence through the policy's canonical pipeline (MODEL-POLICY.md §2): Stage 0
// context and the Architect's plan (cloud-first; the local fast draft when the cloud cannot be reached or under
// local_only), the plan review where the user approves and runs it step by step with the agent, the Judge on a
// high-risk step. Small work the policy lets the Implementer do alone (under the small-diff limit, no risk flag in
// its scope) may skip the plan when the user says so.
import * as vscode from 'vscode';
import { Workspace } from '../core/agent/workspace.js';
import { taskScope } from '../core/agent/scope.js';
import type { RoleDeps } from './roles.js';
import { OPEN_FOLDER, showError } from './fixes.js';
import { askGoal } from './askGoal.js';

/** For scripts and the Tutor's button: `{goal, direct}` (direct: skip the plan, when the policy allows it). */
export interface StartArg {
  goal?: string;
  direct?: boolean;
}

const PLAN = 'Plan it first';
const DIRECT = 'Implement directly';

export async function startTask(deps: RoleDeps, arg?: StartArg): Promise<unknown> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    void showError('Switchyard: open a folder first: a task works on a workspace.', OPEN_FOLDER);
    return undefined;
  }
  const goal = await askGoal(arg?.goal, {
    title: 'Switchyard: Start a Task',
    prompt:
      'One sentence: what should change? Stage 0 finds the code, the Architect plans, you review, the agent ' +
      'implements, the Judge audits high-risk work.',
    placeHolder: 'e.g. make the cli print the top 20 words',
  });
  if (!goal) return undefined;
  const small = deps.policy().escalation.implementer.small_diff_max_lines;
  const scope = taskScope(new Workspace(folder.uri.fsPath), { instruction: goal });
  const risky = scope.why.length > 0;
  let how = arg?.direct === true ? DIRECT : arg?.direct === false ? PLAN : undefined;
  how ??= (
    await vscode.window.showQuickPick(
      [
        { label: PLAN, detail: 'The Architect writes plan.json; you review it and run it step by step (recommended).' },
        {
          label: DIRECT,
          detail: risky
            ? `Not for this task: ${scope.why.join('; ')} (the policy wants a plan for high-risk work).`
            : `Only for small work: under ${small} lines, no risk flag (the policy lets the Implementer do it alone).`,
        },
      ],
      { title: `Switchyard: Start a Task: ${goal.slice(0, 60)}`, placeHolder: 'Plan first, or implement directly?' },
    )
  )?.label;
  if (!how) return undefined;
  if (how === DIRECT && risky) {
    void vscode.window.showWarningMessage(
      `Switchyard: this task goes through a plan: ${scope.why.join('; ')}. High-risk work is planned and judged.`,
    );
    how = PLAN;
  }
  if (how === DIRECT) {
    deps.log.info(`start a task: "${goal}" implemented directly (no risk flag in its scope; the user chose it)`);
    return vscode.commands.executeCommand('switchyard.implement.reflex', { instruction: goal });
  }
  const record = await vscode.commands.executeCommand('switchyard.plan.create', { goal });
  if (record)
    void vscode.window.showInformationMessage(
      'Switchyard: review the plan, approve it, then "Run plan": each step runs in the task view, and a high-risk ' +
        'step waits for the Judge.',
    );
  return record;
}
