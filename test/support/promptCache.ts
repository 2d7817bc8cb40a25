// Anthropic's prompt cache as its documentation describes it, for the Anthropic test server: the prompt is one
// sequence of blocks (tools, then system, then messages); a `cache_control` block is a breakpoint, and the cache entry
// it writes is keyed by the exact prefix up to and including it (and the model). A request reads the longest prefix
// already cached at a block boundary within 20 blocks before any of its breakpoints; each breakpoint past that point
// whose prefix reaches the model's minimum cacheable length is written. At most 4 breakpoints (a 5th is a 400).
// usage: cache_read_input_tokens (the prefix read), cache_creation_input_tokens (written now, split by TTL) and
// input_tokens (the rest: after the last breakpoint, or below the minimum); the three are disjoint.
// Tokens are counted with a real tokenizer (o200k_base), so the figures are deterministic; Claude's own tokenizer
// gives somewhat different counts. Not modelled: tool_choice, images and thinking settings invalidating the cache.
import { createHash } from 'node:crypto';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

export const MAX_BREAKPOINTS = 4;
export const LOOKBACK_BLOCKS = 20;
const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
type Ttl = keyof typeof TTL_MS;

/**
 * The minimum cacheable prompt length per model, in tokens (Anthropic's prompt caching page, as quoted by
 * clawdemy.org's cheatsheet and claudecodeguides.com, 2026: 4,096 for Opus 4.5-4.7 and Haiku 4.5; 1,024 for Opus 4.8,
 * Opus 4.1, Sonnet 4.6 and 4.5; docs.orq.ai says 2,048 for Sonnet 4.6: unconfirmed). Older models: 1,024, Haiku 3.x
 * 2,048.
 */
export function minimumCacheable(model: string): number {
  if (/opus-4-[567]|haiku-4-5/.test(model)) return 4096;
  if (/haiku-3/.test(model)) return 2048;
  return 1024;
}

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface Block {
  /** The block as rendered into the prompt (cache_control left out; a string content is its one text block). */
  text: string;
  tokens: number;
  ttl: Ttl | null;
}

export class CacheRequestError extends Error {}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

function without(b: Json): Json {
  const { cache_control: _, ...rest } = b;
  return rest;
}

function ttlOf(b: Json): Ttl | null {
  const c = b.cache_control;
  if (c === undefined || c === null) return null;
  if (!isObj(c) || c.type !== 'ephemeral')
    throw new CacheRequestError("cache_control.type: Input should be 'ephemeral'");
  if (c.ttl === undefined) return '5m';
  if (c.ttl !== '5m' && c.ttl !== '1h') throw new CacheRequestError("cache_control.ttl: Input should be '5m' or '1h'");
  return c.ttl;
}

const asBlocks = (content: unknown): Json[] =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content.filter(isObj) : [];

export class PromptCache {
  /** prefix hash -> when the entry expires, and its TTL (a read refreshes it by as much) */
  private readonly entries = new Map<string, { expires: number; ttl: Ttl }>();
  private readonly tokenMemo = new Map<string, number>();

  constructor(
    /** Set false for a server that ignores cache_control (what an uncached request would be billed). */
    public enabled = true,
    public now: () => number = Date.now,
  ) {}

  clear(): void {
    this.entries.clear();
  }

  private tokens(text: string): number {
    let n = this.tokenMemo.get(text);
    if (n === undefined) this.tokenMemo.set(text, (n = countTokens(text)));
    return n;
  }

  /** The request's prompt as blocks, in the order the prefix is built: tools, system, messages. */
  blocks(body: Json): Block[] {
    const out: Block[] = [];
    const add = (section: string, b: Json) => {
      const text = `${section}\n${JSON.stringify(without(b))}`;
      out.push({ text, tokens: this.tokens(text), ttl: ttlOf(b) });
    };
    for (const t of Array.isArray(body.tools) ? body.tools.filter(isObj) : []) add('tool', t);
    for (const b of asBlocks(body.system)) add('system', b);
    const messages = Array.isArray(body.messages) ? body.messages.filter(isObj) : [];
    messages.forEach((m, i) => {
      for (const b of asBlocks(m.content)) add(`message ${i} ${String(m.role)}`, b);
    });
    return out;
  }

  /** The request's breakpoints (block indexes), as the API validates them; throws CacheRequestError (a 400). */
  check(body: Json): { blocks: Block[]; marks: number[] } {
    const blocks = this.blocks(body);
    const marks = blocks.flatMap((b, i) => (b.ttl ? [i] : []));
    if (marks.length > MAX_BREAKPOINTS)
      throw new CacheRequestError(
        `A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${marks.length}.`,
      );
    for (let k = 1; k < marks.length; k++)
      if (blocks[marks[k]!]!.ttl === '1h' && blocks[marks[k - 1]!]!.ttl === '5m')
        throw new CacheRequestError(
          "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block",
        );
    return { blocks, marks };
  }

  /** The usage of one request, reading and writing the cache as Anthropic does; throws CacheRequestError (a 400). */
  account(body: Json): CacheUsage {
    const model = String(body.model ?? '');
    const { blocks, marks } = this.check(body);
    const prefix: number[] = [];
    const hash: string[] = [];
    let sum = 0;
    let h = createHash('sha256').update(model).digest('hex');
    for (const b of blocks) {
      sum += b.tokens;
      prefix.push(sum);
      h = createHash('sha256').update(h).update(b.text).digest('hex');
      hash.push(h);
    }
    const now = this.now();
    const live = (i: number) => (this.entries.get(hash[i]!)?.expires ?? 0) > now;
    // Read: the longest prefix cached at a boundary within the lookback window of a breakpoint.
    let read = -1;
    if (this.enabled)
      for (const bp of marks)
        for (let j = bp; j >= Math.max(0, bp - LOOKBACK_BLOCKS + 1); j--)
          if (live(j)) {
            read = Math.max(read, j);
            break;
          }
    const readTokens = read >= 0 ? prefix[read]! : 0;
    const hit = read >= 0 ? this.entries.get(hash[read]!) : undefined;
    if (hit) hit.expires = now + TTL_MS[hit.ttl]; // a read refreshes the entry
    // Write: each breakpoint past the read point whose prefix is long enough; the tokens between are the write.
    const min = minimumCacheable(model);
    const written = { '5m': 0, '1h': 0 };
    let from = readTokens;
    if (this.enabled)
      for (const bp of marks) {
        if (bp <= read || prefix[bp]! < min) continue;
        const ttl = blocks[bp]!.ttl!;
        written[ttl] += prefix[bp]! - from;
        from = prefix[bp]!;
        this.entries.set(hash[bp]!, { expires: now + TTL_MS[ttl], ttl });
      }
    const creation = written['5m'] + written['1h'];
    return {
      input_tokens: sum - readTokens - creation,
      cache_creation_input_tokens: creation,
      cache_read_input_tokens: readTokens,
      cache_creation: { ephemeral_5m_input_tokens: written['5m'], ephemeral_1h_input_tokens: written['1h'] },
    };
  }
}
