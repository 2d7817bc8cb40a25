// The record of one model call as it happens: its audit lines (GR-005), its provenance (GR-013), and the typed
// refusals and failures that end it. One per call; the attempt loop and the jobs write through it.
import { randomUUID } from 'node:crypto';
import { picoToUsd } from '../budget/cost.js';
import type { Usage } from '../budget/port.js';
import type { AuditEntry, AuditKind } from '../evidence/auditLog.js';
import type { Redactor } from '../evidence/redact.js';
import type { RoleId } from '../policy/schema.js';
import { auditedDecision } from '../router/audit.js';
import type { ServedRecord } from '../runtime/served.js';
import type { ChainLink, RouteDecision } from '../router/types.js';
import { CallFailed, CallRefused, type Attempt, type ProvenanceRecord, type Timings } from './outcomes.js';

export interface RecordPorts {
  source: 'extension' | 'cli';
  audit: { append(e: AuditEntry): void };
  provenance: { append(r: ProvenanceRecord): void };
  redactor: Redactor;
  now: () => number;
  /** What the local server really serves (read from the model), for the provenance of a local call. */
  servedModel?: () => ServedRecord | null;
}

export const linkName = (r: { provider: string; model: string | null }) => `${r.provider}/${r.model}`;

export class CallRecord {
  readonly id = randomUUID();
  readonly lines: string[] = [];
  readonly attempts: Attempt[] = [];
  readonly escalations: ProvenanceRecord['escalations'] = [];
  private readonly t0: number;
  /** Set by `decided`; replaced when a context-length escalation routes again. */
  decision!: RouteDecision;

  constructor(
    private readonly p: RecordPorts,
    readonly call: {
      role: RoleId;
      taskId: string | null;
      parentCall: string | null;
      requestSha: string;
      /** What the provenance record lists as the call's inputs (the routing request and its extras). */
      inputs: () => Record<string, unknown>;
    },
  ) {
    this.t0 = p.now();
  }

  /** Milliseconds since the call began. */
  sinceStart(): number {
    return this.p.now() - this.t0;
  }

  elapsed(): number {
    return Math.round(this.sinceStart());
  }

  audit(kind: AuditKind, text: string, extra: Partial<AuditEntry> = {}): void {
    const line = this.p.redactor.redact(text);
    this.lines.push(line);
    this.p.audit.append({
      ts: new Date().toISOString(),
      kind,
      source: this.p.source,
      audit: line,
      call_id: this.id,
      task_id: this.call.taskId,
      role: this.call.role,
      ...extra,
    });
  }

  /** What the local server serves now (null when the runtime cannot say). */
  servedModel(): ServedRecord | null {
    return this.p.servedModel?.() ?? null;
  }

  decided(decision: RouteDecision): void {
    this.decision = decision;
    this.audit('decision', decision.audit, { decision: auditedDecision(decision) });
  }

  provenance(outcome: ProvenanceRecord['outcome'], extra: Partial<ProvenanceRecord>): void {
    const d = this.decision;
    const record: ProvenanceRecord = {
      ts: new Date().toISOString(),
      call_id: this.id,
      task_id: this.call.taskId,
      parent_call: this.call.parentCall,
      role: this.call.role,
      rule: d.rule,
      provider: null,
      model: null,
      request_sha256: this.call.requestSha,
      route_sha256: d.provenance.request_sha256,
      policy_sha256: d.provenance.policy_sha256,
      inputs: { ...this.call.inputs(), local_only: d.local_only },
      outcome,
      attempts: this.attempts,
      escalations: this.escalations,
      usage: null,
      cost_usd: 0,
      cost_pico: 0,
      timings: { ttft_ms: null, total_ms: this.elapsed() },
      ...extra,
    };
    this.p.provenance.append(this.p.redactor.deep(record));
  }

  /** A model answered: its audit line and the call's provenance; the fields every result starts with. */
  served(link: ChainLink, line: string, o: { usage: Usage; cost: number; timings: Timings }) {
    const { provider, model } = link;
    const { usage, cost, timings } = o;
    const served = provider === 'local' ? this.servedModel() : null;
    const unlike = served && !served.matches_policy ? `; the server serves ${served.name}, not the policy's model` : '';
    this.audit('call', line + unlike, { from: linkName(link) });
    this.provenance('ok', {
      provider,
      model,
      usage,
      cost_pico: cost,
      cost_usd: picoToUsd(cost),
      timings,
      ...(served ? { served_model: served } : {}),
    });
    return { call_id: this.id, decision: this.decision, provider, model, usage, cost_usd: picoToUsd(cost), served };
  }

  /** A refusal: provenance written, the error to throw returned. */
  refused(guardrail: string | null, message: string, link?: ChainLink): CallRefused {
    this.provenance('refused', { error: message, ...(link ? { provider: link.provider, model: link.model } : {}) });
    return new CallRefused(guardrail, message, this.decision, this.lines);
  }

  cancelled(link: ChainLink): CallFailed {
    this.provenance('cancelled', { provider: link.provider, model: link.model, error: 'cancelled' });
    return new CallFailed('cancelled', 'cancelled', this.attempts, this.lines, this.decision);
  }

  failed(kind: CallFailed['kind'], message: string): CallFailed {
    this.audit('failure', `GR-005: ${message}`);
    this.provenance('failed', { error: message });
    return new CallFailed(kind, message, this.attempts, this.lines, this.decision);
  }
}
