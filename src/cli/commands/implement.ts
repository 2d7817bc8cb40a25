// switchyard implement: the same agent as "Implement with Reflex Lane", without the editor. Events go to stderr as
// lines for a person (a check's output as it comes, each line after its step's name), or to stdout as JSON lines
// with --json. --yes approves edits, but not edits of the files that govern the agent or define its checks
// (--allow-build-edits does, and says so); a command the rules do not allow never runs headless; without an OS
// sandbox nothing runs unless --no-sandbox is given (named and audited).
// The policy is the one of --repo (or --policy F). Exit 0: the checks passed (a high-risk change then awaits the
// Judge), 3: refused, 4: gave up or nothing could verify the change, 130: stopped. --resume TASK continues an
// interrupted task with the same events and exit codes; --abandon TASK restores its first checkpoint.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { diskPorts, type DiskPorts } from '../../core/agent/diskPorts.js';
import {
  runAgent,
  type AgentEvent,
  type AgentPorts,
  type AgentResult,
  type AgentStatus,
  type CommandAsk,
} from '../../core/agent/loop.js';
import { abandonTask, resumeAgent, ResumeError, taskExists } from '../../core/agent/resume.js';
import type { ModelCaller } from '../../core/providers/call.js';
import { taskScope } from '../../core/agent/scope.js';
import { newTaskId } from '../../core/evidence/taskEvidence.js';
import { EXIT, io, printJsonLine, UsageError } from '../io.js';
import { resolvePolicy } from '../policyFile.js';
import { cliCaller } from '../caller.js';
import { cliCommandRules } from '../commandRules.js';
import { BUNDLED_SOURCE } from '../../core/policy/store.js';

export interface ImplementOptions {
  repo?: string;
  task?: string;
  yes?: boolean;
  json?: boolean;
  policy?: string;
  state?: string;
  localOnly?: boolean;
  cloud?: boolean;
  allowCloudFallback?: boolean;
  allowBuildEdits?: boolean;
  noSandbox?: boolean;
  /** Continue this interrupted task (its transcript and running state). */
  resume?: string;
  /** Abandon this interrupted task: the workspace back at its first checkpoint, the user's later changes kept. */
  abandon?: string;
  text: string[];
}

const EXIT_OF: Record<AgentStatus, number> = {
  passed: EXIT.ok,
  awaiting_judge: EXIT.ok,
  unverified: EXIT.failed,
  failed: EXIT.failed,
  refused: EXIT.refused,
  cancelled: EXIT.cancelled,
  gave_up: EXIT.failed,
  interrupted: EXIT.failed,
  abandoned: EXIT.failed,
};

export async function implementCommand(o: ImplementOptions): Promise<number> {
  const instruction = o.text.join(' ').trim();
  const again = o.resume ?? o.abandon;
  if (o.resume && o.abandon) throw new UsageError('implement: --resume or --abandon, not both');
  if (again && instruction) throw new UsageError('implement: --resume/--abandon TASK takes no INSTRUCTION');
  if (!again && instruction.length < 3) throw new UsageError('implement: say what should change (INSTRUCTION)');
  const root = resolve(o.repo ?? '.');
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new UsageError(`implement: --repo ${root} is not a folder`);
  const { policy, warnings, source } = resolvePolicy(o.policy, root);
  for (const w of warnings) io().stderr.write(`warning: ${w.field}: ${w.message}\n`);
  const { caller, dir, env } = cliCaller(policy, o);
  const fromWorkspace = o.policy === undefined && source !== BUNDLED_SOURCE;
  const commandRules = cliCommandRules(root, policy, fromWorkspace, dir);
  for (const w of commandRules.warnings) io().stderr.write(`warning: ${w}\n`);
  if (o.yes && o.allowBuildEdits)
    io().stderr.write(
      '[switchyard] --allow-build-edits: edits of the policy, the editor settings and the files that define ' +
        'the checks are approved too\n',
    );
  if (again && !taskExists(root, again))
    throw new UsageError(`implement: no task "${again}" in ${root}'s evidence folder (.switchyard/evidence)`);
  const taskId = again ?? o.task ?? newTaskId('impl');
  const disk = diskPorts({ root, taskId, policy, caller, stateDir: dir, env: io().env });
  if (o.abandon) return abandon(disk, root, o.abandon, o.json === true);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    if (!disk.support.available) io().stderr.write(noSandboxLine(disk.support.why, o.noSandbox === true));
    const ports = headlessPorts(o, disk, caller, taskId, env);
    const input = {
      task_id: taskId,
      policy,
      localOnly: o.localOnly === true,
      signal: ac.signal,
      commandRules: commandRules.rules,
    };
    // A resumed task keeps its own "use cloud" (its running state) unless --cloud says so now.
    const r = o.resume
      ? await resumed(ports, { ...input, ...(o.cloud ? { userRequestsCloud: () => true } : {}) })
      : await runAgent(ports, {
          ...input,
          instruction,
          userRequestsCloud: () => o.cloud === true,
          scope: taskScope(disk.ws, { instruction }),
        });
    if (!o.json) io().stdout.write(`${r.status}: ${r.message}\nevidence: ${r.evidence}\n`);
    return EXIT_OF[r.status];
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** --resume: a task that is not interrupted (or not there) is a usage error, said plainly. */
async function resumed(p: AgentPorts, i: Parameters<typeof resumeAgent>[1]): Promise<AgentResult> {
  try {
    return await resumeAgent(p, i);
  } catch (e) {
    if (e instanceof ResumeError) throw new UsageError(`implement --resume: ${e.message}`);
    throw e;
  }
}

/** --abandon: the workspace back at the task's first checkpoint; what the user changed since is kept and listed. */
async function abandon(disk: DiskPorts, root: string, taskId: string, json: boolean): Promise<number> {
  try {
    const r = await abandonTask(disk, root, taskId);
    if (json) printJsonLine({ type: 'abandoned', task_id: taskId, ...r });
    else
      io().stdout.write(
        `abandoned: ${r.restored.length} file(s) restored to the first checkpoint` +
          `${r.kept.length ? `; kept as you changed them: ${r.kept.join(', ')}` : ''}\n`,
      );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ResumeError) throw new UsageError(`implement --abandon: ${e.message}`);
    throw e;
  }
}

