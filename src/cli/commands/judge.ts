// switchyard judge --task ID: the cloud Judge's audit of a finished task, headless (GR-002, GR-003, GR-008). Prints
// the verdict, each citation and whether it was verified, and the gate. The task's record (its seal, check logs,
// verdicts) is in the state folder it ran with (--state, SWITCHYARD_STATE_DIR). Exit 0: the task is approved (or
// needs no Judge and the verdict approves); 5: changes requested or the approve did not hold; 3: refused; 4: the
// call failed, or the task cannot be judged (its evidence folder is not what was sealed, its checkpoints are gone);
// 2: no such task (a bad id, no record in this state folder).
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EvidenceTampered, judgeTask } from '../../core/pipeline/gate.js';
import { CallFailed, CallRefused } from '../../core/providers/call.js';
import { EXIT, io, printJson, UsageError } from '../io.js';
import { cliCaller } from '../caller.js';
import { resolvePolicy } from '../policyFile.js';

export interface JudgeOptions {
  repo?: string;
  task?: string;
  policy?: string;
  state?: string;
  localOnly?: boolean;
}

export async function judgeCommand(o: JudgeOptions): Promise<number> {
  if (!o.task) throw new UsageError('judge: --task ID names the task to audit (its folder in .switchyard/evidence)');
  const root = resolve(o.repo ?? '.');
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`judge: --repo ${root} is not a folder`);
  const { policy } = resolvePolicy(o.policy);
  const { caller, dir } = cliCaller(policy, o);
  let judged;
  try {
    judged = await judgeTask(caller, root, o.task, { stateDir: dir });
  } catch (e) {
    if (e instanceof CallRefused) {
      io().stderr.write(`switchyard: judge refused${e.guardrail ? ` (${e.guardrail})` : ''}: ${e.message}\n`);
      return EXIT.refused;
    }
    if (e instanceof CallFailed) {
      io().stderr.write(`switchyard: judge: ${e.message}\n`);
      return EXIT.failed;
    }
    if (e instanceof Error && /task id|no finished task/.test(e.message)) throw new UsageError(`judge: ${e.message}`);
    // Tampered evidence or a change that cannot be rebuilt: the audit cannot be done, the Judge was not asked.
    if (e instanceof EvidenceTampered || (e instanceof Error && /cannot be rebuilt from git/.test(e.message))) {
      io().stderr.write(`switchyard: judge: ${e.message}\n`);
      return EXIT.failed;
    }
    throw e;
  }
  const { result: r, gate, verdictPath, copyPath } = judged;
  printJson({
    task_id: o.task,
    verdict: r.verdict,
    summary: r.summary,
    provider: r.provider,
    model: r.model,
    unreliable: r.unreliable,
    findings: r.findings,
    gate,
    evidence: verdictPath,
    copy: copyPath,
    cost_usd: r.cost_usd,
  });
  const approved = gate.status === 'approved' || (gate.status === 'not_required' && r.verdict === 'approve');
  io().stderr.write(`[switchyard] ${r.provider}/${r.model}: ${r.verdict}; gate ${gate.status}: ${gate.why}\n`);
  return approved ? EXIT.ok : EXIT.changesRequested;
}
