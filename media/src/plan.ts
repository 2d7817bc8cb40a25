// The plan review view: the Architect's plan with its confidence, self-critique and critic notes; each step
// with the router's lane badge and the size/risk estimate; edit, reorder, approve or reject; Run plan and each
// step's run (running, done, failed, skipped, awaiting the Judge, unverified) with its task; retry, skip, the Judge.
import type { FromPlanView, ToPlanView } from '../../src/core/protocol/plan.js';
import { button, el, fromHost, icon, loadCodicons, markPainted, vscodeApi } from './lib/dom.js';

const vscode = vscodeApi<FromPlanView>();
const app = document.getElementById('app')!;
type State = Extract<ToPlanView, { type: 'state' }>;
type Step = State['record']['plan']['steps'][number];
let editing: string | null = null;

const LANE: Record<string, string> = {
  local_reflex: 'local reflex',
  local: 'local',
  cloud: 'cloud',
  refused: 'refused',
};

function list(title: string, items: string[], id: string): HTMLElement | '' {
  if (items.length === 0) return '';
  return el('section', { id }, el('h2', {}, title), el('ul', {}, ...items.map((i) => el('li', {}, i))));
}

const STATE_TEXT: Record<string, string> = {
  awaiting_judge: 'awaiting Judge',
  unverified: 'unverified (nothing checked it)',
};

function stepCard(s: State, step: Step, index: number): HTMLElement {
  const run = s.record.progress?.[step.id];
  const status = run?.state ?? s.record.review.steps[step.id] ?? 'pending';
  const lane = s.lanes[step.id];
  const card = el('li', { class: `step ${status}`, 'data-step': step.id, 'data-status': status });
  const badge = el(
    'span',
    { class: `badge lane-${lane?.lane ?? 'unknown'}`, title: lane ? `${lane.rule}: ${lane.why}` : '' },
    icon(lane?.lane === 'cloud' ? 'cloud' : 'server-process'),
    ` ${LANE[lane?.lane ?? ''] ?? '?'} · ${lane?.route ?? ''}`,
  );
  const head = el(
    'div',
    { class: 'step-head' },
    el('span', { class: 'step-n' }, `${index + 1}.`),
    el('strong', { class: 'step-title' }, step.title),
    badge,
    el('span', { class: `pill ${status}`, 'data-state': status }, STATE_TEXT[status] ?? status),
  );
  const estimate = el(
    'p',
    { class: 'estimate muted' },
    `~${step.estimated_lines} lines · ${step.risk_flags.length ? step.risk_flags.join(', ') : 'no risk flags'}` +
      (lane?.high_risk ? ' · high risk: needs a cloud Judge (GR-002)' : '') +
      ' ' +
      `· the Architect suggested ${LANE[step.suggested_lane]}`,
  );
  const files = el(
    'p',
    { class: 'files' },
    ...step.files.flatMap((f, i) => {
      const a = el('a', { href: '#', 'data-file': f, title: `Open ${f}` }, f);
      a.addEventListener('click', (e) => {
        e.preventDefault();
        vscode.postMessage({ type: 'openFile', path: f });
      });
      return i ? [', ', a] : [a];
    }),
  );
  card.append(head, estimate);
  if (editing === step.id) {
    card.append(editor(step));
    return card;
  }
  if (step.description) card.append(el('p', { class: 'desc' }, step.description));
  if (step.files.length) card.append(files);
  if (step.acceptance.length)
    card.append(el('ul', { class: 'acceptance' }, ...step.acceptance.map((a) => el('li', {}, icon('pass'), ` ${a}`))));
  if (run)
    card.append(
      el(
        'p',
        { class: `run ${run.state}`, 'data-run': step.id },
        `${run.task_id ? `Task ${run.task_id}` : 'Running'}${run.tries > 1 ? ` (try ${run.tries})` : ''}: ${run.message}`,
      ),
    );
  card.append(run ? runActions(s, step, run.state) : stepActions(s, step, index, status));
  return card;
}

