// The Judge gate of a task (MODEL-POLICY.md GR-002, GR-003, GR-008): a task whose change is high risk ends
// "awaiting Judge"; the cloud Judge audits the task's whole diff with its evidence (the changed files, the diff and
// the check log are citable, by file and line); only an approve whose citations are all verified closes the gate.
// Nothing the gate trusts is read from the workspace's evidence folder, which the agent, a check's build script or a
// hostile repository can write: the folder is verified against the seal kept in the task's record in the state
// folder (src/core/evidence/taskRecord.ts), the diff is rebuilt from git (the shadow checkpoints' base commit against
// the files now), the check log and the result are the record's, and the verdicts (each with the hash of the exact
// bundle it judged) and gate.json live in the record. The latest verdict on the bundle as it is now decides.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { shadowDir } from '../agent/diskPorts.js';
import { isRefusal, Workspace } from '../agent/workspace.js';
import { compactStamp, TaskEvidence } from '../evidence/taskEvidence.js';
import { realRoot, TaskRecord } from '../evidence/taskRecord.js';
import { unifiedDiff } from '../agent/edits/answer.js';
import {
  approval,
  buildBundle,
  renderBundle,
  runJudge,
  type Bundle,
  type BundleFile,
  type JudgeResult,
} from '../judge/judge.js';
import type { ModelCaller } from '../providers/call.js';
import { relativeInside } from '../util/paths.js';

export type GateStatus = 'not_required' | 'awaiting_judge' | 'approved';

export interface Gate {
  task_id: string;
  status: GateStatus;
  why: string;
  /** Verdicts so far (file names in the task's record), oldest first. */
  verdicts: string[];
  /** The hash of the bundle the gate was decided on (null: none could be built). */
  bundle_sha256: string | null;
  at: string;
}

/** The citable names of the diff and the check log inside the bundle (they are not workspace files). */
export const DIFF_FILE = 'task.diff';
export const CHECKS_FILE = 'checks.log';
export const DEFAULT_CAP = 120_000;

/** The evidence folder was changed after it was sealed: the task is not judged. */
export class EvidenceTampered extends Error {
  override name = 'EvidenceTampered';
  constructor(
    readonly taskId: string,
    readonly file: string,
    readonly why: string,
  ) {
    super(
      `task ${taskId}: its evidence is not what was sealed: ${file} ${why}. The Judge is not asked about a tampered ` +
        `task; run it again to make fresh evidence`,
    );
  }
}

interface TaskResultFile {
  status?: string;
  requires_judge?: boolean;
  changed?: string[];
  checkpoints?: { id?: string }[];
}

/** A verdict as the record keeps it. */
type StoredVerdict = JudgeResult & { bundle_sha256?: string; cap_chars?: number };

/** A bundle with the hash of its rendered text (exactly what the Judge is shown) and the cap it was cut at. */
export interface TaskBundle extends Bundle {
  sha256: string;
  cap_chars: number;
}

/** The task's record and its result; an Error naming what is missing when the task is not one the gate knows. */
function taskRecord(stateDir: string, root: string, taskId: string): { record: TaskRecord; result: TaskResultFile } {
  const record = TaskRecord.of(stateDir, root, taskId);
  const result = record.readJson<TaskResultFile>('result.json');
  if (!result)
    throw new Error(
      `no finished task ${taskId} in the state folder ${stateDir} (its record ${record.dir} has no result.json): ` +
        'only a task the agent ran with this state folder can be judged',
    );
  return { record, result };
}

const git = (gitDir: string, args: string[]): string =>
  execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
  });

const gitOk = (gitDir: string, args: string[]): boolean => {
  try {
    git(gitDir, args);
    return true;
  } catch {
    return false;
  }
};

/**
 * The task's whole change, rebuilt: each changed file at the base checkpoint (the work tree before the task's first
 * edit, in the shadow repository) against the file on disk now. Never a diff file from the evidence folder.
 */
export function taskDiff(stateDir: string, root: string, taskId: string, r: TaskResultFile): string {
  const paths = [...new Set((r.changed ?? []).map(relativeInside).filter((p): p is string => p !== null))].sort();
  if (paths.length === 0) return '';
  const real = realRoot(root);
  const gitDir = shadowDir(stateDir, real);
  const base = r.checkpoints?.[0]?.id ?? '';
  const refuse = (why: string) =>
    new Error(`task ${taskId}: its change cannot be rebuilt from git (${why}), so it cannot be judged`);
  if (!/^[0-9a-f]{40,64}$/.test(base)) throw refuse('its result names no base checkpoint');
  if (!existsSync(join(gitDir, 'HEAD'))) throw refuse(`the shadow repository ${gitDir} is missing`);
  if (!gitOk(gitDir, ['cat-file', '-e', `${base}^{commit}`]))
    throw refuse(`the base checkpoint ${base.slice(0, 12)} is not in ${gitDir}`);
  const changes = paths.map((path) => {
    const before = gitOk(gitDir, ['cat-file', '-e', `${base}:${path}`])
      ? git(gitDir, ['cat-file', 'blob', `${base}:${path}`])
      : null;
    return { path, before, after: guardedRead(real, path) };
  });
  return unifiedDiff(changes.filter((c) => c.before !== c.after));
}

