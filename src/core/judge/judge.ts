// The Judge (MODEL-POLICY.md §1, GR-002, GR-003, GR-008, GR-012): cloud-only, budget-gated, and every
// finding must cite the evidence it was given. Citations are checked against the bundle: the file is in
// it, the lines exist, the quote is there (up to whitespace). What fails is shown as unverified, never as
// fact; a verdict with many failed citations is asked again once, then reported as unreliable.
import { z } from 'zod';
import type { ModelCaller } from '../providers/call.js';
import { callJson } from '../providers/structured.js';
import type { RouteDecision } from '../router/types.js';

export interface BundleFile {
  path: string;
  text: string;
  note?: string;
}
export interface Bundle {
  scope: string;
  /** What the Judge may cite: files (their text as audited) by path. */
  files: BundleFile[];
  /** Other evidence, shown but not citable by line: the diff, the classification, plan.json, checks, routing. */
  sections: { title: string; body: string }[];
  /** What was left out to stay under the size cap, said plainly. */
  cut: string[];
  chars: number;
}

/** Assembles the evidence in order of importance and cuts at `capChars`, saying what it cut. */
export function buildBundle(
  scope: string,
  files: BundleFile[],
  sections: { title: string; body: string }[],
  capChars: number,
): Bundle {
  const cut: string[] = [];
  let used = 0;
  const keptSections: Bundle['sections'] = [];
  for (const s of sections) {
    const room = Math.max(0, Math.floor(capChars * 0.4) - used);
    if (s.body.length <= room) {
      keptSections.push(s);
      used += s.body.length;
    } else if (room > 2_000) {
      keptSections.push({
        title: s.title,
        body: `${s.body.slice(0, room)}\n[cut: ${s.body.length - room} more characters]`,
      });
      used += room;
      cut.push(`${s.title}: ${s.body.length - room} of ${s.body.length} characters`);
    } else cut.push(`${s.title}: left out (${s.body.length} characters)`);
  }
  const keptFiles: BundleFile[] = [];
  for (const f of files) {
    const room = capChars - used;
    if (f.text.length <= room) {
      keptFiles.push(f);
      used += f.text.length;
      continue;
    }
    if (room > 4_000) {
      const lines = f.text.slice(0, room).split('\n');
      lines.pop();
      const text = lines.join('\n');
      keptFiles.push({ ...f, text, note: `first ${lines.length} lines only` });
      used += text.length;
      cut.push(`${f.path}: lines after ${lines.length} (of ${f.text.split('\n').length})`);
    } else cut.push(`${f.path}: left out (${f.text.length} characters)`);
  }
  return { scope, files: keptFiles, sections: keptSections, cut, chars: used };
}

export function renderBundle(b: Bundle): string {
  const files = b.files
    .map(
      (f) =>
        `=== FILE ${f.path}${f.note ? ` (${f.note})` : ''} ===\n${f.text
          .split('\n')
          .map((l, i) => `${String(i + 1).padStart(5)}| ${l}`)
          .join('\n')}`,
    )
    .join('\n\n');
  const sections = b.sections.map((s) => `=== ${s.title} ===\n${s.body}`).join('\n\n');
  return `Scope: ${b.scope}\n${b.cut.length ? `Cut to fit the size cap: ${b.cut.join('; ')}\n` : ''}\n${sections}\n\n${files}`;
}

export const Finding = z.object({
  severity: z.enum(['critical', 'high', 'medium', 'low', 'info']),
  file: z.string().min(1).max(400),
  line_start: z.int().positive(),
  line_end: z.int().positive(),
  quote: z.string().min(1).max(2_000),
  rationale: z.string().min(1).max(4_000),
});
export const Verdict = z.object({
  verdict: z.enum(['approve', 'request_changes', 'reject']),
  summary: z.string().min(1).max(4_000),
  findings: z.array(Finding).max(50),
});
export type Verdict = z.infer<typeof Verdict>;
export type CheckedFinding = z.infer<typeof Finding> & { verified: boolean; problem: string | null };

const VERDICT_HINT =
  '{"verdict": "approve"|"request_changes"|"reject", "summary": string, "findings": [{"severity": ' +
  '"critical"|"high"|"medium"|"low"|"info", "file": "path as in the FILE headers", "line_start": ' +
  'integer, "line_end": integer, "quote": "the exact text of those lines you rely on", "rationale": ' +
  'string}]}';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** GR-008: each citation checked against the bundle. */
