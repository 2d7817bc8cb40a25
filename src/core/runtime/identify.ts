// What a server really serves (MODEL-POLICY.md §0): a started llama.cpp server's GGUF file's own metadata, vLLM's
// /v1/models, or an external endpoint's /v1/models (with its key, asked once per endpoint). A served model that is
// not the policy's is audited once per session (served.ts's MismatchNotice).
import type { Policy } from '../policy/schema.js';
import { readGguf } from './gguf.js';
import { fromGguf, fromModelsList, type MismatchNotice, type ServedModel } from './served.js';
import type { Running } from './types.js';
import { readWindow } from './window.js';

/** What a started server serves; null (and a log line) when it cannot be read. */
export async function identifyRun(run: Running, policy: Policy): Promise<ServedModel | null> {
  const { spec, modelKey } = run;
  try {
    if (spec.engine === 'llama_cpp') {
      const model = fromGguf(readGguf(spec.model), spec.model, policy, modelKey);
      // The window is what the server runs with (`-c` / `--parallel`), read from `/props`, not the file's figure.
      return { ...model, window: await readWindow(`http://127.0.0.1:${spec.port}`, spec.apiKey) };
    }
    const res = await fetch(`http://127.0.0.1:${spec.port}/v1/models`, {
      headers: { authorization: `Bearer ${spec.apiKey}` },
      signal: AbortSignal.timeout(5000),
    });
    return fromModelsList(await res.json(), 'vllm', policy, modelKey);
  } catch (e) {
    run.log.push(`could not read what the server serves: ${(e as Error).message}`);
    return null;
  }
}

/** An external endpoint's model, asked once per endpoint (also while the first answer is in flight). */
export class ExternalModel {
  private known: { url: string; model: ServedModel | null } | null = null;
  private asking: { url: string; answer: Promise<ServedModel | null> } | null = null;

  constructor(
    private readonly policy: () => Policy,
    private readonly notice: MismatchNotice,
    private readonly key?: () => Promise<string | undefined> | string | undefined,
  ) {}

  /** The model last read from this endpoint; null when it was not asked or did not say. */
  of(url: string): ServedModel | null {
    return this.known?.url === url ? this.known.model : null;
  }

  ask(url: string): Promise<ServedModel | null> {
    if (this.asking?.url === url) return this.asking.answer;
    const answer = (async () => {
      const key = await this.key?.();
      const model = await fetch(`${url.replace(/\/+$/, '')}/models`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        signal: AbortSignal.timeout(5000),
      })
        .then(async (r) => (r.ok ? fromModelsList(await r.json(), 'endpoint', this.policy(), null) : null))
        .catch(() => null);
      // A llama-server endpoint says its window in `/props` only.
      if (model && model.window === null) model.window = await readWindow(url, key);
      this.known = { url, model };
      this.notice.note(model, null);
      return model;
    })();
    this.asking = { url, answer };
    return answer;
  }
}
