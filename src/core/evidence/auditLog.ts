// The audit log: one JSON line per routing decision or degradation (GR-005), append-only, synced.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RouteDecision } from '../router/types.js';

export interface AuditEntry {
  ts: string;
  kind: 'decision';
  source: 'extension' | 'cli';
  audit: string;
  decision: RouteDecision;
}

export class AuditLog {
  constructor(readonly path: string) {}

  append(entry: AuditEntry): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // One write per line with O_APPEND: lines from several windows and CLI processes never interleave.
    const fd = openSync(this.path, 'a');
    try { writeSync(fd, `${JSON.stringify(entry)}\n`); fsyncSync(fd); } finally { closeSync(fd); }
  }

  /** Entries since an ISO time (all when absent); a torn or foreign line is skipped, never fatal. */
  read(since?: string): AuditEntry[] {
    let text: string;
    try { text = readFileSync(this.path, 'utf8'); } catch { return []; }
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        if (e && typeof e.audit === 'string' && (!since || e.ts >= since)) out.push(e);
      } catch { /* a torn last line from a crash: skip it */ }
    }
    return out;
  }
}

