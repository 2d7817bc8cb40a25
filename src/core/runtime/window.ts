// The context window a local server really runs with (issue 31's Decisions): llama-server's per-slot context from
// `/props` (`-c` divided by `--parallel`), vLLM's `max_model_len` from `/v1/models`. A GGUF file's
// `context_length` and a `/v1/models` training figure are upper bounds only, never the window.

/** What `/props` says of each slot (llama-server); vLLM has no `/props`. */
interface Props {
  default_generation_settings?: { n_ctx?: number };
  n_ctx?: number;
}

/** The server's root URL from an OpenAI-style base URL (`http://127.0.0.1:8080/v1` -> `http://127.0.0.1:8080`). */
export const serverRoot = (baseURL: string): string => baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');

const positive = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null);

/** The window of the server at `baseURL`, or null when it does not say (each answer bounded to 5 s). */
export async function readWindow(
  baseURL: string,
  apiKey?: string,
  signal?: AbortSignal,
  fetcher: typeof fetch = fetch,
): Promise<number | null> {
  const root = serverRoot(baseURL);
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const ask = async (path: string): Promise<unknown> => {
    const limit = AbortSignal.timeout(5000);
    const res = await fetcher(`${root}${path}`, { headers, signal: signal ? AbortSignal.any([signal, limit]) : limit });
    return res.ok ? res.json() : null;
  };
  try {
    const props = (await ask('/props')) as Props | null;
    const slot = positive(props?.default_generation_settings?.n_ctx) ?? positive(props?.n_ctx);
    if (slot) return slot;
  } catch {
    // not llama-server (or not reachable): vLLM next
  }
  try {
    const models = (await ask('/v1/models')) as { data?: { max_model_len?: number }[] } | null;
    return positive(models?.data?.[0]?.max_model_len);
  } catch {
    return null;
  }
}
