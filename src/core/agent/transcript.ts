// The transcript within the serving model's window. Before every turn it is measured against the model's real
// context; large tool results are cut with a note saying how to read more; older turns are condensed, always the
// same way (their edits and check results are kept, reads and searches shortened); the system prompt and the
// instruction are never cut. What still does not fit is left to the policy (a larger-context model, audited).
import { estimateTokens } from '../budget/cost.js';
import type { ChatMessage, ToolCall } from '../providers/types.js';

/** The part of the window kept for the answer and the tools' schemas. */
const ANSWER_RESERVE = 0.25;
/** Turns at the end of the transcript that are never condensed. */
const KEEP_RECENT = 2;
/** Tools whose results are the task's record: never condensed. */
const KEPT_TOOLS = new Set([
  'edit_file',
  'write_file',
  'apply_patch',
  'run_checks',
  'run_command',
  'ask_user',
  'finish',
]);

export const tokensOf = (messages: ChatMessage[]): number =>
  messages.reduce(
    (n, m) =>
      n +
      estimateTokens(m.content) +
      (m.role === 'assistant' ? (m.tool_calls ?? []).reduce((k, c) => k + estimateTokens(c.arguments) + 8, 0) : 0),
    0,
  );

/** A tool result cut to `maxChars`, saying so and how to read the rest. */
export function cutResult(tool: string, content: string, maxChars: number): string {
  if (content.length <= maxChars) return content;
  const how =
    tool === 'read_file'
      ? 'call read_file with start_line/end_line for the rest'
      : tool === 'search' || tool === 'list_files'
        ? 'narrow the query with glob or max'
        : 'the whole output is in the task evidence';
  return `${content.slice(0, maxChars)}\n[cut: ${content.length - maxChars} more characters; ${how}]`;
}

/** Tool-call arguments over this size are not kept in the transcript once sent (a large write, a long patch). */
const MAX_KEPT_ARGUMENTS = 32_000;

/**
 * The calls as the transcript keeps them: arguments too large for any window (a large write) are replaced by a
 * note, valid JSON, saying their size; the tool's result says what was done with them, and the file can be read.
 */
export function keptCalls(calls: ToolCall[]): ToolCall[] {
  return calls.map((c) =>
    c.arguments.length <= MAX_KEPT_ARGUMENTS
      ? c
      : {
          ...c,
          arguments: JSON.stringify({
            omitted: `the arguments (${c.arguments.length} characters) are not kept in the transcript; the result says what was done`,
          }),
        },
  );
}

export interface Fit {
  messages: ChatMessage[];
  tokens: number;
  window: number;
  condensed: number;
}

/**
 * The messages to send for a model with `window` tokens: as they are when they fit; else older tool results
 * condensed (oldest first) until they do. The first two messages (system prompt, instruction) stay whole. `room`:
 * what the call path leaves the prompt on the serving model (its window less the answer it keeps), when smaller.
 */
export function fitToWindow(messages: ChatMessage[], window: number, room?: number): Fit {
  const budget = Math.min(Math.floor(window * (1 - ANSWER_RESERVE)), room ?? Number.MAX_SAFE_INTEGER);
  let tokens = tokensOf(messages);
  if (tokens <= budget) return { messages, tokens, window, condensed: 0 };
  const out = [...messages];
  const turnStarts = out.flatMap((m, i) => (m.role === 'assistant' ? [i] : []));
  const protectFrom = turnStarts.length > KEEP_RECENT ? turnStarts[turnStarts.length - KEEP_RECENT]! : out.length;
  let condensed = 0;
  for (let i = 2; i < out.length && tokens > budget; i++) {
    const m = out[i]!;
    if (m.role !== 'tool' || KEPT_TOOLS.has(m.name) || m.content.length <= 240) continue;
    if (i >= protectFrom) continue;
    const short = condense(m.name, m.content);
    tokens -= estimateTokens(m.content) - estimateTokens(short);
    out[i] = { ...m, content: short };
    condensed++;
  }
  // Still over: the recent turns' large reads are cut too (never the instruction).
  for (let i = protectFrom; i < out.length && tokens > budget; i++) {
    const m = out[i]!;
    if (m.role !== 'tool' || KEPT_TOOLS.has(m.name) || m.content.length <= 2_000) continue;
    const short = cutResult(m.name, m.content, 2_000);
    tokens -= estimateTokens(m.content) - estimateTokens(short);
    out[i] = { ...m, content: short };
    condensed++;
  }
  return { messages: out, tokens, window, condensed };
}

function condense(tool: string, content: string): string {
  const first = content.split('\n', 1)[0]!.slice(0, 160);
  return `[condensed earlier ${tool} result (${content.length} characters): ${first} … call ${tool} again if needed]`;
}
