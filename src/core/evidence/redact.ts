// Secrets never reach a log, the audit trail or evidence: known key shapes and the configured keys themselves are masked.
const PATTERNS: RegExp[] = [
  /\bsk-ant-[A-Za-z0-9_-]{10,}/g, // Anthropic
  /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{16,}/g, // OpenAI, DeepSeek, Moonshot
  /\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bAIza[0-9A-Za-z_-]{35}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----/g,
  /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{16,}/gi,
  /\b((?:api[_-]?key|secret|password|passwd|access[_-]?token|auth[_-]?token|client[_-]?secret)\s*[:=]\s*["']?)[^\s"',;]{8,}/gi,
];

export class Redactor {
  private readonly known = new Set<string>();

  /** A secret this process knows (an API key it holds): masked wherever it appears. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 8) this.known.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.known) out = out.split(s).join('[REDACTED]');
    for (const re of PATTERNS) {
      out = out.replace(re, (m, prefix?: string) =>
        typeof prefix === 'string' && m.startsWith(prefix) && prefix !== m ? `${prefix}[REDACTED]` : '[REDACTED]',
      );
    }
    return out;
  }

  /** Redacts every string inside a JSON-able value. */
  deep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.deep(v)) as T;
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)])) as T;
    return value;
  }
}
