import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { checkSpec, isSpec, specSection } from '../../src/core/compliance/specDocs.js';

// MODEL-POLICY.md §8: the spec section, its contradictions with the policy, and the quick fix's text.
const policy = bundledPolicy();
const filled = (answers: Record<string, string>, hr = 'NO', localOnly = 'false') =>
  specSection(policy)
    .replace(/- (.+): YES\/NO/g, (_m, role: string) => `- ${role}: ${answers[role] ?? 'NO'}`)
    .replace('HR = YES/NO', `HR = ${hr}`)
    .replace('local_only = false', `local_only = ${localOnly}`);
const codes = (text: string) => checkSpec(text, policy).map((p) => p.code);

describe('spec compliance (§8)', () => {
  it('a spec without the section gets one warning at its top', () => {
    const p = checkSpec('# Spec\n\nText.\n', policy);
    assert.deepEqual(
      p.map((x) => [x.code, x.line]),
      [['spec.missing_section', 0]],
    );
    assert.match(p[0]!.message, /no "Model & Runtime \(Spec Overrides\)" section/);
  });

  it("the quick fix's section, once the author answers YES/NO, raises nothing; unanswered lines ask", () => {
    assert.deepEqual(codes(`# Spec\n\n${filled({ Tutor: 'YES', 'Implementer/Rust Ace': 'YES' })}`), []);
    const raw = checkSpec(`# Spec\n\n${specSection(policy)}`, policy);
    assert.ok(
      raw.length === 7 && raw.every((x) => x.code === 'spec.undecided' && x.severity === 'info'),
      JSON.stringify(raw),
    );
    assert.match(specSection(policy), /Policy: docs\/MODEL-POLICY\.md \(version: 2\.0\.0\)/);
    assert.match(specSection(policy), /- local_reflex: Qwen3-Coder-30B-A3B MoE/);
  });

  it('contradictions with the policy: HR without a cloud Judge, local_only with cloud roles, an unknown version', () => {
    assert.deepEqual(codes(filled({ 'Auditor/Judge': 'NO', 'Architect/Planner': 'YES' }, 'YES')), [
      'spec.hr_without_cloud_judge',
    ]);
    assert.deepEqual(codes(filled({ 'Architect/Planner': 'YES', Tutor: 'YES' }, 'NO', 'true')), [
      'spec.local_only_with_cloud_roles',
    ]);
    assert.deepEqual(codes(filled({ 'Architect/Planner': 'YES', 'Auditor/Judge': 'YES' }, 'YES', 'true')).sort(), [
      'spec.local_only_with_cloud_roles',
      'spec.local_only_with_cloud_roles',
      'spec.local_only_with_high_risk',
    ]);
    const old = checkSpec(filled({}).replace('version: 2.0.0', 'version: 1.0.0'), policy);
    assert.deepEqual(
      old.map((x) => x.code),
      ['spec.unknown_policy_version'],
    );
    assert.match(old[0]!.message, /names policy version 1\.0\.0; the effective policy is 2\.0\.0/);
    const hr = checkSpec(filled({ 'Auditor/Judge': 'NO', 'Architect/Planner': 'YES' }, 'YES'), policy)[0]!;
    assert.equal(hr.guardrail, 'GR-002');
    assert.equal(hr.severity, 'error');
  });

  it('an infrastructure-only spec is fine without the role lines', () => {
    const infra =
      '## Model & Runtime (Spec Overrides)\n\nPolicy: docs/MODEL-POLICY.md (version: 2.0.0)\n\nThis spec is **infrastructure-only** and does not invoke model routing directly.\nRoles exercised: none (no Architect/Implementer/Librarian/Tutor/Judge).\nPrivacy: local_only = false\nGuardrails still apply: sandboxing, evidence/logging, no hallucinated citations.\n';
    assert.deepEqual(codes(`# Infra\n\n${infra}`), []);
    assert.deepEqual(codes(`# Infra\n\n${infra.replace('Privacy: local_only = false\n', '')}`), ['spec.missing_line']);
  });

  it("which files are specs: the policy's glob, never the policy document itself", () => {
    assert.equal(isSpec(policy, 'docs/word-filter-spec.md'), true);
    assert.equal(isSpec(policy, 'docs/specs/a/b.md'), true);
    assert.equal(isSpec(policy, 'README.md'), false);
    assert.equal(isSpec(policy, 'docs/MODEL-POLICY.md'), false);
  });
});
