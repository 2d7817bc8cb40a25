// Names shared by the schema and the router. Kept free of zod so that code which only routes
// (the extension at activation, the CLI's hot path) does not pay for loading the validator.
export const SUPPORTED_POLICY_MAJOR = 2;

export const ROLE_IDS = [
  'architect',
  'implementer',
  'librarian',
  'tutor',
  'judge',
  'stage0_synth',
  'stage0_retrieval',
  'reflector',
  'embeddings',
  'vision',
] as const;
export const TIER_IDS = ['cloud_quality', 'local_reflex', 'cloud_escalation', 'premium_judge'] as const;
export const PROVIDER_IDS = ['local', 'anthropic', 'openai', 'deepseek', 'moonshot', 'notebooklm'] as const;
export const RISK_FLAGS = [
  'unsafe_ffi',
  'public_api',
  'async_concurrency',
  'security_sandbox',
  'persistence_schema',
  'build_tooling',
  'cross_crate',
] as const;
export type RiskFlag = (typeof RISK_FLAGS)[number];
