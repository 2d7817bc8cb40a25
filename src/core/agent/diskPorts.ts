// The agent's ports for a workspace on disk, without the editor (the CLI's `switchyard implement`, evaluations,
// tests): the classifier over the task's own before/after texts, the workspace's checks, commands through the tool
// executor (argv, no shell, bounded output, the whole process group stopped on timeout or Stop) inside the OS
// sandbox where there is one, with a clean environment, everything they print redacted before anyone sees it;
// checkpoints in a shadow repository under the state folder. Approvals and questions are the caller's.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { classifyDiff } from '../classifier/classify.js';
import { TaskEvidence } from '../evidence/taskEvidence.js';
import { checkPlan, runChecks } from './checks.js';
import { streamRedactor } from './checkOutput.js';
import { runTool, type ToolResult, type ToolRun } from '../sandbox/process.js';
import { Redactor } from '../evidence/redact.js';
import {
  cleanEnv,
  detectSandbox,
  runSandboxed,
  sandboxHint,
  secretValues,
  type SandboxProfile,
  type SandboxSupport,
} from '../sandbox/index.js';
import type { Policy } from '../policy/schema.js';
import type { ModelCaller } from '../providers/call.js';
import { ShadowCheckpoints } from './checkpoints.js';
import type { AgentPorts } from './loop.js';
import { Workspace } from './workspace.js';

export interface DiskPortsOptions {
  root: string;
  taskId: string;
  policy: Policy;
  caller: ModelCaller;
  /** Where the shadow repositories live (one per workspace). */
  stateDir: string;
  /** Custom checks (argv arrays) instead of the detected ones. */
  checks?: string[][];
  checkTimeoutMs?: number;
  /** The environment commands start from (cleaned: no key or SWITCHYARD_ secret passes). */
  env?: NodeJS.ProcessEnv;
  /** Secrets this host holds (its key store): masked in everything a command prints. */
  secrets?: string[];
  /** The sandbox, detected when absent (SWITCHYARD_SANDBOX=off forces it off). */
  sandbox?: SandboxSupport;
  /** More state folders to hide from commands (the editor's storage). */
  hiddenDirs?: string[];
}

/** The shadow repository of a workspace: one per workspace path, under the state folder. */
export const shadowDir = (stateDir: string, root: string) =>
  join(stateDir, 'checkpoints', createHash('sha256').update(root).digest('hex').slice(0, 16));

export type DiskPorts = Pick<
  AgentPorts,
  'caller' | 'ws' | 'evidence' | 'checkpoints' | 'classify' | 'runChecks' | 'runCommand' | 'sandbox' | 'redact'
> & { redactor: Redactor; support: SandboxSupport };

export function diskPorts(o: DiskPortsOptions): DiskPorts {
  const ws = new Workspace(o.root);
  const source = o.env ?? process.env;
  const redactor = new Redactor();
  for (const v of [...secretValues(source), ...secretValues(process.env), ...(o.secrets ?? [])]) redactor.add(v);
  const support = o.sandbox ?? detectSandbox(source);
  const run = commandRunner(o, ws.root, source, redactor, support);
  const readCurrent = async (p: string) => {
    try {
      return ws.current(p);
    } catch {
      return undefined;
    }
  };
  return {
    caller: o.caller,
    ws,
    evidence: TaskEvidence.forTask(ws.root, o.taskId, { stateDir: o.stateDir }),
    checkpoints: new ShadowCheckpoints(shadowDir(o.stateDir, ws.root), ws.root),
    classify: (diff, changes) =>
      classifyDiff(diff, {
        policy: o.policy,
        repo: {
          readBase: async (p) => {
            const c = changes.find((x) => x.path === p);
            return c ? (c.before ?? undefined) : readCurrent(p);
          },
          readCurrent,
        },
      }),
    runChecks: async (c, signal, onOutput) => {
      const mask = streamRedactor(redactor);
      const r = await runChecks(ws.root, checkPlan(ws.root, c?.crates_touched ?? [], o.checks), {
        timeoutMs: o.checkTimeoutMs ?? 600_000,
        signal,
        run,
        ...(onOutput ? { onOutput: (step: string, text: string) => onOutput(step, mask(text)) } : {}),
      });
      // What a check printed is redacted before it is recorded, shown or sent (a build script can print any key).
      return {
        ...r,
        log: redactor.redact(r.log),
        errors: r.errors.map((e) => ({
          ...e,
          message: redactor.redact(e.message),
          rendered: redactor.redact(e.rendered),
        })),
      };
    },
    runCommand: (argv, cwd, timeoutMs, signal) =>
      run({ argv, cwd: ws.abs(cwd), timeoutMs, signal, maxBytes: 1024 * 1024 }),
    sandbox: support.available ? { available: true } : { available: false, why: support.why },
    redact: (text) => redactor.redact(text),
    redactor,
    support,
  };
}

/** One command, sandboxed where possible (the policy's extra folders, hidden paths, variables and hosts), its output
 * redacted; the sandbox's reason added when it refused something. */
function commandRunner(
  o: DiskPortsOptions,
  root: string,
  source: NodeJS.ProcessEnv,
  redactor: Redactor,
  support: SandboxSupport,
): (r: ToolRun) => Promise<ToolResult> {
  const sb = o.policy.agent?.sandbox;
  const profile: SandboxProfile = {
    root,
    home: source.HOME ?? homedir(),
    stateDirs: [o.stateDir, ...(o.hiddenDirs ?? [])],
    denyRead: sb?.deny_read ?? [],
    writable: sb?.writable ?? [],
    network: null,
  };
  const passEnv = sb?.env ?? [];
  return async (r: ToolRun): Promise<ToolResult> => {
    const hosts = (sb?.network ?? []).filter((n) => n.command.every((a, k) => r.argv[k] === a)).flatMap((n) => n.hosts);
    const out = support.available
      ? await runSandboxed({
          ...r,
          env: source,
          profile: { ...profile, network: hosts.length ? { hosts } : null },
          support,
          passEnv,
        })
      : await runTool({ ...r, env: cleanEnv(source, passEnv) });
    const hint = support.available ? sandboxHint(out) : null;
    return {
      ...out,
      stdout: redactor.redact(out.stdout),
      stderr: redactor.redact(out.stderr) + (hint ? `\n[${hint}]` : ''),
    };
  };
}
