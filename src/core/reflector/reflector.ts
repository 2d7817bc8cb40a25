// The ACE reflector and curator (MODEL-POLICY.md §1, §4): after a failed Implementer task the local model
// writes a short lesson into the workspace's playbook (.switchyard/playbook.md, reviewed like code). Kimi is
// called only for an "interesting failure" (the policy's predicate, decided here deterministically); a failure
// the playbook already knows costs no model call: its entry's count goes up.
import { cuttableText } from '../providers/fit.js';
import { z } from 'zod';
import type { CallResult, ModelCaller } from '../providers/call.js';
import { callJson } from '../providers/structured.js';

export const PLAYBOOK_PATH = '.switchyard/playbook.md';

/** One step of an Implementer task as the reflector reads it: who served it, and how it ended. */
export interface AttemptRecord {
  attempt: number;
  provider: string | null;
  model: string | null;
  rule: string | null;
  outcome: 'no_patch' | 'rerouted' | 'rejected' | 'check_failed' | 'passed' | 'failed_call';
  detail: string;
  lines: number | null;
  flags: string[];
}

export interface FailedTask {
  task_id: string;
  instruction: string;
  attempts: AttemptRecord[];
  high_risk: boolean;
  /** Workspace-relative folder of the task's evidence. */
  evidence: string;
  /** The files the task touched (or meant to). */
  files: string[];
}

/** The first error of a failed check, with paths, numbers and quotes blurred: the same mistake has one signature. */
export function signature(detail: string): string {
  const line =
    detail.split(/\r?\n/).find((l) => /\berror\b|\bfailed\b|panicked|assert/i.test(l)) ??
    detail.split(/\r?\n/).find((l) => l.trim()) ??
    '';
  return line
    .trim()
    .replace(/(?:[A-Za-z]:)?[\w./\\-]+\.(?:rs|ts|js|py|toml|json)(?::\d+(?::\d+)?)?/g, '<file>')
    .replace(/`[^`]*`|'[^']*'|"[^"]*"/g, '<x>')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\s+/g, ' ')
    .slice(0, 160);
}

/** §1 "interesting failures": the cloud also failed, a high-risk change failed, or every attempt failed differently. */
export function interestingFailure(t: FailedTask): { interesting: boolean; why: string[] } {
  const why: string[] = [];
  const tried = t.attempts.filter((a) => a.provider);
  if (tried.some((a) => a.provider !== 'local') && tried.every((a) => a.outcome !== 'passed'))
    why.push('the cloud model failed too');
  if (t.high_risk) why.push('a high-risk change failed');
  const checks = t.attempts.filter((a) => a.outcome === 'check_failed');
  if (checks.length >= 3 && new Set(checks.map((a) => signature(a.detail))).size === checks.length)
    why.push(`each of ${checks.length} attempts failed differently`);
  return { interesting: why.length > 0, why };
}

export const Lesson = z.object({
  title: z.string().min(1).max(120),
  lesson: z.string().min(1).max(800),
  applies_to: z.array(z.string().max(200)).max(10).default([]),
  check_first: z.string().max(300).default(''),
});
export type Lesson = z.infer<typeof Lesson>;

const HINT =
  '{"title": string (short), "lesson": string (at most three sentences: what went wrong and ' +
  'what to do instead next time), "applies_to": [string] (files, crates or kinds of change), ' +
  '"check_first": string (one thing to check before trying again)}';

export interface ReflectResult {
  action: 'written' | 'counted';
  signature: string;
  interesting: { interesting: boolean; why: string[] };
  lesson?: Lesson;
  result?: CallResult;
  playbook: string;
}

const HEADER =
  '# Switchyard playbook\n\nLessons the reflector wrote after failed tasks. Review them like code; delete or fix what is wrong.\n';

/** The failing signature of a task: from its last failed check, else its last failure. */
export function taskSignature(t: FailedTask): string {
  const last =
    [...t.attempts].reverse().find((a) => a.outcome === 'check_failed') ??
    [...t.attempts].reverse().find((a) => a.outcome !== 'passed');
  return signature(last?.detail ?? 'no detail');
}

/** Counts one more sighting of a known failure; null when the playbook has no entry with this signature. */
export function countAgain(playbook: string, sig: string, taskId: string): string | null {
  const marker = `- Failure: \`${sig}\``;
  const at = playbook.indexOf(marker);
  if (at < 0) return null;
  const rest = playbook.slice(at);
  const m = /\n- Seen: (\d+) times?(?: \(last: [^)]*\))?/.exec(rest);
  if (!m) return null;
  const n = Number(m[1]) + 1;
  const start = at + m.index;
  return `${playbook.slice(0, start)}\n- Seen: ${n} times (last: task ${taskId})${playbook.slice(start + m[0].length)}`;
}