/**
 * A changed file as the Judge may see it: through the agent's workspace guard (no link out of the workspace, no
 * FIFO or device, 2 MiB at most), so what a check left in the workspace cannot make the gate read a secret or hang.
 * Absent: null; refused: a line saying why, so the Judge sees that something is off.
 */
function guardedRead(root: string, rel: string): string | null {
  const ws = new Workspace(root);
  try {
    const p = ws.rel(rel);
    if (!ws.exists(p)) return null;
    return ws.read(p);
  } catch (e) {
    if (!isRefusal(e)) throw e;
    return `[not read by the gate: ${(e as Error).message}]\n`;
  }
}

/** What the Judge is given for a task: the diff (from git), the executor's last check log and the changed files. */
export function taskBundle(stateDir: string, root: string, taskId: string, capChars = DEFAULT_CAP): TaskBundle {
  const { record, result: r } = taskRecord(stateDir, root, taskId);
  const files: BundleFile[] = [];
  const diff = taskDiff(stateDir, root, taskId, r);
  if (diff) files.push({ path: DIFF_FILE, text: diff, note: "the task's whole diff" });
  const lastOf = (sub: string) => {
    const f = record.list(sub).at(-1);
    return f ? record.read(`${sub}/${f}`) : null;
  };
  const checks = lastOf('checks');
  if (checks) files.push({ path: CHECKS_FILE, text: checks, note: 'the last checks the task ran' });
  const real = realRoot(root);
  for (const p of r.changed ?? []) {
    const rel = relativeInside(p);
    const text = rel ? guardedRead(real, rel) : null;
    if (rel && text !== null) files.push({ path: rel, text });
  }
  const classification = lastOf('classifications');
  const sections = (
    [
      ['INSTRUCTION', record.read('instruction.md')],
      ['PLAN STEP', record.read('plan-step.json')],
      ['CLASSIFICATION', classification ? summary(classification) : null],
      ['ROUTING DECISIONS', record.read('routing.jsonl')],
      ['RESULT', record.read('result.json')],
    ] as [string, string | null][]
  )
    .filter((x): x is [string, string] => x[1] !== null)
    .map(([title, body]) => ({ title, body }));
  const bundle = buildBundle(`task ${taskId} (${r.status ?? 'unknown'})`, files, sections, capChars);
  return { ...bundle, sha256: createHash('sha256').update(renderBundle(bundle)).digest('hex'), cap_chars: capChars };
}

function summary(classificationJson: string): string {
  try {
    const c = JSON.parse(classificationJson) as Record<string, unknown>;
    const { lines_changed, risk_flags, high_risk, lane, crates_touched, evidence } = c;
    const ev = Array.isArray(evidence) ? evidence.slice(0, 30) : [];
    return JSON.stringify({ lines_changed, risk_flags, high_risk, lane, crates_touched, evidence: ev }, null, 2);
  } catch {
    return classificationJson.slice(0, 8_000);
  }
}

const verdictNames = (record: TaskRecord) => record.list().filter((f) => /^judge-.*\.json$/.test(f));

/**
 * The gate from the record's verdicts: the latest one on the bundle as it is now (rebuilt at that verdict's own cap)
 * decides, so a later request_changes reopens an approved gate and a verdict on an older change does not count.
 */
