// The Markdown renderer as a script of its own (markdown-it and DOMPurify are nine tenths of the Tutor's code):
// the Tutor view draws its shell first and loads this after its first paint (see loadRenderer in tutor.ts).
import { renderMarkdown } from './lib/markdown.js';

declare global {
  interface Window {
    switchyardMarkdown?: typeof renderMarkdown;
  }
}
window.switchyardMarkdown = renderMarkdown;
window.dispatchEvent(new Event('switchyard-markdown'));