/** A step that has run: retry, skip, accept it unverified, or ask the Judge, as its state allows. */
function runActions(s: State, step: Step, state: string): HTMLElement {
  const act = el('div', { class: 'actions' });
  const post = (m: FromPlanView) => () => vscode.postMessage(m);
  if (s.running) return act;
  if (state === 'failed' || state === 'unverified')
    act.append(button('Retry', { 'data-act': 'retry' }, post({ type: 'implementStep', id: step.id })));
  if (state === 'unverified')
    act.append(
      button(
        'Accept unverified',
        { class: 'secondary', 'data-act': 'accept' },
        post({ type: 'acceptStep', id: step.id }),
      ),
    );
  if (state === 'awaiting_judge')
    act.append(button('Ask the Judge', { 'data-act': 'judge' }, post({ type: 'judgeStep', id: step.id })));
  if (state !== 'done' && state !== 'skipped' && state !== 'running')
    act.append(button('Skip', { class: 'secondary', 'data-act': 'skip' }, post({ type: 'skipStep', id: step.id })));
  return act;
}

/** A step's buttons: reorder and edit while the plan is a draft; approve, reject, undo and implement. */
function stepActions(s: State, step: Step, index: number, status: string): HTMLElement {
  const decided = s.record.review.status !== 'draft';
  const act = el('div', { class: 'actions' });
  if (!decided) {
    act.append(
      button(
        '↑',
        { class: 'secondary', title: 'Move up', 'aria-label': `Move step ${index + 1} up`, 'data-act': 'up' },
        () => vscode.postMessage({ type: 'moveStep', id: step.id, direction: 'up' }),
      ),
      button(
        '↓',
        { class: 'secondary', title: 'Move down', 'aria-label': `Move step ${index + 1} down`, 'data-act': 'down' },
        () => vscode.postMessage({ type: 'moveStep', id: step.id, direction: 'down' }),
      ),
      button('Edit', { class: 'secondary', 'data-act': 'edit' }, () => {
        editing = step.id;
        render(current!);
      }),
    );
  }
  if (s.record.review.status !== 'rejected') {
    if (status !== 'approved')
      act.append(
        button('Approve step', { 'data-act': 'approve' }, () =>
          vscode.postMessage({ type: 'setStep', id: step.id, status: 'approved' }),
        ),
      );
    if (status !== 'rejected')
      act.append(
        button('Reject step', { class: 'secondary', 'data-act': 'reject' }, () =>
          vscode.postMessage({ type: 'setStep', id: step.id, status: 'rejected' }),
        ),
      );
    if (status !== 'pending')
      act.append(
        button('Undo', { class: 'secondary', 'data-act': 'pending' }, () =>
          vscode.postMessage({ type: 'setStep', id: step.id, status: 'pending' }),
        ),
      );
    if (status === 'approved' && s.record.review.status === 'approved' && !s.running)
      act.append(
        button('Run step', { 'data-act': 'implement' }, () =>
          vscode.postMessage({ type: 'implementStep', id: step.id }),
        ),
      );
  }
  return act;
}

function editor(step: Step): HTMLElement {
  const title = el('input', { type: 'text', value: step.title, 'aria-label': 'Title', 'data-field': 'title' });
  const desc = el('textarea', { rows: '3', 'aria-label': 'Description', 'data-field': 'description' });
  desc.value = step.description;
  const files = el('textarea', { rows: '2', 'aria-label': 'Files, one per line', 'data-field': 'files' });
  files.value = step.files.join('\n');
  const lines = el('input', {
    type: 'number',
    min: '0',
    value: String(step.estimated_lines),
    'aria-label': 'Estimated lines',
    'data-field': 'estimated_lines',
  });
  const save = () => {
    const edits: [FromPlanView & { type: 'editStep' }][] = [];
    const push = (field: 'title' | 'description' | 'files' | 'estimated_lines', value: string, was: string) => {
      if (value !== was) edits.push([{ type: 'editStep', id: step.id, field, value }]);
    };
    push('title', title.value, step.title);
    push('description', desc.value, step.description);
    push('files', files.value, step.files.join('\n'));
    push('estimated_lines', lines.value, String(step.estimated_lines));
    editing = null;
    for (const [m] of edits) vscode.postMessage(m);
    if (edits.length === 0) render(current!);
  };
  return el(
    'div',
    { class: 'edit' },
    el('label', {}, 'Title', title),
    el('label', {}, 'Description', desc),
    el('label', {}, 'Files (one per line)', files),
    el('label', {}, 'Estimated lines', lines),
    el(
      'div',
      { class: 'actions' },
      button('Save', { 'data-act': 'save' }, save),
      button('Cancel', { class: 'secondary' }, () => {
        editing = null;
        render(current!);
      }),
    ),
  );
}

