// The local server's status bar item: a pure view of the runtime's status. It names the model really served (read
// from the model, not the alias the server answers to) and turns into a warning when that is not the policy's.
import * as vscode from 'vscode';
import type { Policy } from '../core/policy/schema.js';
import type { RuntimeStatus } from '../core/runtime/types.js';
import { servedDetails, servedLabel, servedWarning } from '../core/runtime/served.js';

export interface ServerView {
  policy: Policy;
  localOnly: boolean;
  tokensPerSecond: number | null;
  gpuMiB: number | null;
  gpuProbe: boolean;
}

function text(s: RuntimeStatus, v: ServerView, warning: string | null): string {
  const lo = v.localOnly ? 'Local only · ' : '';
  const model = s.model ? servedLabel(s.model) : (s.served ?? '').split('/').pop();
  const tps = v.tokensPerSecond ? ` · ${Math.round(v.tokensPerSecond)} tok/s` : '';
  const warn = warning ? ` · ${warning.replace(/ \(.*$/, '')}` : ''; // the policy's model is in the tooltip
  switch (s.state) {
    case 'ready':
      return `${warning ? '$(warning)' : '$(server-process)'} ${lo}Local: ready · ${model}${warn}${tps}`;
    case 'starting':
    case 'swapping':
    case 'restarting':
      return `$(loading~spin) ${lo}Local: ${s.state}`;
    case 'external':
      return `${warning ? '$(warning)' : '$(server-environment)'} ${lo}Local: external${s.model ? ` · ${model}` : ''}${warn}`;
    case 'failed':
      return `$(error) ${lo}Local: failed`;
    default:
      return `$(server) ${lo}Local: ${s.state}`;
  }
}

function tooltip(s: RuntimeStatus, v: ServerView, warning: string | null): string {
  const policyModel = v.policy.models[s.modelKey ?? v.policy.runtime.model];
  const lines = [`Switchyard local model server: ${s.state}`];
  if (s.model) {
    lines.push(`Serving: ${servedLabel(s.model)}`, `  ${servedDetails(s.model)}`);
    if (warning)
      lines.push(
        `Warning (GR-005): this is ${warning}; local answers come from the model above` +
          (s.served ? ` even though the server answers as "${s.served}"` : ''),
      );
  } else if (s.state === 'ready' || s.state === 'external')
    lines.push(`Serving: not known (the server did not say)${s.served ? `; it answers as "${s.served}"` : ''}`);
  lines.push(`Policy's model: ${policyModel?.label ?? '—'}${policyModel ? ` (${policyModel.id})` : ''}`);
  if (s.engine)
    lines.push(`Runtime: ${s.engine === 'llama_cpp' ? 'llama.cpp' : s.engine}${s.endpoint ? ` at ${s.endpoint}` : ''}`);
  if (s.loadMs) lines.push(`Loaded in ${(s.loadMs / 1000).toFixed(1)} s`);
  if (v.gpuMiB !== null) lines.push(`GPU memory (nvidia-smi): ${v.gpuMiB} MiB`);
  else if (s.state === 'ready')
    lines.push(
      v.gpuProbe
        ? 'GPU memory: not reported by nvidia-smi for this server'
        : 'GPU: none found (no nvidia-smi); running on the CPU',
    );
  if (s.sleeping.length) lines.push(`Sleeping (vLLM sleep mode): ${s.sleeping.join(', ')}`);
  if (s.message && s.state !== 'ready') lines.push(s.message.split('\n')[0]!);
  if (v.localOnly) lines.push('local_only is on: no cloud calls (GR-009)');
  lines.push(s.state === 'ready' ? 'Click to switch the model.' : 'Click to start it.');
  return lines.join('\n');
}

export function renderServer(item: vscode.StatusBarItem, s: RuntimeStatus, v: ServerView): void {
  const warning = s.model && (s.state === 'ready' || s.state === 'external') ? servedWarning(s.model) : null;
  item.text = text(s, v, warning);
  item.backgroundColor =
    s.state === 'failed'
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : warning
        ? new vscode.ThemeColor('statusBarItem.warningBackground')
        : undefined;
  item.command =
    s.state === 'ready' || s.state === 'external' ? 'switchyard.runtime.switchModel' : 'switchyard.runtime.start';
  item.tooltip = tooltip(s, v, warning);
}
