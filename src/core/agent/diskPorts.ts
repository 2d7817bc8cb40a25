// The agent's ports for a workspace on disk, without the editor (the CLI's `switchyard implement`, evaluations,
// tests): the classifier over the task's own before/after texts, the workspace's checks, commands through the tool
// executor (argv, no shell, bounded output, the whole process group stopped on timeout or Stop), checkpoints in a
// shadow repository under the state folder. Approvals and questions are the caller's.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { classifyDiff } from '../classifier/classify.js';
import { TaskEvidence } from '../evidence/taskEvidence.js';
import { checkPlan, runChecks } from '../implement/checks.js';
import { runTool } from '../implement/tools.js';
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
  env?: NodeJS.ProcessEnv;
}

/** The shadow repository of a workspace: one per workspace path, under the state folder. */
export const shadowDir = (stateDir: string, root: string) =>
  join(stateDir, 'checkpoints', createHash('sha256').update(root).digest('hex').slice(0, 16));

export type DiskPorts = Pick<
  AgentPorts,
  'caller' | 'ws' | 'evidence' | 'checkpoints' | 'classify' | 'runChecks' | 'runCommand'
>;

export function diskPorts(o: DiskPortsOptions): DiskPorts {
  const ws = new Workspace(o.root);
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
    evidence: TaskEvidence.forTask(ws.root, o.taskId),
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
    runChecks: (c, signal) =>
      runChecks(ws.root, checkPlan(ws.root, c?.crates_touched ?? [], o.checks), {
        timeoutMs: o.checkTimeoutMs ?? 600_000,
        signal,
        env: o.env,
      }),
    runCommand: (argv, cwd, timeoutMs, signal) =>
      runTool({ argv, cwd: ws.abs(cwd), timeoutMs, signal, maxBytes: 1024 * 1024, env: o.env }),
  };
}
