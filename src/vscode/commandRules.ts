// The agent's command rules in the editor: the user's own (the bundled policy, the user's switchyard.commands.*),
// and the repository's (its .switchyard/policy.json allowlist, its workspace switchyard.commands.allow). What the
// repository adds beyond the user's rules is asked once (remembered by its hash in the state folder, asked again
// when it changes); never in an untrusted workspace. The OS sandbox's absence is said once per window.
import * as vscode from 'vscode';
import {
  CommandTrustStore,
  composeCommandRules,
  type CommandRules,
  type RepoRulesStatus,
} from '../core/policy/commandTrust.js';
import type { Policy } from '../core/policy/schema.js';
import { bundledPolicy } from '../core/policy/store.js';
import { config } from './config.js';

/** The rules in force for a task; asks about the repository's widening rules when they are new. */
export async function editorCommandRules(
  root: string,
  policy: Policy,
  policyFromWorkspace: boolean,
  stateDir: string,
  log: vscode.LogOutputChannel,
): Promise<CommandRules> {
  const trusted = vscode.workspace.isTrusted;
  const store = new CommandTrustStore(stateDir);
  const compose = () =>
    composeCommandRules(
      {
        trustedPolicyAllow: policyFromWorkspace
          ? (bundledPolicy().agent?.command_allowlist ?? [])
          : (policy.agent?.command_allowlist ?? []),
        ...(policyFromWorkspace ? { repoPolicyAllow: policy.agent?.command_allowlist ?? [] } : {}),
        userSettingsAllow: config.commandsAllow('user'),
        userSettingsDeny: config.commandsDeny('user'),
        repoSettingsAllow: trusted ? config.commandsAllow('workspace') : [],
        repoSettingsDeny: config.commandsDeny('workspace'),
      },
      (hash) => trusted && store.isTrusted(root, hash),
    );
  let { rules, repo } = compose();
  if (repo.widening.length && !repo.trusted && trusted && (await askTrust(repo))) {
    store.trust(root, repo.widening);
    log.info(`agent: the workspace's command rules were approved: ${repo.widening.map((a) => a.join(' ')).join('; ')}`);
    ({ rules } = compose());
  } else if (repo.widening.length && !repo.trusted) {
    log.warn(
      `agent: the workspace's command rules (${repo.widening.map((a) => a.join(' ')).join('; ')}) are not approved: ` +
        'those commands ask first',
    );
  }
  return rules;
}

async function askTrust(repo: RepoRulesStatus): Promise<boolean> {
  const list = repo.widening.map((a) => `• ${a.join(' ')}`).join('\n');
  const pick = await vscode.window.showWarningMessage(
    "Switchyard: this workspace's settings or policy let the agent run more commands without asking",
    {
      modal: true,
      detail:
        `${list}\n\nThey would run unattended (inside the OS sandbox, their arguments checked). Approve this exact ` +
        'list? A changed list asks again. Not approving: those commands ask each time.',
    },
    'Approve these rules',
  );
  return pick === 'Approve these rules';
}

let sandboxSaid = false;
/** Without an OS sandbox, said once per window: every command and check asks first. */
export function sayNoSandboxOnce(why: string): void {
  if (sandboxSaid) return;
  sandboxSaid = true;
  void vscode.window.showWarningMessage(
    `Switchyard: no OS sandbox for the agent's commands (${why}). Every command and check it wants to run asks you first.`,
  );
}
