// Every setting is read here, through typed getters (rust-analyzer's config.ts is the model).
import * as vscode from 'vscode';

const section = () => vscode.workspace.getConfiguration('switchyard');
const str = (key: string): string | undefined => {
  const v = section().get<string>(key, '').trim();
  return v === '' ? undefined : v;
};

/** Settings a cloned repository must not set: what widens what the agent may do or spend. Read from the user only. */
export const USER_ONLY_SETTINGS = ['agent.autoApprove', 'agent.allowPaidFallback', 'judge.maxEvidenceChars'] as const;
const warnedWorkspaceValue = new Set<string>();
/** Called once per setting when a workspace value was ignored (the extension logs it and says it once). */
let onIgnored: (key: string) => void = () => {};
export const setIgnoredSettingListener = (fn: (key: string) => void) => {
  onIgnored = fn;
};

/** The user's own value of a setting (user settings or the default); a workspace's value is ignored, said once. */
function userValue<T>(key: (typeof USER_ONLY_SETTINGS)[number], fallback: T): T {
  const i = section().inspect<T>(key);
  if ((i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined) && !warnedWorkspaceValue.has(key)) {
    warnedWorkspaceValue.add(key);
    onIgnored(key);
  }
  return i?.globalValue ?? i?.defaultValue ?? fallback;
}

/** argv prefixes of switchyard.commands.allow / deny at one level (user or workspace). */
function argvSetting(key: 'commands.allow' | 'commands.deny', level: 'user' | 'workspace'): string[][] {
  const i = section().inspect<unknown>(key);
  const v = level === 'user' ? i?.globalValue : (i?.workspaceFolderValue ?? i?.workspaceValue);
  if (!Array.isArray(v)) return [];
  return v.filter(
    (a): a is string[] => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string' && x.length > 0),
  );
}

export const config = {
  localOnly: (): boolean => section().get<boolean>('localOnly', false) === true,
  runtimeBinaryPath: () => str('runtime.binaryPath'),
  runtimeEndpoint: () => str('runtime.endpoint'),
  runtimeModelPath: () => str('runtime.modelPath'),
  providerBaseUrl: (provider: 'openai' | 'anthropic' | 'deepseek' | 'moonshot') => str(`providers.${provider}.baseUrl`),
  explainMaxDecisions: (): number => Math.max(1, Math.min(1000, section().get<number>('explain.maxDecisions', 50))),
  contextEmbeddings: (): boolean => section().get<boolean>('context.embeddings', false) === true,
  contextExclude: (): string[] =>
    section()
      .get<string[]>('context.exclude', [])
      .filter((x) => typeof x === 'string' && x.trim() !== ''),
  notebooklmServer: (): import('../core/providers/notebooklm.js').McpServerConfig | null => {
    const v = section().get<{ command?: unknown; args?: unknown; env?: unknown; tool?: unknown; notebook?: unknown }>(
      'notebooklm.server',
    );
    if (!v || typeof v.command !== 'string' || !v.command.trim()) return null;
    const strs = (x: unknown) => (Array.isArray(x) ? x.filter((a): a is string => typeof a === 'string') : []);
    const env =
      v.env && typeof v.env === 'object'
        ? (Object.fromEntries(
            Object.entries(v.env as Record<string, unknown>).filter(([, x]) => typeof x === 'string'),
          ) as Record<string, string>)
        : {};
    return {
      command: v.command,
      args: strs(v.args),
      env,
      ...(typeof v.tool === 'string' && v.tool ? { tool: v.tool } : {}),
      ...(typeof v.notebook === 'string' && v.notebook ? { notebook: v.notebook } : {}),
    };
  },
  tutorSessionTokens: (): number => section().get<number>('tutor.sessionTokens', 16_000),
  judgeMaxEvidenceChars: (): number => userValue<number>('judge.maxEvidenceChars', 120_000),
  planCritic: (): boolean => section().get<boolean>('plan.critic', false) === true,
  implementCheckCommands: (): string[][] => section().get<string[][]>('implement.checkCommands', []),
  implementCheckTimeoutSeconds: (): number => section().get<number>('implement.checkTimeoutSeconds', 600),
  agentAutoApprove: (): boolean => userValue<boolean>('agent.autoApprove', false) === true,
  agentAllowPaidFallback: (): boolean => userValue<boolean>('agent.allowPaidFallback', false) === true,
  commandsAllow: (level: 'user' | 'workspace') => argvSetting('commands.allow', level),
  commandsDeny: (level: 'user' | 'workspace') => argvSetting('commands.deny', level),
  affects: (e: vscode.ConfigurationChangeEvent, key: string) => e.affectsConfiguration(`switchyard.${key}`),
};
