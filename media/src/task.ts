// The agent's task view: each model turn with its lane badge, model, tokens and cost; each tool call and its
// result (collapsed); routing changes and why; checks and their live logs; checkpoints to restore; the edit waiting
// for approval with its diff; how full the context is; Stop, "use cloud", approve / reject. A task drawn again from
// the evidence folder after a reload that was running is "interrupted": Resume or Abandon; earlier tasks are picked
// from a list.
import type { FromTaskView, TaskListItem, TaskState, ToTaskView } from '../../src/core/protocol/task.js';
import { usd } from '../../src/core/protocol/money.js';
import { button, el, fromHost, icon, loadCodicons, markPainted, vscodeApi } from './lib/dom.js';
import { applyCheckOutput, checkLogCard, followRunningLogs } from './checkLogs.js';

const vscode = vscodeApi<FromTaskView>();
const app = document.getElementById('app')!;
const RUNNING = 'running';
const INTERRUPTED = 'interrupted';

/** The status as the protocol words it; a task that gave up says why, an approved gate says so. */
function statusText(s: { status: string; reason?: string | null; gate?: TaskState['gate'] }): string {
  if (s.status === 'awaiting_judge') return s.gate?.status === 'approved' ? 'approved by the Judge' : 'awaiting Judge';
  return s.reason ? `${s.status} (${s.reason})` : s.status;
}

const contextText = (t: TaskState['turns'][number], fill: number) =>
  `${t.context_tokens}/${t.context_window} tokens (${fill} %)`;

function header(s: TaskState): HTMLElement {
  const last = s.turns[s.turns.length - 1];
  const fill = last ? Math.round((100 * last.context_tokens) / Math.max(1, last.context_window)) : 0;
  const cost = s.turns.reduce((n, t) => n + t.cost_usd, 0);
  const controls = el('div', { class: 'actions' });
  if (s.status === INTERRUPTED)
    controls.append(
      button('Resume', { id: 'resume' }, () => vscode.postMessage({ type: 'resume', task: s.task_id })),
      button('Abandon', { id: 'abandon', class: 'secondary' }, () =>
        vscode.postMessage({ type: 'abandon', task: s.task_id }),
      ),
    );
  // A recorded task running elsewhere (another window, the CLI) is not this window's to stop.
  if (s.status === RUNNING && !s.restored_from_disk) {
    controls.append(button('Stop', { id: 'stop', class: 'secondary' }, () => vscode.postMessage({ type: 'stop' })));
    const cloud = el('label', { class: 'toggle' });
    const box = el('input', { type: 'checkbox', id: 'use-cloud' });
    box.checked = s.use_cloud;
    box.addEventListener('change', () => vscode.postMessage({ type: 'useCloud', on: box.checked }));
    cloud.append(box, ' use cloud');
    controls.append(cloud);
  }
  return el(
    'header',
    { class: 'task-head' },
    el('h1', {}, s.instruction),
    el(
      'p',
      {
        id: 'status',
        class: `pill ${s.status}`,
        'data-status': s.status,
        ...(s.reason ? { 'data-reason': s.reason } : {}),
      },
      statusText(s),
    ),
    el('p', { id: 'message', class: 'muted' }, s.message),
    gateLine(s),
    el(
      'p',
      { id: 'figures', class: 'muted nowrap' },
      `${s.turns.length} turn(s) · ${usd(cost)} · context ${last ? contextText(last, fill) : '—'}`,
    ),
    controls,
  );
}

/** The Judge gate of a high-risk task: waiting (with the button that asks the Judge), or closed. */
function gateLine(s: TaskState): HTMLElement | '' {
  const g = s.gate;
  if (!g || g.status === 'not_required') return '';
  const line = el(
    'p',
    { id: 'gate', class: `gate ${g.status}`, 'data-gate': g.status },
    icon(g.status === 'approved' ? 'pass' : 'shield'),
    g.status === 'approved' ? ` Judge gate closed: ${g.why}` : ` Judge gate: ${g.why} `,
  );
  if (g.status === 'awaiting_judge')
    line.append(button('Ask the Judge', { id: 'ask-judge' }, () => vscode.postMessage({ type: 'judge' })));
  return line;
}

