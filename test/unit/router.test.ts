import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { mergeGate } from '../../src/core/router/guardrails.js';
import { parseRouteRequest } from '../../src/core/router/request.js';
import { route } from '../../src/core/router/route.js';
import type { RouteDecision, RouteRequest, RouterState } from '../../src/core/router/types.js';
import { policyWith } from './helpers/policy.js';
import { arbRequest } from './helpers/requests.js';

const P = bundledPolicy();
const r = (req: Partial<RouteRequest> & { role: RouteRequest['role'] }, state?: RouterState, policy = P) => {
  const parsed = parseRouteRequest(req);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.errors));
  return route(parsed.request, policy, state);
};
const change = (lines_changed: number, extra: Record<string, unknown> = {}) =>
  ({
    change: { lines_changed, high_risk: false, risk_flags: [], cross_crate: false, ...extra },
  }) as Partial<RouteRequest>;
const chain = (d: RouteDecision) => [`${d.provider}/${d.model}`, ...d.fallbacks.map((f) => `${f.provider}/${f.model}`)];
const cloudIn = (d: RouteDecision) =>
  [d, ...d.fallbacks].some((x) => x.provider !== 'local' && x.provider !== 'none') ||
  (d.sidecar !== null && d.sidecar.provider !== 'local');

describe('routing table (§1)', () => {
  it('architect: cloud-first Sonnet, then GPT-5.1, then DeepSeek R2', () => {
    const d = r({ role: 'architect' });
    assert.equal(d.rule, 'architect.cloud_first');
    assert.equal(d.location, 'cloud');
    assert.equal(d.tier, 'cloud_quality');
    assert.deepEqual(chain(d), ['anthropic/claude-sonnet-4-6', 'openai/gpt-5.1', 'deepseek/deepseek-v4-pro']);
  });

  it('architect: local only offline (audited) or for a fast draft reviewed in the cloud', () => {
    const off = r({ role: 'architect', signals: { offline: true } });
    assert.equal(off.rule, 'architect.offline');
    assert.equal(off.location, 'local');
    assert.equal(off.degraded, true);
    assert.ok(off.guardrails.includes('GR-005'));
    assert.match(
      off.audit,
      /^GR-005 degraded: the cloud-first Architect runs on the local planner because offline=true/,
    );
    const draft = r({ role: 'architect', signals: { fast_draft: true } });
    assert.equal(draft.rule, 'architect.fast_draft');
    assert.equal(draft.location, 'local');
    assert.deepEqual(draft.obligations, ['cloud_review_of_plan']);
    assert.equal(draft.fallbacks[0]!.provider, 'anthropic');
  });

  it('implementer: local MoE with DeepSeek, then Sonnet/GPT-5.1 as fallbacks', () => {
    const d = r({ role: 'implementer', ...change(40) });
    assert.equal(d.rule, 'implementer.small_diff');
    assert.equal(d.tier, 'local_reflex');
    assert.deepEqual(chain(d), [
      'local/Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ',
      'deepseek/deepseek-v4-flash',
      'anthropic/claude-sonnet-4-6',
      'openai/gpt-5.1',
    ]);
  });

  it('librarian: local for routine work, with no Kimi fallback (escalation-only)', () => {
    const d = r({ role: 'librarian', context_estimate: 20_000 });
    assert.equal(d.rule, 'librarian.routine');
    assert.equal(d.location, 'local');
    assert.deepEqual(d.fallbacks, []);
  });

  it('tutor: always local, Haiku as fallback; Haiku serves (audited) when local is down', () => {
    const d = r({ role: 'tutor', signals: { user_requests_cloud: true } });
    assert.equal(d.location, 'local');
    assert.deepEqual(chain(d), ['local/Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ', 'anthropic/claude-haiku-4-5']);
    const down = r({ role: 'tutor', signals: { local_available: false } });
    assert.equal(down.provider, 'anthropic');
    assert.equal(down.model, 'claude-haiku-4-5');
    assert.equal(down.degraded, true);
    assert.match(down.audit, /^GR-005 degraded/);
  });

  it('judge: cloud-only GPT-5.1 High, then Opus, then Sonnet / DeepSeek R2; never a local model', () => {
    const d = r({ role: 'judge' });
    assert.equal(d.tier, 'premium_judge');
    assert.equal(d.reasoning_effort, 'high');
    assert.deepEqual(chain(d), [
      'openai/gpt-5.1',
      'anthropic/claude-opus-4-8',
      'anthropic/claude-sonnet-4-6',
      'deepseek/deepseek-v4-pro',
    ]);
    const down = r({ role: 'judge', signals: { local_available: false } });
    assert.equal(down.location, 'cloud');
    assert.ok(!cloudIn(down) || [down, ...down.fallbacks].every((x) => x.provider !== 'local'));
  });

  it('stage0 tier-2 synth: NotebookLM with the local summariser as fallback', () => {
    const d = r({ role: 'stage0_synth' });
    assert.equal(d.provider, 'notebooklm');
    assert.deepEqual(
      d.fallbacks.map((f) => f.provider),
      ['local'],
    );
    assert.ok(d.guardrails.includes('GR-008'));
  });

  it('stage0 retrieval: deterministic, no model, no provider', () => {
    const d = r({ role: 'stage0_retrieval', signals: { local_available: false } });
    assert.equal(d.tier, 'deterministic');
    assert.equal(d.location, 'none');
    assert.equal(d.provider, 'none');
    assert.equal(d.model, 'stage0-bm25-mmr');
    assert.equal(d.refused, null);
  });

  it('reflector: local routine curation, Kimi only for interesting failures', () => {
    assert.equal(r({ role: 'reflector' }).location, 'local');
    const d = r({ role: 'reflector', signals: { interesting_failure: true } });
    assert.equal(d.rule, 'reflector.escalate');
    assert.equal(d.provider, 'moonshot');
    assert.equal(d.model, 'kimi-k2.6');
    assert.equal(d.escalated, true);
  });

  it('embeddings: local bge-m3 with OpenAI embeddings as fallback', () => {
    const d = r({ role: 'embeddings' });
    assert.deepEqual(chain(d), ['local/BAAI/bge-m3', 'openai/text-embedding-3-small']);
  });

  it('vision: local, separate from LLM scheduling, no fallback', () => {
    const d = r({ role: 'vision' });
    assert.equal(d.location, 'local');
    assert.equal(d.scheduling, 'separate');
    assert.deepEqual(d.fallbacks, []);
    const down = r({ role: 'vision', signals: { local_available: false } });
    assert.ok(down.refused);
    assert.match(down.refused.message, /no on-failure fallback/);
  });
});

