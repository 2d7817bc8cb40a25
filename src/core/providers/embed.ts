// An embeddings call inside the attempt loop: one try is one batch of vectors, checked for shape before it counts.
import { estimateTokens, picoToUsd, worstCasePico } from '../budget/cost.js';
import { ZERO_USAGE, type Usage } from '../budget/port.js';
import { promptTokens } from '../budget/tokens.js';
import type { ProviderId } from '../policy/schema.js';
import type { ChainLink } from '../router/types.js';
import type { Job } from './attempts.js';
import { linkName as name, type CallRecord } from './callRecord.js';
import type { EmbedResult } from './outcomes.js';
import { CallError, type ProviderAdapter, type ProviderTarget } from './types.js';

export interface EmbedOptions {
  input: string[];
  task_id?: string;
  signal?: AbortSignal;
}

interface Vectors {
  vectors: number[][];
  model: string;
}

export class EmbedJob implements Job<Vectors, EmbedResult> {
  readonly signal: AbortSignal;

  constructor(
    readonly record: CallRecord,
    private readonly o: EmbedOptions,
    private readonly text: string,
    private readonly adapters: Partial<Record<ProviderId, ProviderAdapter>>,
  ) {
    this.signal = o.signal ?? new AbortController().signal;
  }

  unavailable(link: ChainLink): CallError | null {
    if (this.adapters[link.provider]?.embed) return null;
    return new CallError('unavailable', `${link.provider}: no embeddings adapter`);
  }

  billed = (link: ChainLink) => link.provider !== 'local';

  worstCase(link: ChainLink): number {
    return worstCasePico(promptTokens(this.text, link.provider), 0, link.prices!);
  }

  async attempt(link: ChainLink, target: ProviderTarget): Promise<{ value: Vectors; usage: Usage }> {
    const input = this.o.input;
    const res = await this.adapters[link.provider]!.embed!(target, input, this.signal);
    const dim = res.vectors[0]?.length ?? 0;
    if (res.vectors.length !== input.length || res.vectors.some((v) => v.length === 0 || v.length !== dim)) {
      throw new CallError(
        'invalid_output',
        `${name(link)} returned ${res.vectors.length} vectors for ${input.length} inputs, or vectors of differing sizes`,
      );
    }
    const estimated = { ...ZERO_USAGE, input_tokens: estimateTokens(this.text) };
    return { value: res, usage: res.usage.reported ? res.usage : estimated };
  }

  succeeded(link: ChainLink, v: Vectors, usage: Usage, cost: number, step: number): EmbedResult {
    const { record } = this;
    const dim = v.vectors[0]!.length;
    const total = record.elapsed();
    const figures = `dimension ${dim}, ${usage.input_tokens} tokens, $${picoToUsd(cost).toFixed(6)}, ${total} ms`;
    const after = step > 0 ? ` after ${step} fallback step(s)` : '';
    const what = `${name(link)} embedded ${this.o.input.length} input(s) (${figures})${after}`;
    const timings = { ttft_ms: null, total_ms: total };
    return {
      ...record.served(link, `embeddings: ${what}`, { usage, cost, timings }),
      served_model: v.model,
      dim,
      vectors: v.vectors,
      audit: record.lines,
      fallback: step > 0,
    };
  }

  exhausted(last: CallError | null): string {
    return `every embeddings model the policy allows failed; last error: ${last?.message ?? 'none available'}`;
  }
}
