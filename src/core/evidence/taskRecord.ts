// A task's record in the state folder (`<stateDir>/tasks/<workspace hash>/<task>/`), out of the workspace: what the
// Judge gate trusts. The evidence folder lives in the workspace, where the agent's tools, a check's build script or a
// hostile repository can write; the record is written only by the executor (the copies TaskEvidence makes as it
// writes, the seal's manifest) and by the gate (verdicts, gate.json). Files are the owner's only (0700 / 0600).
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { relativeInside } from '../util/paths.js';

/** Ids are names, never paths: they become folder names in the workspace and in the state folder. */
export function checkTaskId(taskId: string): string {
  if (!/^[A-Za-z0-9_.-]{1,120}$/.test(taskId) || taskId.startsWith('.'))
    throw new Error(`"${taskId.slice(0, 80)}" is not a task id (letters, digits, _ . -)`);
  return taskId;
}

/** The real path of a workspace (the agent's Workspace resolves links too): one record folder per workspace. */
export function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return resolve(root);
  }
}

/** Where a workspace's task records live in the state folder. */
export const recordsRoot = (stateDir: string, root: string): string =>
  join(stateDir, 'tasks', createHash('sha256').update(realRoot(root)).digest('hex').slice(0, 16));

export class TaskRecord {
  private constructor(
    readonly dir: string,
    readonly taskId: string,
  ) {}

  static of(stateDir: string, root: string, taskId: string): TaskRecord {
    return new TaskRecord(join(recordsRoot(stateDir, root), checkTaskId(taskId)), taskId);
  }

  private path(name: string): string {
    const rel = relativeInside(name);
    if (!rel) throw new Error(`task record: "${name}" is not a file name inside the record`);
    return join(this.dir, rel);
  }

  /** Creates the record's folders owner-only (a mode on mkdir is only honoured for folders it creates). */
  private ensure(p: string): void {
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
  }

  write(name: string, body: string | object): string {
    const p = this.path(name);
    this.ensure(p);
    writeFileSync(p, typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    chmodSync(p, 0o600); // a file that existed keeps its mode through writeFileSync
    return p;
  }

  append(name: string, text: string): void {
    const p = this.path(name);
    this.ensure(p);
    appendFileSync(p, text, { mode: 0o600 });
  }

  read(name: string): string | null {
    const p = this.path(name);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  }

  readJson<T>(name: string): T | null {
    const t = this.read(name);
    if (t === null) return null;
    try {
      return JSON.parse(t) as T;
    } catch {
      return null;
    }
  }

  /** The file names of a sub-folder (or of the record itself), sorted by the number in them, then by name. */
  list(sub = '.'): string[] {
    const d = this.path(sub);
    if (!existsSync(d)) return [];
    const num = (f: string) => Number(/(\d+)/.exec(f)?.[1] ?? -1);
    return readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort((a, b) => num(a) - num(b) || a.localeCompare(b));
  }

  /** Every file of the record, relative and `/`-separated. */
  files(): string[] {
    const out: string[] = [];
    const walk = (d: string, prefix: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
        else if (e.isFile()) out.push(`${prefix}${e.name}`);
      }
    };
    walk(this.dir, '');
    return out.sort();
  }
}
