import { policyJsonSchema } from '../../core/policy/jsonSchema.js';
import { EXIT, printJson, UsageError, io } from '../io.js';
import { loadPolicyFile, resolvePolicy } from '../policyFile.js';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommandTrustStore } from '../../core/policy/commandTrust.js';
import { BUNDLED_SOURCE } from '../../core/policy/store.js';
import { cliCommandRules } from '../commandRules.js';
import { stateDir } from '../state.js';

export function policyCommand(
  sub: string | undefined,
  args: string[],
  o: { policy?: string; repo?: string; state?: string },
): number {
  switch (sub) {
    case 'validate': {
      const file = args[0] ?? o.policy;
      if (!file) throw new UsageError('policy validate: missing argument F (the policy file to check)');
      const load = loadPolicyFile(file, 'policy validate');
      if (!load.ok) {
        printJson({ valid: false, source: file, problems: load.problems });
        for (const p of load.problems)
          io().stderr.write(`${file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.reason}\n`);
        return EXIT.badInput;
      }
      printJson({ valid: true, source: file, policy_version: load.policy.policy_version, warnings: load.warnings });
      for (const w of load.warnings) io().stderr.write(`warning: ${w.field}: ${w.message}\n`);
      return EXIT.ok;
    }
    case 'show': {
      const { policy, source } = resolvePolicy(args[0] ?? o.policy);
      io().stderr.write(`effective policy from ${source}\n`);
      printJson(policy);
      return EXIT.ok;
    }
    case 'schema':
      printJson(policyJsonSchema());
      return EXIT.ok;
    case 'trust':
      return trustCommand(o);
    default:
      throw new UsageError(
        `policy: unknown subcommand ${sub ? `"${sub}"` : '(none)'}; expected validate F, show, schema or trust`,
      );
  }
}

/** Approves the command rules that come with the repository (its policy's allowlist, its workspace settings). */
function trustCommand(o: { repo?: string; state?: string }): number {
  const root = resolve(o.repo ?? io().cwd);
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new UsageError(`policy trust: --repo ${root} is not a folder`);
  const { policy, source } = resolvePolicy(undefined, root);
  const dir = stateDir(o.state);
  const { repo } = cliCommandRules(root, policy, source !== BUNDLED_SOURCE, dir);
  if (repo.widening.length === 0) {
    printJson({ repo: root, policy: source, widening: [], hash: null, trusted: true });
    io().stderr.write("the workspace's command rules allow nothing beyond yours: there is nothing to approve\n");
    return EXIT.ok;
  }
  const hash = new CommandTrustStore(dir).trust(root, repo.widening);
  printJson({ repo: root, policy: source, widening: repo.widening, hash, trusted: true });
  for (const a of repo.widening) io().stderr.write(`approved: ${a.join(' ')}\n`);
  io().stderr.write(
    'these run unattended (inside the OS sandbox) while the list stays exactly this; a change asks again\n',
  );
  return EXIT.ok;
}
