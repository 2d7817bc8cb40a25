// The command rules of a headless run: the user's own (the bundled policy or the --policy file they named, and
// $XDG_CONFIG_HOME/switchyard/settings.json), and the repository's (its policy's allowlist and its
// .vscode/settings.json), whose widening entries count only once the user approved them (`switchyard policy trust`).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import {
  argvList,
  CommandTrustStore,
  composeCommandRules,
  readCommandSettings,
  type CommandRules,
  type RepoRulesStatus,
} from '../core/policy/commandTrust.js';
import type { Policy } from '../core/policy/schema.js';
import { bundledPolicy } from '../core/policy/store.js';
import { io } from './io.js';

/** The workspace's policy file, when it is the one in force. */
export const workspacePolicyPath = (root: string) => join(root, '.switchyard', 'policy.json');

export interface CliRules {
  rules: CommandRules;
  repo: RepoRulesStatus;
  /** Lines for stderr: what of the repository's rules is not honoured, and how to approve it. */
  warnings: string[];
}

/** The user's settings file outside the editor. */
export const userSettingsFile = () =>
  join(io().env.XDG_CONFIG_HOME ?? join(io().env.HOME ?? homedir(), '.config'), 'switchyard', 'settings.json');

function workspaceSettings(root: string): { allow: string[][]; deny: string[][] } {
  const f = join(root, '.vscode', 'settings.json');
  if (!existsSync(f)) return { allow: [], deny: [] };
  let v: Record<string, unknown> = {};
  try {
    v = (parseJsonc(readFileSync(f, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch {
    return { allow: [], deny: [] };
  }
  return { allow: argvList(v['switchyard.commands.allow']), deny: argvList(v['switchyard.commands.deny']) };
}

export function cliCommandRules(
  root: string,
  policy: Policy,
  policyFromWorkspace: boolean,
  stateDir: string,
): CliRules {
  const store = new CommandTrustStore(stateDir);
  const user = readCommandSettings(userSettingsFile());
  const ws = workspaceSettings(root);
  const { rules, repo } = composeCommandRules(
    {
      trustedPolicyAllow: policyFromWorkspace
        ? (bundledPolicy().agent?.command_allowlist ?? [])
        : (policy.agent?.command_allowlist ?? []),
      ...(policyFromWorkspace ? { repoPolicyAllow: policy.agent?.command_allowlist ?? [] } : {}),
      userSettingsAllow: user.allow,
      userSettingsDeny: user.deny,
      repoSettingsAllow: ws.allow,
      repoSettingsDeny: ws.deny,
    },
    (hash) => store.isTrusted(root, hash),
  );
  const warnings =
    repo.widening.length && !repo.trusted
      ? [
          `the workspace's command rules allow more than yours (${repo.widening.map((a) => a.join(' ')).join('; ')}): ` +
            `not honoured until you approve them with "switchyard policy trust --repo ${root}"`,
        ]
      : [];
  return { rules, repo, warnings };
}
