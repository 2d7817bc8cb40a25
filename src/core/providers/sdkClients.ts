// The SDK clients of the adapters, one per endpoint and key, made once. Retries are the call path's (each one
// audited), so the SDKs' own are off; their loggers stay off so no chunk or header is printed.
import type { FetchLike } from './transport.js';

export interface SdkOptions {
  maxRetries: 0;
  timeout: number;
  fetch: never;
  logLevel: 'off';
}

export class SdkClients<C> {
  private readonly clients = new Map<string, C>();
  constructor(
    private readonly make: (options: SdkOptions, key: string | undefined, baseURL: string | undefined) => C,
    private readonly fetch: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  /** The client for this endpoint and key (`scope` keeps providers that share an endpoint apart). */
  get(scope: string, baseURL: string | undefined, apiKey: string | undefined): C {
    const id = `${scope}\u0000${baseURL ?? ''}\u0000${apiKey ?? ''}`;
    let c = this.clients.get(id);
    if (!c) {
      const options: SdkOptions = {
        maxRetries: 0,
        timeout: this.timeoutMs,
        fetch: this.fetch as never,
        logLevel: 'off',
      };
      c = this.make(options, apiKey, baseURL);
      this.clients.set(id, c);
    }
    return c;
  }
}
