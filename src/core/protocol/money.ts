// Money as the views show it: the one formatter the webviews and the host share (util/money.ts defines it; the
// webviews import the core only through the protocol, so they take it from here).
export { usd } from '../util/money.js';
