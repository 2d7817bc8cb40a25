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
  affects: (e: vscode.ConfigurationChangeEvent, key: string) => e.affectsConfiguration(`switchyard.${key}`),
};
