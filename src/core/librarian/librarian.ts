// The Librarian (MODEL-POLICY.md §1, §3): synthesises or cleans up documents on the local lane and escalates to
// Kimi K2 on exactly the §3 predicates: context_estimate over the threshold, contradictions detected,
// tool-heavy work, a full sweep, or the local synthesis's own confidence below the threshold. Every predicate
// is computed here, deterministically, before the call (the last one after the local answer), and named in the
// routing decision's audit line.
import { cuttableText } from '../providers/fit.js';
import { z } from 'zod';
import { estimateTokens } from '../budget/cost.js';
import type { Policy } from '../policy/schema.js';
import type { CallResult, ModelCaller } from '../providers/call.js';
import { callJson } from '../providers/structured.js';
import type { Signals } from '../router/types.js';

export interface LibDoc {
  path: string;
  text: string;
}
export type LibMode = 'synthesise' | 'cleanup';

export interface LibrarianInput {
  mode: LibMode;
  docs: LibDoc[];
  /** What the user wants (a topic, a question, "merge these"); optional. */
  goal?: string;
  /** The user asked for the whole folder or workspace (§3 full_sweep). */
  sweep: boolean;
  task_id?: string;
  signal?: AbortSignal;
  /** Stage 0: other workspace files related to the goal (paths and why), for reference. */
  related?: string;
}

/** Two statements that cannot both hold: the same setting given different values. */
export interface Contradiction {
  key: string;
  a: { path: string; line: number; value: string };
  b: { path: string; line: number; value: string };
}

/** §3 tool_heavy: a clean-up that rewrites more than this many files needs many tool calls. */
export const TOOL_HEAVY_FILES = 5;

const LIBRARIAN_TASK = {
  synthesise: 'synthesise several documents into one clear, well-structured Markdown document',
  cleanup: 'clean up documents: fix structure, remove duplication, make terminology consistent, keep every fact',
} as const;

