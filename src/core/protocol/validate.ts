// One gate for every message a webview sends: validated with its panel's zod table, or dropped and logged
// (never acted on). Shared by the panel hosts and the controllers they drive.
import type { z } from 'zod';

export function validateMessage<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  view: string,
  warn: (s: string) => void,
): T | null {
  const m = schema.safeParse(raw);
  if (m.success) return m.data;
  let shown: string;
  try {
    shown = String(JSON.stringify(raw) ?? raw);
  } catch {
    shown = Object.prototype.toString.call(raw);
  }
  warn(`${view} view: dropped an invalid message (${m.error.issues[0]?.message ?? 'invalid'}): ${shown.slice(0, 200)}`);
  return null;
}
