// A scripted 20-turn cloud task, for the prompt-caching test and bench: the real agent (loop, tools, workspace,
// evidence, the one call path, the ledger) on a small TypeScript project with an AGENTS.md, served by Claude Sonnet
// over Anthropic's wire (the test server, whose prompt cache honours cache_control as the API does). The model's
// answers are scripted: 18 turns of reading and searching, an edit, a finish. What each turn was billed is read
// from the task's evidence, what the task cost from the ledger.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskPorts } from '../../src/core/agent/diskPorts.js';
import { runAgent, type AgentEvent, type AgentResult } from '../../src/core/agent/loop.js';
import { Ledger } from '../../src/core/budget/ledger.js';
import { pricesFor, type TokenPrices } from '../../src/core/budget/cost.js';
import type { Usage } from '../../src/core/budget/port.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { testCaller } from '../unit/helpers/caller.js';
import type { Behaviour, ScriptedToolCall, WireServer } from './wireServers.js';

export const TASK_MODEL = 'claude-sonnet-4-6';
export const TURNS = 20;

const AGENTS_MD = `# Conventions of this project

- TypeScript, strict mode, ES modules. Node 20. Two-space indentation, single quotes, semicolons, 120 columns.
- One idea per file: a module that does two things is two modules. Files stay under 300 lines.
- Name things for what they are in the domain (a ledger, a reservation, a turn), never for how they are built.
- Public names are a contract: renaming an exported function or type needs a note in CHANGELOG.md.
- Errors: throw an Error subclass with a message a user can act on; never throw a string; never swallow an error
  without saying why in a comment.
- No default exports. Imports are sorted: node built-ins, then packages, then the project's own modules.
- Every exported function has a one-line doc comment that says what it returns, not how it works.
- Tests live beside the code as *.test.ts, use node:test and node:assert/strict, and talk only to 127.0.0.1.
- A test names the behaviour it checks in a sentence ("a reservation over the cap is refused, naming the cap").
- Money is held as integer pico-dollars; floats appear only when a figure is displayed.
- Time comes from an injected clock; no test sleeps for real.
- Logging goes through the audit log; console output is for the CLI only.
- Keep functions short; prefer early returns to nested conditionals; no classes where a function will do.
- Every change that alters behaviour updates the README section that describes it.
`;

/** The project's files: a few modules of real size (the agent's own sources, as text) and the one file it edits. */
function project(): { root: string; files: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'sy-cache-ws-'));
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'AGENTS.md'), AGENTS_MD);
  const sources = ['prompt.ts', 'transcript.ts', 'toolSpecs.ts', 'state.ts', 'scope.ts', 'permits.ts'];
  const files: string[] = [];
  for (const f of sources) {
    const text = readFileSync(join(process.cwd(), 'src/core/agent', f), 'utf8');
    writeFileSync(join(root, 'src', f), text);
    files.push(`src/${f}`);
  }
  writeFileSync(
    join(root, 'src/greeting.ts'),
    "// The greeting the CLI prints.\nexport function greeting(name: string): string {\n  return 'Hello, ' + name;\n}\n",
  );
  return { root, files };
}

const call = (id: string, name: string, args: Record<string, unknown>): ScriptedToolCall => ({
  id,
  name,
  arguments: args,
});
const turn = (text: string, c: ScriptedToolCall): Behaviour => ({ kind: 'ok', text, tools: [c], model: TASK_MODEL });

