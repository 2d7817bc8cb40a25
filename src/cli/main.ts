// switchyard: the core without the editor. JSON on stdout, diagnostics on stderr, exit codes of CONTRACTS.md.
// bin.ts runs it as a process; tests call main() in-process with their own streams.
import { parseArgs } from 'node:util';
import { askCommand } from './commands/ask.js';
import { auditCommand } from './commands/audit.js';
import { budgetCommand } from './commands/budget.js';
import { classifyCommand } from './commands/classify.js';
import { contextCommand } from './commands/context.js';
import { implementCommand } from './commands/implement.js';
import { judgeCommand } from './commands/judge.js';
import { policyCommand } from './commands/policy.js';
import { routeCommand } from './commands/route.js';
import { runtimeCommand } from './commands/runtime.js';
import { EXIT, io, UsageError, withIo, type CliIo } from './io.js';

const USAGE = `usage: switchyard <command> [options]
  route [--policy F] [--request F|-] [--local-only]    one routing decision (JSON)
  classify [--repo DIR] (--diff F|- | --base REV [--head REV])   size and risk of a change (JSON)
  policy validate F | policy show [--policy F] | policy schema
  policy trust [--repo DIR]                            approve the command rules that come with the repository
  audit [--since ISO]                                  the audit log of --state, JSON lines
  ask --role ROLE [--task ID] [--json] [--max-tokens N] TEXT|-   one routed model call, streamed
  budget [--task ID]                                   spend per cap, in flight, month-end projection (JSON)
  runtime start [MODEL] | stop | status | switch MODEL  the local model server (--engine, --binary, --model-path)
  context search [--repo DIR] [--touched F,F] [--k N] QUERY   Stage 0 retrieval, every score explained (JSON)
  implement [--repo DIR] [--task ID] [--yes] [--json] [--cloud] [--allow-cloud-fallback] INSTRUCTION
                                                       the agent without the editor (--json: JSON lines of events)
            [--allow-build-edits] [--no-sandbox]       --yes approves the policy and check files too; commands
                                                       may run without an OS sandbox where none is available
  implement --resume TASK [--repo DIR] [--yes] [--json]
                                                       continue an interrupted task (same events, exit codes)
  implement --abandon TASK [--repo DIR]                the interrupted task's first checkpoint back; files you
                                                       changed since its last action are kept (and listed)
  judge --task ID [--repo DIR]                         the cloud Judge's audit of a task: exit 0 approved, 5 not
common options: --state DIR, --local-only, --help`;

const OPTIONS = {
  policy: { type: 'string' },
  request: { type: 'string' },
  state: { type: 'string' },
  repo: { type: 'string' },
  diff: { type: 'string' },
  base: { type: 'string' },
  head: { type: 'string' },
  since: { type: 'string' },
  'local-only': { type: 'boolean' },
  role: { type: 'string' },
  engine: { type: 'string' },
  binary: { type: 'string' },
  'model-path': { type: 'string' },
  task: { type: 'string' },
  json: { type: 'boolean' },
  'max-tokens': { type: 'string' },
  touched: { type: 'string' },
  k: { type: 'string' },
  yes: { type: 'boolean' },
  cloud: { type: 'boolean' },
  'allow-cloud-fallback': { type: 'boolean' },
  'allow-build-edits': { type: 'boolean' },
  'no-sandbox': { type: 'boolean' },
  resume: { type: 'string' },
  abandon: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one command; `streams` (default: the process's) receive its output and give its input. */
export function main(argv: string[], streams?: CliIo): Promise<number> {
  return streams ? withIo(streams, () => run(argv)) : run(argv);
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (e) {
    io().stderr.write(`switchyard: ${(e as Error).message}\n${USAGE}\n`);
    return EXIT.badInput;
  }
  const {
    values: v,
    positionals: [cmd, ...rest],
  } = parsed;
  if (v.help || !cmd) {
    io().stdout.write(`${USAGE}\n`);
    return cmd || v.help ? EXIT.ok : EXIT.badInput;
  }
  try {
    return await dispatch(cmd, rest, v);
  } catch (e) {
    return failed(e);
  }
}

type Values = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof OPTIONS }>
>['values'];

/** One command, by name. */
async function dispatch(cmd: string, rest: string[], v: Values): Promise<number> {
  switch (cmd) {
    case 'route':
      if (rest.length)
        throw new UsageError(`route: unexpected argument "${rest[0]}" (give the request with --request F or on stdin)`);
      return routeCommand({ policy: v.policy, request: v.request, localOnly: v['local-only'] });
    case 'policy':
      return policyCommand(rest[0], rest.slice(1), { policy: v.policy, repo: v.repo, state: v.state });
    case 'audit':
      if (rest.length) throw new UsageError(`audit: unexpected argument "${rest[0]}"`);
      return auditCommand({ state: v.state, since: v.since });
    case 'classify':
      if (rest.length) throw new UsageError(`classify: unexpected argument "${rest[0]}"`);
      return await classifyCommand({ repo: v.repo, diff: v.diff, base: v.base, head: v.head, policy: v.policy });
    case 'budget':
      if (rest.length) throw new UsageError(`budget: unexpected argument "${rest[0]}"`);
      return budgetCommand({ state: v.state, policy: v.policy, task: v.task });
    case 'runtime':
      return await runtimeCommand({
        sub: rest[0],
        args: rest.slice(1),
        state: v.state,
        policy: v.policy,
        engine: v.engine,
        binary: v.binary,
        modelPath: v['model-path'],
      });
    case 'context':
      return await contextCommand({ sub: rest[0], args: rest.slice(1), repo: v.repo, touched: v.touched, k: v.k });
    case 'ask':
      return await askCommand({
        role: v.role,
        policy: v.policy,
        task: v.task,
        json: v.json,
        localOnly: v['local-only'],
        state: v.state,
        maxTokens: v['max-tokens'],
        text: rest,
      });
    case 'implement':
      return await implementCommand({
        ...{ repo: v.repo, task: v.task, yes: v.yes, json: v.json, policy: v.policy, state: v.state },
        ...{ localOnly: v['local-only'], cloud: v.cloud, allowCloudFallback: v['allow-cloud-fallback'], text: rest },
        ...{ allowBuildEdits: v['allow-build-edits'], noSandbox: v['no-sandbox'], resume: v.resume },
        abandon: v.abandon,
      });
    case 'judge':
      if (rest.length) throw new UsageError(`judge: unexpected argument "${rest[0]}"`);
      return await judgeCommand({
        repo: v.repo,
        task: v.task,
        policy: v.policy,
        state: v.state,
        localOnly: v['local-only'],
      });
    default:
      throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  }
}

/** A usage error exits 2 with its message; anything else is a bug, said so, with a way to report it. */
function failed(e: unknown): number {
  if (e instanceof UsageError) {
    io().stderr.write(`switchyard: ${e.message}\n`);
    return EXIT.badInput;
  }
  const debug = io().env.SWITCHYARD_DEBUG;
  io().stderr.write(
    `switchyard: internal error: ${(e as Error)?.message ?? String(e)}\n` +
      'This is a bug in Switchyard, not in your input: please report it with the command you ran' +
      (debug ? ` and this stack trace:\n${(e as Error)?.stack}\n` : ' (SWITCHYARD_DEBUG=1 adds a stack trace).\n'),
  );
  return 1;
}
