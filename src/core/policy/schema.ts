// The routing policy's shape. This zod schema is the single source of truth:
// policy/model-policy.schema.json is generated from it (npm run gen:schema).
import { z } from 'zod';
import { PROVIDER_IDS, RISK_FLAGS, ROLE_IDS, TIER_IDS } from './constants.js';

export { PROVIDER_IDS, RISK_FLAGS, ROLE_IDS, SUPPORTED_POLICY_MAJOR, TIER_IDS } from './constants.js';

export const RoleId = z.enum(ROLE_IDS);
export type RoleId = z.infer<typeof RoleId>;

export const TierId = z.enum(TIER_IDS);
export type TierId = z.infer<typeof TierId>;

export const ProviderId = z.enum(PROVIDER_IDS);
export type ProviderId = z.infer<typeof ProviderId>;

export const RiskFlag = z.enum(RISK_FLAGS);
export type RiskFlag = z.infer<typeof RiskFlag>;

const usd = z.number().finite().nonnegative();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const modelKey = z.string().regex(/^[a-z0-9_]+$/, 'model keys are lower-case letters, digits and _');

export const ModelSchema = z.strictObject({
  provider: ProviderId,
  id: z.string().min(1).describe('The id sent to the provider (or served by the local runtime).'),
  label: z.string().min(1).describe('What people call it, as in MODEL-POLICY.md.'),
  kind: z.enum(['chat', 'embedding', 'vision', 'retrieval', 'synthesis']).default('chat'),
  context_tokens: z.int().positive().optional(),
  max_output_tokens: z.int().positive().optional(),
  reasoning_effort: z.enum(['none', 'low', 'medium', 'high']).optional(),
  note: z.string().optional(),
});
export type Model = z.infer<typeof ModelSchema>;

export const RouteSpec = z.strictObject({
  tier: TierId,
  models: z.array(modelKey).min(1).describe('Model keys in order: the first serves, the rest are fallbacks.'),
});
export type RouteSpec = z.infer<typeof RouteSpec>;

export const RoleSchema = z.strictObject({
  title: z.string().min(1),
  table: z
    .strictObject({
      default: z.string(),
      provider: z.string(),
      local_cloud: z.string(),
      when_local: z.string(),
      fallback: z.string(),
      constraints: z.string(),
    })
    .describe('The row of MODEL-POLICY.md §1, verbatim.'),
  location: z.enum(['cloud', 'local', 'cloud_only', 'deterministic']),
  primary: RouteSpec.nullable().describe('The route that serves by default (null for deterministic lanes).'),
  local: RouteSpec.nullable().describe('The local lane of a cloud-first role (offline mode, fast drafts).'),
  fallback: RouteSpec.nullable().describe('The Fallback column of §1.'),
  fallback_use: z
    .enum(['on_failure', 'escalation_only', 'none'])
    .describe(
      'on_failure: listed as fallbacks of every decision; escalation_only: used only when an escalation predicate holds.',
    ),
  scheduling: z.enum(['llm', 'separate']).default('llm').describe('separate: kept out of LLM scheduling (CV/camera).'),
  deterministic_engine: z.string().optional(),
  constraints: z.array(z.string()),
});
export type Role = z.infer<typeof RoleSchema>;

export const TierSchema = z.strictObject({
  label: z.string(),
  models: z.array(modelKey).min(1),
  used_by: z.array(z.string()),
});

