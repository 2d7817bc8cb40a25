// The Budget view: spend per day and per role and provider as bar charts (inline SVG), the costliest tasks,
// reservations in flight, the month-end projection, and a way to edit the caps. DOM APIs only, no HTML from data.
import { ToBudgetView, type FromBudgetView } from '../../src/core/protocol/budget.js';
import { el, fromHost, table, vscodeApi } from './lib/dom.js';
import { usd } from '../../src/core/protocol/money.js';

const vscode = vscodeApi<FromBudgetView>();
const app = document.getElementById('app')!;
const SVG = 'http://www.w3.org/2000/svg';

/** Horizontal bars: one row per label, scaled to the largest value (or to `max`). */
function bars(id: string, title: string, rows: [string, number][], max?: number): HTMLElement {
  const fig = el('figure', { id, class: 'chart' }, el('figcaption', {}, title));
  if (rows.length === 0) {
    fig.append(el('p', { class: 'muted' }, 'Nothing spent yet.'));
    return fig;
  }
  const top = max ?? Math.max(...rows.map(([, v]) => v), 1e-9);
  const rowH = 20,
    labelW = 140,
    barW = 260;
  const svg = document.createElementNS(SVG, 'svg');
  // Drawn in its own units and scaled to the width it gets (CSS: .chart svg), so it never overflows a narrow view.
  svg.setAttribute('viewBox', `0 0 ${labelW + barW + 90} ${rows.length * rowH + 4}`);
  svg.setAttribute('preserveAspectRatio', 'xMinYMin meet');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  rows.forEach(([label, v], i) => {
    const y = i * rowH + 2;
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', '0');
    t.setAttribute('y', String(y + 14));
    t.setAttribute('class', 'label');
    t.textContent = label;
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', String(labelW));
    r.setAttribute('y', String(y + 3));
    r.setAttribute('height', '14');
    r.setAttribute('width', String(Math.max(1, (v / top) * barW)));
    r.setAttribute('class', 'bar');
    const n = document.createElementNS(SVG, 'text');
    n.setAttribute('x', String(labelW + barW + 6));
    n.setAttribute('y', String(y + 14));
    n.setAttribute('class', 'value');
    n.textContent = usd(v);
    svg.append(t, r, n);
  });
  fig.append(svg);
  return fig;
}

type BudgetState = Extract<ToBudgetView, { type: 'state' }>;

/** The header: the tightest cap, today and the month, the projection, and the actions. */
function header(s: BudgetState): HTMLElement {
  const r = s.report;
  const edit = el('button', { id: 'edit-caps', type: 'button' }, 'Edit caps');
  edit.addEventListener('click', () => vscode.postMessage({ type: 'editCaps' }));
  const refresh = el('button', { id: 'refresh', type: 'button', class: 'secondary' }, 'Refresh');
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  const t = r.tightest;
  const head = el(
    'header',
    {},
    el('h1', {}, 'Switchyard budget'),
    el(
      'p',
      { id: 'tightest' },
      t
        ? `Tightest cap "${t.id}" (${t.period}${t.target ? `, ${t.scope} ${t.target}` : ''}): ${usd(t.spent_usd)} ` +
            `spent${t.reserved_usd ? ` + ${usd(t.reserved_usd)} in flight` : ''} of ${usd(t.cap_usd)}`
        : 'No cap applies.',
    ),
    el(
      'p',
      { id: 'summary' },
      `Today ${usd(r.today.spent_usd)} · ${r.month.month} ${usd(r.month.spent_usd)} · month-end ` +
        `projection ${usd(r.projection.month_end_usd)}` +
        (r.projection.monthly_cap_usd !== null ? ` of ${usd(r.projection.monthly_cap_usd)}` : ''),
    ),
    el(
      'p',
      { class: 'muted' },
      `Projection: ${r.projection.method}. Tokens this month: ${r.month.tokens_in.toLocaleString()} ` +
        `in, ${r.month.tokens_out.toLocaleString()} out (${r.month.local_tokens.toLocaleString()} on ` +
        `the local lane, free). Ledger: ${s.ledger}`,
    ),
    el('div', { class: 'actions' }, edit, refresh),
  );
  return head;
}

/** One row per cap in force: spent, in flight, the cap and how full it is. */
function capsTable(r: BudgetState['report']): HTMLElement {
  const cols = [
    { label: 'Cap' },
    { label: 'Period' },
    { label: 'Applies to' },
    { label: 'Spent', num: true },
    { label: 'In flight', num: true },
    { label: 'Limit', num: true },
    { label: 'Used', num: true },
  ];
  return table(
    { id: 'caps', class: 'caps' },
    cols,
    r.caps.map((c) => ({
      attrs: { class: c.ratio >= 1 ? 'error' : c.ratio >= 0.8 ? 'warning' : '' },
      cells: [
        el('code', {}, c.id),
        c.period,
        c.target ? `${c.scope} ${c.target}` : 'all cloud calls',
        usd(c.spent_usd),
        usd(c.reserved_usd),
        usd(c.cap_usd),
        `${Math.round(c.ratio * 100)} %`,
      ],
    })),
  );
}

/** The charts, the costliest tasks and the reservations in flight. */
function details(r: BudgetState['report']): HTMLElement[] {
  const charts = el(
    'section',
    { class: 'charts' },
    bars(
      'per-day',
      'Spend per day',
      r.per_day.slice(-31).map((d) => [d.day.slice(5), d.spent_usd]),
    ),
    bars(
      'per-role',
      `Spend per role (${r.month.month})`,
      Object.entries(r.month.by_role).sort((a, b) => b[1] - a[1]),
    ),
    bars(
      'per-provider',
      `Spend per provider (${r.month.month})`,
      Object.entries(r.month.by_provider).sort((a, b) => b[1] - a[1]),
    ),
  );
  const tasks = el('section', { id: 'tasks' }, el('h2', {}, 'Most expensive tasks'));
  tasks.append(
    r.top_tasks.length
      ? el(
          'ol',
          {},
          ...r.top_tasks.map((x) => el('li', {}, el('code', {}, x.task), ` ${usd(x.spent_usd)} in ${x.calls} call(s)`)),
        )
      : el('p', { class: 'muted' }, 'No task has spent anything yet.'),
  );
  const flight = el('section', { id: 'in-flight' }, el('h2', {}, 'Reservations in flight'));
  flight.append(
    r.in_flight.length
      ? el(
          'ul',
          {},
          ...r.in_flight.map((x) =>
            el('li', {}, `${x.role} → ${x.provider}/${x.model}: ${usd(x.reserved_usd)} reserved ${x.age_s} s ago`),
          ),
        )
      : el('p', { class: 'muted' }, 'None.'),
  );
  return [charts, tasks, flight];
}

function render(s: BudgetState): void {
  app.replaceChildren(header(s), capsTable(s.report), ...details(s.report));
}

function onHostMessage(data: unknown): void {
  const msg = ToBudgetView.safeParse(data);
  if (!msg.success) return;
  vscode.setState({ seen: true });
  render(msg.data);
}
fromHost(onHostMessage); // the state in the HTML too, validated like a message
vscode.postMessage({ type: 'ready' });