let current: State | null = null;

/** The header: the goal, who wrote the plan, its confidence and status, the plan's actions and the notice. */
function planHeader(s: State): HTMLElement {
  const r = s.record;
  const p = r.plan;
  const conf = Math.round(p.confidence * 100);
  const author =
    r.author.kind === 'local_fast_draft'
      ? el(
          'p',
          { id: 'author', class: 'warning' },
          icon('warning'),
          ` Local fast draft by ${r.author.provider}/${r.author.model} (${r.author.rule}): review it ` +
            `with the cloud Architect before high-risk work (GR-005).`,
        )
      : el(
          'p',
          { id: 'author', class: 'muted' },
          icon('cloud'),
          ` Written by ${r.author.provider}/${r.author.model} (${r.author.rule}) · $${r.author.cost_usd.toFixed(4)}`,
        );
  const head = el(
    'header',
    {},
    el('h1', { id: 'goal' }, p.goal),
    author,
    el(
      'div',
      {
        id: 'confidence',
        class: `confidence ${conf < 50 ? 'low' : conf < 75 ? 'mid' : 'high'}`,
        title: "The Architect's own estimate that the plan, as written, meets the goal",
      },
      el('span', {}, `Confidence ${conf}%`),
      el('progress', { max: '100', value: String(conf) }),
    ),
    el(
      'p',
      { id: 'status', class: `pill ${r.review.status}` },
      `Plan: ${r.review.status}` +
        (r.review.evidence
          ? ` · evidence ${r.review.evidence.path.split(/[\\/]/).slice(-2).join('/')} ` +
            `(sha256 ${r.review.evidence.sha256.slice(0, 12)}…)`
          : ''),
    ),
  );
  head.append(planActions(s), ...reviewBanner(s));
  if (s.notice)
    head.append(
      el('p', { id: 'notice', class: s.notice.level === 'error' ? 'error' : 'muted', role: 'alert' }, s.notice.text),
    );

  return head;
}

/** The plan's own buttons: approve or reject a draft; Run plan and back to draft once decided. */
function planActions(s: State): HTMLElement {
  const r = s.record;
  const actions = el('div', { class: 'actions' });
  if (r.review.status === 'draft') {
    actions.append(
      button('Approve plan', { id: 'approve-plan' }, () => vscode.postMessage({ type: 'setPlan', status: 'approved' })),
      button('Reject plan', { id: 'reject-plan', class: 'secondary' }, () =>
        vscode.postMessage({ type: 'setPlan', status: 'rejected' }),
      ),
    );
  } else {
    if (r.review.status === 'approved' && !s.running)
      actions.append(button('Run plan', { id: 'run-plan' }, () => vscode.postMessage({ type: 'runPlan' })));
    if (s.running) actions.append(el('span', { id: 'plan-running', class: 'pill running' }, 'running…'));
    actions.append(
      button('Back to draft', { id: 'reopen-plan', class: 'secondary' }, () =>
        vscode.postMessage({ type: 'setPlan', status: 'draft' }),
      ),
    );
  }
  return actions;
}

