// The Tutor chat view. Streamed text is buffered and drawn once per animation frame; every batch is counted
// (a gap in `seq` would be a dropped batch) and what was drawn is reported back to the host at the end.
import type { FromTutorView, ToTutorView, Turn } from '../../src/core/protocol/tutor.js';
import { button, el, fromHost, icon, loadCodicons, loadScript, markPainted, vscodeApi } from './lib/dom.js';
import type { renderMarkdown } from './lib/markdown.js';

const vscode = vscodeApi<FromTutorView>();
const app = document.getElementById('app')!;
type State = Extract<ToTutorView, { type: 'state' }>;

interface Live {
  raw: string;
  pending: string;
  chars: number;
  batches: number;
  nextSeq: number;
  frames: number;
  gaps: number;
  node: HTMLElement | null;
  codes: string[];
}
const live = new Map<string, Live>();
const codesOf = new Map<string, string[]>();
let frame = 0;
let state: State | null = null;
let draft = (vscode.getState() as { draft?: string } | undefined)?.draft ?? '';

const transcript = el('section', { id: 'transcript', 'aria-label': 'Conversation' });
const header = el('header', { class: 'tutor-head' });
const notice = el('p', { id: 'notice', class: 'notice', role: 'status' });
const chips = el('div', { id: 'attachments', class: 'chips' });
const input = el('textarea', {
  id: 'prompt',
  rows: '3',
  placeholder: 'Ask the Tutor… (Enter to send, Shift+Enter for a new line)',
  'aria-label': 'Message to the Tutor',
});
const send = button('Send', { id: 'send' }, () => submit());
const stop = button('Stop', { id: 'stop', class: 'secondary' }, () => vscode.postMessage({ type: 'stop' }));
input.value = draft;
input.addEventListener('input', () => {
  draft = input.value;
  vscode.setState({ draft });
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
const composer = el(
  'footer',
  { class: 'composer' },
  chips,
  el(
    'div',
    { class: 'actions' },
    button('Attach selection', { id: 'attach-selection', class: 'secondary' }, () =>
      vscode.postMessage({ type: 'attachSelection' }),
    ),
    button('Attach file…', { id: 'attach-file', class: 'secondary' }, () => vscode.postMessage({ type: 'attachFile' })),
    button('New session', { id: 'new-session', class: 'secondary' }, () => vscode.postMessage({ type: 'newSession' })),
    button('Start a Task', { id: 'start-task', class: 'secondary', title: 'Plan, implement and judge a change' }, () =>
      vscode.postMessage({ type: 'startTask' }),
    ),
  ),
  input,
  el('div', { class: 'actions' }, send, stop),
);
app.replaceChildren(header, transcript, notice, composer);

function submit(): void {
  const text = input.value.trim();
  if (!text || state?.busy) return;
  vscode.postMessage({ type: 'send', text });
  input.value = '';
  draft = '';
  vscode.setState({ draft });
}

// Links and code buttons inside rendered answers: handled here, acted on by the host.
transcript.addEventListener('click', (e) => {
  const t = e.target as HTMLElement;
  const a = t.closest('a[data-href]');
  if (a) {
    e.preventDefault();
    vscode.postMessage({ type: 'openLink', href: a.getAttribute('data-href') ?? '' });
    return;
  }
  const b = t.closest('button[data-act]');
  if (!b) return;
  const turn = b.closest('[data-id]')?.getAttribute('data-id') ?? '';
  const code = codesOf.get(turn)?.[Number(b.getAttribute('data-code'))];
  if (code === undefined) return;
  if (b.getAttribute('data-act') === 'copy') {
    vscode.postMessage({ type: 'copy', text: code });
    b.textContent = 'Copied';
    setTimeout(() => {
      b.textContent = 'Copy';
    }, 1200);
  } else vscode.postMessage({ type: 'insert', text: code });
});

// The renderer (markdown.js) is loaded after the shell's first paint; until it is there, answers show as plain
// text and are redrawn as Markdown when it arrives.
let markdown: typeof renderMarkdown | null = null;
function renderInto(node: HTMLElement, id: string, text: string): void {
  if (!markdown) {
    node.textContent = text;
    node.dataset.plain = '';
    return;
  }
  const r = markdown(text, window);
  node.innerHTML = r.html; // sanitized by DOMPurify in renderMarkdown
  delete node.dataset.plain;
  codesOf.set(id, r.codes);
}
function loadRenderer(): void {
  window.addEventListener(
    'switchyard-markdown',
    () => {
      markdown = window.switchyardMarkdown ?? null;
      if (state && transcript.querySelector('[data-plain]')) renderState(state);
    },
    { once: true },
  );
  loadScript(document.body.dataset.markdown);
}

function servedLine(t: Turn): HTMLElement {
  const s = t.served;
  if (t.status === 'stopped')
    return el('p', { class: 'served muted' }, 'Stopped — the partial answer above is kept in the conversation.');
  if (t.status === 'failed') return el('p', { class: 'served error' }, t.error ?? 'The answer failed.');
  if (!s) return el('p', { class: 'served muted' }, 'Answering…');
  const cost = s.lane === 'cloud' ? ` · $${s.cost_usd.toFixed(4)}` : '';
  const line = el(
    'p',
    { class: `served ${s.fallback ? 'fallback' : 'muted'}`, title: `${s.provider}/${s.model}` },
    icon(s.lane === 'local' ? 'server-process' : 'cloud'),
    ` ${s.label} · ${s.lane} lane${s.fallback ? ' (fallback)' : ''} · ${s.output_tokens} tokens · ${(s.ms / 1000).toFixed(1)} s${cost}`,
  );
  if (s.warning) line.append(el('span', { class: 'warning' }, ' — ', icon('warning'), ` ${s.warning}`));
  if (s.fallback && s.why) line.append(el('span', { class: 'why' }, ` — ${s.why}`));
  return line;
}

function turnNode(t: Turn): HTMLElement {
  const body = el('div', { class: 'md' });
  const node = el('article', {
    class: `turn ${t.role}`,
    'data-id': t.id,
    'data-role': t.role,
    'data-status': t.status,
  });
  if (t.role === 'user') {
    body.textContent = t.text;
    node.append(body);
    if (t.attachments.length)
      node.append(el('p', { class: 'muted attached' }, icon('paperclip'), ` ${t.attachments.join(', ')}`));
    return node;
  }
  const l = live.get(t.id);
  renderInto(body, t.id, t.status === 'streaming' && l ? l.raw : t.text);
  node.append(body, servedLine(t));
  if (l) {
    node.dataset.chars = String(l.chars);
    node.dataset.batches = String(l.batches);
    node.dataset.frames = String(l.frames);
  }
  return node;
}

function renderState(s: State): void {
  const prev = state;
  state = s;
  const m = s.meter;
  const pct = Math.min(100, Math.round((m.used / m.short) * 100));
  const lane = el('div', { id: 'lane', class: 'lane' }, icon('mortar-board'), ` Tutor · ${s.lane} `);
  if (s.laneWarning)
    lane.append(
      el('span', { id: 'lane-warning', class: 'warning', role: 'status' }, icon('warning'), ` ${s.laneWarning} `),
    );
  if (s.canStart)
    lane.append(
      button('Start local server', { id: 'start-server', class: 'secondary' }, () =>
        vscode.postMessage({ type: 'startServer' }),
      ),
    );
  header.replaceChildren(
    lane,
    el(
      'div',
      {
        id: 'meter',
        class: `meter ${m.level}`,
        title:
          `About ${m.used} tokens in this session. The policy keeps Tutor sessions short (${m.short} ` +
          `tokens); the model's context holds ${m.window}.`,
      },
      el('span', {}, `Context ${m.used.toLocaleString()} / ${m.short.toLocaleString()} tokens`),
      el('progress', { max: '100', value: String(pct), 'aria-label': 'Session context used' }),
      m.level !== 'ok'
        ? el(
            'span',
            { class: 'hint' },
            m.level === 'full' ? 'Full: start a new session' : 'Long session: consider a new one',
          )
        : '',
    ),
  );
  // Turns: finished ones are redrawn from the host's text; a streaming one keeps what the deltas built.
  transcript.replaceChildren(...s.turns.map(turnNode));
  for (const t of s.turns) {
    const l = live.get(t.id);
    if (l) l.node = transcript.querySelector<HTMLElement>(`[data-id="${CSS.escape(t.id)}"] .md`);
    if (l && t.status !== 'streaming' && prev?.turns.find((p) => p.id === t.id)?.status === 'streaming') {
      flushNow();
      vscode.postMessage({ type: 'rendered', id: t.id, chars: l.chars, batches: l.batches, frames: l.frames });
    }
  }
  if (s.turns.at(-1)?.status === 'streaming' && !live.has(s.turns.at(-1)!.id)) startLive(s.turns.at(-1)!.id);
  chips.replaceChildren(
    ...s.attachments.map((a) =>
      el(
        'span',
        { class: 'chip', 'data-attachment': a.id },
        icon('file-code'),
        ` ${a.label} (${a.tokens} tokens) `,
        button('×', { class: 'secondary remove', title: `Remove ${a.label}`, 'aria-label': `Remove ${a.label}` }, () =>
          vscode.postMessage({ type: 'removeAttachment', id: a.id }),
        ),
      ),
    ),
  );
  send.disabled = s.busy;
  stop.disabled = !s.busy;
  notice.textContent = s.notice ?? '';
  transcript.scrollTop = transcript.scrollHeight;
}

function startLive(id: string): void {
  live.set(id, {
    raw: '',
    pending: '',
    chars: 0,
    batches: 0,
    nextSeq: 0,
    frames: 0,
    gaps: 0,
    node: transcript.querySelector<HTMLElement>(`[data-id="${CSS.escape(id)}"] .md`),
    codes: [],
  });
}

function flushNow(): void {
  frame = 0;
  for (const [id, l] of live) {
    if (!l.pending) continue;
    l.raw += l.pending;
    l.pending = '';
    l.frames++;
    if (l.node) {
      renderInto(l.node, id, l.raw);
      const art = l.node.parentElement!;
      art.dataset.chars = String(l.chars);
      art.dataset.batches = String(l.batches);
      art.dataset.frames = String(l.frames);
    }
  }
  transcript.scrollTop = transcript.scrollHeight;
}

function onHostMessage(m: ToTutorView): void {
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'state':
      renderState(m);
      markPainted(afterFirstPaint);
      break;
    case 'delta': {
      if (!live.has(m.id)) startLive(m.id);
      const l = live.get(m.id)!;
      if (m.seq !== l.nextSeq) l.gaps++;
      l.nextSeq = m.seq + 1;
      l.batches++;
      l.chars += m.text.length;
      l.pending += m.text;
      frame ||= requestAnimationFrame(flushNow);
      break;
    }
    case 'reset': {
      const l = live.get(m.id);
      if (l) {
        l.raw = '';
        l.pending = '';
        l.chars = 0;
        if (l.node) l.node.replaceChildren(el('p', { class: 'muted' }, `Restarted: ${m.reason}`));
      }
      break;
    }
  }
}
// The conversation as the host had it when it wrote the HTML is drawn now; the host sends it again after ready.
fromHost(onHostMessage);
vscode.postMessage({ type: 'ready', ms: performance.now() });
// What the first paint does not need is fetched after it: the Markdown renderer (its fetch and compile would
// otherwise hold up the host's first state message) and the icon font.
function afterFirstPaint(): void {
  loadRenderer();
  loadCodicons();
}
