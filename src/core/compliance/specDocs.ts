// MODEL-POLICY.md §8: every spec carries a "Model & Runtime (Spec Overrides)" section that agrees with the
// policy. The check reads a Markdown spec and says, line by line, what is missing or contradicts the
// policy; `specSection` writes the section from the effective policy for the quick fix.
import picomatch from 'picomatch';
import type { Policy } from '../policy/schema.js';

export type SpecCode =
  | 'spec.missing_section'
  | 'spec.missing_line'
  | 'spec.unknown_policy_version'
  | 'spec.hr_without_cloud_judge'
  | 'spec.local_only_with_cloud_roles'
  | 'spec.local_only_with_high_risk'
  | 'spec.undecided';

export interface SpecProblem {
  code: SpecCode;
  line: number;
  message: string;
  severity: 'error' | 'warning' | 'info';
  guardrail?: string;
}

const ROLE_LINES = [
  'Stage0 Tier2 (NotebookLM)',
  'Architect/Planner',
  'Implementer/Rust Ace',
  'Librarian',
  'Tutor',
  'Auditor/Judge',
] as const;
/** Roles that call the cloud by the policy (§1): the Architect (cloud-first), the Judge (cloud-only), NotebookLM. */
const CLOUD_ROLES = new Set<string>(['Stage0 Tier2 (NotebookLM)', 'Architect/Planner', 'Auditor/Judge']);

type At = (pred: (l: string) => boolean) => number;

/** The policy version and every line §8 requires (an infrastructure-only spec has no routing mode). */
function requiredLines(
  lines: string[],
  section: string[],
  start: number,
  at: At,
  policy: Policy,
  infra: boolean,
): SpecProblem[] {
  const out: SpecProblem[] = [];
  const versionLine = at((l) => /^\s*Policy:/.test(l));
  const version = versionLine >= 0 ? /version:\s*([^)\s]+)/.exec(lines[versionLine]!)?.[1] : undefined;
  if (versionLine >= 0 && version && version !== policy.policy_version) {
    out.push({
      code: 'spec.unknown_policy_version',
      line: versionLine,
      severity: 'error',
      message:
        `The spec names policy version ${version}; the effective policy is ${policy.policy_version}. ` +
        `Update the line (quick fix) and review the spec against the current policy.`,
    });
  }
  const required = infra
    ? policy.spec_compliance.required_lines.filter((r) => !/^Routing mode/.test(r))
    : policy.spec_compliance.required_lines;
  for (const req of required) {
    const key = req.split(/[:=(]/)[0]!.trim();
    const found =
      section.some((l) => l.includes(req)) ||
      (key && key !== req && section.some((l) => l.trim().startsWith(key)) && !/^Policy/.test(key));
    if (!found && !(/^Policy:/.test(req) && versionLine >= 0))
      out.push({
        code: 'spec.missing_line',
        line: start,
        severity: 'warning',
        message: `The section lacks the line "${req}" (§8).`,
      });
  }
  return out;
}

/** The author's answers: each role YES or NO, HR, local_only, and the combinations the guardrails forbid. */
function decisions(lines: string[], at: At): SpecProblem[] {
  const out: SpecProblem[] = [];
  const answer = (role: string): { line: number; value: 'YES' | 'NO' | null } => {
    const i = at((l) => l.replace(/^\s*-\s*/, '').startsWith(`${role}:`));
    if (i < 0) return { line: -1, value: null };
    const v = /:\s*(YES|NO)\s*$/i.exec(lines[i]!.trim())?.[1]?.toUpperCase();
    return { line: i, value: v === 'YES' || v === 'NO' ? v : null };
  };
  const roles = Object.fromEntries(ROLE_LINES.map((r) => [r, answer(r)]));
  for (const r of ROLE_LINES) {
    const a = roles[r]!;
    if (a.line >= 0 && a.value === null)
      out.push({
        code: 'spec.undecided',
        line: a.line,
        severity: 'info',
        message: `Say YES or NO: does this spec exercise the ${r}?`,
      });
  }
  const hrLine = at((l) => /^\s*-?\s*HR\s*=/.test(l));
  const hr = hrLine >= 0 ? (/HR\s*=\s*(YES|NO)\b(?!\s*\/)/i.exec(lines[hrLine]!)?.[1]?.toUpperCase() ?? null) : null;
  if (hrLine >= 0 && hr === null)
    out.push({
      code: 'spec.undecided',
      line: hrLine,
      severity: 'info',
      message: 'Say HR = YES or HR = NO: is this spec high risk (§7)?',
    });
  const loLine = at((l) => /local_only\s*=/.test(l));
  const localOnly =
    loLine >= 0 ? /local_only\s*=\s*(true|false)/i.exec(lines[loLine]!)?.[1]?.toLowerCase() === 'true' : false;

  if (hr === 'YES') {
    const judge = roles['Auditor/Judge']!;
    if (judge.value === 'NO')
      out.push({
        code: 'spec.hr_without_cloud_judge',
        line: judge.line,
        severity: 'error',
        guardrail: 'GR-002',
        message:
          'HR = YES but the Auditor/Judge is not exercised: high-risk work requires a cloud Judge (GR-002, ' +
          '§8 "if YES → cloud Architect + cloud Judge required").',
      });
    const arch = roles['Architect/Planner']!;
    if (arch.value === 'NO')
      out.push({
        code: 'spec.hr_without_cloud_judge',
        line: arch.line,
        severity: 'error',
        guardrail: 'GR-002',
        message:
          'HR = YES but the Architect/Planner is not exercised: high-risk work requires the cloud Architect (§8).',
      });
    if (localOnly)
      out.push({
        code: 'spec.local_only_with_high_risk',
        line: loLine,
        severity: 'error',
        guardrail: 'GR-003',
        message:
          'local_only = true with HR = YES: high-risk work needs a cloud Judge, which local_only forbids ' +
          '(GR-003, GR-009); it could never be approved.',
      });
  }
  if (localOnly) {
    for (const r of ROLE_LINES) {
      const a = roles[r]!;
      if (CLOUD_ROLES.has(r) && a.value === 'YES')
        out.push({
          code: 'spec.local_only_with_cloud_roles',
          line: a.line,
          severity: 'error',
          guardrail: 'GR-009',
          message: `local_only = true forbids every cloud call (GR-009), but the spec exercises the ${r}, a cloud role.`,
        });
    }
  }
  return out;
}

