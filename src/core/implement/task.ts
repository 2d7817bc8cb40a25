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
  return new ImplementerTask(p, i).run();
}

const CANCELLED = () => new CallFailed('cancelled', 'cancelled', [], [], null);

/** What one model answer became: a step of the loop ends the task (a result) or asks for another attempt. */
type Step = ImplementResult | 'again';
type Served = { provider: string; model: string; rule: string };

/** One task's loop and its running state (attempts, failed loops, the files it touched). */
class ImplementerTask {
  private readonly t: Policy['escalation']['implementer'];
  private readonly attempts: AttemptRecord[] = [];
  private readonly originals = new Map<string, string | null>();
  private failed = 0;
  private feedback: string | null = null;
  private measured: Classification | null = null;
  private requiresJudge = false;
  private escalated = false;

  constructor(
    private readonly p: ImplementPorts,
    private readonly i: ImplementInput,
  ) {
    this.t = i.policy.escalation.implementer;
  }

  async run(): Promise<ImplementResult> {
    const { p, i } = this;
    const sel = i.context.selection;
    p.evidence.write(
      'instruction.md',
      `# ${i.task_id}\n\n${i.instruction}\n\nContext: ${i.context.path}` +
        (sel ? ` lines ${sel.startLine}-${sel.endLine}` : '') +
        '\n',
    );
    try {
      for (let n = 1; n <= this.t.max_failed_loops + 2; n++) {
        const step = await this.attempt(n);
        if (step !== 'again') return step;
      }
      await this.rollback();
      return this.finish(
        'failed',
        `No patch passed after ${this.attempts.length} attempts (${this.failed} failed loops); every file is ` +
          `back as it was. The evidence folder has each attempt.`,
        null,
      );
    } catch (e) {
      await this.rollback();
      if (isCancel(e))
        return this.finish('cancelled', 'Stopped; every file is back as it was before the first attempt.', null);
      throw e;
    }
  }

  private async attempt(n: number): Promise<Step> {
    const { p, i } = this;
    if (i.signal?.aborted) throw CANCELLED();
    const after = this.failed ? ` (after ${this.failed} failed loop${this.failed > 1 ? 's' : ''})` : '';
    p.stage(`attempt ${n}: writing the patch${after}…`);
    const r = await this.ask(n);
    if (!('text' in r)) return r;
    p.evidence.append('routing.jsonl', { attempt: n, ...r.decision, served: `${r.provider}/${r.model}` });
    p.evidence.write(`attempt-${n}/answer.md`, r.text);
    if (r.provider !== 'local') this.escalated = true;
    const who: Served = { provider: r.provider, model: r.model, rule: r.decision.rule };
    const changes = await this.parse(n, r.text, who, r.call_id);
    if (!changes) return 'again';
    const diff = unifiedDiff(changes);
    p.evidence.write(`attempt-${n}/patch.diff`, diff);
    p.stage(`attempt ${n}: measuring the patch…`);
    const c = await p.classify(diff, changes);
    p.evidence.write(`attempt-${n}/classification.json`, c);
    // Measured before it is shown: where does the policy send a change like this?
    const d = route({ role: 'implementer', change: asChange(c), failed_loops: this.failed }, i.policy, {
      local_only_setting: i.localOnly,
    });
    const cloudWhy = d.location === 'cloud' || c.high_risk ? cloudReason(c, d.rule) : null;
    if (r.provider === 'local' && d.location === 'cloud' && !this.measured) {
      await this.reroute(n, c, who, r.call_id, cloudWhy ?? d.rule, `${d.provider}/${d.model}`);
      return 'again';
    }
    this.requiresJudge ||= c.high_risk;
    p.stage(`attempt ${n}: waiting for your review…`);
    const served = { ...who, fallback: r.escalated };
    const review = await p.review({ attempt: n, changes, diff, classification: c, served, ...judged(c, cloudWhy) });
    if (review.decision === 'reject') {
      this.record(n, who, 'rejected', 'rejected in the preview', c);
      await this.rollback();
      return this.finish('rejected', 'You rejected the patch; nothing was changed.', null);
    }
    return this.applyAndCheck(n, who, c, diff, review.changes);
  }

  /** The model call of one attempt; a refused or failed call ends the task. */
  private async ask(n: number): Promise<ImplementResult | Awaited<ReturnType<ModelCaller['call']>>> {
    const { p, i } = this;
    const messages: ChatMessage[] = [
      { role: 'system', content: system(i.policy) },
      { role: 'user', content: prompt(i, this.feedback) },
    ];
    try {
      return await p.caller.call({
        role: 'implementer',
        task_id: i.task_id,
        messages,
        max_tokens: 8_000,
        route: this.routeState(),
        signal: i.signal,
      });
    } catch (e) {
      if (isCancel(e)) throw e;
      const refused = e instanceof CallRefused ? e : null;
      this.attempts.push({
        attempt: n,
        provider: null,
        model: null,
        rule: refused?.decision?.rule ?? null,
        outcome: 'failed_call',
        detail: (e as Error).message,
        lines: null,
        flags: [],
      });
      await this.rollback();
      const prefix = refused?.guardrail ? `${refused.guardrail}: ` : '';
      return this.finish(refused ? 'refused' : 'failed', `${prefix}${(e as Error).message}`, null);
    }
  }

  private routeState() {
    return this.measured
      ? { failed_loops: this.failed, change: asChange(this.measured) }
      : { failed_loops: this.failed };
  }

