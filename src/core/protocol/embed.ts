// A view's first state, carried inside its HTML (a JSON data block read by the view before it says ready), so
// the first paint shows content without waiting for a message round trip through the workbench. The state
// holds model output and file text: every "<" is escaped, so nothing in it can close the block or open markup.

/** JSON for a `<script type="application/json">` block: no "<" at all, and JSON.parse gives the value back. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
