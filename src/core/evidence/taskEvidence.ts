// GR-007: a task's evidence folder (`.switchyard/evidence/<task>/`): what was asked, each attempt's patch,
// classification and check log, the routing decisions, and a sha256 manifest of it all. With a TaskRecord (the
// agent's tasks), what the Judge gate reads is also written to the record in the state folder, out of the workspace,
// and so is each seal's manifest: `verify()` then tells whether the folder still is what was sealed.
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { relativeInside } from '../util/paths.js';
import { TaskRecord } from './taskRecord.js';

/** Where a workspace keeps its task evidence (GR-007). */
export const evidenceRoot = (workspace: string): string => join(workspace, '.switchyard', 'evidence');

/** `YYYYMMDD-HHMMSS` in UTC: ids and file names sort by time. */
export const compactStamp = (now = new Date()): string =>
  now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** A new task id, `<kind>-YYYYMMDD-HHMMSS-xxxx`: the one place ids are minted. */
export function newTaskId(kind: 'impl' | 'lib' | 'judge', now = new Date()): string {
  return `${kind}-${compactStamp(now)}-${randomBytes(2).toString('hex')}`;
}

const MANIFEST = 'manifest.sha256';

/**
 * What the executor writes that the gate reads back, so kept in the record too: the check logs (a planted log must
 * not tell the Judge the tests passed), the classifications, the result (the changed files, the base checkpoint,
 * whether a Judge is required), and what was asked. Turns and diffs stay in the folder only: the gate rebuilds the
 * diff from git.
 */
const MIRRORED = /^(checks\/|classifications\/|result\.json$|instruction\.md$|plan-step\.json$|routing\.jsonl$)/;

export type Verification = { ok: true } | { ok: false; file: string; why: string };

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The manifest's lines, `<sha256>  <name>` (sha256sum's format), as a map. */
function parseManifest(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const x = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (x) m.set(x[2]!, x[1]!);
  }
  return m;
}

const renderManifest = (m: Map<string, string>): string =>
  `${[...m]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([f, h]) => `${h}  ${f}`)
    .join('\n')}\n`;

export class TaskEvidence {
  constructor(
    readonly dir: string,
    readonly record?: TaskRecord,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The evidence folder of a task in a workspace; with a record (or the state folder to keep one in) for agent tasks. */
  static forTask(workspace: string, taskId: string, record?: TaskRecord | { stateDir: string }): TaskEvidence {
    const r = record && !(record instanceof TaskRecord) ? TaskRecord.of(record.stateDir, workspace, taskId) : record;
    return new TaskEvidence(join(evidenceRoot(workspace), taskId), r);
  }

  private rel(name: string): string {
    const rel = relativeInside(name);
    if (!rel || rel === MANIFEST) throw new Error(`evidence: "${name}" is not a file name inside the task folder`);
    return rel;
  }

  private path(rel: string): string {
    const p = join(this.dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  write(name: string, body: string | object): string {
    const rel = this.rel(name);
    const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
    const p = this.path(rel);
    writeFileSync(p, text);
    if (this.record && MIRRORED.test(rel)) this.record.write(rel, text);
    return p;
  }

  /** `write`, but whole or not at all: a crash mid-write leaves the file as it was (write, then rename). */
  replace(name: string, body: string | object): string {
    const rel = this.rel(name);
    const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
    const p = this.path(rel);
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, p);
    if (this.record && MIRRORED.test(rel)) this.record.write(rel, text);
    return p;
  }

  append(name: string, line: object): void {
    const rel = this.rel(name);
    const text = `${JSON.stringify(line)}\n`;
    appendFileSync(this.path(rel), text);
    if (this.record && MIRRORED.test(rel)) this.record.append(rel, text);
  }

  /**
   * The folder's files (not the manifest) and their hashes. Links and other non-files are listed with a null hash:
   * never followed (a link to a device or a loop would hang the walk), and refused by verify().
   */
  private hashes(): Map<string, string | null> {
    const out = new Map<string, string | null>();
    const walk = (d: string, prefix: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        const s = lstatSync(p);
        if (s.isDirectory()) walk(p, `${prefix}${e}/`);
        else if (`${prefix}${e}` !== MANIFEST) out.set(`${prefix}${e}`, s.isFile() ? sha256(readFileSync(p)) : null);
      }
    };
    walk(this.dir, '');
    return out;
  }

  private writeManifest(m: Map<string, string>): string {
    const text = renderManifest(m);
    const out = join(this.dir, MANIFEST);
    writeFileSync(out, text);
    this.record?.write(MANIFEST, text);
    return out;
  }

  /** `manifest.sha256` in sha256sum's format over every other file (sorted): `sha256sum -c` verifies it. */
  seal(): string {
    const m = new Map<string, string>();
    for (const [f, h] of this.hashes()) if (h !== null) m.set(f, h);
    return this.writeManifest(m);
  }

  /**
   * The record's manifest with only `names` (files the caller has just written) hashed again: whatever else changed
   * in the folder since the last seal stays unsealed, so it is still caught by verify().
   */
  amend(names: string[]): string {
    const sealed = this.record?.read(MANIFEST);
    if (!this.record || sealed === null || sealed === undefined) return this.seal();
    const m = parseManifest(sealed);
    for (const n of names) {
      const rel = this.rel(n);
      m.set(rel, sha256(readFileSync(join(this.dir, rel))));
    }
    return this.writeManifest(m);
  }

  /**
   * Whether the folder is what was sealed, against the record's copy of the manifest: a file changed, missing or
   * added since, a link, or a folder manifest that is not the record's is tampering, and names the file. The record's
   * own copies (check logs, result) must match the seal too.
   */
  verify(): Verification {
    const sealedText = this.record?.read(MANIFEST) ?? null;
    if (sealedText === null)
      return { ok: false, file: MANIFEST, why: 'the task has no sealed record in the state folder' };
    const sealed = parseManifest(sealedText);
    const now = this.hashes();
    for (const [f, h] of sealed) {
      if (!now.has(f)) return { ok: false, file: f, why: 'is missing (it was sealed)' };
      if (now.get(f) !== h) return { ok: false, file: f, why: 'was changed after the task was sealed' };
    }
    for (const [f, h] of now) {
      if (h === null) return { ok: false, file: f, why: 'is not a plain file (a link or a device)' };
      if (!sealed.has(f)) return { ok: false, file: f, why: 'was added after the task was sealed' };
    }
    let folderManifest: string | null = null;
    try {
      folderManifest = readFileSync(join(this.dir, MANIFEST), 'utf8');
    } catch {
      /* missing: reported below */
    }
    if (folderManifest !== sealedText)
      return { ok: false, file: MANIFEST, why: "is not the seal kept in the state folder's record" };
    for (const f of this.record!.files()) {
      if (!MIRRORED.test(f)) continue;
      if (sealed.get(f) !== sha256(readFileSync(join(this.record!.dir, f))))
        return { ok: false, file: f, why: "the state folder's copy is not the sealed file" };
    }
    return { ok: true };
  }
}
