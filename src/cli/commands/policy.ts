import { policyJsonSchema } from '../../core/policy/jsonSchema.js';
import { EXIT, printJson, UsageError, io } from '../io.js';
import { loadPolicyFile, resolvePolicy } from '../policyFile.js';

export function policyCommand(sub: string | undefined, args: string[], o: { policy?: string }): number {
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
    default:
      throw new UsageError(
        `policy: unknown subcommand ${sub ? `"${sub}"` : '(none)'}; expected validate F, show or schema`,
      );
  }
}