/** The ports of a headless task: approvals from the flags, events to stdout (--json) or stderr. */
function headlessPorts(
  o: ImplementOptions,
  disk: DiskPorts,
  caller: ModelCaller,
  taskId: string,
  env: ReturnType<typeof cliCaller>['env'],
): AgentPorts {
  return {
    ...disk,
    approveEdits: async (_changes, summary) => {
      if (o.yes) return 'approve';
      io().stderr.write(`[switchyard] not applied without --yes: ${summary}\n`);
      return 'reject';
    },
    approveCommand: headlessCommandApproval(o.noSandbox === true, caller, taskId),
    approveGoverningEdit: async (_changes, reasons) => headlessGoverningApproval(o, reasons),
    askUser: async (q) => {
      io().stderr.write(`[switchyard] the agent asked (no one to answer headless): ${q}\n`);
      return null;
    },
    ensureLocal: async () => localAnswers(await env.baseUrl('local'), await env.key('local')),
    confirmPaidFallback: async (why) => {
      if (!o.allowCloudFallback)
        io().stderr.write(`[switchyard] ${why}; --allow-cloud-fallback allows the paid cloud\n`);
      return o.allowCloudFallback === true;
    },
    // --json prints only the event types CONTRACTS.md lists; a check's streamed output (a person's) is not one.
    emit: (e) => (o.json ? e.type !== 'check_output' && printJsonLine(e) : io().stderr.write(humanLine(e))),
  };
}

/** The local server answers its model list (a stopped or absent server does not). */
async function localAnswers(base: string | undefined, key: string | undefined): Promise<boolean> {
  if (!base) return false;
  try {
    const res = await fetch(`${base.replace(/\/$/, '')}/models`, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(3_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

function humanLine(e: AgentEvent): string {
  switch (e.type) {
    case 'turn':
      return (
        `[turn ${e.turn}] ${e.location} ${e.provider}/${e.model} (${e.rule}) ` +
        `${e.tokens_in} in, ${e.tokens_out} out, $${e.cost_usd.toFixed(4)}\n`
      );
    case 'tool':
      return `[turn ${e.turn}] ${e.ok ? '✓' : '✗'} ${e.name} ${e.arguments.slice(0, 120)}\n`;
    case 'route':
      return `[turn ${e.turn}] route: ${e.from ?? 'start'} -> ${e.to}: ${e.why}\n`;
    case 'check':
      return `[turn ${e.turn}] checks ${checkWord(e)}: ${e.steps.join(', ')}\n`;
    case 'check_output':
      return e.text.replace(/^(?=[^\n])/gm, `[${e.step}] `);
    case 'checkpoint':
      return `[turn ${e.turn}] checkpoint ${e.id.slice(0, 10)}: ${e.label}\n`;
    case 'text':
      return '';
    case 'result':
      return `[result] ${e.status} after ${e.turns} turn(s)\n`;
  }
}

const checkWord = (e: { ok: boolean; unverified: boolean }) =>
  e.unverified ? 'none configured (unverified)' : e.ok ? 'passed' : 'failed';

const noSandboxLine = (why: string, noSandbox: boolean) =>
  `[switchyard] no OS sandbox: ${why}; ` +
  (noSandbox
    ? 'commands the rules allow run unconfined (--no-sandbox)\n'
    : 'no command or check runs (give --no-sandbox to run them unconfined)\n');

/** Headless, "asks" means refused; --no-sandbox lets what the rules allow run without a sandbox, audited. */
function headlessCommandApproval(noSandbox: boolean, caller: ModelCaller, taskId: string) {
  return async (argv: string[], _cwd: string, ask: CommandAsk): Promise<boolean> => {
    const shown = argv.join(' ').slice(0, 300);
    if (ask.rules === 'allow' && !ask.sandboxed && noSandbox) {
      io().stderr.write(`[switchyard] runs without a sandbox (--no-sandbox): ${shown}\n`);
      await caller.note('sandbox', `GR-010: implementer: ${shown} ran without an OS sandbox (--no-sandbox)`, {
        role: 'implementer',
        task_id: taskId,
      });
      return true;
    }
    const why = ask.sandboxed || ask.rules === 'ask' ? ask.why : `no sandbox: ${ask.why}`;
    io().stderr.write(`[switchyard] not run headless: ${shown}: ${why}\n`);
    return false;
  };
}

/** --yes never approves an edit of what governs the agent; --allow-build-edits with --yes does, and says so. */
function headlessGoverningApproval(o: ImplementOptions, reasons: string[]): boolean {
  const ok = o.yes === true && o.allowBuildEdits === true;
  io().stderr.write(
    ok
      ? `[switchyard] applied with --allow-build-edits: ${reasons.join('; ')}\n`
      : `[switchyard] not applied (${reasons.join('; ')}): --yes does not approve these; --allow-build-edits does\n`,
  );
  return ok;
}
