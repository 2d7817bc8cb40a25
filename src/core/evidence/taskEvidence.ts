// GR-007: a task's evidence folder (`.switchyard/evidence/<task>/`): what was asked, each attempt's patch,
// classification and check log, the routing decisions, and a sha256 manifest of it all.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { relativeInside } from '../util/paths.js';

/** Where a workspace keeps its task evidence (GR-007). */
export const evidenceRoot = (workspace: string): string => join(workspace, '.switchyard', 'evidence');

/** `YYYYMMDD-HHMMSS` in UTC: ids and file names sort by time. */
export const compactStamp = (now = new Date()): string =>
  now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** A new task id, `<kind>-YYYYMMDD-HHMMSS-xxxx`: the one place ids are minted. */
export function newTaskId(kind: 'impl' | 'lib' | 'judge', now = new Date()): string {
  return `${kind}-${compactStamp(now)}-${randomBytes(2).toString('hex')}`;
}

export class TaskEvidence {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** The evidence folder of a task in a workspace. */
  static forTask(workspace: string, taskId: string): TaskEvidence {
    return new TaskEvidence(join(evidenceRoot(workspace), taskId));
  }

  private path(name: string): string {
    const rel = relativeInside(name);
    if (!rel || rel === 'manifest.sha256')
      throw new Error(`evidence: "${name}" is not a file name inside the task folder`);
    const p = join(this.dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  write(name: string, body: string | object): string {
    const p = this.path(name);
    writeFileSync(p, typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`);
    return p;
  }

  append(name: string, line: object): void {
    appendFileSync(this.path(name), `${JSON.stringify(line)}\n`);
  }

  /** `manifest.sha256` in sha256sum's format over every other file (sorted): `sha256sum -c` verifies it. */
  seal(): string {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(relative(this.dir, p));
      }
    };
    walk(this.dir);
    const lines = files
      .filter((f) => f !== 'manifest.sha256')
      .sort()
      .map(
        (f) =>
          `${createHash('sha256')
            .update(readFileSync(join(this.dir, f)))
            .digest('hex')}  ${f}`,
      );
    const out = join(this.dir, 'manifest.sha256');
    writeFileSync(out, `${lines.join('\n')}\n`);
    return out;
  }
}
