// The Implementer as a tool-using agent (MODEL-POLICY.md §1, §3; GR-002, GR-005, GR-006, GR-010). Each turn: the
// router decides again from the task's running state (state.ts), the transcript is fitted to the serving model's
// window (transcript.ts), one model call goes through the one call path with the tools, and each tool call runs
// (tools.ts): reads at once, edits on approval after a checkpoint, commands on approval or by the policy's
// allowlist. After every edit the whole change so far is measured again; a lane change is audited and the new
// model gets the transcript so far. The task ends when the model finishes and the checks pass (or nothing could
// check it: "unverified"; or a high-risk change: "awaiting_judge"), when it gives up, is refused or is stopped.
import { streamedChecks } from './checkBatch.js';
import type { CheckOutput } from './checkOutput.js';
import type { Classification } from '../classifier/types.js';
import type { TaskEvidence } from '../evidence/taskEvidence.js';
import type { CheckResult } from './checks.js';
import { applyAnswer, PatchError, unifiedDiff, type FileChange } from './edits/answer.js';
import type { ToolResult } from '../sandbox/process.js';
import type { Policy } from '../policy/schema.js';
import type { AttemptRecord } from '../reflector/reflector.js';
import { CallFailed, CallRefused, type CallResult, type ModelCaller } from '../providers/call.js';
import type { ChatMessage, ToolCall } from '../providers/types.js';
import { route } from '../router/route.js';
import type { RouteDecision } from '../router/types.js';
import type { ShadowCheckpoints, Checkpoint } from './checkpoints.js';
import { openingMessages, projectRules, type TaskText } from './prompt.js';
import { initialState, laneOf, routeRequest, type RunningState, type Scope } from './state.js';
import { AGENT_TOOLS } from './toolSpecs.js';
import { reviewChanges, runAgentTool, type PortArgs, type ProposedChange, type ToolOutcome } from './tools.js';
import { cutResult, fitToWindow } from './transcript.js';
import { isRefusal, type Workspace } from './workspace.js';
import { recordLabel, recordWarning } from '../runtime/served.js';
import type { CommandRules } from '../policy/commandTrust.js';
import { DEFAULT_MAX_EVIDENCE_BYTES, EvidenceBound } from './evidenceBound.js';
import type { AgentEvent, AgentStatus } from './events.js';
import { governingSnapshot, undoGoverningChanges, undoneNote } from './governingWatch.js';
import { noteNoSandbox, permitChecks, permitCommand, permitGoverning, type CommandAsk } from './permits.js';

export type { CommandAsk } from './permits.js';

export type { AgentEvent, AgentStatus } from './events.js';

export interface AgentInput extends TaskText {
  task_id: string;
  policy: Policy;
  localOnly: boolean;
  signal?: AbortSignal;
  scope?: Scope;
  /** The user's "use cloud" (asked before every turn: the task view's button can change it mid-task). */
  userRequestsCloud?: () => boolean;
  /** Output tokens per turn (default 8,000). */
  maxTokens?: number;
  /** The serving model's real context window, where the runtime knows it better than the policy (local servers). */
  contextWindow?: (d: RouteDecision) => number | undefined;
  /** The plan step this task does (kept as evidence: plan-step.json). */
  planStep?: { plan_id: string; step: unknown };
  /** Whose command rules count (commandTrust.ts); absent: the policy's allowlist, as the user's own. */
  commandRules?: CommandRules;
}

export type EditDecision = 'approve' | 'reject';