/** What Abandon did: the files put back at the first checkpoint, and the user's own changes it kept. */
function abandonedFiles(s: TaskState): HTMLElement | '' {
  const a = s.abandoned;
  if (!a) return '';
  const list = (id: string, files: string[]) =>
    el('ul', { id, class: 'files' }, ...files.map((f) => el('li', { 'data-path': f }, f)));
  return el(
    'section',
    { id: 'abandoned', class: 'abandoned' },
    el('h2', {}, `Restored to the first checkpoint: ${a.restored.length} file(s)`),
    list('restored', a.restored),
    el('h2', {}, a.kept.length ? `Kept as you changed them: ${a.kept.length} file(s)` : 'No file of yours was changed'),
    list('kept', a.kept),
  );
}

/** The workspace's tasks on disk, newest first: pick one to see it (an interrupted one to resume or abandon). */
function taskPicker(tasks: TaskListItem[] | undefined, shown: string | null): HTMLElement | '' {
  if (!tasks || tasks.length < (shown ? 2 : 1)) return '';
  const select = el('select', { id: 'task-pick', 'aria-label': 'Tasks in this workspace' });
  for (const t of tasks) {
    const o = el('option', { value: t.task_id }, `${statusText(t)} · ${t.instruction.slice(0, 80)} · ${t.updated}`);
    if (t.task_id === shown) o.selected = true;
    select.append(o);
  }
  if (!shown) select.prepend(el('option', { value: '', selected: '' }, 'Pick a task…'));
  select.addEventListener('change', () => {
    if (select.value) vscode.postMessage({ type: 'openTask', task: select.value });
  });
  return el('label', { class: 'task-pick muted' }, 'Tasks: ', select);
}

function pendingEdit(s: TaskState): HTMLElement | '' {
  const p = s.pending;
  if (!p) return '';
  return el(
    'section',
    { id: 'pending', class: 'pending' },
    el('h2', {}, `Edit waiting for you: ${p.summary}`),
    ...p.files.map((f) =>
      el('details', { open: '' }, el('summary', {}, `${f.path} (${f.how})`), el('pre', { class: 'diff' }, f.diff)),
    ),
    el(
      'div',
      { class: 'actions' },
      button('Approve', { id: 'approve' }, () => vscode.postMessage({ type: 'approve', id: p.id, all: false })),
      button('Approve edits for this task', { id: 'approve-all', class: 'secondary' }, () =>
        vscode.postMessage({ type: 'approve', id: p.id, all: true }),
      ),
      button('Reject', { id: 'reject', class: 'secondary' }, () => vscode.postMessage({ type: 'reject', id: p.id })),
    ),
  );
}

