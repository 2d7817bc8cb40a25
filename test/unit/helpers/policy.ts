// The one policy builder of the tests: the bundled policy as its raw JSON (typed as the schema's input), edited,
// then validated by the same schema the product uses, so a test can never run under a policy users could not write.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { Policy } from '../../../src/core/policy/schema.js';
import { PolicySchema } from '../../../src/core/policy/schema.js';

export const BUNDLED_TEXT = readFileSync('policy/model-policy.json', 'utf8');

/** A policy file's content before validation (defaults not yet filled in). */
export type RawPolicy = z.input<typeof PolicySchema>;

/** A fresh, deep copy of the bundled policy as raw JSON, to mutate in tests (or to write out as a file). */
export const rawPolicy = (): any => JSON.parse(BUNDLED_TEXT);

/** A validated policy built from the bundled one with changes applied. */
export function policyWith(edit: (p: RawPolicy) => void): Policy {
  const raw = rawPolicy() as RawPolicy;
  edit(raw);
  return PolicySchema.parse(raw);
}

/** The bundled policy with these budget caps instead of its own. */
export const policyWithCaps = (caps: RawPolicy['budget']['caps']): Policy =>
  policyWith((p) => {
    p.budget.caps = caps;
  });
