// Small DOM helpers shared by the webviews: elements built with DOM APIs (text is never parsed as HTML).
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

export function button(label: string, attrs: Record<string, string>, onClick: () => void): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

export interface Column {
  label: string;
  /** A figure: right-aligned, never wrapped inside. */
  num?: boolean;
}

/**
 * A table that reads at any width: inside a horizontal scroller, each cell labelled with its column (narrow views
 * stack the rows as cards, see webview.css `table.stack`), figures never wrapped.
 */
export function table(
  attrs: Record<string, string>,
  columns: Column[],
  rows: { attrs?: Record<string, string>; cells: (Node | string | { node: Node | string; class: string })[] }[],
): HTMLElement {
  const head = el(
    'tr',
    {},
    ...columns.map((c) => el('th', c.num ? { class: 'num', scope: 'col' } : { scope: 'col' }, c.label)),
  );
  const body = el('tbody');
  for (const r of rows)
    body.append(
      el(
        'tr',
        r.attrs ?? {},
        ...r.cells.map((cell, i) => {
          const col = columns[i]!;
          const extra = typeof cell === 'object' && 'node' in cell ? cell.class : '';
          const cls = [col.num ? 'num' : '', extra].filter(Boolean).join(' ');
          const content = typeof cell === 'object' && 'node' in cell ? cell.node : cell;
          return el('td', { 'data-label': col.label, ...(cls ? { class: cls } : {}) }, content);
        }),
      ),
    );
  const t = el('table', { ...attrs, class: `stack ${attrs.class ?? ''}`.trim() }, el('thead', {}, head), body);
  return el('div', { class: 'table-scroll' }, t);
}

export const icon = (name: string) => el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });

export interface VsCodeApi<T> {
  postMessage(m: T): void;
  setState(s: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi<T>(): VsCodeApi<T>;
export const vscodeApi = <T>(): VsCodeApi<T> => acquireVsCodeApi<T>();

// The nonce of the view's own script (set by the host): scripts added later must carry it (CSP script-src).
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? '';

/** Adds a script from dist/media (its URL set by the host on <body>), with the page's nonce. */
export function loadScript(src: string | undefined): void {
  if (!src || document.querySelector(`script[src="${CSS.escape(src)}"]`)) return;
  const s = el('script', { src });
  s.nonce = nonce;
  document.body.append(s);
}

/**
 * Hands `handle` what the host sends: first the state it put in the HTML (`#initial-state`, see
 * src/core/protocol/embed.ts), drawn before the view says ready, then every message.
 */
export function fromHost<T>(handle: (m: T) => void): void {
  window.addEventListener('message', (ev: MessageEvent<T>) => handle(ev.data));
  const text = document.getElementById('initial-state')?.textContent;
  if (!text) return;
  let first: T;
  try {
    first = JSON.parse(text) as T;
  } catch {
    return;
  }
  handle(first);
}

/** The icon font's stylesheet, linked after the first render (its URL is on <body>, set by the host). */
export function loadCodicons(): void {
  const href = document.body.dataset.codicons;
  if (!href || document.querySelector('link[data-codicons]')) return;
  document.head.append(el('link', { rel: 'stylesheet', href, 'data-codicons': '' }));
}

/**
 * Marks on <body> when the view first showed the host's content (`data-painted-at`, set in the next animation
 * frame) and when its document started (`data-loaded-at`), both as epoch milliseconds: the UI tests compare them
 * with the moment the command ran, in the same browser, and see whether a view came back without reloading.
 * `then` runs once, after that first frame (for what the first paint does not need).
 */
export function markPainted(then?: () => void): void {
  const b = document.body;
  if (b.dataset.loadedAt !== undefined) return;
  b.dataset.loadedAt = String(performance.timeOrigin);
  requestAnimationFrame(() => {
    b.dataset.paintedAt = String(performance.timeOrigin + performance.now());
    // The next task, after the frame is on screen.
    if (then) setTimeout(then, 0);
  });
}