  /** The answer as file changes, or null (a failed loop, with feedback for the next attempt). */
  private async parse(n: number, text: string, who: Served, callId: string): Promise<FileChange[] | null> {
    const { p, i, originals } = this;
    try {
      const changes = await applyAnswer(text, (path) =>
        originals.has(path) ? Promise.resolve(originals.get(path) ?? undefined) : p.read(path),
      );
      if (changes.length === 0) throw new PatchError('the patch changes nothing');
      return changes;
    } catch (e) {
      if (!(e instanceof PatchError)) throw e;
      this.failed++;
      this.attempts.push({ attempt: n, ...who, outcome: 'no_patch', detail: e.message, lines: null, flags: [] });
      p.evidence.write(`attempt-${n}/error.txt`, e.message);
      await p.caller.note(
        'failure',
        `implementer: attempt ${n} by ${who.provider}/${who.model} is not a patch that applies (${e.message}); ` +
          `failed loop ${this.failed} of ${this.t.max_failed_loops}`,
        { role: 'implementer', task_id: i.task_id, call_id: callId },
      );
      this.feedback =
        `Your previous answer could not be applied: ${e.message}. Answer again with search/replace ` +
        `blocks that match the file exactly.`;
      return null;
    }
  }

  /** A local patch that measures as cloud work is not shown: the next attempt is routed with its measure. */
  private async reroute(n: number, c: Classification, who: Served, callId: string, why: string, to: string) {
    this.measured = c;
    this.record(n, who, 'rerouted', why, c);
    await this.p.caller.note(
      'escalation',
      `GR-005: implementer: the local patch measures ${why}; the policy routes this change ` +
        `to ${to}; the local patch is not shown`,
      { role: 'implementer', task_id: this.i.task_id, call_id: callId },
    );
    this.p.stage(`the change is for the cloud (${why}); asking ${to}…`);
  }

  private async applyAndCheck(
    n: number,
    who: Served,
    c: Classification,
    diff: string,
    changes: FileChange[],
  ): Promise<Step> {
    const { p, i, originals } = this;
    for (const ch of changes) if (!originals.has(ch.path)) originals.set(ch.path, ch.before);
    await p.apply(changes);
    p.stage(`attempt ${n}: compiling and testing…`);
    const check = await p.check(c, i.signal);
    p.evidence.write(`attempt-${n}/check.log`, check.log);
    if (check.cancelled) throw CANCELLED();
    if (check.ok) {
      const names = check.steps.map((s) => s.name);
      this.record(n, who, 'passed', names.join(', ') || 'no check configured', c);
      const judge = this.requiresJudge
        ? ' It is high risk: a cloud Judge must approve it before the task is approved (GR-002).'
        : '';
      const ran = names.length ? names.join(' and ') : 'no check (none configured)';
      return this.finish('passed', `The patch applied and ${ran} passed on attempt ${n}.${judge}`, changes);
    }
    this.failed++;
    const detail = check.errors
      .map((e) => e.message)
      .slice(0, 5)
      .join('; ');
    this.record(n, who, 'check_failed', detail, c);
    await this.rollback();
    originals.clear();
    const errors = check.errors
      .map((e) => e.rendered || e.message)
      .join('\n')
      .slice(0, 8_000);
    this.feedback =
      `Your previous patch (below) was applied and failed the checks${check.timedOut ? ' (timed out)' : ''}; ` +
      `the files are back as they were. Fix the cause and answer with a complete new patch against ` +
      `the file above.\nPrevious patch:\n${diff.slice(0, 8_000)}\nErrors:\n${errors}`;
    if (this.failed === this.t.max_failed_loops) await this.noteEscalation();
    return 'again';
  }

  private async noteEscalation(): Promise<void> {
    const { failed, t, i } = this;
    const next = route({ role: 'implementer', ...this.routeState() }, i.policy, { local_only_setting: i.localOnly });
    await this.p.caller.note(
      'escalation',
      `GR-005: implementer: ${failed} failed compile/test loops (policy max ${t.max_failed_loops}); ` +
        (next.refused
          ? `no escalation: ${next.refused.message}`
          : `escalating by ${next.rule} to ${next.provider}/${next.model}`),
      { role: 'implementer', task_id: i.task_id },
    );
  }

  private record(n: number, who: Served, outcome: AttemptRecord['outcome'], detail: string, c: Classification) {
    this.attempts.push({ attempt: n, ...who, outcome, detail, lines: c.lines_changed, flags: c.risk_flags });
  }

  private async rollback(): Promise<void> {
    if (this.originals.size === 0) return;
    await this.p.restore([...this.originals].map(([path, before]) => ({ path, before })));
  }

  private finish(status: ImplementResult['status'], message: string, applied: FileChange[] | null): ImplementResult {
    const r: ImplementResult = {
      status,
      message,
      attempts: this.attempts,
      applied,
      escalated: this.escalated,
      requires_judge: this.requiresJudge,
      evidence: this.p.evidence.dir,
    };
    this.p.evidence.write('result.json', { ...r, applied: applied?.map((c) => c.path) ?? null });
    this.p.evidence.seal();
    return r;
  }
}

/** Why a change goes to the cloud (or is high risk): its size, flags and first evidence, and the rule. */
function cloudReason(c: Classification, rule: string): string {
  const flags = c.risk_flags.length ? c.risk_flags.join(', ') : 'none';
  const ev = c.evidence
    .slice(0, 3)
    .map((e) => `${e.path}:${e.line} ${e.flag} (${e.node})`)
    .join('; ');
  return `${c.lines_changed} lines, risk flags ${flags}${ev ? ` — ${ev}` : ''}: rule ${rule}`;
}

const judged = (c: Classification, cloudWhy: string | null) => ({ requires_judge: c.high_risk, cloud_why: cloudWhy });
