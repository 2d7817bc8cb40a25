import { readFileSync } from 'node:fs';
import type { Policy } from '../../../src/core/policy/schema.js';
import { PolicySchema } from '../../../src/core/policy/schema.js';

export const BUNDLED_TEXT = readFileSync('policy/model-policy.json', 'utf8');

/** A fresh, deep copy of the bundled policy as raw JSON, to mutate in tests. */
export const rawPolicy = (): any => JSON.parse(BUNDLED_TEXT);

/** A validated policy built from the bundled one with changes applied. */
export function policyWith(edit: (p: any) => void): Policy {
  const raw = rawPolicy();
  edit(raw);
  return PolicySchema.parse(raw);
}
