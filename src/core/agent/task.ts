// One task of the agent while it runs: what the turn loop, the tool calls, the edits and the checks share (the
// transcript, the running state the router reads, what was checked and checkpointed), and how a task ends (Done).
import type { AttemptRecord } from '../reflector/reflector.js';
import { CallFailed } from '../providers/call.js';
import type { ChatMessage } from '../providers/types.js';
import type { Checkpoint } from './checkpoints.js';
import { initialState, type RunningState } from './state.js';
import { DEFAULT_MAX_EVIDENCE_BYTES, EvidenceBound } from './evidenceBound.js';
import type { AgentEvent, AgentStatus, GaveUpReason } from './events.js';
import type { AgentInput, AgentPorts } from './ports.js';
import { TaskLog, type RunSnapshot, type TaskCheckpoint } from './taskLog.js';

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
    readonly reason?: GaveUpReason,
  ) {}
}

export class AgentTask {
  /** The ports, with every event also kept in the task's record (taskLog.ts). */
  readonly p: AgentPorts;
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
  /** Turns in a row that sent the same tool calls as the one before (a stall), and the last turn's calls. */
  repeats = 0;
  lastCalls: string | null = null;
  /** The checkpoints this task made, with their turns. */
  readonly checkpoints: TaskCheckpoint[] = [];
  /** The work tree as the last action left it (a shadow commit) and what the task wrote since (sha256, null: deleted). */
  lastTree: string | null = null;
  writesSince: Record<string, string | null> = {};
  /** Whether the workspace may have changed since the last checkpoint (at the start: there is none yet). */
  changedSinceCheckpoint = true;
  readonly log: TaskLog;
  /** The task's record is written whole (its end): nothing more goes into it. */
  closed = false;
  /** The ports' own emit: an event said but not recorded (the record is written first, then sealed). */
  readonly report: (e: AgentEvent) => void;

  constructor(
    ports: AgentPorts,
    readonly i: AgentInput,
    log?: TaskLog,
  ) {
    this.log = log ?? new TaskLog(ports.evidence);
    const p = Object.create(ports) as AgentPorts;
    p.emit = (e: AgentEvent) => {
      this.log.event(e);
      ports.emit(e);
    };
    this.p = p;
    this.report = (e) => ports.emit(e);
    this.signal = i.signal ?? new AbortController().signal;
    this.state = initialState(i.scope);
    this.kept = new EvidenceBound(ports.evidence, i.policy.agent?.max_evidence_bytes ?? DEFAULT_MAX_EVIDENCE_BYTES);
  }

  /** A message added to the transcript, and to its record. */
  push(...ms: ChatMessage[]): void {
    for (const m of ms) {
      this.messages.push(m);
      this.log.message(m);
    }
  }

  /** What a resume needs to continue from here (resume/state.json). */
  save(): void {
    const s: RunSnapshot = {
      version: 1,
      turn: this.turn,
      state: this.state,
      lastLane: this.lastLane,
      editedSinceCheck: this.editedSinceCheck,
      lastCheck: this.lastCheck,
      checkpointedTurn: this.checkpointedTurn,
      nudged: this.nudged,
      requiresJudge: this.requiresJudge,
      repeats: this.repeats,
      lastCalls: this.lastCalls,
      attempts: this.attempts,
      served: this.served,
      checkpoints: this.checkpoints,
      lastTree: this.lastTree,
      writesSince: this.writesSince,
    };
    this.log.snapshot(s);
  }

  /** The state a resume reloads (the transcript is pushed by the caller). */
  restore(s: RunSnapshot): void {
    this.turn = s.turn;
    Object.assign(this.state, s.state);
    this.lastLane = s.lastLane;
    this.editedSinceCheck = s.editedSinceCheck;
    this.lastCheck = s.lastCheck;
    this.checkpointedTurn = s.checkpointedTurn;
    this.nudged = s.nudged;
    this.requiresJudge = s.requiresJudge;
    this.repeats = s.repeats;
    this.lastCalls = s.lastCalls;
    this.attempts.push(...s.attempts);
    this.served = s.served;
    this.checkpoints.push(...s.checkpoints);
    this.lastTree = s.lastTree;
    this.writesSince = { ...s.writesSince };
  }

  /** A snapshot of the work tree, taken while the model answers; once it is taken it is the last action's tree. */
  takeSnapshot(): Promise<Checkpoint> {
    const snap = this.p.checkpoints.snapshot('snapshot');
    this.snapshot = snap;
    snap.then(
      (cp) => {
        // The workspace changed while it was taken, or the task is over: it is no one's tree.
        if (this.snapshot !== snap || this.signal.aborted || this.closed) return;
        this.lastTree = cp.id;
        this.writesSince = {};
        this.save();
      },
      () => {},
    );
    return snap;
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
