// One task of the agent while it runs: what the turn loop, the tool calls, the edits and the checks share (the
// transcript, the running state the router reads, what was checked and checkpointed), and how a task ends (Done).
import type { AttemptRecord } from '../reflector/reflector.js';
import { CallFailed } from '../providers/call.js';
import type { ChatMessage } from '../providers/types.js';
import type { Checkpoint } from './checkpoints.js';
import { initialState, type RunningState } from './state.js';
import { DEFAULT_MAX_EVIDENCE_BYTES, EvidenceBound } from './evidenceBound.js';
import type { AgentStatus } from './events.js';
import type { AgentInput, AgentPorts } from './ports.js';

export const DEFAULT_MAX_WRITE_BYTES = 2 * 1024 * 1024;
export const CANCELLED = () => new CallFailed('cancelled', 'cancelled', [], [], null);
export const isCancel = (e: unknown) =>
  (e instanceof CallFailed && e.kind === 'cancelled') || (e as Error)?.name === 'AbortError';
export const pad = (n: number) => String(n).padStart(3, '0');

/** The end of the task, as a value the loop returns through. */
export class Done {
  constructor(
    readonly status: AgentStatus,
    readonly message: string,
  ) {}
}

export class AgentTask {
  readonly messages: ChatMessage[] = [];
  readonly state: RunningState;
  readonly signal: AbortSignal;
  turn = 0;
  lastLane: string | null = null;
  editedSinceCheck = false;
  lastCheck: { ok: boolean; unverified: boolean } | null = null;
  checkpointedTurn = -1;
  /** A snapshot taken while the model answers; valid until the workspace changes (an edit, a command). */
  snapshot: Promise<Checkpoint> | null = null;
  nudged = false;
  requiresJudge = false;
  readonly attempts: AttemptRecord[] = [];
  served: { provider: string; model: string; rule: string } | null = null;
  readonly kept: EvidenceBound;
  /** What the last checks wrote to governing files and Switchyard undid (said to the model). */
  undoneByChecks: string | null = null;

  constructor(
    readonly p: AgentPorts,
    readonly i: AgentInput,
  ) {
    this.signal = i.signal ?? new AbortController().signal;
    this.state = initialState(i.scope);
    this.kept = new EvidenceBound(p.evidence, i.policy.agent?.max_evidence_bytes ?? DEFAULT_MAX_EVIDENCE_BYTES);
  }

  get maxWriteBytes(): number {
    return this.i.policy.agent?.max_write_bytes ?? DEFAULT_MAX_WRITE_BYTES;
  }

  /** One record for the reflector, by the model that served this turn. */
  attempt(outcome: AttemptRecord['outcome'], detail: string, who = this.served): void {
    const m = this.state.measured;
    this.attempts.push({
      attempt: this.turn,
      provider: who?.provider ?? null,
      model: who?.model ?? null,
      rule: who?.rule ?? null,
      outcome,
      detail,
      lines: m?.lines_changed ?? null,
      flags: m?.risk_flags ?? [],
    });
  }
}
