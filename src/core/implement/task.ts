// The Implementer's task (MODEL-POLICY.md §1, §3): the local model writes a patch; it is measured by the
// classifier before anyone sees it (a change the policy sends to the cloud is re-routed there, audited);
// it is shown, applied on approval, compiled and tested (GR-006); the compiler's errors go back for the
// next attempt; after the policy's number of failed loops the router escalates to the cloud (GR-005).
// Stopping, rejecting or giving up restores every file to where the first attempt started.
import type { Classification } from '../classifier/types.js';
import type { TaskEvidence } from '../evidence/taskEvidence.js';
import type { Policy } from '../policy/schema.js';
import { CallFailed, CallRefused, type ModelCaller } from '../providers/call.js';
import type { ChatMessage } from '../providers/types.js';
import { route } from '../router/route.js';
import type { CheckResult } from './checks.js';
import { applyAnswer, PATCH_FORMAT, PatchError, unifiedDiff, type FileChange } from './patch.js';

export interface ImplementInput {
  task_id: string;
  instruction: string;
  /** The file the user was in, its text, and the selection (1-based lines) if any. */
  context: { path: string; text: string; selection?: { startLine: number; endLine: number; text: string } };
  policy: Policy;
  localOnly: boolean;
  signal?: AbortSignal;
  /** Stage 0's block: the related files and their history (deterministic retrieval, no model). */
  related?: string;
}

export interface Proposal {
  attempt: number;
  changes: FileChange[];
  diff: string;
  classification: Classification;
  served: { provider: string; model: string; rule: string; fallback: boolean };
  /** High risk: needs a cloud Judge's approval before the task can be approved (GR-002, GR-003). */
  requires_judge: boolean;
  /** Why this change went to the cloud, when it did. */
  cloud_why: string | null;
}

export type Review = { decision: 'accept'; changes: FileChange[] } | { decision: 'reject' };

export interface ImplementPorts {
  caller: ModelCaller;
  read(path: string): Promise<string | undefined>;
  classify(diff: string, changes: FileChange[]): Promise<Classification>;
  review(p: Proposal): Promise<Review>;
  /** Writes the changes to the workspace (in the editor: one WorkspaceEdit, one undo). */
  apply(changes: FileChange[]): Promise<void>;
  /** Puts each file back as it was (`before`; null: the file did not exist). */
  restore(originals: { path: string; before: string | null }[]): Promise<void>;
  check(c: Classification, signal?: AbortSignal): Promise<CheckResult>;
  evidence: TaskEvidence;
  stage(s: string): void;
}

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

export interface ImplementResult {
  status: 'passed' | 'rejected' | 'failed' | 'cancelled' | 'refused';
  message: string;
  attempts: AttemptRecord[];
  /** What stays applied (passed only). */
  applied: FileChange[] | null;
  escalated: boolean;
  requires_judge: boolean;
  evidence: string;
}

function system(policy: Policy): string {
  return [
    'You are the Implementer of Switchyard, a coding agent. Make exactly the change asked for, ' +
      'nothing more, in the style of the surrounding code.',
    "The change must compile and pass the project's tests; keep it as small as the instruction allows.",
    PATCH_FORMAT,
    `(Changes over ${policy.escalation.implementer.direct_cloud_over_lines} lines, or touching ` +
      `unsafe code, public API, concurrency, security, persistence formats or build files are reviewed ` +
      `more strictly.)`,
  ].join('\n');
}

function prompt(i: ImplementInput, feedback: string | null): string {
  const s = i.context.selection;
  const fence = '```';
  const sel = s ? `\nThe user selected lines ${s.startLine}-${s.endLine}:\n${fence}\n${s.text}\n${fence}\n` : '';
  return (
    `Instruction: ${i.instruction}\n\n${i.related ? `${i.related}\n\n` : ''}` +
    `File ${i.context.path}:\n${fence}\n${i.context.text}\n${fence}\n${sel}${feedback ? `\n${feedback}\n` : ''}`
  );
}

/** What the router reads of a classification. */
const asChange = (c: Classification) => ({
  lines_changed: c.lines_changed,
  high_risk: c.high_risk,
  risk_flags: c.risk_flags,
  cross_crate: c.cross_crate,
});

const isCancel = (e: unknown) =>
  (e instanceof CallFailed && e.kind === 'cancelled') || (e as Error)?.name === 'AbortError';

