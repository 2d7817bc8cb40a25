// The plan review's logic behind the webview, without VS Code: validated messages in, the review applied
// and saved, the approved plan written as evidence, the plan run step by step by the agent (pipeline/planRun.ts),
// the Judge asked for a step that waits for it, and a cloud review of a plan that needs one.
import type { Policy } from '../policy/schema.js';
import { FromPlanView, type ToPlanView } from '../protocol/plan.js';
import { relativeInside } from '../util/paths.js';
import {
  overrideReview,
  reviewNeeded,
  runPlan,
  settleStep,
  stepState,
  type PlanRunPorts,
} from '../pipeline/planRun.js';
import { applyReview, saveEvidence, stepLanes } from './review.js';
import type { PlanRecord } from '../protocol/planRecord.js';

export interface PlanPorts {
  post(m: ToPlanView): void;
  policy(): Policy;
  localOnly(): boolean;
  /** Saves the record where it was read from (its path in the workspace's .switchyard/plans). */
  save(record: PlanRecord): void;
  /** `.switchyard/evidence` of the workspace. */
  evidenceRoot(): string;
  /** Runs one step with the agent (the task view shows it); the outcome ends the step's run. */
  runStep: PlanRunPorts['runStep'];
  /** The Judge gate of a task. */
  gate: PlanRunPorts['gate'];
  /** GR-005 lines in the audit log. */
  note: PlanRunPorts['note'];
  /** Asks the cloud Judge about the task of a step that waits for it; the gate after it. */
  judgeTask(taskId: string): Promise<{ status: string; why: string } | undefined>;
  /** Asks the cloud Judge to review the plan; its verdict when it approves with verified citations. */
  reviewPlan(
    record: PlanRecord,
    path: string,
  ): Promise<
    { approved: boolean; provider: string; model: string; verdict: string; evidence: string; why: string } | undefined
  >;
  /** Opens a workspace-relative file (already checked to stay inside the workspace). */
  openFile(relative: string): Promise<void>;
  log: { warn(s: string): void; info(s: string): void };
}

export class PlanController {
  record: PlanRecord | null = null;
  path = '';
  private notice: { level: 'info' | 'error'; text: string } | null = null;
  private running = false;

  constructor(private readonly p: PlanPorts) {}

  load(record: PlanRecord, path: string): void {
    this.record = record;
    this.path = path;
    this.postState();
  }

  private say(level: 'info' | 'error', text: string): void {
    this.notice = { level, text };
    this.postState();
    this.notice = null;
  }

  async handle(m: FromPlanView): Promise<void> {
    if (m.type === 'ready') {
      this.postState();
      return;
    }
    const r = this.record;
    if (!r) {
      this.p.log.warn(`plan view: "${m.type}" with no plan open; ignored`);
      return;
    }
    switch (m.type) {
      case 'openFile': {
        const rel = relativeInside(m.path);
        if (!rel) {
          this.p.log.warn(`plan view: refused to open a path outside the workspace: ${m.path.slice(0, 200)}`);
          this.say('error', 'Only files inside the workspace open from a plan.');
          return;
        }
        await this.p.openFile(rel);
        return;
      }
      case 'implementStep':
        return this.run(m.id);
      case 'runPlan':
        return this.run();
      case 'skipStep':
      case 'acceptStep': {
        const res = await settleStep(this.runPorts(), r, m.id, m.type === 'skipStep' ? 'skip' : 'accept_unverified');
        if (!res.ok) this.say('error', res.error);
        else this.say('info', `Step ${m.id} ${m.type === 'skipStep' ? 'skipped' : 'accepted unverified'}.`);
        return;
      }
      case 'judgeStep':
        return this.judgeStep(r, m.id);
      case 'reviewPlan':
        return this.reviewPlan(r);
      case 'overrideReview':
        await overrideReview(this.runPorts(), r, this.p.policy());
        this.say('info', 'The plan may run without its cloud review (the audit log says so, GR-005).');
        return;
      default: {
        const res = applyReview(r, m, this.p.policy());
        if (!res.ok) {
          this.say('error', res.error);
          return;
        }
        let next = res.record;
        if (m.type === 'setPlan' && m.status === 'approved') {
          next = { ...next, review: { ...next.review, evidence: null } };
          const ev = saveEvidence(next, this.p.evidenceRoot());
          next = { ...next, review: { ...next.review, evidence: { path: ev.path, sha256: ev.sha256 } } };
          this.p.log.info(`plan ${r.id} approved; evidence ${ev.path} (sha256 ${ev.sha256})`);
        }
        this.record = next;
        this.p.save(next);
        this.postState();
      }
    }
  }

