// The plan review's logic behind the webview, without VS Code: validated messages in, the review applied
// and saved, the approved plan written as evidence, an approved step handed to the Implementer.
import type { Policy } from '../policy/schema.js';
import { FromPlanView, type ToPlanView } from '../protocol/plan.js';
import { relativeInside } from '../util/paths.js';
import { applyReview, saveEvidence, stepLanes } from './review.js';
import type { PlanRecord, PlanStep } from '../protocol/planRecord.js';

export interface PlanPorts {
  post(m: ToPlanView): void;
  policy(): Policy;
  localOnly(): boolean;
  /** Saves the record where it was read from (its path in the workspace's .switchyard/plans). */
  save(record: PlanRecord): void;
  /** `.switchyard/evidence` of the workspace. */
  evidenceRoot(): string;
  /** Hands one approved step to the Implementer (with the evidence it was approved under). */
  handoff(record: PlanRecord, step: PlanStep, evidence: { path: string; sha256: string }): Promise<void>;
  /** Opens a workspace-relative file (already checked to stay inside the workspace). */
  openFile(relative: string): Promise<void>;
  log: { warn(s: string): void; info(s: string): void };
}

export class PlanController {
  record: PlanRecord | null = null;
  path = '';
  private notice: { level: 'info' | 'error'; text: string } | null = null;

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
      case 'implementStep': {
        const step = r.plan.steps.find((s) => s.id === m.id);
        if (!step) {
          this.say('error', `The plan has no step "${m.id}".`);
          return;
        }
        if (r.review.steps[step.id] !== 'approved' || r.review.status === 'rejected') {
          this.say('error', `Step ${step.id} is not approved: approve it before handing it to the Implementer.`);
          return;
        }
        const evidence = saveEvidence(r, this.p.evidenceRoot(), [
          { name: `handoff-${step.id}.json`, body: { plan: r.id, step, handed_at: new Date().toISOString() } },
        ]);
        this.p.log.info(
          `plan ${r.id}: step ${step.id} handed to the Implementer; evidence ${evidence.path} (sha256 ${evidence.sha256})`,
        );
        await this.p.handoff(r, step, evidence);
        return;
      }
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
    };
  }
}
