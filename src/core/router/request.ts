import type { z } from 'zod';
import { RouteRequestSchema, type RouteRequest } from './types.js';

export interface FieldError {
  field: string;
  reason: string;
}

/** Validates a RouteRequest; errors name the field and the reason. */
export function parseRouteRequest(
  raw: unknown,
): { ok: true; request: RouteRequest } | { ok: false; errors: FieldError[] } {
  const r = RouteRequestSchema.safeParse(raw);
  if (r.success) return { ok: true, request: r.data };
  return { ok: false, errors: zodErrors(r.error.issues, 'request') };
}

export function zodErrors(issues: z.core.$ZodIssue[], root: string): FieldError[] {
  return issues.map((i) => {
    const path = [root, ...i.path.map(String)];
    if (i.code === 'unrecognized_keys') {
      return {
        field: [...path, i.keys[0]].join('.'),
        reason: `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`,
      };
    }
    return { field: path.join('.'), reason: i.message };
  });
}
