// GR-012: calls whose output automation consumes ask for JSON, are validated with zod, get one repair
// attempt that quotes the validation error, and otherwise fail clearly.
import type { z } from 'zod';
import type { ChatMessage } from './types.js';
import { CallFailed, type CallOptions, type CallResult, type ModelCaller } from './call.js';

export interface JsonResult<T> {
  value: T;
  result: CallResult;
  repaired: boolean;
}

/** The JSON object in a model's answer: a bare object, or one inside a ```json fence. */
export function extractJson(text: string): unknown {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n?```/.exec(text);
  const body = (fenced ? fenced[1]! : text).trim();
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('the answer holds no JSON object');
  return JSON.parse(body.slice(start, end + 1));
}

function problems(schema: z.ZodType, text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  let raw: unknown;
  try {
    raw = extractJson(text);
  } catch (e) {
    return { ok: false, why: `not valid JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    why: r.error.issues
      .slice(0, 8)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; '),
  };
}

/** The answer a repair quotes: its end may be cut to fit the window (its beginning shows what went wrong). */
function cuttableAnswer(text: string): ChatMessage {
  const parts = text.match(/[\s\S]{1,1000}/g) ?? [''];
  return {
    role: 'assistant',
    content: text,
    cut: { order: 0, label: 'answer being repaired', head: '', parts, sep: '' },
  };
}

export async function callJson<S extends z.ZodType>(
  caller: ModelCaller,
  schema: S,
  o: CallOptions & { schemaHint: string },
): Promise<JsonResult<z.infer<S>>> {
  const instruction = {
    role: 'system' as const,
    content: `Answer with exactly one JSON object and nothing else (no prose, no code fence). It must match this shape:\n${o.schemaHint}`,
  };
  const messages = [instruction, ...o.messages];
  const first = await caller.call({ ...o, messages, json: true, keepText: true });
  const a = problems(schema, first.text);
  if (a.ok) return { value: a.value as z.infer<S>, result: first, repaired: false };
  await caller.note(
    'repair',
    `GR-012: ${first.provider}/${first.model} returned JSON that does not validate (${a.why}); one repair attempt`,
    { role: o.role, task_id: o.task_id ?? null, call_id: first.call_id },
  );
  const second = await caller.call({
    ...o,
    json: true,
    keepText: true,
    parent_call: first.call_id,
    messages: [
      ...messages,
      cuttableAnswer(first.text.slice(0, 20_000)),
      {
        role: 'user',
        content: `Your answer did not validate: ${a.why}. Reply again with the corrected JSON object only.`,
      },
    ],
  });
  const b = problems(schema, second.text);
  if (b.ok) return { value: b.value as z.infer<S>, result: second, repaired: true };
  await caller.note(
    'failure',
    `GR-012: the ${o.role}'s answer still does not validate after the repair attempt (${b.why})`,
    { role: o.role, task_id: o.task_id ?? null, call_id: second.call_id },
  );
  throw new CallFailed(
    'invalid_output',
    `GR-012: the ${o.role}'s answer is not valid JSON for its schema after one repair attempt: ${b.why}`,
    [...first.attempts, ...second.attempts],
    [...first.audit, ...second.audit],
    second.decision,
  );
}
