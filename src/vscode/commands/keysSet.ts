// "Switchyard: Set API Key": keys go to SecretStorage and nowhere else.
import * as vscode from 'vscode';
import { stepDone } from '../walkthrough.js';

export const KEY_PROVIDERS = [
  { id: 'anthropic', label: 'Anthropic', env: 'ANTHROPIC_API_KEY' },
  { id: 'openai', label: 'OpenAI', env: 'OPENAI_API_KEY' },
  { id: 'deepseek', label: 'DeepSeek', env: 'DEEPSEEK_API_KEY' },
  { id: 'moonshot', label: 'Moonshot (Kimi)', env: 'MOONSHOT_API_KEY' },
  // The key a team's own endpoint wants (switchyard.runtime.endpoint: a vLLM server or a LiteLLM gateway).
  { id: 'local', label: 'Team endpoint (local lane)', env: 'SWITCHYARD_LOCAL_API_KEY' },
] as const;

export const secretKey = (provider: string) => `switchyard.apiKey.${provider}`;

export async function setApiKey(
  secrets: vscode.SecretStorage,
  log: vscode.LogOutputChannel,
  providerArg?: string,
): Promise<void> {
  const provider = providerArg
    ? KEY_PROVIDERS.find((p) => p.id === providerArg)
    : (
        await vscode.window.showQuickPick(
          KEY_PROVIDERS.map((p) => ({ label: p.label, description: p.env, p })),
          { title: 'Switchyard: Set API Key', placeHolder: 'Which provider?' },
        )
      )?.p;
  if (!provider) return;
  const key = await vscode.window.showInputBox({
    title: `Switchyard: ${provider.label} API key`,
    password: true,
    ignoreFocusOut: true,
    prompt: "Stored in VS Code's SecretStorage, never in settings or files. Leave empty to remove the key.",
    validateInput: (v) => (/\s/.test(v.trim()) ? 'An API key has no spaces' : undefined),
  });
  if (key === undefined) return;
  if (key.trim() === '') {
    await secrets.delete(secretKey(provider.id));
    log.info(`API key for ${provider.id} removed`);
    void vscode.window.showInformationMessage(`Switchyard: ${provider.label} API key removed.`);
    return;
  }
  await secrets.store(secretKey(provider.id), key.trim());
  stepDone('key');
  log.info(`API key for ${provider.id} stored in SecretStorage`);
  void vscode.window.showInformationMessage(`Switchyard: ${provider.label} API key saved in SecretStorage.`);
}