export const EscalationSchema = z
  .strictObject({
    implementer: z.strictObject({
      small_diff_max_lines: z
        .int()
        .positive()
        .describe('Below this many changed lines a patch is a small reflex patch (§1: <100).'),
      direct_cloud_over_lines: z
        .int()
        .positive()
        .describe('A scope estimate above this goes straight to cloud (§3: >500).'),
      max_failed_loops: z.int().positive().describe('Escalate after this many failed compile/test loops (§3: 2).'),
      confidence_threshold: z.number().min(0).max(1).describe('A local self-check below this escalates.'),
      cloud_on_high_risk: z.boolean(),
      direct_cloud_on_ambiguous_requirements: z.boolean(),
      direct_cloud_on_architectural_refactor: z.boolean(),
    }),
    librarian: z.strictObject({
      context_tokens_over: z.int().positive().describe('§3: context_estimate > 100k'),
      on_contradictions_detected: z.boolean(),
      on_tool_heavy: z.boolean(),
      on_full_sweep: z.boolean(),
      confidence_threshold: z.number().min(0).max(1).describe('§3: local_synth_confidence < threshold'),
    }),
    reflector: z.strictObject({
      on_interesting_failure: z.boolean().describe('§1: escalate only for "interesting failures".'),
    }),
  })
  .superRefine((e, ctx) => {
    if (e.implementer.small_diff_max_lines > e.implementer.direct_cloud_over_lines) {
      ctx.addIssue({
        code: 'custom',
        path: ['implementer', 'small_diff_max_lines'],
        message: `must not exceed direct_cloud_over_lines (${e.implementer.direct_cloud_over_lines})`,
      });
    }
  });

export const ConsensusSchema = z.strictObject({
  enabled: z.literal(false, { error: 'GR-001: consensus is forbidden; the only allowed value is false' }),
  env_flags: z.strictObject({ consensus: z.string(), critic: z.string() }),
  forbidden_patterns: z.array(z.string()).min(1),
  allowed_patterns: z.array(z.string()),
  forbidden_request_patterns: z.array(z.string()).min(1).describe('Request "pattern" values refused under GR-001.'),
  critic_sidecar: z.strictObject({
    enabled: z.boolean(),
    model: modelKey,
    authoritative: z.literal(false),
    outputs: z.array(z.string()),
  }),
  canonical_pipeline: z.string(),
});

export const GuardrailSchema = z.strictObject({
  id: z.string().regex(/^GR-\d{3}$/),
  group: z.string(),
  title: z.string(),
});

export const HighRiskSchema = z.strictObject({
  categories: z.array(z.strictObject({ text: z.string(), flags: z.array(RiskFlag).min(1) })).min(1),
  flags: z.array(RiskFlag).min(1).describe('Any of these flags makes a change high-risk.'),
});

export const RuntimeSchema = z.strictObject({
  primary: z.literal('vllm'),
  fallback: z.literal('llama.cpp'),
  dev_only: z.array(z.string()),
  one_model_at_a_time: z.boolean(),
  gpu: z.strictObject({ name: z.string(), vram_gb: z.number().positive() }),
  model: modelKey,
  alternative: modelKey,
  vllm: z.strictObject({
    quantization: z.string(),
    served_model_name: z.string(),
    max_model_len: z.int().positive(),
    gpu_memory_utilization: z.number().gt(0).max(1),
    enable_sleep_mode: z.boolean(),
  }),
  llama_cpp: z.strictObject({
    model_path: z.string().nullable(),
    alias: z.string(),
    ctx_size: z.int().positive(),
    n_gpu_layers: z.int().min(-1),
  }),
  endpoint: z
    .string()
    .url()
    .nullable()
    .describe('An external OpenAI-compatible endpoint to adopt instead of managing a server.'),
  swap_strategy: z.array(z.strictObject({ workflow: z.string(), model: z.string() })),
});

export const CapSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9_.-]+$/),
    scope: z.enum(['global', 'role', 'tier']),
    target: z.string().optional(),
    period: z.enum(['day', 'month', 'task']),
    usd: usd,
  })
  .superRefine((c, ctx) => {
    if (c.scope !== 'global' && !c.target)
      ctx.addIssue({ code: 'custom', path: ['target'], message: `a ${c.scope} cap needs a target` });
  });
export type Cap = z.infer<typeof CapSchema>;