export async function implement(p: ImplementPorts, i: ImplementInput): Promise<ImplementResult> {
  const t = i.policy.escalation.implementer;
  const maxAttempts = t.max_failed_loops + 2;
  const attempts: AttemptRecord[] = [];
  const originals = new Map<string, string | null>();
  let failed = 0;
  let feedback: string | null = null;
  let measured: Classification | null = null;
  let requiresJudge = false;
  let escalated = false;
  p.evidence.write(
    'instruction.md',
    `# ${i.task_id}\n\n${i.instruction}\n\nContext: ${i.context.path}` +
      (i.context.selection ? ` lines ${i.context.selection.startLine}-${i.context.selection.endLine}` : '') +
      '\n',
  );
  const rollback = async () => {
    if (originals.size === 0) return;
    await p.restore([...originals].map(([path, before]) => ({ path, before })));
  };
  const finish = async (
    status: ImplementResult['status'],
    message: string,
    applied: FileChange[] | null,
  ): Promise<ImplementResult> => {
    const r: ImplementResult = {
      status,
      message,
      attempts,
      applied,
      escalated,
      requires_judge: requiresJudge,
      evidence: p.evidence.dir,
    };
    p.evidence.write('result.json', { ...r, applied: applied?.map((c) => c.path) ?? null });
    p.evidence.seal();
    return r;
  };

  try {
    for (let n = 1; n <= maxAttempts; n++) {
      if (i.signal?.aborted) throw new CallFailed('cancelled', 'cancelled', [], [], null);
      p.stage(
        `attempt ${n}: writing the patch${failed ? ` (after ${failed} failed loop${failed > 1 ? 's' : ''})` : ''}…`,
      );
      const messages: ChatMessage[] = [
        { role: 'system', content: system(i.policy) },
        { role: 'user', content: prompt(i, feedback) },
      ];
      let r;
      try {
        r = await p.caller.call({
          role: 'implementer',
          task_id: i.task_id,
          messages,
          max_tokens: 8_000,
          route: { failed_loops: failed, ...(measured ? { change: asChange(measured) } : {}) },
          ...(i.signal ? { signal: i.signal } : {}),
        });
      } catch (e) {
        if (isCancel(e)) throw e;
        const refused = e instanceof CallRefused;
        attempts.push({
          attempt: n,
          provider: null,
          model: null,
          rule: (e as CallRefused).decision?.rule ?? null,
          outcome: 'failed_call',
          detail: (e as Error).message,
          lines: null,
          flags: [],
        });
        await rollback();
        return finish(
          refused ? 'refused' : 'failed',
          `${refused && (e as CallRefused).guardrail ? `${(e as CallRefused).guardrail}: ` : ''}${(e as Error).message}`,
          null,
        );
      }
      p.evidence.append('routing.jsonl', { attempt: n, ...r.decision, served: `${r.provider}/${r.model}` });
      p.evidence.write(`attempt-${n}/answer.md`, r.text);
      if (r.provider !== 'local') escalated = true;
      const who = { provider: r.provider, model: r.model, rule: r.decision.rule };

      let changes: FileChange[];
      try {
        changes = await applyAnswer(r.text, (path) =>
          originals.has(path) ? Promise.resolve(originals.get(path) ?? undefined) : p.read(path),
        );
        if (changes.length === 0) throw new PatchError('the patch changes nothing');
      } catch (e) {
        if (!(e instanceof PatchError)) throw e;
        failed++;
        attempts.push({ attempt: n, ...who, outcome: 'no_patch', detail: e.message, lines: null, flags: [] });
        p.evidence.write(`attempt-${n}/error.txt`, e.message);
        await p.caller.note(
          'failure',
          `implementer: attempt ${n} by ${r.provider}/${r.model} is not a patch that applies (${e.message}); ` +
            `failed loop ${failed} of ${t.max_failed_loops}`,
          { role: 'implementer', task_id: i.task_id, call_id: r.call_id },
        );
        feedback =
          `Your previous answer could not be applied: ${e.message}. Answer again with search/replace ` +
          `blocks that match the file exactly.`;
        continue;
      }
      const diff = unifiedDiff(changes);
      p.evidence.write(`attempt-${n}/patch.diff`, diff);
      p.stage(`attempt ${n}: measuring the patch…`);
      const c = await p.classify(diff, changes);
      p.evidence.write(`attempt-${n}/classification.json`, c);

      // Measured before it is shown: where does the policy send a change like this?
      const d = route({ role: 'implementer', change: asChange(c), failed_loops: failed }, i.policy, {
        local_only_setting: i.localOnly,
      });
      let cloudWhy: string | null = null;
      if (d.location === 'cloud' || c.high_risk) {
        const flags = c.risk_flags.length ? c.risk_flags.join(', ') : 'none';
        const ev = c.evidence
          .slice(0, 3)
          .map((e) => `${e.path}:${e.line} ${e.flag} (${e.node})`)
          .join('; ');
        cloudWhy = `${c.lines_changed} lines, risk flags ${flags}${ev ? ` — ${ev}` : ''}: rule ${d.rule}`;
      }
      if (r.provider === 'local' && d.location === 'cloud' && !measured) {
        measured = c;
        attempts.push({
          attempt: n,
          ...who,
          outcome: 'rerouted',
          detail: cloudWhy ?? d.rule,
          lines: c.lines_changed,
          flags: c.risk_flags,
        });
        await p.caller.note(
          'escalation',
          `GR-005: implementer: the local patch measures ${cloudWhy}; the policy routes this change ` +
            `to ${d.provider}/${d.model}; the local patch is not shown`,
          { role: 'implementer', task_id: i.task_id, call_id: r.call_id },
        );
        p.stage(`the change is for the cloud (${cloudWhy}); asking ${d.provider}/${d.model}…`);
        continue;
      }
      requiresJudge ||= c.high_risk;

      p.stage(`attempt ${n}: waiting for your review…`);
      const review = await p.review({
        attempt: n,
        changes,
        diff,
        classification: c,
        served: { ...who, fallback: r.escalated },
        requires_judge: c.high_risk,
        cloud_why: cloudWhy,
      });
      if (review.decision === 'reject') {
        attempts.push({
          attempt: n,
          ...who,
          outcome: 'rejected',
          detail: 'rejected in the preview',
          lines: c.lines_changed,
          flags: c.risk_flags,
        });
        await rollback();
        return finish('rejected', 'You rejected the patch; nothing was changed.', null);
      }
      for (const ch of review.changes) if (!originals.has(ch.path)) originals.set(ch.path, ch.before);
      await p.apply(review.changes);
      p.stage(`attempt ${n}: compiling and testing…`);
      const check = await p.check(c, i.signal);
      p.evidence.write(`attempt-${n}/check.log`, check.log);
      if (check.cancelled) throw new CallFailed('cancelled', 'cancelled', [], [], null);
      if (check.ok) {
        attempts.push({
          attempt: n,
          ...who,
          outcome: 'passed',
          detail: check.steps.map((s) => s.name).join(', ') || 'no check configured',
          lines: c.lines_changed,
          flags: c.risk_flags,
        });
        const judge = requiresJudge
          ? ' It is high risk: a cloud Judge must approve it before the task is approved (GR-002).'
          : '';
        return finish(
          'passed',
          `The patch applied and ${check.steps.length ? check.steps.map((s) => s.name).join(' and ') : 'no check (none configured)'} ` +
            `passed on attempt ${n}.${judge}`,
          review.changes,
        );
      }
      failed++;
      attempts.push({
        attempt: n,
        ...who,
        outcome: 'check_failed',
        detail: check.errors
          .map((e) => e.message)
          .slice(0, 5)
          .join('; '),
        lines: c.lines_changed,
        flags: c.risk_flags,
      });
      await rollback();
      originals.clear();
      const errors = check.errors
        .map((e) => e.rendered || e.message)
        .join('\n')
        .slice(0, 8_000);
      feedback =
        `Your previous patch (below) was applied and failed the checks${check.timedOut ? ' (timed out)' : ''}; ` +
        `the files are back as they were. Fix the cause and answer with a complete new patch against ` +
        `the file above.\nPrevious patch:\n${diff.slice(0, 8_000)}\nErrors:\n${errors}`;
      if (failed === t.max_failed_loops) {
        const next = route(
          { role: 'implementer', failed_loops: failed, ...(measured ? { change: asChange(measured) } : {}) },
          i.policy,
          { local_only_setting: i.localOnly },
        );
        await p.caller.note(
          'escalation',
          `GR-005: implementer: ${failed} failed compile/test loops (policy max ${t.max_failed_loops}); ` +
            (next.refused
              ? `no escalation: ${next.refused.message}`
              : `escalating by ${next.rule} to ${next.provider}/${next.model}`),
          { role: 'implementer', task_id: i.task_id },
        );
      }
    }
    await rollback();
    return finish(
      'failed',
      `No patch passed after ${attempts.length} attempts (${failed} failed loops); every file is ` +
        `back as it was. The evidence folder has each attempt.`,
      null,
    );
  } catch (e) {
    await rollback();
    if (isCancel(e))
      return finish('cancelled', 'Stopped; every file is back as it was before the first attempt.', null);
    throw e;
  }
}