// A setting stated in prose: "- **timeout**: 30 s", "retries = 3", "The cache is 512 MB.".
const SETTING = new RegExp(
  /^\s*(?:[-*+]\s+|\d+\.\s+)?(?:\*\*|__|`)?([A-Za-z][A-Za-z0-9 _.\-/]{1,40}?)(?:\*\*|__|`)?\s*/.source +
    /(?::|=| is | are | must be | defaults to )\s*(?:\*\*|`)?/.source +
    /([^\s`*,;]+(?:\s?(?:ms|s|seconds|minutes|MB|GB|KB|%|days|hours))?)(?:\*\*|`)?\s*[.;,]?\s*$/.source,
  'i',
);

const norm = (k: string) =>
  k
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/**
 * Deterministic contradiction finder: lines that state a setting (`key: value`, `key = value`, `key is value`,
 * also in lists and bold) and give one key two different values, within a document or across documents.
 * Code blocks are skipped. Each contradiction cites both lines.
 */
export function findContradictions(docs: LibDoc[]): Contradiction[] {
  const seen = new Map<string, { path: string; line: number; value: string }>();
  const out: Contradiction[] = [];
  const reported = new Set<string>();
  for (const d of docs) {
    let fence = false;
    d.text.split(/\r?\n/).forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fence = !fence;
        return;
      }
      if (fence || /^\s*#/.test(line)) return;
      const m = SETTING.exec(line);
      if (!m) return;
      const key = norm(m[1]!);
      if (!key || key.split(' ').length > 5) return;
      const value = m[2]!.toLowerCase().replace(/[.,;]$/, '');
      const here = { path: d.path, line: i + 1, value };
      const prev = seen.get(key);
      if (!prev) {
        seen.set(key, here);
        return;
      }
      if (prev.value !== value && !reported.has(`${key}\0${value}`)) {
        reported.add(`${key}\0${value}`);
        out.push({ key, a: prev, b: here });
      }
    });
  }
  return out;
}

export interface LibrarianSignals {
  context_estimate: number;
  signals: Signals;
  contradictions: Contradiction[];
}

/** The §3 predicates of a job, before any model is called. */
export function librarianSignals(
  i: Pick<LibrarianInput, 'mode' | 'docs' | 'sweep' | 'goal' | 'related'>,
): LibrarianSignals {
  const contradictions = findContradictions(i.docs);
  const context =
    estimateTokens(i.docs.map((d) => `${d.path}\n${d.text}`).join('\n')) +
    estimateTokens(i.goal ?? '') +
    estimateTokens(i.related ?? '') +
    400;
  return {
    context_estimate: context,
    contradictions,
    signals: {
      contradictions_detected: contradictions.length > 0,
      tool_heavy: i.mode === 'cleanup' && i.docs.length > TOOL_HEAVY_FILES,
      full_sweep: i.sweep,
    },
  };
}

export const LibrarianOutput = z.object({
  title: z.string().min(1).max(200),
  /** The synthesised document, or for a clean-up the proposed new text of each file. */
  document: z.string().max(400_000).optional(),
  files: z
    .array(z.object({ path: z.string().min(1), text: z.string() }))
    .max(200)
    .optional(),
  contradictions_resolved: z.array(z.object({ key: z.string(), resolution: z.string() })).default([]),
  open_questions: z.array(z.string()).default([]),
  confidence: z.number().min(0).max(1),
});
export type LibrarianOutput = z.infer<typeof LibrarianOutput>;

const HINT =
  `{"title": string, "document"?: string (Markdown; for "synthesise"), "files"?: [{"path": string, ` +
  `"text": string}] (for "cleanup": the full new text of each file you change), "contradictions_resolved": ` +
  `[{"key": string, "resolution": string}], "open_questions": [string], "confidence": number ` +
  `0-1 (your honest probability that the result is correct and complete)}`;

export function librarianMessages(
  i: LibrarianInput,
  s: LibrarianSignals,
): { role: 'system' | 'user'; content: string }[] {
  const contra = s.contradictions.length
    ? `\n\nThese statements contradict each other; resolve each one (say which holds and why) or ` +
      `list it as an open question:\n` +
      s.contradictions
        .map((c) => `- "${c.key}": ${c.a.value} (${c.a.path}:${c.a.line}) vs ${c.b.value} (${c.b.path}:${c.b.line})`)
        .join('\n')
    : '';
  return [
    {
      role: 'system',
      content:
        `You are the Librarian of Switchyard. You ${LIBRARIAN_TASK[i.mode]}. ` +
        `Never invent facts that are not in the documents; cite the source file of each important statement ` +
        `as (path).`,
    },
    // A small window loses the retrieved references first, then the documents' ends, never the job.
    cuttableText(
      'user',
      `Mode: ${i.mode}.${i.goal ? ` Goal: ${i.goal}.` : ''}${contra}\n\n`,
      i.docs.map((d) => `=== ${d.path}\n${d.text}`).join('\n\n'),
      { order: 2, label: 'documents' },
    ),
    ...(i.related ? [cuttableText('user', '', i.related, { order: 1, label: 'retrieved references' })] : []),
  ];
}

export interface LibrarianResult {
  output: LibrarianOutput;
  result: CallResult;
  /** The §3 predicates that held, as the router named them; empty on the routine local path. */
  escalated_on: string[];
  signals: LibrarianSignals;
  /** The local answer whose low confidence sent the job to Kimi, when that happened. */
  local_first?: { confidence: number; model: string };
}

/**
 * One Librarian job: the predicates, the routed call (local, or Kimi when a predicate holds), and when the local
 * model answered with a confidence below the policy's threshold, one escalation with that predicate.
 */
export async function runLibrarian(caller: ModelCaller, policy: Policy, i: LibrarianInput): Promise<LibrarianResult> {
  if (i.docs.length === 0) throw new Error('the Librarian needs at least one document');
  const s = librarianSignals(i);
  const messages = librarianMessages(i, s);
  const call = (signals: Signals) =>
    callJson(caller, LibrarianOutput, {
      role: 'librarian',
      messages,
      schemaHint: HINT,
      max_tokens: 16_000,
      route: { context_estimate: s.context_estimate, signals },
      ...(i.task_id ? { task_id: i.task_id } : {}),
      ...(i.signal ? { signal: i.signal } : {}),
    });
  // The §3 predicates the router named when it escalated (none on the routine local path).
  const heldBy = (r: CallResult) =>
    r.decision.escalated
      ? r.decision.reasons.filter((x) =>
          /^(context_estimate|contradictions_detected|tool_heavy|full_sweep|local_synth_confidence)/.test(x),
        )
      : [];
  const first = await call(s.signals);
  const threshold = policy.escalation.librarian.confidence_threshold;
  if (first.result.provider === 'local' && first.value.confidence < threshold) {
    await caller.note(
      'escalation',
      `GR-005: librarian: the local synthesis's confidence ${first.value.confidence} is below ${threshold} ` +
        `(§3 local_synth_confidence); asking the router again with that predicate`,
      { role: 'librarian', task_id: i.task_id ?? null, call_id: first.result.call_id },
    );
    const second = await call({ ...s.signals, local_confidence: first.value.confidence });
    return {
      output: second.value,
      result: second.result,
      escalated_on: heldBy(second.result),
      signals: s,
      local_first: { confidence: first.value.confidence, model: first.result.model },
    };
  }
  return { output: first.value, result: first.result, escalated_on: heldBy(first.result), signals: s };
}