export function checkCitations(v: Verdict, b: Bundle): CheckedFinding[] {
  return v.findings.map((f) => {
    const file = b.files.find((x) => x.path === f.file || x.path === f.file.replace(/^\.?\//, ''));
    if (!file) return { ...f, verified: false, problem: `${f.file} is not in the evidence` };
    const lines = file.text.split('\n');
    if (f.line_end < f.line_start || f.line_end > lines.length)
      return {
        ...f,
        verified: false,
        problem: `lines ${f.line_start}-${f.line_end} do not exist in ${f.file} (${lines.length} lines)`,
      };
    const span = squash(lines.slice(f.line_start - 1, f.line_end).join('\n'));
    const quote = squash(f.quote.replace(/^\s*\d+\|\s?/gm, ''));
    if (!span.includes(quote))
      return { ...f, verified: false, problem: `the quote is not in ${f.file}:${f.line_start}-${f.line_end}` };
    return { ...f, verified: true, problem: null };
  });
}

export interface JudgeResult {
  verdict: Verdict['verdict'];
  summary: string;
  findings: CheckedFinding[];
  /** Too many citations failed even after the one retry: not to be relied on. */
  unreliable: boolean;
  provider: string;
  model: string;
  decision: RouteDecision;
  calls: number;
  cost_usd: number;
}

/** "Many" failed citations: more than a third of them (and at least one). */
const tooMany = (fs: CheckedFinding[]) => {
  const bad = fs.filter((f) => !f.verified).length;
  return bad > 0 && bad * 3 > fs.length;
};

const JUDGE_SYSTEM =
  'You are the Judge of Switchyard: an auditor of code changes. Decide approve, request_changes ' +
  'or reject. Every finding must cite the evidence: a FILE path exactly as given, the line numbers ' +
  'shown at the left of its lines, and a quote of the text on those lines. Cite only what is ' +
  'in the evidence; never invent files, lines or text. Approve only when nothing blocks the change.';

/** The one retry's question: which citations failed, and to cite only what the evidence holds. */
const citeAgain = (bad: CheckedFinding[]) => ({
  role: 'user' as const,
  content:
    `These citations do not match the evidence: ` +
    `${bad.map((f) => `${f.file}:${f.line_start}-${f.line_end} (${f.problem})`).join('; ')}. ` +
    `Give your verdict again, citing only files, line numbers and text that appear in the evidence.`,
});

export async function runJudge(
  caller: ModelCaller,
  b: Bundle,
  o: { task_id?: string; signal?: AbortSignal; instruction?: string },
): Promise<JudgeResult> {
  const messages = [
    { role: 'system' as const, content: JUDGE_SYSTEM },
    {
      role: 'user' as const,
      content: `${o.instruction ? `What to look for: ${o.instruction}\n\n` : ''}Evidence:\n${renderBundle(b)}`,
    },
  ];
  const base = {
    role: 'judge' as const,
    max_tokens: 6_000,
    schemaHint: VERDICT_HINT,
    ...(o.task_id ? { task_id: o.task_id } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const first = await callJson(caller, Verdict, { ...base, messages });
  let v = first.value;
  let r = first.result;
  let checked = checkCitations(v, b);
  let calls = first.repaired ? 2 : 1;
  let cost = first.result.cost_usd;
  let unreliable = false;
  if (tooMany(checked)) {
    const bad = checked.filter((f) => !f.verified);
    await caller.note(
      'repair',
      `GR-008: judge: ${bad.length} of ${checked.length} citations by ${r.provider}/${r.model} do not match the evidence (${bad
        .slice(0, 3)
        .map((f) => f.problem)
        .join('; ')}); asked once more`,
      { role: 'judge', task_id: o.task_id ?? null, call_id: r.call_id },
    );
    const again = await callJson(caller, Verdict, {
      ...base,
      parent_call: r.call_id,
      prefer: { provider: r.provider, model: r.model },
      messages: [...messages, { role: 'assistant', content: JSON.stringify(v) }, citeAgain(bad)],
    });
    v = again.value;
    r = again.result;
    calls += again.repaired ? 2 : 1;
    cost += again.result.cost_usd;
    checked = checkCitations(v, b);
    if (tooMany(checked)) {
      unreliable = true;
      await caller.note(
        'failure',
        `GR-008: judge: the verdict of ${r.provider}/${r.model} is unreliable: ${checked.filter((f) => !f.verified).length} ` +
          `of ${checked.length} citations still do not match the evidence after one retry`,
        { role: 'judge', task_id: o.task_id ?? null, call_id: r.call_id },
      );
    }
  }
  return {
    verdict: v.verdict,
    summary: v.summary,
    findings: checked,
    unreliable,
    provider: r.provider,
    model: r.model,
    decision: r.decision,
    calls,
    cost_usd: cost,
  };
}

/**
 * GR-002/GR-003/GR-008: whether a task may be marked approved. High-risk work needs a cloud Judge's approve verdict
 * that cites the evidence (at least one citation, every citation verified against it); anything else (a local
 * model, request_changes, an unreliable verdict, an approve that cites nothing or cites what is not there) does not.
 */
export function approval(
  task: { requires_judge: boolean },
  verdicts: (Pick<JudgeResult, 'verdict' | 'unreliable' | 'provider' | 'model'> & {
    findings: Pick<CheckedFinding, 'verified'>[];
  })[],
): { approved: boolean; why: string } {
  if (!task.requires_judge) return { approved: true, why: 'not high risk: the checks passing is enough' };
  const ok = verdicts.filter((v) => verdictApproves(v) === null);
  if (ok.length > 0)
    return {
      approved: true,
      why: `high risk, approved by the cloud Judge ${ok.at(-1)!.provider}/${ok.at(-1)!.model} with verified citations (GR-002)`,
    };
  const last = verdicts.at(-1);
  return {
    approved: false,
    why:
      "high risk: needs a cloud Judge's approve verdict whose citations of the evidence are verified (GR-002, GR-003, GR-008)" +
      (last
        ? `; the last verdict, by ${last.provider}/${last.model}, ${verdictApproves(last)}`
        : '; no Judge has audited it'),
  };
}

/** Null when the verdict approves; else why it does not, in words. */
export function verdictApproves(
  v: Pick<JudgeResult, 'verdict' | 'unreliable' | 'provider'> & { findings: Pick<CheckedFinding, 'verified'>[] },
): string | null {
  if (v.provider === 'local') return 'came from a local model, which never approves (GR-003)';
  if (v.verdict !== 'approve') return `was ${v.verdict.replace('_', ' ')}`;
  if (v.unreliable) return 'was unreliable (its citations do not match the evidence)';
  if (v.findings.length === 0) return 'approved without citing any evidence, which is not an approval (GR-008)';
  const bad = v.findings.filter((f) => !f.verified).length;
  if (bad > 0) return `approved with ${bad} of ${v.findings.length} citations not found in the evidence (GR-008)`;
  return null;
}
