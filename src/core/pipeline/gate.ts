// The Judge gate of a task (MODEL-POLICY.md GR-002, GR-003, GR-008): a task whose change is high risk ends
// "awaiting Judge"; the cloud Judge audits the task's whole diff with its evidence (the changed files, the diff and
// the check log are citable, by file and line); only an approve whose citations are all verified closes the gate.
// The gate's state is `gate.json` in the task's evidence folder, next to every verdict (`judge-*.json`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactStamp, evidenceRoot, TaskEvidence } from '../evidence/taskEvidence.js';
import { approval, buildBundle, runJudge, type Bundle, type BundleFile, type JudgeResult } from '../judge/judge.js';
import type { ModelCaller } from '../providers/call.js';
import { relativeInside } from '../util/paths.js';

export type GateStatus = 'not_required' | 'awaiting_judge' | 'approved';

export interface Gate {
  task_id: string;
  status: GateStatus;
  why: string;
  /** Verdicts so far (file names in the evidence folder), oldest first. */
  verdicts: string[];
  at: string;
}

/** The citable names of the diff and the check log inside the bundle (they are not workspace files). */
export const DIFF_FILE = 'task.diff';
export const CHECKS_FILE = 'checks.log';

interface TaskResultFile {
  status?: string;
  requires_judge?: boolean;
  changed?: string[];
  message?: string;
}

/** A task's evidence folder by id (ids are names, never paths). */
export function taskDir(root: string, taskId: string): string {
  if (!/^[A-Za-z0-9_.-]{1,120}$/.test(taskId) || taskId.startsWith('.'))
    throw new Error(`"${taskId.slice(0, 80)}" is not a task id (letters, digits, _ . -)`);
  const dir = join(evidenceRoot(root), taskId);
  if (!existsSync(join(dir, 'result.json')))
    throw new Error(`no finished task ${taskId} in ${evidenceRoot(root)} (its result.json is missing)`);
  return dir;
}

const readJson = <T>(p: string): T | null => {
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  } catch {
    return null;
  }
};

/** The last file of an evidence sub-folder (turn-numbered names sort in order). */
function lastOf(dir: string, sub: string): string | null {
  const d = join(dir, sub);
  if (!existsSync(d)) return null;
  const f = readdirSync(d).sort().at(-1);
  return f ? readFileSync(join(d, f), 'utf8') : null;
}

/** The gate as it stands: gate.json, else what the task's result says. */
export function readGate(dir: string): Gate {
  const g = readJson<Gate>(join(dir, 'gate.json'));
  if (g) return g;
  const r = readJson<TaskResultFile>(join(dir, 'result.json')) ?? {};
  const id = dir.split(/[\\/]/).at(-1)!;
  const waiting = r.requires_judge === true;
  return {
    task_id: id,
    status: waiting ? 'awaiting_judge' : 'not_required',
    why: waiting ? 'the change is high risk: a cloud Judge must approve it (GR-002)' : 'not high risk',
    verdicts: [],
    at: new Date().toISOString(),
  };
}

/** What the Judge is given for a task: the changed files, the whole diff and the last check log (citable), and the rest. */
export function taskBundle(root: string, dir: string, capChars: number): Bundle {
  const r = readJson<TaskResultFile>(join(dir, 'result.json')) ?? {};
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : null);
  const files: BundleFile[] = [];
  const diff = lastOf(dir, 'diffs');
  if (diff) files.push({ path: DIFF_FILE, text: diff, note: "the task's whole diff" });
  const checks = lastOf(dir, 'checks');
  if (checks) files.push({ path: CHECKS_FILE, text: checks, note: 'the last checks the task ran' });
  for (const p of r.changed ?? []) {
    const rel = relativeInside(p);
    if (rel && existsSync(join(root, rel))) files.push({ path: rel, text: readFileSync(join(root, rel), 'utf8') });
  }
  const classification = lastOf(dir, 'classifications');
  const sections = (
    [
      ['INSTRUCTION', read('instruction.md')],
      ['PLAN STEP', read('plan-step.json')],
      ['CLASSIFICATION', classification ? summary(classification) : null],
      ['ROUTING DECISIONS', read('routing.jsonl')],
      ['RESULT', read('result.json')],
    ] as [string, string | null][]
  )
    .filter((x): x is [string, string] => x[1] !== null)
    .map(([title, body]) => ({ title, body }));
  return buildBundle(`task ${dir.split(/[\\/]/).at(-1)} (${r.status ?? 'unknown'})`, files, sections, capChars);
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

const AUDIT_TASK =
  "Audit this task's change for the instruction it was given. The diff is the file task.diff and the checks " +
  'are the file checks.log: cite them by their line numbers as for any file. An approve must cite the evidence ' +
  'that convinced you (at least one finding of severity "info" quoting the diff lines or the check log lines ' +
  'you rely on); an approve that cites nothing is not an approval.';

export interface JudgedTask {
  result: JudgeResult;
  gate: Gate;
  verdictPath: string;
  bundle: Bundle;
}

/** Runs the cloud Judge on a task and records the verdict and the gate (a sealed evidence folder again). */
export async function judgeTask(
  caller: ModelCaller,
  root: string,
  taskId: string,
  o: { capChars?: number; signal?: AbortSignal } = {},
): Promise<JudgedTask> {
  const dir = taskDir(root, taskId);
  const bundle = taskBundle(root, dir, o.capChars ?? 120_000);
  const result = await runJudge(caller, bundle, {
    task_id: taskId,
    instruction: AUDIT_TASK,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return recordVerdict(root, taskId, result, bundle);
}

/** Keeps a verdict as the task's evidence and decides the gate from every verdict so far. */
export function recordVerdict(root: string, taskId: string, result: JudgeResult, bundle: Bundle): JudgedTask {
  const dir = taskDir(root, taskId);
  const ev = new TaskEvidence(dir);
  const name = `judge-${compactStamp()}-${String(readdirSync(dir).length).padStart(3, '0')}.json`;
  const verdictPath = ev.write(name, {
    scope: bundle.scope,
    ...result,
    decision: { rule: result.decision.rule, audit: result.decision.audit },
    cut: bundle.cut,
  });
  const names = readdirSync(dir)
    .filter((f) => /^judge-.*\.json$/.test(f))
    .sort();
  const verdicts = names.map((f) => readJson<JudgeResult>(join(dir, f))).filter((v): v is JudgeResult => v !== null);
  const r = readJson<TaskResultFile>(join(dir, 'result.json')) ?? {};
  const a = approval({ requires_judge: r.requires_judge === true }, verdicts);
  const gate: Gate = {
    task_id: taskId,
    status: r.requires_judge !== true ? 'not_required' : a.approved ? 'approved' : 'awaiting_judge',
    why: a.why,
    verdicts: names,
    at: new Date().toISOString(),
  };
  ev.write('gate.json', gate);
  ev.seal();
  return { result, gate, verdictPath, bundle };
}
