// Model output as Markdown, safely: markdown-it with raw HTML off, then DOMPurify; links lose their href
// (the host opens them after the user confirms); code blocks get Copy and Insert buttons.
import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: false });
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface Rendered {
  html: string;
  codes: string[];
}

export function renderMarkdown(text: string, window: Window = globalThis as unknown as Window): Rendered {
  const codes: string[] = [];
  const renderer = md.renderer;
  const before = renderer.rules.fence;
  renderer.rules.fence = (tokens, idx) => {
    const t = tokens[idx]!;
    const lang = (t.info || '').trim().split(/\s+/)[0] ?? '';
    const n = codes.push(t.content) - 1;
    return (
      `<div class="code"><div class="code-bar"><span class="lang">${escape(lang)}</span>` +
      `<button type="button" class="secondary" data-act="copy" data-code="${n}">Copy</button>` +
      `<button type="button" class="secondary" data-act="insert" data-code="${n}">Insert at cursor</button></div>` +
      `<pre><code>${escape(t.content)}</code></pre></div>`
    );
  };
  let raw: string;
  try {
    raw = md.render(text);
  } finally {
    renderer.rules.fence = before;
  }
  const purify = DOMPurify(window as never);
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href');
      node.removeAttribute('href');
      node.removeAttribute('target');
      if (href) {
        node.setAttribute('data-href', href);
        node.setAttribute('title', href);
        node.setAttribute('role', 'link');
        node.setAttribute('tabindex', '0');
      }
    }
  });
  const html = purify.sanitize(raw, {
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
    FORBID_TAGS: [
      'style',
      'form',
      'input',
      'textarea',
      'select',
      'iframe',
      'object',
      'embed',
      'img',
      'svg',
      'math',
      'video',
      'audio',
      'source',
      'link',
      'meta',
      'base',
    ],
    FORBID_ATTR: ['style', 'srcset', 'formaction', 'action', 'xlink:href'],
    ALLOW_DATA_ATTR: true,
  }) as unknown as string;
  return { html, codes };
}
