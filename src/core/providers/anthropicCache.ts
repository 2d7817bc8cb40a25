// Anthropic's prompt cache, on the request side: where the cache breakpoints (`cache_control`) go. The prefix is
// built in the order tools, system, messages; a breakpoint caches everything up to and including its block. A
// request that asks for caching (a message with `cache`: the stable prefix ends there) gets breakpoints on the last
// tool, the system prompt, the end of its stable prefix and the latest turn (the last message's last block): the
// API's limit is 4, and these are never more. The next turn then reads all of this turn's prompt from the cache
// (the API looks back for the longest cached prefix), and writes only what the turn added. A request that does not
// ask is sent unmarked: a cache write costs 1.25x the input price, a loss for a prompt that is never sent again.

/** The API refuses a request with more (400 invalid_request_error). */
export const MAX_BREAKPOINTS = 4;
const EPHEMERAL = { type: 'ephemeral' } as const;

export type AnthropicBlock = Record<string, unknown> & { type: string };
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}
export type AnthropicTool = Record<string, unknown> & { name: string };

export interface CachedParts {
  system: string | AnthropicBlock[] | undefined;
  tools: AnthropicTool[] | undefined;
  messages: AnthropicMessage[];
}

/** A copy of the message whose last block carries the breakpoint; null when it has no block that can hold one. */
function markLast(m: AnthropicMessage): AnthropicMessage | null {
  const blocks: AnthropicBlock[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
  const last = blocks[blocks.length - 1];
  if (!last || (last.type === 'text' && !last.text)) return null; // an empty text block cannot be cached
  return { role: m.role, content: [...blocks.slice(0, -1), { ...last, cache_control: EPHEMERAL }] };
}

/**
 * The request's parts, with breakpoints when `cache` asks for them. `stableEnds`: the indexes of the messages that
 * end a stable prefix (the latest of them are kept when the limit is reached).
 */
export function withBreakpoints(
  system: string,
  tools: AnthropicTool[] | undefined,
  messages: AnthropicMessage[],
  o: { cache: boolean; stableEnds: number[] },
): CachedParts {
  if (!o.cache) return { system: system || undefined, tools, messages };
  const out = [...messages];
  let left = MAX_BREAKPOINTS;
  const mark = (i: number) => {
    const m = left > 0 ? markLast(out[i]!) : null;
    if (!m) return;
    out[i] = m;
    left--;
  };
  // The latest turn first, then the system prompt and the tools, then the stable ends (latest first) while any of
  // the limit is left: each later breakpoint's prefix holds the earlier ones, so the latest are worth the most.
  const lastIndex = out.length - 1;
  if (lastIndex >= 0) mark(lastIndex);
  let sys: CachedParts['system'] = system || undefined;
  if (system && left > 0) {
    sys = [{ type: 'text', text: system, cache_control: EPHEMERAL }];
    left--;
  }
  let marked = tools;
  if (tools?.length && left > 0) {
    marked = [...tools.slice(0, -1), { ...tools[tools.length - 1]!, cache_control: EPHEMERAL }];
    left--;
  }
  for (const i of [...new Set(o.stableEnds)].sort((a, b) => b - a)) if (i >= 0 && i < lastIndex) mark(i);
  return { system: sys, tools: marked, messages: out };
}