export const PriceSchema = z.strictObject({
  provider: ProviderId,
  input: usd.describe('USD per 1M input tokens (cache miss).'),
  cached_input: usd.describe('USD per 1M cached input tokens (cache hit / read).'),
  output: usd.describe('USD per 1M output tokens (reasoning included).'),
  cache_write_5m: usd.optional(),
  cache_write_1h: usd.optional(),
  source: z.string(),
});

export const LifecycleSchema = z.strictObject({
  id: z.string(),
  provider: ProviderId,
  status: z.enum(['deprecated', 'retired']),
  date: isoDate,
  replacement: z.string(),
});

/** What commands and checks may reach from inside the OS sandbox, beyond the workspace. */
export const SandboxSchema = z.strictObject({
  writable: z
    .array(z.string().min(1))
    .optional()
    .describe('More folders commands may write (build output, caches); never HOME, a config or a bin folder.'),
  deny_read: z
    .array(z.string().min(1))
    .optional()
    .describe('More paths hidden from commands (absolute, or ~/ for the home folder), beside the built-in secrets.'),
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .optional()
    .describe('More environment variables passed to commands (a secret-looking name is never passed).'),
  network: z
    .array(z.strictObject({ command: z.array(z.string().min(1)).min(1), hosts: z.array(z.string().min(1)).min(1) }))
    .optional()
    .describe('Hosts a command (an argv prefix) may reach through the sandbox proxy; everything else has no network.'),
});

/** The Implementer agent's loop (extension of the policy): which commands run without asking, how long it may go. */
export const AgentSchema = z.strictObject({
  command_allowlist: z
    .array(z.array(z.string().min(1)).min(1))
    .describe(
      'Commands (argv prefixes) the agent may run without asking; anything else waits for approval (GR-010). ' +
        'Never a shell: each entry is a program and its first arguments.',
    ),
  max_turns: z.int().min(1).max(500).describe('Model turns per task before the agent gives up.'),
  max_tool_calls_per_turn: z
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('Tool calls run from one model answer (default 32); the rest are answered "not run".'),
  max_write_bytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .optional()
    .describe('The largest file an edit may leave (default 2 MiB, the read limit).'),
  max_evidence_bytes: z
    .int()
    .min(1024 * 1024)
    .optional()
    .describe(
      "A task's evidence folder at most (default 64 MiB): past it turn requests are kept as hashes; diffs and check logs are always kept.",
    ),
  sandbox: SandboxSchema.optional(),
});
export type AgentSettings = z.infer<typeof AgentSchema>;

export const PolicySchema = z
  .strictObject({
    $schema: z.string().optional(),
    policy_version: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a semantic version such as 2.0.0'),
    updated: isoDate,
    status: z.enum(['active', 'draft']),
    philosophy: z.string(),
    local_only: z
      .boolean()
      .describe('GR-009: forbids all cloud calls. The stricter of this and the user setting wins.'),
    models: z.record(modelKey, ModelSchema),
    tiers: z.strictObject({
      cloud_quality: TierSchema,
      local_reflex: TierSchema,
      cloud_escalation: TierSchema,
      premium_judge: TierSchema,
    }),
    roles: z.strictObject({
      architect: RoleSchema,
      implementer: RoleSchema,
      librarian: RoleSchema,
      tutor: RoleSchema,
      judge: RoleSchema,
      stage0_synth: RoleSchema,
      stage0_retrieval: RoleSchema,
      reflector: RoleSchema,
      embeddings: RoleSchema,
      vision: RoleSchema,
    }),
    escalation: EscalationSchema,
    agent: AgentSchema.optional(),
    consensus: ConsensusSchema,
    guardrails: z.array(GuardrailSchema).length(13),
    high_risk: HighRiskSchema,
    runtime: RuntimeSchema,
    budget: z.strictObject({ currency: z.literal('USD'), caps: z.array(CapSchema) }),
    prices: z.strictObject({ as_of: isoDate, per_mtok: z.record(z.string(), PriceSchema) }),
    model_lifecycle: z.array(LifecycleSchema),
    spec_compliance: z.strictObject({
      heading: z.string(),
      spec_glob: z.string(),
      required_lines: z.array(z.string()),
    }),
  })
  .superRefine(checkReferences);
