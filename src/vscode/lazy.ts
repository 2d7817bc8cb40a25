// The parts of the extension that need the validator (zod, jsonc-parser). Bundled apart as
// dist/lazy.js and required on first use, so that loading and activating the extension stays light.
export { parsePolicyText } from '../core/policy/load.js';
export { ExplainPanel } from './commands/explain.js';