/** The model's 20 answers: look around, read each module (some twice, by ranges), edit, finish. */
function script(files: string[]): Behaviour[] {
  const out: Behaviour[] = [
    turn('Let me look at the project first.', call('toolu_01', 'list_files', { path: 'src' })),
    turn('', call('toolu_02', 'search', { query: 'greeting' })),
  ];
  let n = 3;
  for (const f of files) {
    out.push(turn('', call(`toolu_${String(n++).padStart(2, '0')}`, 'read_file', { path: f })));
    out.push(turn('', call(`toolu_${String(n++).padStart(2, '0')}`, 'search', { query: 'export function', glob: f })));
  }
  while (n <= TURNS - 4)
    out.push(
      turn(
        '',
        call(`toolu_${String(n++).padStart(2, '0')}`, 'read_file', { path: files[n % files.length]!, end_line: 40 }),
      ),
    );
  out.push(
    turn('', call(`toolu_${String(n++).padStart(2, '0')}`, 'read_file', { path: 'src/greeting.ts' })),
    turn(
      'The greeting should use a template literal, as the conventions prefer.',
      call(`toolu_${String(n++).padStart(2, '0')}`, 'edit_file', {
        path: 'src/greeting.ts',
        old_text: "  return 'Hello, ' + name;",
        new_text: '  return `Hello, ${name}`;',
      }),
    ),
    turn('', call(`toolu_${String(n++).padStart(2, '0')}`, 'read_file', { path: 'src/greeting.ts' })),
    turn(
      'Done.',
      call(`toolu_${String(n++).padStart(2, '0')}`, 'finish', {
        summary: 'greeting() builds its text with a template literal',
        confidence: 0.9,
      }),
    ),
  );
  return out;
}

export interface TurnBill {
  usage: Usage;
  cost_usd: number;
}

export interface CachedTaskRun {
  result: AgentResult;
  turns: TurnBill[];
  /** What the ledger holds for the task (committed spend), USD. */
  ledger_usd: number;
  /** The same tokens priced as if nothing had been cached (every input token at the input price), USD. */
  uncached_usd: number;
  /** The share of all input tokens read from the cache. */
  read_share: number;
  events: AgentEvent[];
  requests: WireServer['requests'];
}

const inputOf = (u: Usage) =>
  u.input_tokens + u.cached_input_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens;

/** The cost of `u` had nothing been cached: every input token at the input price. */
export function uncachedPico(u: Usage, p: TokenPrices): number {
  return inputOf(u) * p.input + u.output_tokens * p.output;
}

/** Runs the scripted task against `claude` (an anthropicServer); `taskId` names the ledger's task. */
export async function runCachedTask(
  claude: WireServer,
  o: { taskId?: string; policy?: Policy; instruction?: string } = {},
): Promise<CachedTaskRun> {
  const taskId = o.taskId ?? 'T-cache';
  const policy = o.policy ?? bundledPolicy();
  const { root, files } = project();
  const state = mkdtempSync(join(tmpdir(), 'sy-cache-state-'));
  const first = claude.requests.length;
  try {
    claude.queue.push(...script(files));
    claude.fallback = { kind: 'ok', text: 'I am done.', model: TASK_MODEL };
    const t = testCaller({ policy, urls: { anthropic: claude.url }, stateDir: state, source: 'cli' });
    const events: AgentEvent[] = [];
    const ports = {
      ...diskPorts({ root, taskId, policy, caller: t.caller, stateDir: state }),
      approveEdits: async () => 'approve' as const,
      approveCommand: async () => false,
      askUser: async () => null,
      emit: (e: AgentEvent) => events.push(e),
    };
    const result = await runAgent(ports, {
      task_id: taskId,
      instruction: o.instruction ?? 'make greeting() use a template literal, as the conventions say',
      policy,
      localOnly: false,
      userRequestsCloud: () => true,
      maxTokens: 2_000,
    });
    const prices = pricesFor(policy, 'anthropic', TASK_MODEL)!;
    const turns: TurnBill[] = [];
    for (let k = 1; k <= result.turns; k++) {
      const a = JSON.parse(
        readFileSync(join(result.evidence, `turns/${String(k).padStart(3, '0')}-answer.json`), 'utf8'),
      ) as TurnBill;
      turns.push({ usage: a.usage, cost_usd: a.cost_usd });
    }
    const ledger = new Ledger(join(state, 'ledger.jsonl'), () => policy);
    const ledger_usd = ledger.snapshot(taskId).find((c) => c.period === 'task')!.spent_usd;
    ledger.close();
    const uncached = turns.reduce((s, x) => s + uncachedPico(x.usage, prices), 0);
    const read = turns.reduce((s, x) => s + x.usage.cached_input_tokens, 0);
    const all = turns.reduce((s, x) => s + inputOf(x.usage), 0);
    return {
      result,
      turns,
      ledger_usd,
      uncached_usd: uncached / 1e12,
      read_share: all ? read / all : 0,
      events,
      requests: claude.requests.slice(first),
    };
  } finally {
    claude.queue.length = 0;
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}
