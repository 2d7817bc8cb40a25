// Dollars as people read them: cents for ordinary amounts, and enough digits below a cent to tell two amounts
// apart (a $0.001 cap and $0.0004 spent must not both read "$0.00"). Pure: the webviews share it.

/** `$1.23`, `$0.50`, `$0.00`, `$0.015`, `$0.001`, `$0.00042`; never more than eight decimals (below that, `<$0.00000001`). */
export function usd(n: number): string {
  if (!Number.isFinite(n)) return `$${n}`;
  const abs = Math.abs(n);
  if (abs === 0 || abs >= 0.01) return `${n < 0 ? '-' : ''}$${abs.toFixed(2)}`;
  // Two significant digits below a cent, trailing zeros past the cents dropped.
  const decimals = Math.min(8, Math.max(2, -Math.floor(Math.log10(abs)) + 1));
  const text = abs.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1');
  if (Number(text) === 0) return `${n < 0 ? '-' : ''}<$0.00000001`;
  return `${n < 0 ? '-' : ''}$${text}`;
}
