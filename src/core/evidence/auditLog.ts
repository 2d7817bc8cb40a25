// The audit log: one JSON line per routing decision or degradation (GR-005), append-only, synced.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditedDecision } from '../router/types.js';

export type AuditKind =
  | 'decision'
  | 'call'
  | 'retry'
  | 'fallback'
  | 'escalation'
  | 'refusal'
  | 'failure'
  | 'cancelled'
  | 'repair'
  | 'runtime'
  /** The local server serves another model than the policy names (GR-005), once per session and model. */
  | 'mismatch'
  /** The user went past what a guardrail advises (a plan run without its cloud review, a step accepted unverified). */
  | 'override'
  /** What ran without an OS sandbox, or was refused for want of one (GR-010). */
  | 'sandbox'
  /** What a call's prompt lost to fit the served model's window (providers/fit.ts). */
  | 'fit';

export interface AuditEntry {
  ts: string;
  kind: AuditKind;
  source: 'extension' | 'cli';
  audit: string;
  /** Present on `decision` lines (and on the first line of a model call). */
  decision?: AuditedDecision;
  /** Model-call lines: the call they belong to and what they name. */
  call_id?: string;
  task_id?: string | null;
  role?: string;
  from?: string;
  to?: string | null;
  guardrail?: string;
}

/** An append-only JSON-lines file, synced per line: the audit log and the provenance records. */
export class JsonlFile<T extends object> {
  constructor(readonly path: string) {}

  append(entry: T): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Every whole line; a torn last line from a crash is skipped. */
  read(): T[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return [];
    }
    const out: T[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        /* torn line */
      }
    }
    return out;
  }
}

export class AuditLog extends JsonlFile<AuditEntry> {
  /** Entries since an ISO time (all when absent); a torn or foreign line is skipped, never fatal. */
  override read(since?: string): AuditEntry[] {
    return super.read().filter((e) => e && typeof e.audit === 'string' && (!since || e.ts >= since));
  }
}

/**
 * Appends in order off the caller's path (the model call does not wait for the disk before its first token);
 * `flush()` resolves once every queued line is written and synced. Used by the model-call path, which
 * flushes before it returns or throws, so a finished call's lines are always on disk.
 */
export class QueuedAppender<T extends object> {
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  constructor(readonly path: string) {}

  append(entry: T): void {
    const line = `${JSON.stringify(entry)}\n`;
    this.tail = this.tail
      .then(async () => {
        await mkdir(dirname(this.path), { recursive: true });
        const fh = await open(this.path, 'a');
        try {
          await fh.write(line);
          await fh.sync();
        } finally {
          await fh.close();
        }
      })
      .catch((e: Error) => {
        this.failure = e;
      });
  }

  async flush(): Promise<void> {
    await this.tail;
    if (this.failure) {
      const e = this.failure;
      this.failure = null;
      throw new Error(`could not write ${this.path}: ${e.message}`);
    }
  }
}
