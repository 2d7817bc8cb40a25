// The turn loop: before each turn the router decides again from the task's running state (a stopped local server is
// started, or the user asked before a paid fallback), the transcript is fitted to the serving model's window, one
// call goes through the one call path with the tools, a lane change is said and audited (GR-005), and the answer's
// tool calls (toolCalls.ts) or text (textAnswer.ts) are handled.
import { estimateTokens } from '../budget/cost.js';
import { CallRefused, type CallResult } from '../providers/call.js';
import { route } from '../router/route.js';
import type { RouteDecision } from '../router/types.js';
import { laneOf, routeRequest } from './state.js';
import { AGENT_TOOLS } from './toolSpecs.js';
import { fitToWindow, keptCalls } from './transcript.js';
import { recordLabel, recordWarning } from '../runtime/served.js';
import { AgentTask, CANCELLED, Done, isCancel, pad } from './task.js';
import { toolCalls, toolMessage } from './toolCalls.js';
import type { ToolCall } from '../providers/types.js';
import { textAnswer } from './textAnswer.js';

const DEFAULT_MAX_TURNS = 40;
/** The guardrail of a budget cap (GR-011): a task stopped by it gives up ("budget"), it is not refused. */
const BUDGET = 'GR-011';
const DEFAULT_WINDOW = 32_768;
/** The tools' schemas, sent with every turn: part of the prompt the window holds. */
const TOOLS_TOKENS = estimateTokens(JSON.stringify(AGENT_TOOLS));
/** The same tool calls this many turns in a row: the task is stuck, and gives up (a stall). */
const STALL_TURNS = 3;

export async function runTurns(t: AgentTask): Promise<Done> {
  const max = t.i.policy.agent?.max_turns ?? DEFAULT_MAX_TURNS;
  while (t.turn < max) {
    t.turn++;
    if (t.signal.aborted) throw CANCELLED();
    t.save();
    const end = await oneTurn(t);
    t.save();
    if (end) return end;
  }
  return new Done(
    'gave_up',
    `The agent used its ${max} turns without finishing (policy agent.max_turns); the evidence folder has each turn.`,
    'turn_limit',
  );
}

/** One model turn and its tool calls; a Done ends the task. */
export async function oneTurn(t: AgentTask): Promise<Done | null> {
  const { p, i } = t;
  t.state.userCloud = i.userRequestsCloud?.() ?? t.state.userCloud;
  const pre = await preRoute(t);
  if (pre instanceof Done) return pre;
  // The window the serving model really has (a local server's as it runs), and the room the call path leaves the
  // prompt in it: the transcript is fitted to that, so the call path has nothing left to cut.
  const maxTokens = i.maxTokens ?? 8_000;
  const first = pre.chain[0];
  const room = first && typeof p.caller.room === 'function' ? await p.caller.room(first, maxTokens) : null;
  const window = i.contextWindow?.(pre) ?? room?.window ?? first?.spec.context_tokens ?? DEFAULT_WINDOW;
  const fit = fitToWindow(t.messages, window, room ? room.prompt - TOOLS_TOKENS : undefined);
  t.kept.request(`turns/${pad(t.turn)}-request.json`, {
    route: routeRequest(t.state),
    messages: fit.messages,
  });
  if (!t.snapshot) t.takeSnapshot();
  t.snapshot!.catch(() => {}); // a failed snapshot is retried at the edit, where its error is reported
  let r: CallResult;
  try {
    r = await p.caller.call({
      role: 'implementer',
      task_id: i.task_id,
      messages: fit.messages,
      tools: AGENT_TOOLS,
      max_tokens: maxTokens,
      route: routeRequest(t.state),
      signal: t.signal,
      onEvent: (e) => e.type === 'text' && p.emit({ type: 'text', turn: t.turn, text: e.text }),
    });
  } catch (e) {
    if (isCancel(e)) throw e;
    const refused = e instanceof CallRefused;
    const prefix = refused && e.guardrail ? `${e.guardrail}: ` : '';
    t.attempt('failed_call', (e as Error).message, null);
    if (refused && e.guardrail === BUDGET) return new Done('gave_up', `${prefix}${(e as Error).message}`, 'budget');
    return new Done(refused ? 'refused' : 'failed', `${prefix}${(e as Error).message}`);
  }
  t.served = { provider: r.provider, model: r.model, rule: r.decision.rule };
  await noteLane(t, r.decision, r.provider, r.model);
  recordTurn(t, r, fit.tokens, window);
  t.push({
    role: 'assistant',
    content: r.text,
    ...(r.tool_calls.length ? { tool_calls: keptCalls(r.tool_calls) } : {}),
  });
  if (r.tool_calls.length) return stalled(t, r.tool_calls) ?? toolCalls(t, r.tool_calls);
  return textAnswer(t, r.text);
}