/** A plan that needs a cloud review before it runs says so, with the review and the audited override. */
function reviewBanner(s: State): HTMLElement[] {
  const r = s.record;
  if (s.review_needed && !r.review_overridden)
    return [
      el(
        'div',
        { id: 'review-needed', class: 'warning' },
        el('p', {}, icon('warning'), ` Before it runs, this plan needs a cloud review: ${s.review_needed}.`),
        el(
          'div',
          { class: 'actions' },
          button('Ask for a cloud review', { id: 'review-plan' }, () => vscode.postMessage({ type: 'reviewPlan' })),
          button('Run anyway (audited)', { id: 'override-review', class: 'secondary' }, () =>
            vscode.postMessage({ type: 'overrideReview' }),
          ),
        ),
      ),
    ];
  if (r.cloud_review)
    return [
      el(
        'p',
        { id: 'cloud-review', class: 'muted' },
        icon('pass'),
        ` Reviewed by ${r.cloud_review.provider}/${r.cloud_review.model}`,
      ),
    ];
  return [];
}

/** The self-critique's questions and answers, or why there is none. */
function selfCritique(r: State['record']): HTMLElement {
  return r.self_critique
    ? el(
        'details',
        { id: 'self-critique' },
        el(
          'summary',
          {},
          `Self-critique by ${r.self_critique.provider}/${r.self_critique.model}` +
            (r.self_critique.same_model ? '' : ' (not the drafting model: it was unavailable)') +
            `: ${r.self_critique.questions.length} questions`,
        ),
        el('dl', {}, ...r.self_critique.questions.flatMap((q) => [el('dt', {}, q.question), el('dd', {}, q.answer)])),
        r.self_critique.changes ? el('p', {}, `Changed: ${r.self_critique.changes}`) : '',
      )
    : el(
        'p',
        { id: 'self-critique', class: 'warning' },
        'No self-critique: the pass failed, so this is the unreviewed draft (see the audit log).',
      );
}

/** The critic sidecar's notes (non-authoritative), or its state. */
function criticNotes(r: State['record']): HTMLElement {
  const c = r.critic;
  const critic = el('section', { id: 'critic' }, el('h2', {}, 'Critic sidecar (non-authoritative)'));
  if (c.status === 'done') {
    const notes = [
      ['Risks', c.notes.risks],
      ['Contradictions', c.notes.contradictions],
      ['Missing requirements', c.notes.missing_requirements],
      ['Guardrail conflicts', c.notes.guardrail_conflicts],
    ] as const;
    critic.append(
      el('p', { class: 'muted' }, `${c.provider}/${c.model}`),
      ...notes.map(([t, items]) =>
        el(
          'div',
          {},
          el('strong', {}, t),
          items.length ? el('ul', {}, ...items.map((i) => el('li', {}, i))) : el('span', { class: 'muted' }, ' none'),
        ),
      ),
    );
  } else
    critic.append(
      el(
        'p',
        { class: c.status === 'failed' ? 'error' : 'muted' },
        c.status === 'running'
          ? `Running on ${c.provider}/${c.model}… (it never blocks the plan)`
          : c.status === 'failed'
            ? `Failed: ${c.why}`
            : `Off: ${c.why}`,
      ),
    );

  return critic;
}

function render(s: State): void {
  current = s;
  vscode.setState({ path: s.path });
  const p = s.record.plan;
  const steps = el('ol', { id: 'steps', class: 'steps' }, ...p.steps.map((st, i) => stepCard(s, st, i)));
  app.replaceChildren(
    planHeader(s),
    list('Assumptions', p.assumptions, 'assumptions'),
    el('h2', {}, `Steps (${p.steps.length})`),
    steps,
    list('Acceptance checks', p.acceptance_checks, 'acceptance'),
    selfCritique(s.record),
    criticNotes(s.record),
  );
}

function onHostMessage(m: ToPlanView): void {
  if (!m || typeof m !== 'object') return;
  if (m.type === 'state') render(m);
  else if (m.type === 'empty') app.replaceChildren(el('p', { class: 'muted', id: 'empty' }, m.text));
  else return;
  markPainted(loadCodicons);
}
// The plan as the host had it when it wrote the HTML is drawn now; the host sends it again after ready.
fromHost(onHostMessage);
vscode.postMessage({ type: 'ready', ms: performance.now() });