function decide(stateDir: string, root: string, taskId: string): Gate {
  const { record, result: r } = taskRecord(stateDir, root, taskId);
  const names = verdictNames(record);
  const gate = (status: GateStatus, why: string, sha: string | null = null): Gate => ({
    ...{ task_id: taskId, status, why, verdicts: names, bundle_sha256: sha },
    at: new Date().toISOString(),
  });
  if (r.requires_judge !== true) return gate('not_required', 'not high risk');
  const sealed = TaskEvidence.forTask(root, taskId, record).verify();
  if (!sealed.ok) return gate('awaiting_judge', new EvidenceTampered(taskId, sealed.file, sealed.why).message);
  const bundles = new Map<number, TaskBundle>();
  const at = (cap: number) => bundles.get(cap) ?? bundles.set(cap, taskBundle(stateDir, root, taskId, cap)).get(cap)!;
  let current: string;
  try {
    current = at(DEFAULT_CAP).sha256;
  } catch (e) {
    return gate('awaiting_judge', (e as Error).message);
  }
  for (const name of [...names].reverse()) {
    const v = record.readJson<StoredVerdict>(name);
    if (!v || typeof v.bundle_sha256 !== 'string') continue;
    const sha = at(typeof v.cap_chars === 'number' && v.cap_chars > 0 ? v.cap_chars : DEFAULT_CAP).sha256;
    if (v.bundle_sha256 !== sha) continue;
    const a = approval({ requires_judge: true }, [v]);
    return gate(a.approved ? 'approved' : 'awaiting_judge', `${a.why} (verdict ${name})`, sha);
  }
  const why = names.length
    ? `high risk: no verdict is on the change as it is now (the ${names.length} so far judged another bundle: ` +
      "the files or the evidence changed since); a cloud Judge's approve with verified citations is needed (GR-002)"
    : "high risk: needs a cloud Judge's approve verdict whose citations of the evidence are verified " +
      '(GR-002, GR-003, GR-008); no Judge has audited it';
  return gate('awaiting_judge', why, current);
}

/** The gate as it stands now, decided from the record (never from the workspace's evidence folder). */
export function readGate(stateDir: string, root: string, taskId: string): Gate {
  try {
    return decide(stateDir, root, taskId);
  } catch (e) {
    // An unknown task or one without a record is never approved (a plan's step stays where it is).
    return {
      ...{ task_id: taskId, status: 'awaiting_judge', why: (e as Error).message, verdicts: [] },
      ...{ bundle_sha256: null, at: new Date().toISOString() },
    };
  }
}

const AUDIT_TASK =
  "Audit this task's change for the instruction it was given. The diff is the file task.diff and the checks " +
  'are the file checks.log: cite them by their line numbers as for any file. An approve must cite the evidence ' +
  'that convinced you (at least one finding of severity "info" quoting the diff lines or the check log lines ' +
  'you rely on); an approve that cites nothing is not an approval.';

export interface JudgedTask {
  result: JudgeResult;
  gate: Gate;
  /** The verdict in the task's record (what the gate reads). */
  verdictPath: string;
  /** Its copy in the evidence folder, for people (never read back). */
  copyPath: string;
  bundle: TaskBundle;
}

export interface JudgeTaskOptions {
  /** The state folder the task was run with (its record and its shadow checkpoints are there). */
  stateDir: string;
  capChars?: number;
  signal?: AbortSignal;
}

/**
 * Runs the cloud Judge on a task and records the verdict and the gate. Refused (an Error, the Judge not called) when
 * the task has no record, its evidence folder is not what was sealed (EvidenceTampered) or its diff cannot be rebuilt.
 */
export async function judgeTask(
  caller: ModelCaller,
  root: string,
  taskId: string,
  o: JudgeTaskOptions,
): Promise<JudgedTask> {
  const { record } = taskRecord(o.stateDir, root, taskId);
  const sealed = TaskEvidence.forTask(root, taskId, record).verify();
  if (!sealed.ok) throw new EvidenceTampered(taskId, sealed.file, sealed.why);
  const bundle = taskBundle(o.stateDir, root, taskId, o.capChars ?? DEFAULT_CAP);
  const result = await runJudge(caller, bundle, {
    task_id: taskId,
    instruction: AUDIT_TASK,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return recordVerdict(o.stateDir, root, taskId, result, bundle);
}

/**
 * Keeps a verdict in the task's record with the hash of the bundle it judged, decides the gate, and leaves copies of
 * both in the evidence folder for people, whose seal is amended for those two files only.
 */
export function recordVerdict(
  stateDir: string,
  root: string,
  taskId: string,
  result: JudgeResult,
  bundle: TaskBundle,
): JudgedTask {
  const { record } = taskRecord(stateDir, root, taskId);
  const name = `judge-${String(verdictNames(record).length + 1).padStart(4, '0')}-${compactStamp()}.json`;
  const verdict = {
    task_id: taskId,
    scope: bundle.scope,
    ...result,
    decision: { rule: result.decision.rule, audit: result.decision.audit },
    cut: bundle.cut,
    bundle_sha256: bundle.sha256,
    cap_chars: bundle.cap_chars,
  };
  const verdictPath = record.write(name, verdict);
  const gate = readGate(stateDir, root, taskId);
  record.write('gate.json', gate);
  const ev = TaskEvidence.forTask(root, taskId, record);
  const copy = (file: string, body: object) => ({
    copy_of: join(record.dir, file),
    note: "a copy for people to read: the gate reads only the task's record in the state folder",
    ...body,
  });
  const copyPath = ev.write(name, copy(name, verdict));
  ev.write('gate.json', copy('gate.json', gate));
  ev.amend([name, 'gate.json']);
  return { result, gate, verdictPath, copyPath, bundle };
}