function turnCard(s: TaskState, n: number): HTMLElement {
  const t = s.turns.find((x) => x.turn === n);
  const badge = t
    ? el(
        'span',
        { class: `badge lane-${t.location}`, title: t.rule },
        icon(t.location === 'cloud' ? 'cloud' : 'server-process'),
        ` ${t.location} · ${t.served ?? `${t.provider}/${t.model}`}`,
      )
    : el('span', { class: 'badge' }, 'waiting for the model…');
  const warning = t?.warning
    ? el(
        'span',
        { class: 'warning served-warning', title: `answering as ${t.provider}/${t.model}` },
        icon('warning'),
        ` ${t.warning}`,
      )
    : '';
  const figures = t
    ? el('span', { class: 'muted nowrap' }, ` ${t.tokens_in} in · ${t.tokens_out} out · ${usd(t.cost_usd)}`)
    : '';
  const card = el(
    'li',
    { class: 'turn', 'data-turn': String(n) },
    el('div', { class: 'turn-head' }, el('strong', {}, `Turn ${n}`), badge, warning, figures),
  );
  for (const r of s.routes.filter((x) => x.turn === n && x.from !== null))
    card.append(el('p', { class: 'route' }, icon('arrow-swap'), ` lane change: ${r.from} → ${r.to} (${r.why})`));
  if (t?.text) card.append(el('p', { class: 'answer' }, t.text.slice(0, 2_000)));
  for (const c of s.tools.filter((x) => x.turn === n))
    card.append(
      el(
        'details',
        { class: `tool ${c.ok ? 'ok' : 'failed'}`, 'data-tool': c.name },
        el('summary', {}, `${c.ok ? '✓' : '✗'} ${c.name} ${c.arguments.slice(0, 160)}`),
        el('pre', {}, c.result),
      ),
    );
  for (const l of (s.check_logs ?? []).filter((x) => x.turn === n)) card.append(checkLogCard(l));
  for (const c of s.checks.filter((x) => x.turn === n))
    card.append(
      el(
        'p',
        { class: `check ${c.ok ? 'ok' : 'failed'}` },
        c.unverified
          ? 'no check configured: unverified'
          : `${c.ok ? 'checks passed' : 'checks failed'}: ${c.steps.join(', ')}`,
      ),
    );
  for (const cp of s.checkpoints.filter((x) => x.turn === n))
    card.append(
      el(
        'p',
        { class: 'checkpoint' },
        icon('history'),
        ` checkpoint: ${cp.label} `,
        button('Restore', { class: 'secondary restore', 'data-checkpoint': cp.id }, () =>
          vscode.postMessage({ type: 'restore', checkpoint: cp.id }),
        ),
      ),
    );
  return card;
}

function render(s: TaskState): void {
  const logTurns = (s.check_logs ?? []).map((l) => l.turn);
  const numbers = [...new Set([...s.turns.map((t) => t.turn), ...s.tools.map((t) => t.turn), ...logTurns])].sort(
    (a, b) => a - b,
  );
  if (s.status === RUNNING && !s.turns.some((t) => t.turn === (numbers[numbers.length - 1] ?? 0) + 1))
    numbers.push((numbers[numbers.length - 1] ?? 0) + 1);
  const turns = el('ol', { id: 'turns', class: 'turns' }, ...numbers.map((n) => turnCard(s, n)));
  const streaming = s.streaming ? el('pre', { id: 'streaming', class: 'muted' }, s.streaming.slice(-2_000)) : '';
  const diff = s.diff
    ? el('details', { id: 'diff' }, el('summary', {}, 'The change so far'), el('pre', { class: 'diff' }, s.diff))
    : '';
  const evidence = s.evidence ? el('p', { class: 'muted', id: 'evidence' }, `Evidence: ${s.evidence}`) : '';
  app.replaceChildren(
    taskPicker(tasks, s.task_id),
    header(s),
    abandonedFiles(s),
    pendingEdit(s),
    turns,
    streaming,
    diff,
    evidence,
  );
  followRunningLogs(app);
}

/** The task as last drawn: a check's output batch is applied to it. */
let current: TaskState | null = null;
/** The workspace's tasks as last sent. */
let tasks: TaskListItem[] | undefined;

function onHostMessage(m: ToTaskView): void {
  if (!m || typeof m !== 'object') return;
  if (m.type === 'state') {
    tasks = m.tasks;
    render((current = m.state));
  } else if (m.type === 'checkOutput') {
    if (current && applyCheckOutput(current, m)) render(current);
    return;
  } else if (m.type === 'empty') {
    current = null;
    tasks = m.tasks;
    app.replaceChildren(taskPicker(tasks, null), el('p', { class: 'muted', id: 'empty' }, m.text));
  } else return;
  markPainted(loadCodicons);
}
fromHost(onHostMessage);
vscode.postMessage({ type: 'ready', ms: performance.now() });