describe('implementer escalation triggers (§3)', () => {
  const cloudChain = ['deepseek/deepseek-v4-flash', 'anthropic/claude-sonnet-4-6', 'openai/gpt-5.1'];
  const cases: [string, Partial<RouteRequest>, string][] = [
    ['99 lines is a small diff', change(99), 'implementer.small_diff'],
    ['100 lines is a medium diff, still local', change(100), 'implementer.medium_diff'],
    ['500 lines is still local', change(500), 'implementer.medium_diff'],
    ['501 lines goes direct to cloud', change(501), 'implementer.direct_cloud.large_scope'],
    [
      'a scope estimate over 500 goes direct to cloud',
      { scope_estimate_lines: 800 },
      'implementer.direct_cloud.large_scope',
    ],
    [
      'ambiguous requirements go direct to cloud',
      { signals: { requirements_ambiguous: true } },
      'implementer.direct_cloud.ambiguous',
    ],
    [
      'a multi-file architectural refactor goes direct to cloud',
      { signals: { architectural_refactor: true } },
      'implementer.direct_cloud.architectural',
    ],
    ['1 failed loop stays local', { failed_loops: 1, ...change(10) }, 'implementer.small_diff'],
    ['2 failed loops escalate', { failed_loops: 2, ...change(10) }, 'implementer.failed_loops'],
    [
      'low local confidence escalates',
      { signals: { local_confidence: 0.5 }, ...change(10) },
      'implementer.low_confidence',
    ],
    [
      'confidence at the threshold stays local',
      { signals: { local_confidence: 0.7 }, ...change(10) },
      'implementer.small_diff',
    ],
    ['the user asking for cloud escalates', { signals: { user_requests_cloud: true } }, 'implementer.user_request'],
    ['high risk escalates', change(10, { high_risk: true, risk_flags: ['unsafe_ffi'] }), 'implementer.high_risk'],
    ['a cross-crate change is high risk', change(10, { cross_crate: true }), 'implementer.high_risk'],
    ['a public API flag is high risk', change(10, { risk_flags: ['public_api'] }), 'implementer.high_risk'],
  ];
  for (const [name, req, rule] of cases) {
    it(name, () => {
      const d = r({ role: 'implementer', ...req });
      assert.equal(d.rule, rule, d.audit);
      if (rule.startsWith('implementer.small') || rule.startsWith('implementer.medium')) {
        assert.equal(d.location, 'local');
      } else {
        assert.equal(d.location, 'cloud');
        assert.deepEqual(chain(d), cloudChain);
        assert.equal(d.tier, 'cloud_escalation');
      }
    });
  }

  it('the thresholds come from the policy, not from code', () => {
    const p = policyWith((raw) => {
      raw.escalation.implementer.direct_cloud_over_lines = 200;
      raw.escalation.implementer.max_failed_loops = 3;
    });
    assert.equal(r({ role: 'implementer', ...change(201) }, {}, p).rule, 'implementer.direct_cloud.large_scope');
    assert.equal(r({ role: 'implementer', failed_loops: 2 }, {}, p).rule, 'implementer.small_diff');
  });

  it('a dead local server sends the patch to the cloud chain, audited', () => {
    const d = r({ role: 'implementer', signals: { local_available: false } });
    assert.equal(d.rule, 'implementer.local_unavailable');
    assert.equal(d.provider, 'deepseek');
    assert.match(d.audit, /^GR-005 degraded/);
  });
});

