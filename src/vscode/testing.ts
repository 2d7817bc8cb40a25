// Probes for Switchyard's own tests (the extension-host suite and the benchmarks): what the window did last, how
// long panels took. Exported as `api.testing` only when the extension runs under test or development, or when
// SWITCHYARD_TESTING=1; never part of the API other extensions build on.
import * as vscode from 'vscode';
import type { Services } from './services.js';
import { config } from './config.js';

export interface SwitchyardTesting {
  /** activate() duration in ms, measured inside the extension host. */
  activationMs: number;
  statusBarText(): { budget: string; runtime: string; runtimeTooltip: string; runtimeWarning: boolean };
  /** The local model server's state (stopped, starting, ready, ...). */
  runtimeState(): string;
  /** Where this window's audit log lives (JSON lines). */
  auditPath(): string;
  /** The Tutor panel's figures: open-to-ready time, and what the view rendered of each answer against what was sent. */
  tutorStats(): {
    openMs: number | null;
    viewLoadMs: number | null;
    renders: { sentChars: number; sentBatches: number; chars: number; batches: number; frames: number }[];
  };
  planOpenMs(): number | null;
  /** The last agent task in this window. */
  lastAgent(): import('../core/agent/loop.js').AgentResult | null;
  /** What the task view shows now (a live task, or one drawn from the evidence folder), if the agent was used. */
  taskView(): import('../core/protocol/task.js').TaskState | null;
  /** A message to the task view's host as its webview would send it (through the gate): accepted, and what was refused. */
  taskViewMessage(raw: unknown): Promise<{ accepted: boolean; refusal: string | null }>;
  /** Stage 0's last index build in this window. */
  stage0Stats(): import('../core/retrieval/stage0.js').BuildStats | null;
  /** The last Librarian job in this window. */
  lastLibrarian():
    (import('../core/librarian/librarian.js').LibrarianResult & { evidence: string; opened?: string }) | null;
  /** The reflector's work after the last failed Implementer task. */
  lastReflection(): Promise<import('../core/reflector/reflector.js').ReflectResult | null> | null;
  /** The last Judge verdict in this window, with where it was saved. */
  lastVerdict(): (import('../core/judge/judge.js').JudgeResult & { evidence: string }) | null;
  /** The settings a workspace may not widen, as the extension reads them (the user's values only). */
  userOnlySettings(): { autoApprove: boolean; allowPaidFallback: boolean; judgeMaxEvidenceChars: number };
}

export function testingEnabled(context: vscode.ExtensionContext): boolean {
  return context.extensionMode !== vscode.ExtensionMode.Production || process.env.SWITCHYARD_TESTING === '1';
}

export function testingProbes(s: Services, activationMs: number): SwitchyardTesting {
  return {
    activationMs,
    statusBarText: () => ({
      budget: s.statusBar.budget.text,
      runtime: s.statusBar.runtime.text,
      runtimeTooltip: String(s.statusBar.runtime.tooltip ?? ''),
      runtimeWarning:
        (s.statusBar.runtime.backgroundColor as vscode.ThemeColor | undefined)?.id ===
        'statusBarItem.warningBackground',
    }),
    runtimeState: () => s.runtime.peek()?.manager.status().state ?? 'stopped',
    auditPath: () => s.audit.path,
    tutorStats: () => {
      const t = s.tutor.peek();
      return {
        openMs: t?.openMs ?? null,
        viewLoadMs: t?.viewLoadMs ?? null,
        renders: [...(t?.controller.renders.values() ?? [])],
      };
    },
    planOpenMs: () => s.plans.peek()?.review().openMs ?? null,
    lastAgent: () => s.agent.peek()?.last ?? null,
    taskView: () => s.agent.peek()?.current ?? null,
    taskViewMessage: async (raw) => {
      const agent = s.agent();
      agent.lastRefusal = null;
      const accepted = await agent.fromView(raw);
      return { accepted, refusal: agent.lastRefusal };
    },
    lastVerdict: () => s.judge.peek()?.last ?? null,
    userOnlySettings: () => ({
      autoApprove: config.agentAutoApprove(),
      allowPaidFallback: config.agentAllowPaidFallback(),
      judgeMaxEvidenceChars: config.judgeMaxEvidenceChars(),
    }),
    stage0Stats: () => s.stage0.peek()?.last ?? null,
    lastLibrarian: () => s.librarian.peek()?.last ?? null,
    lastReflection: () => s.agent.peek()?.lastReflection ?? null,
  };
}
