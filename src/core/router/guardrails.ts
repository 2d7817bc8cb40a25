// Guardrail checks that sit outside a single routing decision.
export interface Verdict {
  verdict: 'approve' | 'request_changes' | 'reject';
  location: 'local' | 'cloud';
  provider: string;
  model: string;
}

export interface MergeGate {
  allowed: boolean;
  guardrail: string | null;
  message: string;
}

/** GR-002 and GR-003: high-risk work needs a cloud Judge's approve; a local verdict never approves a merge. */
export function mergeGate(highRisk: boolean, verdict: Verdict | null): MergeGate {
  if (verdict && verdict.location === 'local' && verdict.verdict === 'approve') {
    return {
      allowed: false,
      guardrail: 'GR-003',
      message: `GR-003: a local model (${verdict.provider}/${verdict.model}) cannot approve a merge. Request a Judge audit in the cloud.`,
    };
  }
  if (highRisk) {
    if (!verdict)
      return {
        allowed: false,
        guardrail: 'GR-002',
        message:
          'GR-002: high-risk work requires a cloud Judge before it can be approved. Run "Switchyard: Request Judge Audit".',
      };
    if (verdict.location !== 'cloud')
      return {
        allowed: false,
        guardrail: 'GR-002',
        message: 'GR-002: high-risk work requires a cloud Judge verdict; this verdict came from a local model.',
      };
    if (verdict.verdict !== 'approve')
      return {
        allowed: false,
        guardrail: 'GR-002',
        message: `GR-002: the cloud Judge answered ${verdict.verdict}; address its findings and audit again.`,
      };
  }
  if (verdict && verdict.verdict !== 'approve')
    return { allowed: false, guardrail: null, message: `The Judge answered ${verdict.verdict}.` };
  return {
    allowed: true,
    guardrail: null,
    message: highRisk ? 'approved by a cloud Judge' : 'not high-risk: no Judge required',
  };
}