  /** The plan's ports for the runner: a save is this record, saved, and shown. */
  private runPorts(): PlanRunPorts {
    return {
      save: (next) => {
        this.record = next;
        this.p.save(next);
        this.postState();
      },
      runStep: (rec, step) => this.p.runStep(rec, step),
      gate: (id) => this.p.gate(id),
      note: (line) => this.p.note(line),
    };
  }

  /** "Run plan" (every approved step from the first not done) or "Run step" (`only`). */
  private async run(only?: string): Promise<void> {
    if (this.running) {
      this.say('error', 'The plan is running: wait for the step in progress, or stop it in the task view.');
      return;
    }
    const r = this.record!;
    if (only) {
      const step = r.plan.steps.find((s) => s.id === only);
      if (!step) return this.say('error', `The plan has no step "${only}".`);
      if (r.review.steps[step.id] !== 'approved')
        return this.say('error', `Step ${step.id} is not approved: approve it before it runs.`);
      if (r.review.status !== 'approved') return this.say('error', 'The plan is a draft: approve it before it runs.');
    }
    this.running = true;
    this.postState();
    try {
      if (r.review.evidence === null && r.review.status === 'approved') this.keepEvidence(r);
      const rep = await runPlan(this.runPorts(), this.record!, this.p.policy(), only ? { only } : {});
      this.p.log.info(`plan ${r.id}: ran ${rep.ran.join(', ') || 'nothing'}; ${rep.stopped ?? 'every step is done'}`);
      this.running = false;
      if (rep.stopped) this.say('error', `The run stopped: ${rep.stopped.replace(/\.+$/, '')}.`);
      else this.say('info', only ? `Step ${only} is done.` : 'Every step of the plan is done.');
    } finally {
      this.running = false;
    }
  }

  private keepEvidence(r: PlanRecord): void {
    const ev = saveEvidence(r, this.p.evidenceRoot());
    this.record = { ...r, review: { ...r.review, evidence: { path: ev.path, sha256: ev.sha256 } } };
    this.p.save(this.record);
  }

  /** The Judge on the task of a step that waits for it; an approval closes the gate and the step is done. */
  private async judgeStep(r: PlanRecord, id: string): Promise<void> {
    const run = r.progress?.[id];
    if (!run || run.state !== 'awaiting_judge' || !run.task_id)
      return this.say('error', `Step ${id} is not waiting for the Judge.`);
    const gate = await this.p.judgeTask(run.task_id);
    if (!gate) return;
    if (gate.status !== 'approved')
      return this.say('error', `The Judge did not close the gate of step ${id}: ${gate.why}.`);
    const rep = await runPlan(this.runPorts(), this.record!, this.p.policy(), { only: id });
    this.say(
      'info',
      `Step ${id} approved by the cloud Judge: ${stepState(rep.record, id)}. Run plan goes on from here.`,
    );
  }

  /** A cloud review of a plan that needs one: the Judge audits the plan; an approve that holds is the review. */
  private async reviewPlan(r: PlanRecord): Promise<void> {
    if (!reviewNeeded(r, this.p.policy())) return this.say('info', 'This plan needs no cloud review.');
    const v = await this.p.reviewPlan(r, this.path);
    if (!v) return;
    if (!v.approved) return this.say('error', `The cloud review did not approve the plan: ${v.why}.`);
    const next: PlanRecord = {
      ...this.record!,
      cloud_review: {
        provider: v.provider,
        model: v.model,
        verdict: v.verdict,
        evidence: v.evidence,
        at: new Date().toISOString(),
      },
    };
    this.runPorts().save(next);
    this.say('info', `The cloud review by ${v.provider}/${v.model} approved the plan: it may run.`);
  }

  /** The critic sidecar finished (or failed) after the plan was shown. */
  criticDone(critic: PlanRecord['critic']): void {
    if (!this.record) return;
    this.record = { ...this.record, critic };
    this.p.save(this.record);
    this.postState();
  }

  postState(): void {
    this.p.post(this.stateMessage());
  }

  /** What the view shows now (also carried in the panel's HTML for its first paint). */
  stateMessage(): ToPlanView {
    if (!this.record)
      return { type: 'empty', text: 'No plan is open. Run "Switchyard: Plan a Change (Architect)" to write one.' };
    return {
      type: 'state',
      record: this.record,
      lanes: stepLanes(this.record, this.p.policy(), this.p.localOnly()),
      path: this.path,
      notice: this.notice,
      running: this.running,
      review_needed: reviewNeeded(this.record, this.p.policy()),
    };
  }
}
