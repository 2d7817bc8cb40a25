// The runtime's vocabulary: its states and status, a running server as the manager keeps it, the record it leaves
// on disk for a later window or CLI run, how it is configured, and its error.
import type { Policy } from '../policy/schema.js';
import type { Engine, LaunchSpec } from './launch.js';
import type { MismatchNotice, ServedModel, ServedRecord } from './served.js';
import type { ServerProcess, SpawnPort } from './spawn.js';

export type RuntimeState =
  'stopped' | 'starting' | 'ready' | 'sleeping' | 'swapping' | 'restarting' | 'failed' | 'external';

/** GPU memory in use by these pids (nvidia-smi where present); null when there is no way to know. */
export type GpuProbe = (pids: number[]) => Promise<number | null>;

export interface RuntimeStatus {
  state: RuntimeState;
  engine: Engine | 'external' | null;
  modelKey: string | null;
  served: string | null;
  endpoint: string | null;
  pid: number | null;
  port: number | null;
  loadMs: number | null;
  message: string | null;
  logTail: string[];
  sleeping: string[];
  /** When the manager saw the server ready (epoch ms). */
  readyAt: number | null;
  /** What the server really serves, read from the model (GGUF metadata or /v1/models); null until known. */
  model: ServedModel | null;
}

/** A server this manager started: its process, its log (key redacted) and when it last moved. */
export interface Running {
  spec: LaunchSpec;
  proc: ServerProcess;
  modelKey: string;
  log: string[];
  lastOutput: number;
  exited: boolean;
  stopping: boolean;
  startedAt: number;
  readyAt: number | null;
  model: ServedModel | null;
}

export interface RuntimeRecord {
  pid: number;
  port: number;
  engine: Engine;
  modelKey: string;
  served: string;
  apiKey: string;
  started_at: string;
  last_load_ms: number | null;
  /** What it serves, read from the model at start (the CLI names it in provenance). */
  model?: ServedRecord | null;
}

export type AuditKind = 'fallback' | 'restart' | 'failure' | 'refusal' | 'start' | 'stop' | 'swap' | 'mismatch';

export interface ManagerOptions {
  policy: () => Policy;
  stateDir: string;
  binaries: { vllm?: string | undefined; llama?: string | undefined };
  modelPath?: string | undefined;
  threads?: number;
  spawn?: SpawnPort;
  gpu?: GpuProbe;
  audit?: (kind: AuditKind, text: string) => void;
  /** Base load timeouts; they grow with the longest load seen before, and a load whose log moves is never killed. */
  timeouts?: { vllmMs?: number; llamaMs?: number; stallMs?: number; pollMs?: number };
  restart?: { max: number; baseMs: number };
  externalEndpoint?: () => string | undefined;
  /** The key the external endpoint wants (a team's vLLM or gateway), for reading its /v1/models. */
  externalKey?: () => Promise<string | undefined> | string | undefined;
  /** Audits a served model that is not the policy's, once per session (shared by the managers of a window). */
  notice?: MismatchNotice;
}

/** Options of a start or a switch asked for by a caller. */
export interface StartOptions {
  signal?: AbortSignal;
  onLog?: (line: string) => void;
}

export class RuntimeError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    readonly logTail: string[] = [],
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