export interface AgentPorts {
  caller: ModelCaller;
  ws: Workspace;
  evidence: TaskEvidence;
  checkpoints: ShadowCheckpoints;
  classify(diff: string, changes: FileChange[]): Promise<Classification>;
  approveEdits(changes: ProposedChange[], summary: string): Promise<EditDecision>;
  /** A command the rules do not let run unattended, or any command without a sandbox: run it? */
  approveCommand(argv: string[], cwd: string, ask: CommandAsk): Promise<boolean>;
  /** An edit of a file that governs the agent or its checks (`governs`): only the user approves it, never auto-approve. */
  approveGoverningEdit?(changes: ProposedChange[], reasons: string[]): Promise<boolean>;
  /** Masks the secrets this host knows (keys) in every tool result before the model, the evidence or a view sees it. */
  redact?(text: string): string;
  /** The OS sandbox commands and checks run in; absent or unavailable: every command asks first. */
  sandbox?: { available: boolean; why?: string };
  /** `onOutput`: each step's output while it runs (whole lines, secrets masked), for the people watching. */
  runChecks(c: Classification | null, signal: AbortSignal, onOutput?: CheckOutput): Promise<CheckResult>;
  runCommand(argv: string[], cwd: string, timeoutMs: number, signal: AbortSignal): Promise<ToolResult>;
  askUser(question: string): Promise<string | null>;
  /** The local server, started (and waited for) when it is stopped; false when it cannot be. */
  ensureLocal?(): Promise<boolean>;
  /** The local lane cannot serve: may this turn go to a paid cloud model? */
  confirmPaidFallback?(why: string): Promise<boolean>;
  /** Stage 0's ranked files (search mode "context"). */
  context?(query: string, max: number): Promise<string>;
  emit(e: AgentEvent): void;
}

export interface AgentResult {
  status: AgentStatus;
  message: string;
  turns: number;
  checkpoints: Checkpoint[];
  changed: string[];
  requires_judge: boolean;
  evidence: string;
  classification: Classification | null;
  /** Each check run, text answer, rejected edit and failed call, as the reflector reads a task. */
  attempts: AttemptRecord[];
}

const DEFAULT_MAX_TURNS = 40;
const DEFAULT_MAX_CALLS_PER_TURN = 32;
export const DEFAULT_MAX_WRITE_BYTES = 2 * 1024 * 1024;
const DEFAULT_WINDOW = 32_768;
const CANCELLED = () => new CallFailed('cancelled', 'cancelled', [], [], null);
const isCancel = (e: unknown) =>
  (e instanceof CallFailed && e.kind === 'cancelled') || (e as Error)?.name === 'AbortError';

/** The end of the task, as a value the loop returns through. */
class Done {
  constructor(
    readonly status: AgentStatus,
    readonly message: string,
  ) {}
}

export async function runAgent(p: AgentPorts, i: AgentInput): Promise<AgentResult> {
  return new Agent(p, i).run();
}

class Agent {
  private readonly messages: ChatMessage[] = [];
  private readonly state: RunningState;
  private readonly signal: AbortSignal;
  private turn = 0;
  private lastLane: string | null = null;
  private editedSinceCheck = false;
  private lastCheck: { ok: boolean; unverified: boolean } | null = null;
  private checkpointedTurn = -1;
  /** A snapshot taken while the model answers; valid until the workspace changes (an edit, a command). */
  private snapshot: Promise<Checkpoint> | null = null;
  private nudged = false;
  private requiresJudge = false;
  private readonly attempts: AttemptRecord[] = [];
  private served: { provider: string; model: string; rule: string } | null = null;
  private readonly kept: EvidenceBound;
  /** What the last checks wrote to governing files and Switchyard undid (said to the model). */
  private undoneByChecks: string | null = null;

  constructor(
    private readonly p: AgentPorts,
    private readonly i: AgentInput,
  ) {
    this.signal = i.signal ?? new AbortController().signal;
    this.state = initialState(i.scope);
    this.kept = new EvidenceBound(p.evidence, i.policy.agent?.max_evidence_bytes ?? DEFAULT_MAX_EVIDENCE_BYTES);
  }

  async run(): Promise<AgentResult> {
    const { p, i } = this;
    const rules = projectRules(p.ws);
    p.evidence.write('instruction.md', `# ${i.task_id}\n\n${i.instruction}\n`);
    for (const r of rules) p.evidence.write(`rules/${r.path.replace(/\//g, '_')}`, r.text);
    if (i.scope?.why.length) p.evidence.write('scope.json', i.scope);
    if (i.planStep) p.evidence.write('plan-step.json', i.planStep);
    // The project's files are data in the user's role, delimited and labelled, never the system's instructions; the
    // opening messages are the stable start of the prompt-cache prefix (prompt.ts).
    this.messages.push(...openingMessages(i.policy, rules, i));
    let end: Done;
    try {
      await noteNoSandbox(p, i.task_id, (n, b) => p.evidence.write(n, b));
      end = await this.loop();
    } catch (e) {
      if (!isCancel(e)) throw e;
      end = new Done('cancelled', 'Stopped. The edits made so far stay; restore a checkpoint to undo them.');
    }
    return this.finish(end);
  }

