// What the local server really serves, from the model itself (a GGUF file's own metadata, or a vLLM or other
// OpenAI-compatible server's /v1/models), and whether it is the model the policy names for the local lane.
// The alias a server answers to (`--alias`, `--served-model-name`) is never taken as its identity.
import type { Policy } from '../policy/schema.js';
import type { GgufMeta } from './gguf.js';

export interface ServedModel {
  /** Where the identity was read: the model file, the managed vLLM server, or an external endpoint. */
  source: 'gguf' | 'vllm' | 'endpoint';
  name: string;
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  /** The model's own context length (GGUF metadata, a training figure): an upper bound only. */
  contextLength: number | null;
  /** The context the server runs each request with (llama-server's `/props`, vLLM's `max_model_len`): window.ts. */
  window: number | null;
  /** A test model with random weights (its name or description says so): its answers mean nothing. */
  testModel: boolean;
  /** Whether it is the policy's local model (runtime.model, or the model switched to). */
  matchesPolicy: boolean;
  expected: { key: string; id: string; label: string };
}

/** The fields the provenance records and evidence keep. */
export interface ServedRecord {
  name: string;
  source: ServedModel['source'];
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  context_length: number | null;
  /** The served window (null: the server did not say; the policy's figure is used). */
  window?: number | null;
  test_model: boolean;
  matches_policy: boolean;
  policy_model: string;
}

const RANDOM = /random[ -_]?weights?|tiny[-_ ]random|random[-_ ]init/i;
// Quantization and packaging tags at the end of a model name: AWQ, GPTQ, FP8, 4bit, GGUF file types (Q4_K_M,
// UD-Q4_K_XL, IQ3_XXS, Q8_0, F16, BF16, MXFP4_MOE).
const QUANT_SUFFIX =
  /(-|_|\.)?(awq|gptq|gguf|fp8|fp16|bf16|int4|int8|w4a16|4bit|8bit|mlx|ud|mxfp4(_moe)?|i?q\d(_k|_\d)?(_[a-z]{1,3})?|f16|f32)$/;

/** A model name reduced to what identifies it: no organisation, no case, no punctuation, no quantization tag. */
export function modelStem(name: string): string {
  let s = name.split('/').pop()!.toLowerCase();
  s = s.replace(/\.gguf$/, '');
  for (let i = 0; i < 3; i++) s = s.replace(QUANT_SUFFIX, '');
  return s.replace(/[^a-z0-9]/g, '');
}

function expected(policy: Policy, modelKey: string | null): ServedModel['expected'] {
  const key = modelKey ?? policy.runtime.model;
  const m = policy.models[key];
  return { key, id: m?.id ?? key, label: m?.label ?? key };
}

/** Whether any of the names the model gives itself is the policy model's. */
function matches(names: (string | null | undefined)[], id: string): boolean {
  const want = modelStem(id);
  return names.some((n) => !!n && modelStem(n) === want);
}

export function fromGguf(meta: GgufMeta, file: string, policy: Policy, modelKey: string | null): ServedModel {
  const e = expected(policy, modelKey);
  const base = file.split('/').pop()!;
  const name = meta.name ?? base;
  return {
    source: 'gguf',
    name,
    architecture: meta.architecture,
    parameters: meta.parameters || null,
    quantization: meta.quantization,
    contextLength: meta.contextLength,
    window: null,
    testModel: RANDOM.test(name) || RANDOM.test(meta.description ?? '') || RANDOM.test(base),
    matchesPolicy: matches([meta.name, base], e.id),
    expected: e,
  };
}

interface ModelsEntry {
  id?: string;
  root?: string;
  max_model_len?: number;
  meta?: { n_params?: number; n_ctx_train?: number };
}

/**
 * A server's /v1/models answer: vLLM names the model it loaded in `root` (a path or a Hugging Face id) and its
 * window in `max_model_len`; llama-server adds `meta` (parameters, training context). Null when it lists none.
 */