/** The same calls as the turns before, STALL_TURNS times in a row: answered without running, and the task gives up. */
function stalled(t: AgentTask, calls: ToolCall[]): Done | null {
  const sig = JSON.stringify(calls.map((c) => [c.name, c.arguments]));
  t.repeats = sig === t.lastCalls ? t.repeats + 1 : 0;
  t.lastCalls = sig;
  if (t.repeats < STALL_TURNS - 1) return null;
  for (const c of calls) toolMessage(t, c, `not run: the same calls ${STALL_TURNS} turns in a row`, false);
  t.attempt('no_patch', `the same tool calls ${STALL_TURNS} turns in a row`);
  return new Done(
    'gave_up',
    `The agent sent the same tool calls ${STALL_TURNS} turns in a row (${calls.map((c) => c.name).join(', ')}) ` +
      'and was stopped there; the evidence folder has each turn.',
    'stall',
  );
}

/**
 * The decision this turn will get, before the call: when it is the local lane and the server is stopped, the
 * server is started; when it cannot be, the user is asked before any paid cloud call (GR-005: audited).
 */
export async function preRoute(t: AgentTask): Promise<RouteDecision | Done> {
  const { p, i, state } = t;
  const decide = () =>
    route({ role: 'implementer', ...routeRequest(state) }, i.policy, { local_only_setting: i.localOnly });
  const d = decide();
  if (d.refused) {
    const why = `${d.refused.guardrail ? `${d.refused.guardrail}: ` : ''}${d.refused.message}`;
    return d.refused.guardrail === BUDGET ? new Done('gave_up', why, 'budget') : new Done('refused', why);
  }
  if (d.location !== 'local' || state.localUnavailable || !p.ensureLocal) return d;
  if (await p.ensureLocal()) return d;
  if (d.local_only) {
    state.localUnavailable = true;
    const again = decide();
    return new Done('refused', again.refused?.message ?? 'the local model server could not be started (local_only)');
  }
  const why = 'the local model server is not running and could not be started';
  const ok = (await p.confirmPaidFallback?.(why)) ?? false;
  await p.caller.note(
    ok ? 'fallback' : 'refusal',
    `GR-005: implementer: ${why}; ${ok ? 'the user allowed the paid cloud fallback' : 'the user declined a paid cloud call'}`,
    { role: 'implementer', task_id: i.task_id },
  );
  if (!ok)
    return new Done('refused', `${why}; no paid cloud call was made. Start the local model server and try again.`);
  state.localUnavailable = true;
  return decide();
}

/** A decision that moves the task to another lane is said in the transcript and the audit log (GR-005). */
export async function noteLane(t: AgentTask, d: RouteDecision, provider: string, model: string): Promise<void> {
  const lane = `${d.location} ${provider}/${model}`;
  if (lane === t.lastLane) return;
  const from = t.lastLane;
  t.lastLane = lane;
  const why = `${d.rule}: ${d.reasons.join('; ')}`;
  t.p.emit({
    type: 'route',
    turn: t.turn,
    from,
    to: laneOf({ location: d.location, provider, model, rule: d.rule }),
    why,
  });
  t.p.evidence.append('routing.jsonl', { turn: t.turn, from, to: lane, rule: d.rule, reasons: d.reasons });
  if (from === null) return;
  await t.p.caller.note('escalation', `GR-005: implementer: turn ${t.turn} moves from ${from} to ${lane} (${why})`, {
    role: 'implementer',
    task_id: t.i.task_id,
  });
}

export function recordTurn(t: AgentTask, r: CallResult, tokens: number, window: number): void {
  const u = r.usage;
  t.p.evidence.write(`turns/${pad(t.turn)}-answer.json`, {
    provider: r.provider,
    model: r.model,
    served_model: r.served_model,
    served: r.served,
    rule: r.decision.rule,
    text: r.text,
    tool_calls: r.tool_calls,
    usage: u,
    cost_usd: r.cost_usd,
  });
  t.p.emit({
    type: 'turn',
    turn: t.turn,
    provider: r.provider,
    model: r.model,
    location: r.decision.location,
    rule: r.decision.rule,
    tokens_in: u.input_tokens + u.cached_input_tokens,
    tokens_out: u.output_tokens,
    cost_usd: r.cost_usd,
    context_tokens: tokens,
    context_window: window,
    text: r.text,
    served: r.served ? recordLabel(r.served) : null,
    warning: recordWarning(r.served),
  });
}
