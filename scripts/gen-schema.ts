import { writeFileSync } from 'node:fs';
import { policyJsonSchemaText } from '../src/core/policy/jsonSchema.js';

writeFileSync('policy/model-policy.schema.json', policyJsonSchemaText());
console.log('wrote policy/model-policy.schema.json');