export function entry(t: FailedTask, sig: string, l: Lesson, servedBy: string, why: string, date: string): string {
  return [
    `## ${date} · ${l.title.replace(/\n/g, ' ')}`,
    '',
    `- Failure: \`${sig}\``,
    `- Task: ${t.task_id} (evidence: ${t.evidence})`,
    `- Lesson: ${l.lesson.replace(/\n+/g, ' ')}`,
    ...(l.applies_to.length ? [`- Applies to: ${l.applies_to.join(', ')}`] : []),
    ...(l.check_first ? [`- Check first: ${l.check_first.replace(/\n+/g, ' ')}`] : []),
    `- Written by: ${servedBy} (${why})`,
    '- Seen: 1 time',
    '',
  ].join('\n');
}

/** The task's attempts, one paragraph each (the last ones are what a small window loses first). */
function attemptsText(t: FailedTask): string {
  return t.attempts
    .map(
      (a) =>
        `attempt ${a.attempt}: ${a.provider ?? '-'}/${a.model ?? '-'} ${a.outcome}` +
        (a.lines !== null ? `, ${a.lines} lines` : '') +
        (a.flags.length ? `, flags ${a.flags.join(' ')}` : '') +
        `\n${a.detail.slice(0, 1500)}`,
    )
    .join('\n\n');
}

export async function reflect(
  caller: ModelCaller,
  t: FailedTask,
  playbook: string | null,
  o: { signal?: AbortSignal; now?: () => Date } = {},
): Promise<ReflectResult> {
  const sig = taskSignature(t);
  const interesting = interestingFailure(t);
  const current = playbook ?? HEADER;
  const again = countAgain(current, sig, t.task_id);
  if (again !== null) {
    await caller.note(
      'call',
      `reflector: the failure of task ${t.task_id} is already in the playbook ("${sig}"); its count went up, no model was called`,
      { role: 'reflector', task_id: t.task_id },
    );
    return { action: 'counted', signature: sig, interesting, playbook: again };
  }
  const attempts = attemptsText(t);
  const ask = (interestingSignal: boolean) =>
    callJson(caller, Lesson, {
      role: 'reflector',
      schemaHint: HINT,
      max_tokens: 800,
      task_id: t.task_id,
      route: { signals: { interesting_failure: interestingSignal } },
      messages: [
        {
          role: 'system',
          content:
            'You are the reflector of Switchyard, a coding agent. A task failed. Write one short, concrete ' +
            "lesson that would have avoided the failure, for the team's playbook. No blame, no generic " +
            'advice.',
        },
        cuttableText(
          'user',
          `Instruction: ${t.instruction}\nFiles: ${t.files.join(', ') || '-'}\nFailure signature: ${sig}\n\n`,
          attempts,
          { order: 1, label: 'attempts' },
        ),
      ],
      ...(o.signal ? { signal: o.signal } : {}),
    });
  let r;
  let kimiMissed: string | null = null;
  try {
    r = await ask(interesting.interesting);
  } catch (e) {
    // Kimi is out of reach (no key, down, over budget): the lesson is still worth having, from the local model.
    if (
      !interesting.interesting ||
      (e instanceof Error && e.name === 'CallFailed' && (e as { kind?: string }).kind === 'cancelled')
    )
      throw e;
    kimiMissed = (e as Error).message;
    await caller.note(
      'fallback',
      `GR-005: reflector: the interesting failure of task ${t.task_id} would go to Kimi, which failed ` +
        `(${kimiMissed}); the local model writes the lesson`,
      { role: 'reflector', task_id: t.task_id },
    );
    r = await ask(false);
  }
  const served = `${r.result.provider}/${r.result.model}`;
  const why =
    r.result.provider === 'local'
      ? interesting.interesting
        ? `interesting failure (${interesting.why.join('; ')}), ${kimiMissed ? 'Kimi unreachable' : 'kept local'}`
        : 'routine curation'
      : `interesting failure: ${interesting.why.join('; ')}`;
  const date = (o.now?.() ?? new Date()).toISOString().slice(0, 10);
  const text = `${current.replace(/\s*$/, '')}\n\n${entry(t, sig, r.value, served, why, date)}`;
  return { action: 'written', signature: sig, interesting, lesson: r.value, result: r.result, playbook: text };
}
