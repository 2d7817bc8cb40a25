import { z } from 'zod';
import { PolicySchema } from './schema.js';

/** The JSON Schema editors use for policy files (generated, never hand-edited). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: schema.$schema,
    title: 'Switchyard model routing policy (MODEL-POLICY 2.x)',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
