// The Explain Routing Decisions view. Renders with DOM APIs only (textContent): no HTML from data.
import { ToExplainView, type FromExplainView } from '../../src/core/protocol/explain.js';
import { el, fromHost, table, vscodeApi } from './lib/dom.js';

const vscode = vscodeApi<FromExplainView>();
const app = document.getElementById('app')!;

function render(s: Extract<ToExplainView, { type: 'state' }>): void {
  const open = el('button', { id: 'open-policy', type: 'button' }, 'Open Effective Policy');
  open.addEventListener('click', () => vscode.postMessage({ type: 'openPolicy' }));
  const refresh = el('button', { id: 'refresh', type: 'button', class: 'secondary' }, 'Refresh');
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  const head = el(
    'header',
    {},
    el('h1', { id: 'title' }, 'How Switchyard routes each role'),
    el(
      'p',
      { id: 'policy-source' },
      `Policy ${s.policyVersion} from ${s.policySource}${s.localOnly ? ' · local_only is ON (GR-009)' : ''}`,
    ),
    el('div', { class: 'actions' }, open, refresh),
  );
  if (s.rejected)
    head.append(el('p', { class: 'error', id: 'rejected' }, `Refused policy file (not in force): ${s.rejected}`));
  const roles = table(
    { id: 'roles', class: 'routing' },
    ['Role', 'Route', 'Fallbacks', 'Rule', 'Why', 'Guardrails'].map((label) => ({ label })),
    s.roles.map((r) => ({
      attrs: { 'data-role': r.role, title: r.audit },
      cells: [
        el('strong', {}, r.title),
        { node: r.refused ? `refused — ${r.refused}` : r.route, class: r.refused ? 'refused' : '' },
        r.fallbacks,
        el('code', {}, r.rule),
        r.reasons,
        r.guardrails,
      ],
    })),
  );
  const recent = el('section', { id: 'recent' }, el('h2', {}, 'Recent decisions (audit log)'));
  if (s.recent.length === 0)
    recent.append(
      el(
        'p',
        { class: 'muted' },
        'No routed calls yet. Every decision Switchyard makes is written to the audit log and shows here.',
      ),
    );
  else
    recent.append(
      el(
        'ol',
        {},
        ...s.recent.map((r) => el('li', {}, el('time', {}, r.ts), ' ', el('code', {}, r.rule), ' ', r.audit)),
      ),
    );
  app.replaceChildren(head, roles, recent);
}

function onHostMessage(data: unknown): void {
  const msg = ToExplainView.safeParse(data);
  if (!msg.success) return; // only the host talks to this view; anything else is ignored
  vscode.setState({ seen: true });
  render(msg.data);
}
fromHost(onHostMessage); // the state in the HTML too, validated like a message
vscode.postMessage({ type: 'ready' });