export function fromModelsList(
  body: unknown,
  source: 'vllm' | 'endpoint',
  policy: Policy,
  modelKey: string | null,
): ServedModel | null {
  const data = (body as { data?: ModelsEntry[] } | null)?.data;
  if (!Array.isArray(data) || data.length === 0) return null;
  const e = expected(policy, modelKey);
  // `id` is the name it answers to (an alias); `root` is what it loaded. Only a server without `root` (a gateway
  // that lists names) is taken at its word. The entry for the policy's model when it lists several, else the first.
  const own = (d: ModelsEntry) => d.root ?? d.id;
  const entry = data.find((d) => matches([own(d)], e.id)) ?? data[0]!;
  const name = own(entry) ?? 'unknown';
  return {
    source,
    name,
    architecture: null,
    parameters: entry.meta?.n_params ?? null,
    quantization: null,
    contextLength: entry.max_model_len ?? entry.meta?.n_ctx_train ?? null,
    window: entry.max_model_len ?? null,
    testModel: RANDOM.test(name),
    matchesPolicy: matches([name], e.id),
    expected: e,
  };
}

/** The name to show: the model's own, shortened, with "test model, random weights" where it is one. */
export function servedLabel(s: ServedModel): string {
  return recordLabel(servedRecord(s));
}

/** The same name from a provenance record (a call's `served`). */
export function recordLabel(r: ServedRecord): string {
  const short = r.name
    .split('/')
    .pop()!
    .replace(/\s*\(.*\)\s*$/, '');
  return r.test_model ? `${short} (test model, random weights)` : short;
}

/** The warning of a call's served model (its record names the policy's model by id), or null. */
export function recordWarning(r: ServedRecord | null): string | null {
  return r && !r.matches_policy ? `not the policy's model (${r.policy_model})` : null;
}

/** Null when the policy's model is served; else what to warn about, in words. */
export function servedWarning(s: ServedModel): string | null {
  if (s.matchesPolicy) return null;
  return `not the policy's model (${s.expected.label})`;
}

const count = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(0)}K`;

/** One line of details: architecture, parameters, quantization, context length, where it was read. */
export function servedDetails(s: ServedModel): string {
  const parts = [
    s.architecture,
    s.parameters ? `${count(s.parameters)} parameters` : null,
    s.quantization,
    s.window ? `window ${s.window.toLocaleString('en-US')} tokens as served` : null,
    s.contextLength && s.contextLength !== s.window
      ? `trained context ${s.contextLength.toLocaleString('en-US')}`
      : null,
    s.source === 'gguf'
      ? 'read from the GGUF file'
      : `read from ${s.source === 'vllm' ? 'vLLM' : 'the endpoint'}'s /v1/models`,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** The GR-005 audit line of a mismatch (once per session and model). */
export function mismatchAudit(s: ServedModel, servedAs: string | null): string {
  return (
    `GR-005: runtime: the local server serves "${s.name}"${s.testModel ? ', a test model with random weights' : ''}` +
    ` (${servedDetails(s)})${servedAs ? `, answering as "${servedAs}"` : ''}; it is not the policy's model, ` +
    `${s.expected.label} (${s.expected.id}), and local answers come from it`
  );
}

export function servedRecord(s: ServedModel): ServedRecord {
  return {
    name: s.name,
    source: s.source,
    architecture: s.architecture,
    parameters: s.parameters,
    quantization: s.quantization,
    context_length: s.contextLength,
    window: s.window,
    test_model: s.testModel,
    matches_policy: s.matchesPolicy,
    policy_model: s.expected.id,
  };
}

/** Audits each mismatched model once per session (a session: the window, or the CLI command). */
export class MismatchNotice {
  private readonly seen = new Set<string>();
  constructor(private readonly audit: (text: string) => void) {}
  note(s: ServedModel | null, servedAs: string | null): void {
    if (!s || s.matchesPolicy) return;
    const key = `${s.source}:${s.name}:${s.expected.id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.audit(mismatchAudit(s, servedAs));
  }
}