export function checkSpec(text: string, policy: Policy): SpecProblem[] {
  const lines = text.split(/\r?\n/);
  const heading = policy.spec_compliance.heading.trim();
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) {
    return [
      {
        code: 'spec.missing_section',
        line: 0,
        severity: 'warning',
        message:
          `This spec has no "${heading.replace(/^#+\s*/, '')}" section (MODEL-POLICY.md §8). Use the ` +
          `quick fix to insert it, filled from the effective policy ${policy.policy_version}.`,
      },
    ];
  }
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const h = /^(#+)\s/.exec(lines[i]!);
    if (h && h[1]!.length <= level) {
      end = i;
      break;
    }
  }
  const section = lines.slice(start, end);
  const at = (pred: (l: string) => boolean) => {
    const k = section.findIndex(pred);
    return k < 0 ? -1 : start + k;
  };
  const out: SpecProblem[] = [];
  const infra = section.some((l) => /infrastructure-only/i.test(l));

  out.push(...requiredLines(lines, section, start, at, policy, infra));
  if (infra) return out;

  out.push(...decisions(lines, at));
  return out;
}

/** The section filled from the effective policy; the role answers and HR are the author's to give. */
export function specSection(policy: Policy): string {
  const tier = (id: string) => policy.tiers[id as keyof Policy['tiers']];
  const used = (id: string) => {
    const t = tier(id);
    return t ? `${t.label}${t.used_by?.length ? ` (${t.used_by.join(', ')})` : ''}` : '';
  };
  return [
    policy.spec_compliance.heading,
    '',
    `Policy: docs/MODEL-POLICY.md (version: ${policy.policy_version})`,
    '',
    'Roles exercised by this spec:',
    ...ROLE_LINES.map((r) => `- ${r}: YES/NO`),
    '',
    'Routing mode: cloud-where-quality-wins, local-where-speed-wins',
    'Architect: Cloud-first (Sonnet/GPT)',
    'Implementer: Local for small diffs, cloud for serious/HR work',
    'Librarian: Local + Kimi escalation (hard sweeps)',
    'Judge: Cloud-only (always)',
    '',
    'Primary tiers:',
    ...['cloud_quality', 'local_reflex', 'cloud_escalation', 'premium_judge']
      .filter((t) => tier(t))
      .map((t) => `- ${t}: ${used(t)}`),
    '',
    'Privacy:',
    `- local_only = ${policy.local_only}  # if true → forbids all cloud calls`,
    '',
    'High-risk:',
    '- HR = YES/NO (if YES → cloud Architect + cloud Judge required)',
    '',
    'Overrides (must be rare):',
    '- <none>',
    '',
  ].join('\n');
}

/** Whether a workspace-relative path is a spec by the policy's spec_glob (the policy document itself is not). */
export function isSpec(policy: Policy, path: string): boolean {
  const p = path.replace(/\\/g, '/');
  return picomatch(policy.spec_compliance.spec_glob, { dot: false })(p) && !/(^|\/)MODEL-POLICY\.md$/i.test(p);
}
