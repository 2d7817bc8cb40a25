// What the agent reports while it works (the task view, the CLI's --json lines) and how a task ends.
// interrupted: its process ended mid-task (a reload, a crash); abandoned: then restored to its first checkpoint;
// gave_up: it stopped itself, for a `reason`.
export type AgentStatus =
  | 'passed'
  | 'unverified'
  | 'awaiting_judge'
  | 'failed'
  | 'refused'
  | 'cancelled'
  | 'interrupted'
  | 'abandoned'
  | 'gave_up';

export type GaveUpReason = 'turn_limit' | 'stall' | 'budget';

export type AgentEvent =
  | {
      type: 'turn';
      turn: number;
      provider: string;
      model: string;
      location: string;
      rule: string;
      tokens_in: number;
      tokens_out: number;
      cost_usd: number;
      context_tokens: number;
      context_window: number;
      text: string;
      served: string | null;
      warning: string | null;
    }
  | { type: 'tool'; turn: number; name: string; arguments: string; ok: boolean; result: string }
  | { type: 'route'; turn: number; from: string | null; to: string; why: string }
  | { type: 'check'; turn: number; ok: boolean; steps: string[]; errors: string[]; unverified: boolean }
  /** A check's output while it runs (whole lines, batched; secrets masked): for people, not in `--json`. */
  | { type: 'check_output'; turn: number; step: string; text: string }
  | { type: 'checkpoint'; turn: number; id: string; label: string }
  | { type: 'text'; turn: number; text: string }
  | { type: 'result'; status: AgentStatus; reason?: GaveUpReason; message: string; turns: number; evidence: string };
