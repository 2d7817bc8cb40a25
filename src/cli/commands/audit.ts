import { join } from 'node:path';
import { AuditLog } from '../../core/evidence/auditLog.js';
import { EXIT, UsageError, io } from '../io.js';
import { stateDir } from '../state.js';

/** The audit log as JSON lines, optionally since an ISO time. */
export function auditCommand(o: { state?: string; since?: string }): number {
  let since: string | undefined;
  if (o.since !== undefined) {
    const t = Date.parse(o.since);
    if (Number.isNaN(t))
      throw new UsageError(
        `--since: "${o.since}" is not an ISO date or time (for example 2026-11-25 or 2026-11-25T10:00:00Z)`,
      );
    since = new Date(t).toISOString();
  }
  for (const e of new AuditLog(join(stateDir(o.state), 'audit.jsonl')).read(since))
    io().stdout.write(`${JSON.stringify(e)}\n`);
  return EXIT.ok;
}
