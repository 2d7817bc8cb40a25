// The task view's live log of each check step: open while it runs, collapsed when it passed, open when it failed or
// was stopped (unless the user opened or closed it); a batch from the host is appended where the log is on screen.
import { appendCheckOutput } from '../../src/core/protocol/checkLog.js';
import type { CheckLog, TaskState } from '../../src/core/protocol/task.js';
import { el, icon } from './lib/dom.js';

/** What the user chose for a log (its summary clicked), kept across renders. */
const chosen = new Map<string, boolean>();

const ICON: Record<CheckLog['state'], string> = {
  running: 'sync',
  passed: 'pass',
  failed: 'error',
  stopped: 'debug-stop',
};

function stateIcon(state: CheckLog['state']): HTMLElement {
  const i = icon(ICON[state]);
  if (state === 'running') i.classList.add('codicon-modifier-spin');
  return i;
}

function summaryText(l: CheckLog): string {
  const lines = l.text.split('\n').length - (l.text.endsWith('\n') ? 1 : 0);
  const older = l.dropped ? `, ${l.dropped} earlier line(s) only in the evidence` : '';
  return ` ${l.step}: ${l.state} (${lines} line(s)${older})`;
}

export function checkLogCard(l: CheckLog): HTMLElement {
  const summary = el('summary', {}, stateIcon(l.state), summaryText(l));
  const d = el(
    'details',
    { class: `check-log ${l.state}`, 'data-log': l.id, 'data-state': l.state, 'data-step': l.step },
    summary,
    el('pre', { class: 'check-log-text' }, l.text),
  );
  // The state's default until the user chooses; a click on the summary toggles after this handler runs.
  d.open = chosen.get(l.id) ?? l.state !== 'passed';
  summary.addEventListener('click', () => chosen.set(l.id, !d.open));
  return d;
}

/** Keeps each running log scrolled to its end after a render. */
export function followRunningLogs(root: ParentNode): void {
  for (const pre of root.querySelectorAll<HTMLElement>('details.check-log.running pre'))
    pre.scrollTop = pre.scrollHeight;
}

/**
 * Applies a batch to the view's copy of the task, as the host applied it to its own. True: a new log began (the
 * caller renders the task again); otherwise the log on screen is updated in place.
 */
export function applyCheckOutput(s: TaskState, m: { turn: number; step: string; text: string }): boolean {
  const logs = (s.check_logs ??= []);
  const count = logs.length;
  const before = logs.at(-1)?.dropped ?? 0;
  appendCheckOutput(logs, m);
  const log = logs.at(-1)!;
  const d = document.querySelector<HTMLDetailsElement>(`details.check-log[data-log="${log.id}"]`);
  if (logs.length !== count || !d) return true;
  const pre = d.querySelector('pre')!;
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  if (log.dropped === before) pre.append(m.text);
  else pre.textContent = log.text;
  d.querySelector('summary')!.replaceChildren(stateIcon(log.state), summaryText(log));
  if (atEnd) pre.scrollTop = pre.scrollHeight;
  return false;
}
