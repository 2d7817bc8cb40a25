import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { policyJsonSchemaText } from '../../src/core/policy/jsonSchema.js';
import { lifecycleWarnings, parsePolicyText } from '../../src/core/policy/load.js';
import { PolicySchema, ROLE_IDS } from '../../src/core/policy/schema.js';
import { BUNDLED_SOURCE, bundledPolicy, PolicyStore } from '../../src/core/policy/store.js';
import { BUNDLED_TEXT, rawPolicy } from './helpers/policy.js';

const load = (raw: unknown) => parsePolicyText(JSON.stringify(raw, null, 2), 'p.json', '2026-11-25');

describe('bundled policy encodes MODEL-POLICY 2.0.0', () => {
  const p = bundledPolicy();

  it('is valid and is version 2.0.0', () => {
    const r = parsePolicyText(BUNDLED_TEXT, 'bundled', '2026-11-25');
    assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.problems));
    assert.equal(p.policy_version, '2.0.0');
    assert.equal(p.philosophy, 'cloud-where-quality-wins, local-where-speed-wins');
    assert.equal(p.local_only, false);
  });

  it('has every routing-table row of §1 with default, provider, location, fallback and constraints', () => {
    assert.deepEqual(Object.keys(p.roles).sort(), [...ROLE_IDS].sort());
    const row = (id: keyof typeof p.roles) => p.roles[id];
    assert.equal(row('architect').table.default, 'Sonnet / GPT-5.1');
    assert.equal(row('architect').location, 'cloud');
    assert.equal(row('implementer').table.fallback, 'DeepSeek → Sonnet/GPT-5.1');
    assert.deepEqual(row('implementer').fallback?.models, ['deepseek_flash', 'sonnet', 'gpt51']);
    assert.equal(row('librarian').fallback_use, 'escalation_only');
    assert.deepEqual(row('librarian').fallback?.models.slice(0, 1), ['kimi_k2']);
    assert.equal(row('tutor').table.when_local, 'Always — perfect fit');
    assert.deepEqual(row('tutor').fallback?.models, ['haiku']);
    assert.equal(row('judge').location, 'cloud_only');
    assert.deepEqual(row('judge').primary?.models, ['gpt51_high', 'opus']);
    assert.equal(p.models.gpt51_high!.reasoning_effort, 'high');
    assert.equal(row('stage0_synth').table.default, 'NotebookLM');
    assert.equal(p.models.notebooklm!.provider, 'notebooklm');
    assert.equal(row('stage0_retrieval').location, 'deterministic');
    assert.equal(row('stage0_retrieval').primary, null);
    assert.equal(row('reflector').table.fallback, 'Kimi (escalation-only)');
    assert.equal(p.models.local_embed!.id, 'BAAI/bge-m3');
    assert.deepEqual(row('embeddings').fallback?.models, ['openai_embed']);
    assert.equal(row('vision').scheduling, 'separate');
    for (const id of ROLE_IDS) assert.ok(row(id).constraints.length > 0, `${id} has constraints`);
  });

  it('has the four tiers with their models', () => {
    assert.deepEqual(p.tiers.cloud_quality.models, ['sonnet', 'gpt51']);
    assert.deepEqual(p.tiers.local_reflex.models, ['local_moe']);
    assert.ok(p.tiers.cloud_escalation.models.includes('kimi_k2'));
    assert.deepEqual(p.tiers.premium_judge.models, ['gpt51_high', 'opus']);
  });

  it('has the §3 thresholds as numbers', () => {
    assert.equal(p.escalation.implementer.small_diff_max_lines, 100);
    assert.equal(p.escalation.implementer.direct_cloud_over_lines, 500);
    assert.equal(p.escalation.implementer.max_failed_loops, 2);
    assert.equal(p.escalation.librarian.context_tokens_over, 100_000);
    assert.equal(typeof p.escalation.librarian.confidence_threshold, 'number');
  });

  it('has the consensus rules, 13 guardrails, the high-risk definition and the runtime', () => {
    assert.equal(p.consensus.enabled, false);
    assert.equal(p.consensus.critic_sidecar.authoritative, false);
    assert.equal(p.consensus.env_flags.critic, 'SPEC_KIT_CRITIC');
    assert.equal(p.consensus.forbidden_patterns.length, 4);
    assert.deepEqual(
      p.guardrails.map((g) => g.id),
      Array.from({ length: 13 }, (_, i) => `GR-${String(i + 1).padStart(3, '0')}`),
    );
    assert.equal(p.guardrails[8]!.title, 'local_only forbids ALL cloud calls');
    assert.equal(p.high_risk.categories.length, 6);
    assert.equal(p.runtime.primary, 'vllm');
    assert.equal(p.runtime.fallback, 'llama.cpp');
    assert.equal(p.runtime.one_model_at_a_time, true);
    assert.match(p.models[p.runtime.model]!.id, /Qwen3-Coder-30B-A3B/);
    assert.equal(p.runtime.vllm.quantization, 'awq');
    assert.match(p.models[p.runtime.alternative]!.label, /Ministral 3 14B/);
  });

  it('has budget caps (the Judge its own) and a dated price for every cloud model', () => {
    assert.ok(p.budget.caps.some((c) => c.scope === 'role' && c.target === 'judge'));
    assert.ok(['day', 'month', 'task'].every((per) => p.budget.caps.some((c) => c.period === per)));
    assert.match(p.prices.as_of, /^\d{4}-\d{2}-\d{2}$/);
    for (const m of Object.values(p.models)) {
      if (m.provider === 'local' || m.provider === 'notebooklm') continue;
      const price = p.prices.per_mtok[m.id];
      assert.ok(price, `price for ${m.id}`);
      assert.ok(price.output >= 0 && price.input >= price.cached_input, `${m.id} prices are sane`);
    }
  });

  it('is used as is at start-up: validation adds no defaults and changes nothing', () => {
    assert.deepEqual(PolicySchema.parse(JSON.parse(BUNDLED_TEXT)), JSON.parse(BUNDLED_TEXT));
  });

  it('names no retired or deprecated model id', () => {
    assert.deepEqual(lifecycleWarnings(p, '2026-11-25'), []);
  });
});

