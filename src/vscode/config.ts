// Every setting is read here, through typed getters (rust-analyzer's config.ts is the model).
import * as vscode from 'vscode';

const section = () => vscode.workspace.getConfiguration('switchyard');
const str = (key: string): string | undefined => {
  const v = section().get<string>(key, '').trim();
  return v === '' ? undefined : v;
};

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
  judgeMaxEvidenceChars: (): number => section().get<number>('judge.maxEvidenceChars', 120_000),
  planCritic: (): boolean => section().get<boolean>('plan.critic', false) === true,
  implementCheckCommands: (): string[][] => section().get<string[][]>('implement.checkCommands', []),
  implementCheckTimeoutSeconds: (): number => section().get<number>('implement.checkTimeoutSeconds', 600),
  agentAutoApprove: (): boolean => section().get<boolean>('agent.autoApprove', false) === true,
  agentAllowPaidFallback: (): boolean => section().get<boolean>('agent.allowPaidFallback', false) === true,
  affects: (e: vscode.ConfigurationChangeEvent, key: string) => e.affectsConfiguration(`switchyard.${key}`),
};
