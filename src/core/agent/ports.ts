// What the agent is given (AgentInput), what it talks to (AgentPorts: the model, the workspace, the evidence, the
// checkpoints, the user) and what it returns (AgentResult). The editor and the CLI each fill the ports their way.
import type { CheckOutput } from './checkOutput.js';
import type { Classification } from '../classifier/types.js';
import type { TaskEvidence } from '../evidence/taskEvidence.js';
import type { CheckResult } from './checks.js';
import type { FileChange } from './edits/answer.js';
import type { ToolResult } from '../sandbox/process.js';
import type { Policy } from '../policy/schema.js';
import type { AttemptRecord } from '../reflector/reflector.js';
import type { ModelCaller } from '../providers/call.js';
import type { RouteDecision } from '../router/types.js';
import type { ShadowCheckpoints, Checkpoint } from './checkpoints.js';
import type { TaskText } from './prompt.js';
import type { Scope } from './state.js';
import type { ProposedChange } from './tools.js';
import type { Workspace } from './workspace.js';
import type { CommandRules } from '../policy/commandTrust.js';
import type { AgentEvent, AgentStatus, GaveUpReason } from './events.js';
import type { CommandAsk } from './permits.js';

export interface AgentInput extends TaskText {
  task_id: string;
  policy: Policy;
  localOnly: boolean;
  signal?: AbortSignal;
  scope?: Scope;
  /** The user's "use cloud" (asked before every turn: the task view's button can change it mid-task). */
  userRequestsCloud?: () => boolean;
  /** Output tokens per turn (default 8,000). */
  maxTokens?: number;
  /** The serving model's real context window, where the runtime knows it better than the policy (local servers). */
  contextWindow?: (d: RouteDecision) => number | undefined;
  /** The plan step this task does (kept as evidence: plan-step.json). */
  planStep?: { plan_id: string; step: unknown };
  /** Whose command rules count (commandTrust.ts); absent: the policy's allowlist, as the user's own. */
  commandRules?: CommandRules;
}

export type EditDecision = 'approve' | 'reject';

export interface AgentPorts {
  caller: ModelCaller;
  ws: Workspace;
  evidence: TaskEvidence;
  checkpoints: ShadowCheckpoints;
  classify(diff: string, changes: FileChange[]): Promise<Classification>;
  approveEdits(changes: ProposedChange[], summary: string): Promise<EditDecision>;
  /** A command the rules do not let run unattended, or any command without a sandbox: run it? */
  approveCommand(argv: string[], cwd: string, ask: CommandAsk): Promise<boolean>;
  /** An edit of a file that governs the agent or its checks (`governs`): only the user approves it, never auto-approve. */
  approveGoverningEdit?(changes: ProposedChange[], reasons: string[]): Promise<boolean>;
  /** Masks the secrets this host knows (keys) in every tool result before the model, the evidence or a view sees it. */
  redact?(text: string): string;
  /** The OS sandbox commands and checks run in; absent or unavailable: every command asks first. */
  sandbox?: { available: boolean; why?: string };
  /** `onOutput`: each step's output while it runs (whole lines, secrets masked), for the people watching. */
  runChecks(c: Classification | null, signal: AbortSignal, onOutput?: CheckOutput): Promise<CheckResult>;
  runCommand(argv: string[], cwd: string, timeoutMs: number, signal: AbortSignal): Promise<ToolResult>;
  askUser(question: string): Promise<string | null>;
  /** The local server, started (and waited for) when it is stopped; false when it cannot be. */
  ensureLocal?(): Promise<boolean>;
  /** The local lane cannot serve: may this turn go to a paid cloud model? */
  confirmPaidFallback?(why: string): Promise<boolean>;
  /** Stage 0's ranked files (search mode "context"). */
  context?(query: string, max: number): Promise<string>;
  emit(e: AgentEvent): void;
}

export interface AgentResult {
  status: AgentStatus;
  /** Why it gave up (status gave_up). */
  reason?: GaveUpReason;
  message: string;
  turns: number;
  checkpoints: Checkpoint[];
  changed: string[];
  requires_judge: boolean;
  evidence: string;
  classification: Classification | null;
  /** Each check run, text answer, rejected edit and failed call, as the reflector reads a task. */
  attempts: AttemptRecord[];
}