  private async loop(): Promise<Done> {
    const max = this.i.policy.agent?.max_turns ?? DEFAULT_MAX_TURNS;
    while (this.turn < max) {
      this.turn++;
      if (this.signal.aborted) throw CANCELLED();
      const end = await this.oneTurn();
      if (end) return end;
    }
    return new Done('failed', `The agent used its ${max} turns without finishing; the evidence folder has each turn.`);
  }

  /** One model turn and its tool calls; a Done ends the task. */
  private async oneTurn(): Promise<Done | null> {
    const { p, i } = this;
    this.state.userCloud = i.userRequestsCloud?.() ?? this.state.userCloud;
    const pre = await this.preRoute();
    if (pre instanceof Done) return pre;
    const window = i.contextWindow?.(pre) ?? pre.chain[0]?.spec.context_tokens ?? DEFAULT_WINDOW;
    const fit = fitToWindow(this.messages, window);
    this.kept.request(`turns/${pad(this.turn)}-request.json`, {
      route: routeRequest(this.state),
      messages: fit.messages,
    });
    this.snapshot ??= p.checkpoints.snapshot('snapshot');
    this.snapshot.catch(() => {}); // a failed snapshot is retried at the edit, where its error is reported
    let r: CallResult;
    try {
      r = await p.caller.call({
        role: 'implementer',
        task_id: i.task_id,
        messages: fit.messages,
        tools: AGENT_TOOLS,
        max_tokens: i.maxTokens ?? 8_000,
        route: routeRequest(this.state),
        signal: this.signal,
        onEvent: (e) => e.type === 'text' && p.emit({ type: 'text', turn: this.turn, text: e.text }),
      });
    } catch (e) {
      if (isCancel(e)) throw e;
      const refused = e instanceof CallRefused;
      const prefix = refused && e.guardrail ? `${e.guardrail}: ` : '';
      this.attempt('failed_call', (e as Error).message, null);
      return new Done(refused ? 'refused' : 'failed', `${prefix}${(e as Error).message}`);
    }
    this.served = { provider: r.provider, model: r.model, rule: r.decision.rule };
    await this.noteLane(r.decision, r.provider, r.model);
    this.recordTurn(r, fit.tokens, window);
    this.messages.push({
      role: 'assistant',
      content: r.text,
      ...(r.tool_calls.length ? { tool_calls: r.tool_calls } : {}),
    });
    if (r.tool_calls.length) return this.toolCalls(r.tool_calls);
    return this.textAnswer(r.text);
  }

