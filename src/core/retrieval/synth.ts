// Stage 0 tier-2 synthesis (MODEL-POLICY.md §1, GR-008): an answer grounded in cited sources, from NotebookLM
// (through the user's MCP server) or, as the policy's fallback, the local summariser. Every citation is checked
// against the sources the way the Judge's are: the source must be one of them and the quote must be in it.
// Failing citations are shown as unverified and the question is asked once more; still failing, the answer is
// marked unreliable, and that is audited.
import { z } from 'zod';
import type { CallResult, ModelCaller } from '../providers/call.js';
import { callJson } from '../providers/structured.js';
import type { ChatMessage } from '../providers/types.js';

export interface Source {
  path: string;
  text: string;
}

export const SynthAnswer = z.object({
  answer: z.string().min(1).max(50_000),
  citations: z.array(z.object({ source: z.string().min(1).max(500), quote: z.string().max(2000) })).max(50),
});
export type SynthAnswer = z.infer<typeof SynthAnswer>;

export interface CheckedCitation {
  source: string;
  quote: string;
  verified: boolean;
  path: string | null;
  line: number | null;
  problem: string | null;
}

export interface SynthResult {
  answer: string;
  citations: CheckedCitation[];
  unreliable: boolean;
  provider: string;
  model: string;
  calls: number;
  result: CallResult;
}

const HINT =
  '{"answer": string (Markdown), "citations": [{"source": string (the path of a source exactly ' +
  'as given), "quote": string (words copied exactly from that source)}]}';
const squash = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

export function checkCitations(a: SynthAnswer, sources: Source[]): CheckedCitation[] {
  return a.citations.map((c) => {
    const want = c.source.trim().replace(/^\.?\//, '');
    const src =
      sources.find((s) => s.path === want) ??
      sources.find((s) => s.path.endsWith(`/${want}`) || s.path.split('/').pop() === want);
    if (!src)
      return { ...c, verified: false, path: null, line: null, problem: `"${c.source}" is not one of the sources` };
    const q = squash(c.quote);
    if (q.length < 8)
      return { ...c, verified: false, path: src.path, line: null, problem: 'the quote is too short to check' };
    const hay = squash(src.text);
    const at = hay.indexOf(q);
    if (at < 0)
      return { ...c, verified: false, path: src.path, line: null, problem: `the quote is not in ${src.path}` };
    // The line: count the lines before the first word of the quote in the original text.
    const first = c.quote.trim().split(/\s+/)[0]!;
    const idx = src.text.toLowerCase().indexOf(first.toLowerCase());
    return {
      ...c,
      verified: true,
      path: src.path,
      line: idx >= 0 ? src.text.slice(0, idx).split('\n').length : null,
      problem: null,
    };
  });
}

/** The question, then the sources in rank order: what does not fit the window goes from the lowest rank up. */
function sourcesMessage(question: string, sources: Source[], problems: string | null): ChatMessage {
  const again = problems
    ? `Your previous citations did not match the sources:\n${problems}\nAnswer again with exact quotes.\n\n`
    : '';
  const head = `Question: ${question}\n\n${again}`;
  const parts = sources.map((s) => `=== ${s.path}\n${s.text}`);
  return {
    role: 'user',
    content: head + parts.join('\n\n'),
    cut: { order: 1, label: 'retrieved sources', head, parts, sep: '\n\n' },
  };
}

function messages(question: string, sources: Source[], problems: string | null): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'Answer the question from the sources only. Every claim needs a citation: the source path ' +
        'exactly as given and a quote copied word for word from it. If the sources do not answer the ' +
        'question, say so.',
    },
    sourcesMessage(question, sources, problems),
  ];
}

export async function synthesise(
  caller: ModelCaller,
  q: { question: string; sources: Source[]; task_id?: string; signal?: AbortSignal },
): Promise<SynthResult> {
  if (q.sources.length === 0) throw new Error('nothing to synthesise from: Stage 0 found no source for this question');
  const ask = (problems: string | null, parent?: string) =>
    callJson(caller, SynthAnswer, {
      role: 'stage0_synth',
      schemaHint: HINT,
      max_tokens: 4000,
      messages: messages(q.question, q.sources, problems),
      ...(q.task_id ? { task_id: q.task_id } : {}),
      ...(q.signal ? { signal: q.signal } : {}),
      ...(parent ? { parent_call: parent } : {}),
    });
  const first = await ask(null);
  let checked = checkCitations(first.value, q.sources);
  let final = first;
  let calls = 1;
  const bad = (c: CheckedCitation[]) => c.filter((x) => !x.verified);
  if (bad(checked).length > 0 || checked.length === 0) {
    const why =
      checked.length === 0
        ? 'the answer cites nothing'
        : bad(checked)
            .map((c) => `- ${c.source}: ${c.problem}`)
            .join('\n');
    await caller.note(
      'repair',
      `GR-008: stage0_synth: ${checked.length === 0 ? 'no citation' : `${bad(checked).length} of ${checked.length} citations`} ` +
        `from ${first.result.provider}/${first.result.model} could not be verified; asked once more`,
      { role: 'stage0_synth', task_id: q.task_id ?? null, call_id: first.result.call_id },
    );
    final = await ask(why, first.result.call_id);
    calls++;
    checked = checkCitations(final.value, q.sources);
  }
  const unreliable = checked.length === 0 || bad(checked).length > 0;
  if (unreliable) {
    await caller.note(
      'failure',
      `GR-008: stage0_synth: the answer from ${final.result.provider}/${final.result.model} is unreliable: ` +
        (checked.length === 0
          ? 'it cites nothing'
          : `${bad(checked).length} of ${checked.length} citations unverified`),
      { role: 'stage0_synth', task_id: q.task_id ?? null, call_id: final.result.call_id },
    );
  }
  return {
    answer: final.value.answer,
    citations: checked,
    unreliable,
    provider: final.result.provider,
    model: final.result.model,
    calls,
    result: final.result,
  };
}

/** The answer for people: the text, then each citation with its check. */
export function renderSynth(r: SynthResult, question: string): string {
  const cites = r.citations
    .map(
      (c, i) =>
        `${i + 1}. ${c.verified ? '✓' : '✗ UNVERIFIED'} ${c.path ?? c.source}${c.line ? `:${c.line}` : ''}: ` +
        `"${c.quote}"${c.problem ? ` (${c.problem})` : ''}`,
    )
    .join('\n');
  return (
    `# ${question}\n\n` +
    (r.unreliable ? '> **Unreliable (GR-008):** some citations could not be verified against the sources.\n\n' : '') +
    `${r.answer}\n\n## ` +
    `Sources\n\n${cites || '(none)'}\n\n_Answered by ${r.provider}/${r.model}${r.calls > 1 ? ` after ${r.calls} tries` : ''}._\n`
  );
}
