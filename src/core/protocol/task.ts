// The agent's task view: its message table, shared by the host and media/. The host sends the whole task state
// (the view is a pure function of it); the view sends the user's actions, validated before anything is done.
import { z } from 'zod';

const Turn = z.object({
  turn: z.number(),
  location: z.string(),
  provider: z.string(),
  model: z.string(),
  rule: z.string(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cost_usd: z.number(),
  context_tokens: z.number(),
  context_window: z.number(),
  text: z.string(),
  /** A local turn: the model the server really served (read from the model), and why it is not the policy's. */
  served: z.string().nullable().optional(),
  warning: z.string().nullable().optional(),
});
const Tool = z.object({
  turn: z.number(),
  name: z.string(),
  arguments: z.string(),
  ok: z.boolean(),
  result: z.string(),
});
const Route = z.object({ turn: z.number(), from: z.string().nullable(), to: z.string(), why: z.string() });
const Check = z.object({
  turn: z.number(),
  ok: z.boolean(),
  steps: z.array(z.string()),
  errors: z.array(z.string()),
  unverified: z.boolean(),
});
/** A check step's live log (src/core/protocol/checkLog.ts keeps it bounded). */
const CheckLog = z.object({
  id: z.string(),
  turn: z.number(),
  step: z.string(),
  /** Running until its step ends; "stopped" when Stop (or the end of the task) cut it. */
  state: z.enum(['running', 'passed', 'failed', 'stopped']),
  text: z.string(),
  /** Lines dropped from the top (the bound), or every line (an older run's log). */
  dropped: z.number(),
});
export type CheckLog = z.infer<typeof CheckLog>;
const CheckpointView = z.object({ turn: z.number(), id: z.string(), label: z.string() });
const PendingEdit = z.object({
  id: z.string(),
  summary: z.string(),
  files: z.array(z.object({ path: z.string(), diff: z.string(), how: z.string() })),
});

/** How a task stands: running, or how it ended (CONTRACTS.md `result.status`). */
export const TASK_STATUSES = [
  'running',
  'passed',
  'unverified',
  'awaiting_judge',
  'failed',
  'refused',
  'cancelled',
  'interrupted',
  'abandoned',
  'gave_up',
] as const;
/** Why a task gave up. */
export const GAVE_UP_REASONS = ['turn_limit', 'stall', 'budget'] as const;

/** A task id as a view may send it (it names a folder on the host): no `/`, no `..`. */
export const taskId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/)
  .refine((s) => !s.includes('..'));

/** A task of the workspace, as the task picker lists it. */
export const TaskListItem = z.object({
  task_id: z.string(),
  instruction: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  updated: z.string(),
});
export type TaskListItem = z.infer<typeof TaskListItem>;

export const TaskState = z.object({
  task_id: z.string(),
  instruction: z.string(),
  status: z.enum(TASK_STATUSES),
  /** Why it gave up (`gave_up`): turn_limit, stall or budget. */
  reason: z.string().optional(),
  message: z.string(),
  use_cloud: z.boolean(),
  auto_approve: z.boolean(),
  turns: z.array(Turn),
  tools: z.array(Tool),
  routes: z.array(Route),
  checks: z.array(Check),
  checkpoints: z.array(CheckpointView),
  pending: PendingEdit.nullable(),
  streaming: z.string(),
  diff: z.string(),
  evidence: z.string(),
  /** The live logs of the checks, one per step run (bounded; the evidence has each whole log). */
  check_logs: z.array(CheckLog).optional(),
  /** The Judge gate of a high-risk task (GR-002): waiting, or closed by a cloud approve with verified citations. */
  gate: z
    .object({ status: z.enum(['not_required', 'awaiting_judge', 'approved']), why: z.string() })
    .nullable()
    .optional(),
  /** What Abandon restored to the first checkpoint, and the files the user changed that it kept. */
  abandoned: z
    .object({ restored: z.array(z.string()), kept: z.array(z.string()) })
    .nullable()
    .optional(),
  /** Drawn from the evidence folder (not a run live in this window). */
  restored_from_disk: z.boolean().optional(),
});
export type TaskState = z.infer<typeof TaskState>;

/** Host -> webview. */
export const ToTaskView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('state'), state: TaskState, tasks: z.array(TaskListItem).optional() }),
  z.object({ type: z.literal('empty'), text: z.string(), tasks: z.array(TaskListItem).optional() }),
  /** A batch of a running check's output, applied to the view's `check_logs` as the host applied it. */
  z.object({ type: z.literal('checkOutput'), turn: z.number(), step: z.string(), text: z.string() }),
]);
export type ToTaskView = z.infer<typeof ToTaskView>;

const id = z.string().min(1).max(80);

/** Webview -> host. */
export const FromTaskView = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), ms: z.number().nonnegative().max(600_000).optional() }),
  z.strictObject({ type: z.literal('stop') }),
  z.strictObject({ type: z.literal('judge') }),
  z.strictObject({ type: z.literal('useCloud'), on: z.boolean() }),
  z.strictObject({ type: z.literal('approve'), id, all: z.boolean() }),
  z.strictObject({ type: z.literal('reject'), id }),
  z.strictObject({ type: z.literal('restore'), checkpoint: id }),
  z.strictObject({ type: z.literal('openFile'), path: z.string().min(1).max(400) }),
  z.strictObject({ type: z.literal('resume'), task: taskId }),
  z.strictObject({ type: z.literal('abandon'), task: taskId }),
  /** An earlier task picked from the list. */
  z.strictObject({ type: z.literal('openTask'), task: taskId }),
]);
export type FromTaskView = z.infer<typeof FromTaskView>;
