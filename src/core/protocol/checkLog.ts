// The task view's live logs of the checks: one per check step run, its text bounded. The host and the view apply the
// same pure steps to the same `check_output` batches, so a batch is sent alone, not with the whole task.
// No zod here: the task view's script uses these steps, and its bundle stays without the schemas.
import type { CheckLog } from './task.js';

/** A log keeps its last lines: at most this many, and this many characters. The evidence has the whole log. */
export const LOG_MAX_LINES = 2_000;
export const LOG_MAX_CHARS = 256 * 1024;
/** The logs of older check runs keep their step and state, not their text (the task's state stays small). */
export const LOGS_WITH_TEXT = 4;

const newlines = (s: string) => {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
};

/** The text with its oldest lines dropped to fit the bounds, and how many lines went. */
export function boundLog(text: string): { text: string; dropped: number } {
  let t = text;
  if (t.length > LOG_MAX_CHARS) {
    const from = t.indexOf('\n', t.length - LOG_MAX_CHARS);
    t = from >= 0 && from < t.length - 1 ? t.slice(from + 1) : t.slice(-LOG_MAX_CHARS);
  }
  let extra = newlines(t) - LOG_MAX_LINES;
  let from = 0;
  while (extra-- > 0) from = t.indexOf('\n', from) + 1;
  t = t.slice(from);
  return { text: t, dropped: newlines(text) - newlines(t) };
}

/**
 * Appends a batch of a step's output: to that step's running log, or to a new log (a new step starts only when the
 * one before it passed, so a running log of another step has passed). Returns the logs, changed in place.
 */
export function appendCheckOutput(logs: CheckLog[], e: { turn: number; step: string; text: string }): CheckLog[] {
  let log = logs.at(-1);
  if (!log || log.state !== 'running' || log.turn !== e.turn || log.step !== e.step) {
    for (const l of logs) if (l.state === 'running') l.state = 'passed';
    log = { id: `log-${logs.length + 1}`, turn: e.turn, step: e.step, state: 'running', text: '', dropped: 0 };
    logs.push(log);
    for (const old of logs.slice(0, -LOGS_WITH_TEXT)) {
      old.dropped += newlines(old.text);
      old.text = '';
    }
  }
  const b = boundLog(log.text + e.text);
  log.text = b.text;
  log.dropped += b.dropped;
  return logs;
}

/**
 * The checks of a turn ended (the `check` event): its running logs passed, or the last one failed. `stopped`: the
 * run ended without a result (Stop, the task ended).
 */
export function endCheckLogs(logs: CheckLog[], end: { turn: number; ok: boolean } | 'stopped'): CheckLog[] {
  const running = logs.filter((l) => l.state === 'running' && (end === 'stopped' || l.turn === end.turn));
  for (const l of running) l.state = end === 'stopped' ? 'stopped' : end.ok ? 'passed' : 'failed';
  return logs;
}