export type Policy = z.infer<typeof PolicySchema>;

/** Cross-references a JSON Schema cannot express: every model key named must exist, and so on. */
function checkReferences(p: z.infer<z.ZodObject<any>> & any, ctx: z.RefinementCtx): void {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(p.models, k);
  const need = (k: string, path: (string | number)[]) => {
    if (!has(k)) ctx.addIssue({ code: 'custom', path, message: `unknown model key "${k}" (not in models)` });
  };
  for (const [tid, tier] of Object.entries<any>(p.tiers))
    tier.models.forEach((m: string, i: number) => need(m, ['tiers', tid, 'models', i]));
  for (const [rid, role] of Object.entries<any>(p.roles)) {
    for (const lane of ['primary', 'local', 'fallback'] as const) {
      role[lane]?.models.forEach((m: string, i: number) => need(m, ['roles', rid, lane, 'models', i]));
    }
    if (role.location === 'deterministic' && role.primary) {
      ctx.addIssue({
        code: 'custom',
        path: ['roles', rid, 'primary'],
        message: 'a deterministic lane uses no model: primary must be null',
      });
    }
    if (role.location !== 'deterministic' && !role.primary) {
      ctx.addIssue({ code: 'custom', path: ['roles', rid, 'primary'], message: 'a model lane needs a primary route' });
    }
    if (role.location === 'cloud_only') {
      for (const lane of ['primary', 'fallback'] as const) {
        role[lane]?.models.forEach((m: string, i: number) => {
          if (has(m) && p.models[m].provider === 'local') {
            ctx.addIssue({
              code: 'custom',
              path: ['roles', rid, lane, 'models', i],
              message: `${rid} is cloud-only (GR-002/GR-003): a local model cannot serve it`,
            });
          }
        });
      }
      if (role.local)
        ctx.addIssue({
          code: 'custom',
          path: ['roles', rid, 'local'],
          message: `${rid} is cloud-only: it has no local lane`,
        });
    }
  }
  need(p.consensus.critic_sidecar.model, ['consensus', 'critic_sidecar', 'model']);
  need(p.runtime.model, ['runtime', 'model']);
  need(p.runtime.alternative, ['runtime', 'alternative']);
  const ids: string[] = p.guardrails.map((g: any) => g.id);
  ids.forEach((id, i) => {
    const want = `GR-${String(i + 1).padStart(3, '0')}`;
    if (id !== want)
      ctx.addIssue({
        code: 'custom',
        path: ['guardrails', i, 'id'],
        message: `expected ${want} (guardrails are GR-001 to GR-013 in order)`,
      });
  });
  p.budget.caps.forEach((c: any, i: number) => {
    if (c.scope === 'role' && c.target && !(c.target in p.roles))
      ctx.addIssue({ code: 'custom', path: ['budget', 'caps', i, 'target'], message: `unknown role "${c.target}"` });
    if (c.scope === 'tier' && c.target && !(c.target in p.tiers))
      ctx.addIssue({ code: 'custom', path: ['budget', 'caps', i, 'target'], message: `unknown tier "${c.target}"` });
  });
  const capIds = new Set<string>();
  p.budget.caps.forEach((c: any, i: number) => {
    if (capIds.has(c.id))
      ctx.addIssue({ code: 'custom', path: ['budget', 'caps', i, 'id'], message: `duplicate cap id "${c.id}"` });
    capIds.add(c.id);
  });
  for (const [key, m] of Object.entries<any>(p.models)) {
    if (m.provider !== 'local' && m.provider !== 'notebooklm' && !(m.id in p.prices.per_mtok)) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', key, 'id'],
        message: `no price for cloud model "${m.id}" in prices.per_mtok (GR-011 needs one to cap spend)`,
      });
    }
  }
}
