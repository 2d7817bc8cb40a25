// "Switchyard: Open Effective Policy": the policy in force, as a read-only JSON document.
import * as vscode from 'vscode';
import type { PolicyService } from '../policyService.js';

export const POLICY_SCHEME = 'switchyard-policy';
export const EFFECTIVE_POLICY_URI = vscode.Uri.from({ scheme: POLICY_SCHEME, path: '/effective-policy.jsonc' });

export class EffectivePolicyProvider implements vscode.TextDocumentContentProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  constructor(private readonly policy: PolicyService) {
    policy.onDidChange(() => this.emitter.fire(EFFECTIVE_POLICY_URI));
  }
  provideTextDocumentContent(): string {
    const s = this.policy.current;
    const head = [`// Switchyard effective policy (read-only view)`, `// source: ${s.source}`];
    if (s.rejected)
      head.push(
        `// NOTE: ${s.rejected.source} was refused and is NOT in force: ` +
          s.rejected.problems.map((p) => `${p.field} (line ${p.line}): ${p.reason}`).join('; '),
      );
    for (const w of s.warnings) head.push(`// warning: ${w.field}: ${w.message}`);
    return `${head.join('\n')}\n${JSON.stringify(s.policy, null, 2)}\n`;
  }
}

export async function openEffectivePolicy(): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(EFFECTIVE_POLICY_URI);
  await vscode.languages.setTextDocumentLanguage(doc, 'jsonc');
  await vscode.window.showTextDocument(doc, { preview: false });
}
