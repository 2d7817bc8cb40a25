// switchyard ask: one real routed model call, streamed to stdout (or, with --json, the final record).
import { CallFailed, CallRefused } from '../../core/providers/call.js';
import { ROLE_IDS } from '../../core/policy/constants.js';
import type { RoleId } from '../../core/policy/schema.js';
import { EXIT, printJson, readInput, UsageError, io } from '../io.js';
import { cliCaller } from '../caller.js';
import { resolvePolicy } from '../policyFile.js';

export interface AskOptions {
  role?: string;
  policy?: string;
  task?: string;
  json?: boolean;
  localOnly?: boolean;
  state?: string;
  maxTokens?: string;
  text: string[];
}

export async function askCommand(o: AskOptions): Promise<number> {
  if (!o.role) throw new UsageError('ask: --role is required (one of ' + ROLE_IDS.join(', ') + ')');
  if (!(ROLE_IDS as readonly string[]).includes(o.role))
    throw new UsageError(`ask: --role: "${o.role}" is not a role (one of ${ROLE_IDS.join(', ')})`);
  const text = o.text.length === 1 && o.text[0] === '-' ? readInput('-', 'ask') : o.text.join(' ');
  if (!text.trim()) throw new UsageError('ask: give the question as TEXT (or - to read it from standard input)');
  const maxTokens = positiveInt(o.maxTokens);
  const { policy, warnings } = resolvePolicy(o.policy);
  for (const w of warnings) io().stderr.write(`warning: ${w.field}: ${w.message}\n`);
  const { caller } = cliCaller(policy, o);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let wrote = false;
  try {
    const r = await caller.call({
      role: o.role as RoleId,
      messages: [{ role: 'user', content: text }],
      ...(o.task ? { task_id: o.task } : {}),
      ...(maxTokens ? { max_tokens: maxTokens } : {}),
      signal: ac.signal,
      keepText: o.json === true,
      onEvent: o.json
        ? undefined
        : (e) => {
            if (e.type === 'text') {
              io().stdout.write(e.text);
              wrote = true;
            } else if (e.type === 'reset')
              io().stderr.write(
                `\n[switchyard] the answer above is incomplete and void: ${caller.redactor.redact(e.reason)}; next: ${e.next}\n`,
              );
          },
    });
    if (o.json) {
      printJson({
        decision: r.decision,
        provider: r.provider,
        model: r.model,
        served_model: r.served_model,
        served: r.served,
        text: r.text,
        finish_reason: r.finish_reason,
        usage: r.usage,
        cost_usd: r.cost_usd,
        timings: r.timings,
        attempts: r.attempts,
        call_id: r.call_id,
        audit: r.audit.at(-1),
        audit_trail: r.audit,
      });
    } else {
      if (wrote) io().stdout.write('\n');
      io().stderr.write(`[switchyard] ${r.audit.at(-1)}\n`);
    }
    return EXIT.ok;
  } catch (e) {
    return askFailed(e, o.json === true);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** A refusal exits 3 (2 for a request no guardrail refused), a failure 4, a cancel 130; anything else is a bug. */
function askFailed(e: unknown, json: boolean): number {
  if (e instanceof CallRefused) {
    if (json)
      printJson({
        refused: { guardrail: e.guardrail, message: e.message },
        decision: e.decision,
        audit_trail: e.audit,
      });
    io().stderr.write(`switchyard: refused${e.guardrail ? ` (${e.guardrail})` : ''}: ${e.message}\n`);
    return e.guardrail ? EXIT.refused : EXIT.badInput;
  }
  if (e instanceof CallFailed) {
    if (json)
      printJson({
        error: { kind: e.kind, message: e.message },
        attempts: e.attempts,
        decision: e.decision,
        audit_trail: e.audit,
      });
    if (e.kind === 'cancelled') {
      io().stderr.write('\nswitchyard: cancelled\n');
      return EXIT.cancelled;
    }
    io().stderr.write(`switchyard: ${e.message}\naudit trail:\n${e.audit.map((l) => `  ${l}`).join('\n')}\n`);
    return EXIT.failed;
  }
  throw e;
}

function positiveInt(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`ask: --max-tokens: "${raw}" is not a positive integer`);
  return n;
}
