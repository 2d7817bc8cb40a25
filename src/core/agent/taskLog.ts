// What a task keeps in its evidence folder as it goes, so that a reload, a crash or a restart can redraw it and
// resume it: the transcript as sent (redacted), every event but a check's streamed output, the running state the
// router reads, its checkpoints, and task-state.json (running and whose, or how it ended). Lines are appended
// (a torn last line is skipped on reading) and whole files are written then renamed: a crash at any point leaves a
// readable state.
import { JsonlFile } from '../evidence/auditLog.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskEvidence } from '../evidence/taskEvidence.js';
import type { ChatMessage } from '../providers/types.js';
import type { AttemptRecord } from '../reflector/reflector.js';
import type { AgentEvent, AgentStatus, GaveUpReason } from './events.js';
import type { RunningState } from './state.js';

/** The abort reason that says the task's owner went away (a window reload): the task ends "interrupted". */
export const INTERRUPTED = 'interrupted';

export const TASK_STATE = 'task-state.json';
export const TRANSCRIPT = 'resume/transcript.jsonl';
export const EVENTS = 'events.jsonl';
export const RUN_STATE = 'resume/state.json';
export const ORIGINALS = 'resume/originals.json';
export const INPUT = 'resume/input.json';

export interface TaskStateFile {
  status: AgentStatus | 'running';
  reason?: GaveUpReason;
  owner: { pid: number; started: string };
  /** When the task was first started (a resume keeps it). */
  started: string;
  updated: string;
}

/** A checkpoint as the task made it, with its turn. */
export interface TaskCheckpoint {
  id: string;
  label: string;
  at: string;
  turn: number;
}

/** What the loop needs to continue where it was (resume/state.json). */
export interface RunSnapshot {
  version: 1;
  /** The last turn started. */
  turn: number;
  state: RunningState;
  lastLane: string | null;
  editedSinceCheck: boolean;
  lastCheck: { ok: boolean; unverified: boolean } | null;
  checkpointedTurn: number;
  nudged: boolean;
  requiresJudge: boolean;
  repeats: number;
  lastCalls: string | null;
  attempts: AttemptRecord[];
  served: { provider: string; model: string; rule: string } | null;
  checkpoints: TaskCheckpoint[];
  /** The work tree as the task's last action left it (a shadow commit), and what the task wrote after it. */
  lastTree: string | null;
  writesSince: Record<string, string | null>;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export class TaskLog {
  private owner: TaskStateFile['owner'];
  private started: string;

  constructor(
    readonly evidence: TaskEvidence,
    prior?: TaskStateFile | null,
  ) {
    const now = new Date().toISOString();
    this.owner = { pid: process.pid, started: now };
    this.started = prior?.started ?? now;
  }

  running(): void {
    this.state('running');
  }

  state(status: TaskStateFile['status'], reason?: GaveUpReason): void {
    const s: TaskStateFile = {
      status,
      ...(reason ? { reason } : {}),
      owner: this.owner,
      started: this.started,
      updated: new Date().toISOString(),
    };
    this.evidence.replace(TASK_STATE, s);
  }

  message(m: ChatMessage): void {
    this.evidence.append(TRANSCRIPT, m);
  }

  /** Every event but a check's streamed output (the check's log is in checks/). */
  event(e: AgentEvent): void {
    if (e.type !== 'check_output') this.evidence.append(EVENTS, e);
  }

  snapshot(s: RunSnapshot): void {
    this.evidence.replace(RUN_STATE, s);
  }

  originals(o: Map<string, string | null>): void {
    this.evidence.replace(ORIGINALS, [...o]);
  }
}

/** The JSON lines of a file that parse (a line torn by a crash is left out); [] when it is missing. */
export const readLines = <T extends object>(file: string): T[] => new JsonlFile<T>(file).read();

export function readJson<T>(dir: string, name: string): T | null {
  try {
    return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
  } catch {
    return null;
  }
}