describe('librarian escalation to Kimi on exactly the §3 predicates', () => {
  const hit: [string, Partial<RouteRequest>][] = [
    ['context_estimate > 100k', { context_estimate: 100_001 }],
    ['contradictions_detected', { signals: { contradictions_detected: true } }],
    ['tool_heavy', { signals: { tool_heavy: true } }],
    ['full_sweep', { signals: { full_sweep: true } }],
    ['local_synth_confidence < threshold', { signals: { local_confidence: 0.3 } }],
  ];
  for (const [name, req] of hit) {
    it(`escalates on ${name}`, () => {
      const d = r({ role: 'librarian', ...req });
      assert.equal(d.rule, 'librarian.escalate');
      assert.equal(d.model, 'kimi-k2.6');
      assert.deepEqual(
        d.fallbacks.map((f) => f.model),
        ['moonshot-v1-128k'],
      );
    });
  }
  it('stays local at exactly 100k tokens and on unrelated signals', () => {
    for (const req of [
      { context_estimate: 100_000 },
      { signals: { requirements_ambiguous: true, interesting_failure: true, offline: false } },
    ]) {
      assert.equal(r({ role: 'librarian', ...req }).rule, 'librarian.routine');
    }
  });
  it('a dead local server on routine work is refused rather than escalated', () => {
    const d = r({ role: 'librarian', signals: { local_available: false } });
    assert.ok(d.refused);
    assert.match(d.refused.message, /escalates to Kimi only on its escalation predicates/);
  });
});

