// A check's streamed output as agent events: gathered into batches (at most every 100 ms, or at 8 KB) so that a
// chatty test run does not send one message per line to the task view or the CLI.
import type { Classification } from '../classifier/types.js';
import type { CheckResult } from './checks.js';
import type { CheckOutput } from './checkOutput.js';
import type { AgentEvent } from './events.js';

export const BATCH_MS = 100;
export const BATCH_BYTES = 8 * 1024;

/** Batches of one step's text; a new step sends what the last one had first, so the order is kept. */
export function outputBatcher(send: CheckOutput, o: { ms?: number; bytes?: number } = {}) {
  const ms = o.ms ?? BATCH_MS;
  const bytes = o.bytes ?? BATCH_BYTES;
  let step = '';
  let text = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (text) send(step, text);
    text = '';
  };
  const push: CheckOutput = (s, t) => {
    if (s !== step) flush();
    step = s;
    text += t;
    if (text.length >= bytes) flush();
    else timer ??= setTimeout(flush, ms);
  };
  return { push, flush };
}

/** What running the checks with their output streamed needs of the agent's ports. */
export interface StreamedCheckPorts {
  runChecks(c: Classification | null, signal: AbortSignal, onOutput?: CheckOutput): Promise<CheckResult>;
  emit(e: AgentEvent): void;
}

/** The checks of one turn, their output sent as `check_output` events while they run; all of it before they end. */
export async function streamedChecks(
  p: StreamedCheckPorts,
  c: Classification | null,
  signal: AbortSignal,
  turn: number,
): Promise<CheckResult> {
  const batch = outputBatcher((step, text) => p.emit({ type: 'check_output', turn, step, text }));
  try {
    return await p.runChecks(c, signal, batch.push);
  } finally {
    batch.flush();
  }
}
