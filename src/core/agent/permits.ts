// What may run and what may be written, before the loop does it: a command runs unattended only when the argument
// rules allow it and the OS sandbox contains it (else the user is asked, with the reason); the checks run the
// workspace's code, so without a sandbox they ask too; an edit of a file that governs the agent or defines its
// checks is the user's own call (auto-approve never covers it). Each refusal is an answer for the model.
import type { CommandRules } from '../policy/commandTrust.js';
import type { ModelCaller } from '../providers/call.js';
import { decideCommand } from './commands/decide.js';
import type { ProposedChange } from './tools.js';
import type { Workspace } from './workspace.js';

/** Why a command (or the checks) waits for the user: the rules ask, or nothing would contain it. */
export interface CommandAsk {
  why: string;
  /** What the argument rules said on their own. */
  rules: 'allow' | 'ask';
  /** Whether it would run inside the OS sandbox. */
  sandboxed: boolean;
}

export interface PermitPorts {
  ws: Workspace;
  caller: ModelCaller;
  sandbox?: { available: boolean; why?: string };
  approveCommand(argv: string[], cwd: string, ask: CommandAsk): Promise<boolean>;
  approveGoverningEdit?(changes: ProposedChange[], reasons: string[]): Promise<boolean>;
}

const noSandboxWhy = (p: PermitPorts) => `no OS sandbox (${p.sandbox?.why ?? 'none is available'})`;
const sandboxed = (p: PermitPorts) => p.sandbox?.available === true;

/** null: the command may run; else the answer for the model (it did not run, and why). */
export async function permitCommand(
  p: PermitPorts,
  rules: CommandRules,
  argv: string[],
  cwd: string,
): Promise<string | null> {
  const v = decideCommand(argv, { root: p.ws.root, cwd: p.ws.abs(cwd) }, rules);
  const shown = argv.join(' ').slice(0, 300);
  if (v.verdict === 'deny') return `not run: ${shown}: ${v.why}`;
  if (v.verdict === 'allow' && sandboxed(p)) return null;
  const why = v.verdict !== 'allow' ? v.why : `${noSandboxWhy(p)}: no command runs unattended without one`;
  const ask: CommandAsk = { why, rules: v.verdict === 'allow' ? 'allow' : 'ask', sandboxed: sandboxed(p) };
  if (await p.approveCommand(argv, cwd, ask)) return null;
  return `not run: ${shown}: ${why}. It needs the user's approval, and the user did not give it.`;
}

/** null: the checks may run; else why they did not (without a sandbox, and the user said no). */
export async function permitChecks(p: PermitPorts): Promise<string | null> {
  if (sandboxed(p)) return null;
  const why = `${noSandboxWhy(p)}: the checks would run the workspace's code unconfined`;
  return (await p.approveCommand(['run_checks'], '.', { why, rules: 'allow', sandboxed: false })) ? null : why;
}

/** null: no governing file, or the user approved; else the answer for the model. */
export async function permitGoverning(p: PermitPorts, changes: ProposedChange[]): Promise<string | null> {
  const governing = changes.filter((c) => c.governs);
  if (!governing.length) return null;
  const reasons = governing.map((c) => `${c.path}: ${c.governs}`);
  if ((await p.approveGoverningEdit?.(governing, reasons)) === true) return null;
  return (
    `not written: ${reasons.join('; ')}. These files govern the agent or define the checks; only the user can ` +
    'approve such an edit (in the editor, or headless with --allow-build-edits). Leave them as they are or ask the user.'
  );
}

/** Without a sandbox, said once per task in the audit log and the evidence: everything that runs asks first. */
export async function noteNoSandbox(
  p: PermitPorts,
  taskId: string,
  write: (name: string, body: object) => void,
): Promise<void> {
  if (sandboxed(p)) return;
  write('sandbox.json', { available: false, why: p.sandbox?.why ?? 'no sandbox port' });
  await p.caller.note(
    'sandbox',
    `GR-010: implementer: ${noSandboxWhy(p)}; every command and check asks the user first`,
    {
      role: 'implementer',
      task_id: taskId,
    },
  );
}