  /**
   * The decision this turn will get, before the call: when it is the local lane and the server is stopped, the
   * server is started; when it cannot be, the user is asked before any paid cloud call (GR-005: audited).
   */
  private async preRoute(): Promise<RouteDecision | Done> {
    const { p, i, state } = this;
    const decide = () =>
      route({ role: 'implementer', ...routeRequest(state) }, i.policy, { local_only_setting: i.localOnly });
    const d = decide();
    if (d.refused)
      return new Done('refused', `${d.refused.guardrail ? `${d.refused.guardrail}: ` : ''}${d.refused.message}`);
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
  private async noteLane(d: RouteDecision, provider: string, model: string): Promise<void> {
    const lane = `${d.location} ${provider}/${model}`;
    if (lane === this.lastLane) return;
    const from = this.lastLane;
    this.lastLane = lane;
    const why = `${d.rule}: ${d.reasons.join('; ')}`;
    this.p.emit({
      type: 'route',
      turn: this.turn,
      from,
      to: laneOf({ location: d.location, provider, model, rule: d.rule }),
      why,
    });
    this.p.evidence.append('routing.jsonl', { turn: this.turn, from, to: lane, rule: d.rule, reasons: d.reasons });
    if (from === null) return;
    await this.p.caller.note(
      'escalation',
      `GR-005: implementer: turn ${this.turn} moves from ${from} to ${lane} (${why})`,
      {
        role: 'implementer',
        task_id: this.i.task_id,
      },
    );
  }

  private recordTurn(r: CallResult, tokens: number, window: number): void {
    const u = r.usage;
    this.p.evidence.write(`turns/${pad(this.turn)}-answer.json`, {
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
    this.p.emit({
      type: 'turn',
      turn: this.turn,
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

  private async toolCalls(calls: ToolCall[]): Promise<Done | null> {
    let end: Done | null = null;
    const cap = this.i.policy.agent?.max_tool_calls_per_turn ?? DEFAULT_MAX_CALLS_PER_TURN;
    for (const [k, c] of calls.entries()) {
      if (this.signal.aborted) throw CANCELLED();
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
            : await this.oneTool(c);
      if (result instanceof Done) {
        end = result;
        this.toolMessage(c, `finished: ${result.message}`, true);
        continue;
      }
      this.toolMessage(c, result.content, result.ok);
    }
    return end;
  }

  private toolMessage(c: ToolCall, raw: string, ok: boolean): void {
    // A file the agent reads can hold a key (.env): no tool result reaches the model or the record unredacted.
    const content = this.p.redact ? this.p.redact(raw) : raw;
    const cut = cutResult(c.name, content, 24_000);
    this.messages.push({ role: 'tool', tool_call_id: c.id, name: c.name, content: cut });
    this.kept.tool({ turn: this.turn, id: c.id, name: c.name, arguments: c.arguments, ok }, content);
    this.p.emit({ type: 'tool', turn: this.turn, name: c.name, arguments: c.arguments, ok, result: cut });
  }

  private async oneTool(c: ToolCall): Promise<{ content: string; ok: boolean } | Done> {
    try {
      const out: ToolOutcome = await runAgentTool(
        {
          ws: this.p.ws,
          context: this.p.context?.bind(this.p),
          maxWriteBytes: this.i.policy.agent?.max_write_bytes ?? DEFAULT_MAX_WRITE_BYTES,
        },
        c.name,
        c.arguments,
      );
      if (out.kind === 'answer') return out;
      if (out.kind === 'edit') return await this.edit(out.changes, out.summary);
      return await this.port(out.args);
    } catch (e) {
      // A tool call is untrusted input: whatever it makes fail is the model's answer, never the end of the task.
      if (isCancel(e) || e instanceof CallFailed || e instanceof CallRefused) throw e;
      const why = isRefusal(e) ? (e as Error).message : `failed: ${(e as Error)?.message ?? String(e)}`;
      return { content: `${String(c.name).slice(0, 80)}: ${why}`, ok: false };
    }
  }

  /** Edits: a checkpoint before the turn's first, approval, the write, and the whole change measured again. */
  private async edit(changes: ProposedChange[], summary: string): Promise<{ content: string; ok: boolean }> {
    const { p } = this;
    const governed = await permitGoverning(p, changes);
    if (governed) {
      this.attempt('rejected', summary);
      return { content: governed, ok: false };
    }
    const decision = await p.approveEdits(changes, summary);
    if (decision === 'reject') {
      this.attempt('rejected', summary);
      const content = `the user rejected this edit (${summary}); nothing was written. Ask or try another way.`;
      return { content, ok: false };
    }
    if (this.checkpointedTurn !== this.turn) {
      const label = `before turn ${this.turn}: ${summary}`;
      const ready = await this.snapshot?.catch(() => null);
      const cp = ready ? p.checkpoints.keep(ready, label) : await p.checkpoints.create(label);
      this.checkpointedTurn = this.turn;
      p.emit({ type: 'checkpoint', turn: this.turn, id: cp.id, label: cp.label });
    }
    this.snapshot = null; // the workspace changes now
    // Every path is checked before any is written: one refused path leaves the whole batch unwritten.
    try {
      p.ws.apply(changes);
    } catch (e) {
      if (!isRefusal(e)) throw e;
      return { content: `not written: ${(e as Error).message}`, ok: false };
    }
    this.editedSinceCheck = true;
    const before = this.state.measured;
    const c = await this.measure();
    const lane = c
      ? ` The change so far: ${c.lines_changed} lines, ${c.risk_flags.length ? `risk flags ${c.risk_flags.join(', ')}` : 'no risk flag'}.`
      : '';
    const grew = c && c.high_risk && !before?.high_risk ? ' It now measures as high risk.' : '';
    return { content: `applied: ${summary}.${lane}${grew}`, ok: true };
  }

  /** The task's whole diff so far, measured by the classifier (only the files the task touched are read). */
  private async measure(): Promise<Classification | null> {
    const changes = this.p.ws.changes();
    if (changes.length === 0) {
      this.state.measured = null;
      this.requiresJudge = false;
      return null;
    }
    const diff = unifiedDiff(changes);
    const asFile = changes.map((c) => ({ path: c.path, before: c.before, after: c.after ?? '' }));
    const c = await this.p.classify(diff, asFile);
    this.state.measured = c;
    this.requiresJudge = c.high_risk;
    // Routing is sticky within a task: a risk the change once had keeps later turns where it sent them (no bouncing
    // back to the local lane because the cloud model undid the risky lines).
    const scope = this.state.scope;
    scope.flags = [...new Set([...(scope.flags ?? []), ...c.risk_flags])].sort() as typeof c.risk_flags;
    scope.cross_crate ||= c.cross_crate;
    this.p.evidence.write(`diffs/turn-${pad(this.turn)}.diff`, diff);
    this.p.evidence.write(`classifications/turn-${pad(this.turn)}.json`, c);
    return c;
  }

  private async port(a: PortArgs): Promise<{ content: string; ok: boolean } | Done> {
    switch (a.name) {
      case 'run_checks': {
        this.undoneByChecks = null;
        const r = await this.checks();
        return this.undoneByChecks ? { ...r, content: `${r.content}\n${this.undoneByChecks}` } : r;
      }
      case 'run_command':
        return this.command(a.argv, a.cwd, a.timeout_s);
      case 'ask_user': {
        this.state.ambiguous = true;
        const reply = await this.p.askUser(a.question);
        return reply === null
          ? { content: 'the user did not answer; decide from the code and say what you assumed', ok: false }
          : { content: `the user answered: ${reply}`, ok: true };
      }
      case 'finish':
        return this.finishCall(a.summary, a.confidence);
    }
  }

  private async checks(): Promise<{ content: string; ok: boolean }> {
    const refused = await permitChecks(this.p);
    if (refused) {
      this.lastCheck = { ok: false, unverified: true };
      this.editedSinceCheck = false;
      this.p.evidence.write(`checks/turn-${pad(this.turn)}.log`, `[not run: ${refused}; the user did not approve]\n`);
      return { content: `the checks did not run: ${refused}, and the user did not approve running them`, ok: false };
    }
    this.snapshot = null; // the checks may write files (reports, generated code)
    const gov = governingSnapshot(this.p.ws);
    const r = await streamedChecks(this.p, this.state.measured, this.signal, this.turn);
    const undone = await this.undoGoverning(gov, 'the checks');
    if (r.cancelled) throw CANCELLED();
    if (undone) r.log += `\n[${(this.undoneByChecks = undone)}]\n`;
    const unverified = r.steps.length === 0;
    this.p.evidence.write(`checks/turn-${pad(this.turn)}.log`, r.log || '(no check is configured for this workspace)');
    this.editedSinceCheck = false;
    this.lastCheck = { ok: r.ok && !unverified, unverified };
    const errors = r.errors.map((e) => e.rendered || e.message);
    this.p.emit({
      type: 'check',
      turn: this.turn,
      ok: r.ok && !unverified,
      steps: r.steps.map((s) => s.name),
      errors: errors.slice(0, 5),
      unverified,
    });
    if (unverified)
      return { content: 'no check is configured for this workspace: the change is unverified', ok: false };
    if (r.ok) {
      this.attempt('passed', r.steps.map((s) => s.name).join(', '));
      return { content: `checks passed: ${r.steps.map((s) => s.name).join(', ')}`, ok: true };
    }
    this.attempt(
      'check_failed',
      r.errors
        .map((e) => e.message)
        .slice(0, 5)
        .join('; ') || r.log.slice(-500),
    );
    this.state.failedLoops++;
    await this.noteFailedLoop();
    const timed = r.timedOut ? ' (timed out)' : '';
    return {
      content: `checks failed${timed} (${this.state.failedLoops} failed loop(s)):\n${errors.join('\n').slice(0, 8_000)}`,
      ok: false,
    };
  }

  private async noteFailedLoop(): Promise<void> {
    const max = this.i.policy.escalation.implementer.max_failed_loops;
    if (this.state.failedLoops !== max) return;
    const next = route({ role: 'implementer', ...routeRequest(this.state) }, this.i.policy, {
      local_only_setting: this.i.localOnly,
    });
    const to = next.refused
      ? `no escalation: ${next.refused.message}`
      : `escalating by ${next.rule} to ${next.provider}/${next.model}`;
    await this.p.caller.note(
      'escalation',
      `GR-005: implementer: ${max} failed compile/test loops (policy max ${max}); ${to}`,
      {
        role: 'implementer',
        task_id: this.i.task_id,
      },
    );
  }

  private async command(argv: string[], cwd: string, timeoutS: number): Promise<{ content: string; ok: boolean }> {
    const rules = this.i.commandRules ?? {
      userAllow: this.i.policy.agent?.command_allowlist ?? [],
      repoAllow: [],
      deny: [],
    };
    const refused = await permitCommand(this.p, rules, argv, cwd);
    if (refused) return { content: refused, ok: false };
    this.snapshot = null; // a command may change the workspace
    const gov = governingSnapshot(this.p.ws);
    const r = await this.p.runCommand(argv, cwd, timeoutS * 1000, this.signal);
    const undone = await this.undoGoverning(gov, argv[0] ?? 'the command');
    if (r.cancelled) throw CANCELLED();
    if (undone) r.stderr += `\n[${undone}]`;
    this.p.evidence.append('commands.jsonl', {
      turn: this.turn,
      argv,
      cwd,
      code: r.code,
      ms: r.ms,
      timedOut: r.timedOut,
    });
    const out = `${r.stdout}${r.stderr ? `\n[stderr]\n${r.stderr}` : ''}`;
    const status = r.timedOut ? `timed out after ${timeoutS} s` : `exit ${r.code ?? r.signal}`;
    return { content: `${argv.join(' ')}: ${status}\n${out}`, ok: r.code === 0 };
  }

  /**
   * finish: a local model below the policy's confidence threshold hands the task to the cloud (low-confidence
   * self-check); edits not yet checked are checked first; then the task ends.
   */
  private async finishCall(summary: string, confidence: number): Promise<{ content: string; ok: boolean } | Done> {
    const t = this.i.policy.escalation.implementer;
    this.p.evidence.append('finish.jsonl', { turn: this.turn, summary, confidence });
    const local = this.lastLane?.startsWith('local');
    if (confidence < t.confidence_threshold && local && this.state.lowConfidence === null) {
      this.state.lowConfidence = confidence;
      return {
        content:
          `confidence ${confidence} is below the policy's ${t.confidence_threshold}: the task is not finished; ` +
          'a second model reviews the work so far and completes it (low-confidence self-check).',
        ok: false,
      };
    }
    if (this.p.ws.changes().length === 0)
      return new Done('failed', `The agent finished without changing anything: ${summary}`);
    if (this.editedSinceCheck || !this.lastCheck) {
      const r = await this.checks();
      if (!r.ok && !this.lastCheck?.unverified)
        return { content: `${r.content}\nFix the errors, then finish again.`, ok: false };
    }
    if (this.lastCheck && !this.lastCheck.ok && !this.lastCheck.unverified)
      return { content: 'the last checks failed; fix them before you finish', ok: false };
    return this.outcome(summary);
  }

  private outcome(summary: string): Done {
    if (this.lastCheck?.unverified)
      return new Done(
        'unverified',
        `${summary} — nothing checked this change (no check is configured): unverified (GR-006).`,
      );
    if (this.requiresJudge)
      return new Done(
        'awaiting_judge',
        `${summary} — the checks passed; the change is high risk: a cloud Judge must approve it (GR-002).`,
      );
    return new Done('passed', `${summary} — the checks passed.`);
  }

  /** A model that answers in text: search/replace blocks are edits; prose is nudged once, then taken as a finish. */
  private async textAnswer(text: string): Promise<Done | null> {
    let changes: FileChange[] = [];
    const editLike = /^<{7} SEARCH$|^(---|\+\+\+) \S|^@@ /m.test(text);
    if (editLike)
      try {
        changes = await applyAnswer(text, async (path) => this.p.ws.current(this.p.ws.rel(path)));
      } catch (e) {
        if (!(e instanceof PatchError) && !isRefusal(e)) throw e;
        this.messages.push({ role: 'user', content: `Your edit could not be applied: ${e.message}. Send it again.` });
        return null;
      }
    if (changes.length) {
      const reviewed = reviewChanges(
        changes.map((c) => ({ ...c, how: 'search/replace block' })),
        this.i.policy.agent?.max_write_bytes ?? DEFAULT_MAX_WRITE_BYTES,
      );
      if (!reviewed.ok) {
        this.messages.push({ role: 'user', content: `Your edit could not be applied: ${reviewed.message}` });
        return null;
      }
      const r = await this.edit(reviewed.changes, `text edit of ${changes.map((c) => c.path).join(', ')}`);
      const checked = r.ok ? await this.checks() : r;
      if (checked.ok) return this.outcome('the text edits applied');
      this.messages.push({ role: 'user', content: `${r.content}\n${checked.content}` });
      return null;
    }
    this.attempt('no_patch', `answered without an edit: ${text.slice(0, 200)}`);
    if (!this.nudged) {
      this.nudged = true;
      this.messages.push({
        role: 'user',
        content: 'Make the change with the tools (or search/replace blocks), then call finish.',
      });
      return null;
    }
    const r = await this.finishCall(text.slice(0, 500) || 'no summary', 1);
    if (r instanceof Done) return r;
    this.messages.push({ role: 'user', content: r.content });
    return null;
  }

  /** What a command or check wrote to governing files is undone, said to the model and in the audit log (GR-005). */
  private async undoGoverning(before: Map<string, Buffer>, what: string): Promise<string | null> {
    const undone = undoGoverningChanges(this.p.ws, before);
    if (!undone.length) return null;
    const note = undoneNote(what, undone);
    this.p.evidence.append('undone.jsonl', { turn: this.turn, what, undone });
    await this.p.caller.note('refusal', `GR-010: implementer: ${note}`, {
      role: 'implementer',
      task_id: this.i.task_id,
    });
    return note;
  }

  /** One record for the reflector, by the model that served this turn. */
  private attempt(outcome: AttemptRecord['outcome'], detail: string, who = this.served): void {
    const m = this.state.measured;
    this.attempts.push({
      attempt: this.turn,
      provider: who?.provider ?? null,
      model: who?.model ?? null,
      rule: who?.rule ?? null,
      outcome,
      detail,
      lines: m?.lines_changed ?? null,
      flags: m?.risk_flags ?? [],
    });
  }

  private finish(end: Done): AgentResult {
    const { p } = this;
    const changed = p.ws.changes().map((c) => c.path);
    const r: AgentResult = {
      status: end.status,
      message: end.message,
      turns: this.turn,
      checkpoints: p.checkpoints.all(),
      changed,
      requires_judge: this.requiresJudge,
      evidence: p.evidence.dir,
      classification: this.state.measured,
      attempts: this.attempts,
    };
    p.evidence.write('result.json', {
      ...r,
      classification: r.classification
        ? {
            lines_changed: r.classification.lines_changed,
            risk_flags: r.classification.risk_flags,
            high_risk: r.classification.high_risk,
          }
        : null,
    });
    p.evidence.seal();
    p.emit({ type: 'result', status: r.status, message: r.message, turns: r.turns, evidence: r.evidence });
    return r;
  }
}

const pad = (n: number) => String(n).padStart(3, '0');
