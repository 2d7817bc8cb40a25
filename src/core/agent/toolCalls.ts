// A turn's tool calls, one at a time: reads answer at once, edits go to editing.ts, checks and commands to
// checking.ts, finish to outcome.ts. Every result is masked (keys) and bounded before the model, the evidence or a
// view sees it; past the policy's cap or after a finish, the remaining calls are answered without running.
import { CallFailed, CallRefused } from '../providers/call.js';
import type { ToolCall } from '../providers/types.js';
import { runAgentTool, type PortArgs, type ToolOutcome } from './tools.js';
import { cutResult } from './transcript.js';
import { isRefusal } from './workspace.js';
import { AgentTask, CANCELLED, Done, isCancel } from './task.js';
import { edit } from './editing.js';
import { checks, command } from './checking.js';
import { finishCall } from './outcome.js';

const DEFAULT_MAX_CALLS_PER_TURN = 32;

export async function toolCalls(t: AgentTask, calls: ToolCall[]): Promise<Done | null> {
  let end: Done | null = null;
  const cap = t.i.policy.agent?.max_tool_calls_per_turn ?? DEFAULT_MAX_CALLS_PER_TURN;
  for (const [k, c] of calls.entries()) {
    if (t.signal.aborted) throw CANCELLED();
    // After a finish, the remaining calls of the turn are answered without running; past the cap, every call
    // (finish too) is answered "not run".
    const result: { content: string; ok: boolean } | Done =
      k >= cap
        ? {
            content: `not run: too many calls in one turn (the policy allows ${cap}); send the rest in the next turn`,
            ok: false,
          }
        : end
          ? { content: 'not run: the task finished', ok: false }
          : await oneTool(t, c);
    if (result instanceof Done) {
      end = result;
      toolMessage(t, c, `finished: ${result.message}`, true);
      continue;
    }
    toolMessage(t, c, result.content, result.ok);
  }
  return end;
}

export function toolMessage(t: AgentTask, c: ToolCall, raw: string, ok: boolean): void {
  // A file the agent reads can hold a key (.env): no tool result reaches the model or the record unredacted.
  const content = t.p.redact ? t.p.redact(raw) : raw;
  const cut = cutResult(c.name, content, 24_000);
  t.push({ role: 'tool', tool_call_id: c.id, name: c.name, content: cut });
  t.kept.tool({ turn: t.turn, id: c.id, name: c.name, arguments: c.arguments, ok }, content);
  t.p.emit({ type: 'tool', turn: t.turn, name: c.name, arguments: c.arguments, ok, result: cut });
  t.save();
}

export async function oneTool(t: AgentTask, c: ToolCall): Promise<{ content: string; ok: boolean } | Done> {
  try {
    const out: ToolOutcome = await runAgentTool(
      {
        ws: t.p.ws,
        context: t.p.context?.bind(t.p),
        maxWriteBytes: t.maxWriteBytes,
      },
      c.name,
      c.arguments,
    );
    if (out.kind === 'answer') return out;
    if (out.kind === 'edit') return await edit(t, out.changes, out.summary);
    return await port(t, out.args);
  } catch (e) {
    // A tool call is untrusted input: whatever it makes fail is the model's answer, never the end of the task.
    if (isCancel(e) || e instanceof CallFailed || e instanceof CallRefused) throw e;
    const why = isRefusal(e) ? (e as Error).message : `failed: ${(e as Error)?.message ?? String(e)}`;
    return { content: `${String(c.name).slice(0, 80)}: ${why}`, ok: false };
  }
}

export async function port(t: AgentTask, a: PortArgs): Promise<{ content: string; ok: boolean } | Done> {
  switch (a.name) {
    case 'run_checks': {
      t.undoneByChecks = null;
      const r = await checks(t);
      return t.undoneByChecks ? { ...r, content: `${r.content}\n${t.undoneByChecks}` } : r;
    }
    case 'run_command':
      return command(t, a.argv, a.cwd, a.timeout_s);
    case 'ask_user': {
      t.state.ambiguous = true;
      const reply = await t.p.askUser(a.question);
      return reply === null
        ? { content: 'the user did not answer; decide from the code and say what you assumed', ok: false }
        : { content: `the user answered: ${reply}`, ok: true };
    }
    case 'finish':
      return finishCall(t, a.summary, a.confidence);
  }
}