describe('guardrails', () => {
  it('GR-001: consensus, voting and debate are refused for every role', () => {
    for (const pattern of ['consensus', 'vote', 'debate', 'swarm', 'committee', 'synthesizer'] as const) {
      const d = r({ role: 'architect', pattern });
      assert.equal(d.refused?.guardrail, 'GR-001');
      assert.match(d.refused!.message, /forbidden by the policy/);
    }
  });

  it('GR-001: a critic sidecar is attached only when enabled, and never authoritative', () => {
    const off = r({ role: 'architect', signals: { critic_requested: true } });
    assert.equal(off.sidecar, null);
    assert.ok(off.reasons.some((x) => /critic sidecar requested but disabled/.test(x)));
    const p = policyWith((raw) => {
      raw.consensus.critic_sidecar.enabled = true;
    });
    const on = r({ role: 'architect', pattern: 'critic' }, {}, p);
    assert.deepEqual(on.sidecar, { kind: 'critic', provider: 'openai', model: 'gpt-5.1', authoritative: false });
    assert.equal(on.provider, 'anthropic', 'the critic never takes over the route');
  });

  it('GR-002: high-risk implementer work requires a cloud Judge', () => {
    const d = r({ role: 'implementer', ...change(5, { high_risk: true, risk_flags: ['public_api'] }) });
    assert.ok(d.obligations.includes('cloud_judge_required'));
    assert.ok(d.guardrails.includes('GR-002'));
    assert.equal(mergeGate(true, null).guardrail, 'GR-002');
    assert.equal(
      mergeGate(true, { verdict: 'approve', location: 'cloud', provider: 'openai', model: 'gpt-5.1' }).allowed,
      true,
    );
    assert.equal(
      mergeGate(true, { verdict: 'request_changes', location: 'cloud', provider: 'openai', model: 'gpt-5.1' }).allowed,
      false,
    );
  });

  it('GR-003: a local verdict never approves a merge', () => {
    for (const hr of [true, false]) {
      const g = mergeGate(hr, { verdict: 'approve', location: 'local', provider: 'local', model: 'qwen' });
      assert.equal(g.allowed, false);
      assert.equal(g.guardrail, 'GR-003');
    }
  });

  it('GR-004: the same request and policy give the same decision, byte for byte (1,000 generated requests)', () => {
    fc.assert(
      fc.property(arbRequest, (req) => {
        const a = JSON.stringify(route(structuredClone(req), P));
        const b = JSON.stringify(route(structuredClone(req), bundledPolicy()));
        const c = JSON.stringify(
          route(
            JSON.parse(JSON.stringify(req)),
            policyWith(() => {}),
          ),
        );
        return a === b && b === c;
      }),
      { numRuns: 1000, seed: 20260104 },
    );
  });

  it('GR-005: every fallback, offline planner and budget refusal carries an audit line', () => {
    const ds = [
      r({ role: 'tutor', signals: { local_available: false } }),
      r({ role: 'architect', signals: { offline: true } }),
      r({ role: 'embeddings', signals: { local_available: false } }),
      r({ role: 'stage0_synth', signals: { offline: true } }),
      r({ role: 'judge', budget: { spent_usd: 5, cap_usd: 5 } }),
    ];
    for (const d of ds) {
      assert.ok(d.degraded || d.refused, d.rule);
      assert.ok(d.audit.length > 20);
      assert.ok(d.degraded ? d.guardrails.includes('GR-005') && d.audit.startsWith('GR-005') : /REFUSED/.test(d.audit));
    }
    fc.assert(
      fc.property(arbRequest, (req) => {
        const d = route(req, P);
        return d.audit.length > 0 && (!d.degraded || d.audit.startsWith('GR-005 degraded:'));
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('GR-009: under local_only no cloud provider appears anywhere, fallbacks included (generated requests)', () => {
    fc.assert(
      fc.property(arbRequest, fc.constantFrom('request', 'policy', 'setting'), (req, how) => {
        const policy =
          how === 'policy'
            ? policyWith((raw) => {
                raw.local_only = true;
              })
            : P;
        const d = route({ ...req, ...(how === 'request' ? { local_only: true } : {}) }, policy, {
          local_only_setting: how === 'setting',
        });
        return d.local_only && !cloudIn(d) && d.guardrails.includes('GR-009');
      }),
      { numRuns: 1000, seed: 9 },
    );
  });

  it('GR-009: the Judge is refused under local_only, never run on a local model', () => {
    const d = r({ role: 'judge', local_only: true });
    assert.equal(d.refused?.guardrail, 'GR-009');
    assert.equal(d.provider, 'none');
    assert.match(d.refused!.message, /cannot approve a merge/);
  });

  it('GR-009: escalations stay local under local_only, with an audit line', () => {
    const d = r({ role: 'implementer', local_only: true, ...change(900) });
    assert.equal(d.location, 'local');
    assert.deepEqual(d.fallbacks, []);
    assert.match(d.audit, /^GR-005 degraded: .*local_only keeps it on the local model/);
  });

  it('GR-011: a cloud route over a cap is refused, never downgraded; local calls are never blocked', () => {
    const caps: RouterState = {
      caps: [
        { id: 'daily', scope: 'global', period: 'day', spent_usd: 2, cap_usd: 10 },
        { id: 'judge.daily', scope: 'role', target: 'judge', period: 'day', spent_usd: 3.1, cap_usd: 3 },
      ],
    };
    const j = r({ role: 'judge' }, caps);
    assert.equal(j.refused?.guardrail, 'GR-011');
    assert.match(j.refused!.message, /daily judge cloud budget "judge.daily" of \$3.00 reached \(\$3.10 spent\)/);
    assert.match(j.refused!.message, /not moved to a cheaper model/);
    assert.equal(r({ role: 'architect' }, caps).refused, null, 'the judge cap does not block the architect');
    const est = r({ role: 'architect', budget: { spent_usd: 9, cap_usd: 10, estimate_usd: 1.5 } });
    assert.equal(est.refused?.guardrail, 'GR-011');
    const local = r({ role: 'tutor', budget: { spent_usd: 10, cap_usd: 10 } });
    assert.equal(local.refused, null);
    assert.equal(local.location, 'local');
    assert.deepEqual(local.fallbacks, [], 'the cloud fallback is removed, said in reasons');
    assert.ok(local.reasons.some((x) => /cloud fallbacks removed/.test(x)));
  });

  it('GR-013: the request hash covers every input the router reads, and only those', () => {
    const base = {
      role: 'implementer' as const,
      change: { lines_changed: 40, high_risk: false, risk_flags: [], cross_crate: false },
    };
    const h = (req: object) => r(req as RouteRequest).provenance.request_sha256;
    assert.equal(
      h(base),
      h({ ...base, change: { ...base.change, evidence: [{ flag: 'x' }], files: [] } }),
      'classification extras do not change it',
    );
    assert.notEqual(h(base), h({ ...base, change: { ...base.change, lines_changed: 41 } }));
    assert.notEqual(h(base), h({ ...base, signals: { offline: true } }));
    assert.notEqual(h(base), h({ ...base, task_id: 't-1' }));
  });

  it('GR-013: provenance on every decision', () => {
    fc.assert(
      fc.property(arbRequest, (req) => {
        const d = route(req, P);
        return (
          d.provenance.policy_version === '2.0.0' &&
          /^[0-9a-f]{64}$/.test(d.provenance.policy_sha256) &&
          /^[0-9a-f]{64}$/.test(d.provenance.request_sha256) &&
          d.provenance.rule === d.rule &&
          d.guardrails.includes('GR-013')
        );
      }),
      { numRuns: 200, seed: 13 },
    );
  });
});

describe('RouteRequest validation', () => {
  it('accepts the output of classify as the change', () => {
    const p = parseRouteRequest({
      role: 'implementer',
      change: {
        lines_added: 30,
        lines_removed: 10,
        lines_changed: 40,
        files: [],
        crates_touched: ['crates/a'],
        cross_crate: false,
        risk_flags: ['public_api'],
        evidence: [],
        high_risk: true,
        lane: 'cloud',
        reasons: [],
      },
    });
    assert.ok(p.ok);
    assert.equal(route(p.request, P).rule, 'implementer.high_risk');
  });
  it('names the field and the reason for bad input', () => {
    const p = parseRouteRequest({ role: 'wizard', failed_loops: -1, signals: { local_confidence: 2, sparkle: true } });
    assert.equal(p.ok, false);
    if (p.ok) return;
    const fields = p.errors.map((e) => e.field);
    assert.ok(fields.includes('request.role'));
    assert.ok(fields.includes('request.failed_loops'));
    assert.ok(fields.includes('request.signals.local_confidence'));
    assert.ok(p.errors.some((e) => e.field === 'request.signals.sparkle' && /unknown field/.test(e.reason)));
  });
});
