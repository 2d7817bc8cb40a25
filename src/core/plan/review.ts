// The plan review: pure operations on a PlanRecord (edit, reorder, approve or reject a step or the plan),
// each either a new record or a refusal that says why; and the approved plan written as evidence (GR-007).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../policy/schema.js';
import { stepRoute } from './architect.js';
import { PlanRecord, PlanStep, type StepStatus } from '../protocol/planRecord.js';

export type ReviewOp =
  | { type: 'editStep'; id: string; field: 'title' | 'description' | 'files' | 'estimated_lines'; value: string }
  | { type: 'moveStep'; id: string; direction: 'up' | 'down' }
  | { type: 'setStep'; id: string; status: StepStatus }
  | { type: 'setPlan'; status: 'approved' | 'rejected' | 'draft' };

export type ReviewResult = { ok: true; record: PlanRecord } | { ok: false; error: string };

export interface StepLane {
  lane: 'local_reflex' | 'local' | 'cloud' | 'refused';
  rule: string;
  route: string;
  high_risk: boolean;
  why: string;
}

/** The router's lane for each step (badges in the review). */
export function stepLanes(record: PlanRecord, policy: Policy, localOnly: boolean): Record<string, StepLane> {
  const out: Record<string, StepLane> = {};
  const small = policy.escalation.implementer.small_diff_max_lines;
  for (const s of record.plan.steps) {
    const d = stepRoute(s, policy, localOnly);
    const high = s.risk_flags.some((f) => policy.high_risk.flags.includes(f));
    const lane = d.refused
      ? 'refused'
      : d.location === 'cloud'
        ? 'cloud'
        : s.estimated_lines < small
          ? 'local_reflex'
          : 'local';
    out[s.id] = {
      lane,
      rule: d.rule,
      route: d.refused ? `refused (${d.refused.guardrail ?? 'policy'})` : `${d.provider}/${d.model}`,
      high_risk: high,
      why: d.refused?.message ?? d.reasons.join('; '),
    };
  }
  return out;
}

const clone = (r: PlanRecord): PlanRecord => structuredClone(r);

export function applyReview(record: PlanRecord, op: ReviewOp, policy: Policy): ReviewResult {
  const r = clone(record);
  const idx = r.plan.steps.findIndex((s) => 'id' in op && s.id === op.id);
  if ('id' in op && idx < 0) return { ok: false, error: `the plan has no step "${String(op.id).slice(0, 40)}"` };
  const decided = r.review.status !== 'draft';
  switch (op.type) {
    case 'editStep': {
      if (decided) return { ok: false, error: `the plan is ${r.review.status}; set it back to draft to edit it` };
      const step = { ...r.plan.steps[idx]! } as Record<string, unknown>;
      if (op.field === 'files')
        step.files = op.value
          .split(/[\n,]/)
          .map((f) => f.trim())
          .filter(Boolean);
      else if (op.field === 'estimated_lines') {
        if (!/^\d{1,6}$/.test(op.value.trim())) return { ok: false, error: 'estimated lines must be a whole number' };
        step.estimated_lines = Number(op.value.trim());
      } else step[op.field] = op.value;
      const parsed = PlanStep.safeParse(step);
      if (!parsed.success)
        return {
          ok: false,
          error: `step ${op.id}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        };
      r.plan.steps[idx] = parsed.data;
      r.review.steps[op.id] = 'pending'; // an edited step is reviewed again, and runs again
      if (r.progress?.[op.id] && r.progress[op.id]!.state !== 'done') delete r.progress[op.id];
      return { ok: true, record: r };
    }
    case 'moveStep': {
      if (decided) return { ok: false, error: `the plan is ${r.review.status}; set it back to draft to reorder it` };
      const to = op.direction === 'up' ? idx - 1 : idx + 1;
      if (to < 0 || to >= r.plan.steps.length)
        return { ok: false, error: `step ${op.id} is already ${op.direction === 'up' ? 'first' : 'last'}` };
      const [s] = r.plan.steps.splice(idx, 1);
      r.plan.steps.splice(to, 0, s!);
      return { ok: true, record: r };
    }
    case 'setStep': {
      if (r.review.status === 'rejected')
        return { ok: false, error: 'the plan was rejected; set it back to draft first' };
      if (op.status === 'approved') {
        const gate = approvalGate(r, r.plan.steps[idx]!, policy);
        if (gate) return { ok: false, error: gate };
      }
      r.review.steps[op.id] = op.status;
      return { ok: true, record: r };
    }
    case 'setPlan': {
      if (op.status === 'approved') {
        const open = r.plan.steps.filter((s) => r.review.steps[s.id] !== 'rejected');
        if (open.length === 0) return { ok: false, error: 'every step is rejected: there is nothing to approve' };
        for (const s of open) {
          const gate = approvalGate(r, s, policy);
          if (gate) return { ok: false, error: gate };
          r.review.steps[s.id] = 'approved';
        }
      }
      r.review.status = op.status;
      r.review.decided = op.status === 'draft' ? null : new Date().toISOString();
      if (op.status !== 'approved') r.review.evidence = null;
      return { ok: true, record: r };
    }
  }
}

/** GR-003/GR-005: a local fast draft cannot have its high-risk steps approved before a cloud review. */
function approvalGate(r: PlanRecord, step: PlanStep, policy: Policy): string | null {
  if (r.author.kind !== 'local_fast_draft') return null;
  const high = step.risk_flags.filter((f) => policy.high_risk.flags.includes(f));
  if (high.length === 0) return null;
  return (
    `step ${step.id} is high risk (${high.join(', ')}) and this plan is a local fast draft: it ` +
    `needs the cloud Architect's review before approval (GR-003, GR-005). Run "Plan a Change (Architect)" ` +
    `with the cloud available.`
  );
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function writeAtomic(path: string, body: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, body);
  renameSync(tmp, path);
}

/** The approved plan as evidence: `<evidenceRoot>/<plan id>/plan.json` and `plan.json.sha256` (sha256sum's format). */
export function saveEvidence(
  record: PlanRecord,
  evidenceRoot: string,
  extra: { name: string; body: unknown }[] = [],
): { path: string; sha256: string } {
  const dir = join(evidenceRoot, record.id);
  mkdirSync(dir, { recursive: true });
  const body = `${JSON.stringify(record.plan, null, 2)}\n`;
  const hash = sha(body);
  writeAtomic(join(dir, 'plan.json'), body);
  writeAtomic(join(dir, 'review.json'), `${JSON.stringify(reviewRecord(record), null, 2)}\n`);
  for (const x of extra) writeAtomic(join(dir, x.name), `${JSON.stringify(x.body, null, 2)}\n`);
  writeAtomic(join(dir, 'plan.json.sha256'), `${hash}  plan.json\n`);
  return { path: join(dir, 'plan.json'), sha256: hash };
}

/** A stored plan record, validated: a damaged file is an error that names the file, never a half-read plan. */
export function loadPlan(path: string): PlanRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable plan (${(e as Error).message})`);
  }
  const r = PlanRecord.safeParse(raw);
  if (!r.success)
    throw new Error(
      `${path}: not a valid plan record: ${r.error.issues
        .slice(0, 4)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return r.data;
}

/** What review.json holds: who wrote the plan, who critiqued it, and the review's state. */
const reviewRecord = (r: PlanRecord) => ({
  id: r.id,
  author: r.author,
  self_critique: r.self_critique,
  critic: r.critic,
  review: r.review,
});

export function storePlan(record: PlanRecord, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${record.id}.json`);
  writeAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
