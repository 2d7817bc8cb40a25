import fc from 'fast-check';
import { ROLE_IDS, RISK_FLAGS } from '../../../src/core/policy/schema.js';
import { CONSENSUS_PATTERNS, type RouteRequest } from '../../../src/core/router/types.js';

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

/** Arbitrary valid RouteRequests, covering every field the router reads. */
export const arbRequest: fc.Arbitrary<RouteRequest> = fc.record(
  {
    role: fc.constantFrom(...ROLE_IDS),
    task_id: opt(fc.stringMatching(/^[a-z0-9-]{1,12}$/)),
    change: opt(
      fc.record({
        lines_changed: fc.nat(2000),
        high_risk: fc.boolean(),
        risk_flags: fc.uniqueArray(fc.constantFrom(...RISK_FLAGS), { maxLength: 3 }),
        cross_crate: fc.boolean(),
      }),
    ),
    scope_estimate_lines: opt(fc.nat(2000)),
    failed_loops: opt(fc.nat(5)),
    context_estimate: opt(fc.nat(300_000)),
    signals: opt(
      fc.record({
        contradictions_detected: opt(fc.boolean()),
        tool_heavy: opt(fc.boolean()),
        full_sweep: opt(fc.boolean()),
        local_confidence: opt(fc.double({ min: 0, max: 1, noNaN: true })),
        requirements_ambiguous: opt(fc.boolean()),
        user_requests_cloud: opt(fc.boolean()),
        offline: opt(fc.boolean()),
        interesting_failure: opt(fc.boolean()),
        local_available: opt(fc.boolean()),
        critic_requested: opt(fc.boolean()),
        architectural_refactor: opt(fc.boolean()),
        fast_draft: opt(fc.boolean()),
      }),
    ),
    pattern: opt(fc.constantFrom(...CONSENSUS_PATTERNS)),
    local_only: opt(fc.boolean()),
    budget: opt(
      fc.record({
        spent_usd: fc.double({ min: 0, max: 20, noNaN: true }),
        cap_usd: fc.double({ min: 0, max: 20, noNaN: true }),
      }),
    ),
  },
  { requiredKeys: ['role'] },
) as fc.Arbitrary<RouteRequest>;

/** A deterministic pseudo-random sample of n requests (for the benchmark). */
export const sampleRequests = (n: number, seed = 42): RouteRequest[] => fc.sample(arbRequest, { numRuns: n, seed });