describe('policy/model-policy.schema.json', () => {
  it('is the schema generated from the zod source (run `npm run gen:schema` if this fails)', () => {
    assert.equal(readFileSync('policy/model-policy.schema.json', 'utf8'), policyJsonSchemaText());
  });
});

describe('policy loading', () => {
  it('accepts comments and trailing commas (JSONC)', () => {
    const text = BUNDLED_TEXT.replace(
      '"local_only": false,',
      '// the team decides\n  "local_only": true, /* GR-009 */',
    );
    const r = parsePolicyText(text, 'ws.json');
    assert.ok(r.ok);
    assert.equal(r.policy.local_only, true);
  });

  it('names the field, the reason and the line of a wrong type', () => {
    const raw = rawPolicy();
    raw.escalation.implementer.max_failed_loops = 'two';
    const text = JSON.stringify(raw, null, 2);
    const r = parsePolicyText(text, 'p.json');
    assert.equal(r.ok, false);
    if (r.ok) return;
    const prob = r.problems[0]!;
    assert.equal(prob.field, 'escalation.implementer.max_failed_loops');
    assert.match(prob.reason, /number/);
    const expectedLine = text.split('\n').findIndex((l) => l.includes('"max_failed_loops"')) + 1;
    assert.equal(prob.line, expectedLine);
  });

  it('rejects unknown fields, negative numbers and unknown model keys', () => {
    const raw = rawPolicy();
    raw.roles.tutor.colour = 'blue';
    raw.budget.caps[0].usd = -5;
    raw.roles.judge.fallback.models.push('gpt9');
    const r = load(raw);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const byField = Object.fromEntries(r.problems.map((p) => [p.field, p.reason]));
    assert.match(byField['roles.tutor.colour']!, /unknown field "colour"/);
    assert.match(byField['budget.caps.0.usd']!, />=0/);
    assert.match(byField['roles.judge.fallback.models.2']!, /unknown model key "gpt9"/);
  });

  it('refuses a local model on the cloud-only Judge', () => {
    const raw = rawPolicy();
    raw.roles.judge.fallback.models = ['local_moe'];
    const r = load(raw);
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.ok(
        r.problems.some((p) => p.field === 'roles.judge.fallback.models.0' && /cloud-only/.test(p.reason)),
        JSON.stringify(r.problems),
      );
  });

  it('refuses enabling consensus (GR-001)', () => {
    const raw = rawPolicy();
    raw.consensus.enabled = true;
    const r = load(raw);
    assert.equal(r.ok, false);
    if (!r.ok)
      assert.ok(
        r.problems.some((p) => p.field === 'consensus.enabled' && /GR-001/.test(p.reason)),
        JSON.stringify(r.problems),
      );
  });

  it('refuses older and newer policy versions with a clear message', () => {
    for (const [v, word] of [
      ['1.0.0', /older/],
      ['3.0.0', /newer/],
    ] as const) {
      const raw = rawPolicy();
      raw.policy_version = v;
      const r = load(raw);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.problems[0]!.field, 'policy_version');
        assert.match(r.problems[0]!.reason, word);
      }
    }
  });

  it('reports broken JSON with its line', () => {
    const r = parsePolicyText('{\n  "policy_version": "2.0.0",\n  "models": {\n}', 'b.json');
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.problems[0]!.reason, /invalid JSON/);
      assert.ok(r.problems[0]!.line >= 3);
    }
  });

  it('warns when a policy names a retired model id, naming the replacement', () => {
    const raw = rawPolicy();
    raw.models.deepseek_flash.id = 'deepseek-chat';
    const r = load(raw);
    assert.ok(r.ok);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!.message, /deepseek-chat" was retired on 2026-07-24; use "deepseek-v4-flash"/);
  });
});

describe('PolicyStore', () => {
  it('keeps the last valid policy when the workspace file breaks, and says why', () => {
    const store = new PolicyStore(parsePolicyText);
    const raw = rawPolicy();
    raw.escalation.implementer.max_failed_loops = 3;
    store.applyWorkspaceText(JSON.stringify(raw), '.switchyard/policy.json');
    assert.equal(store.current.policy.escalation.implementer.max_failed_loops, 3);
    store.applyWorkspaceText('{ "policy_version": "2.0.0", "models": ', '.switchyard/policy.json');
    assert.equal(
      store.current.policy.escalation.implementer.max_failed_loops,
      3,
      'the last valid policy stays in force',
    );
    assert.equal(store.current.source, '.switchyard/policy.json');
    assert.match(store.current.rejected!.problems[0]!.reason, /invalid JSON/);
    store.applyWorkspaceText(undefined, '');
    assert.equal(store.current.source, BUNDLED_SOURCE);
  });
});
