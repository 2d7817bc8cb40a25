// Small DOM helpers shared by the webviews: elements built with DOM APIs (text is never parsed as HTML).
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
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

export const icon = (name: string) => el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });

export interface VsCodeApi<T> { postMessage(m: T): void; setState(s: unknown): void; getState(): unknown }
declare function acquireVsCodeApi<T>(): VsCodeApi<T>;
export const vscodeApi = <T>(): VsCodeApi<T> => acquireVsCodeApi<T>();

/** The icon font's stylesheet, linked after the first render (its URL is on <body>, set by the host). */
export function loadCodicons(): void {
  const href = document.body.dataset.codicons;
  if (!href || document.querySelector('link[data-codicons]')) return;
  document.head.append(el('link', { rel: 'stylesheet', href, 'data-codicons': '' }));
}
