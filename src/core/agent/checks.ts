// GR-006 "compiler/tests are truth": which checks prove an Implementer's change, and what the compiler said.
// Rust: `cargo check` then `cargo test`, limited to the crates the change touches; package.json scripts; Go; pytest;
// a Makefile's test target. A workspace may set its own (argv arrays, never a shell line).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { runTool, type ToolResult, type ToolRun } from '../sandbox/process.js';
import { lineSplitter, renderCargoLine, type CheckOutput } from './checkOutput.js';

export interface CheckStep {
  name: string;
  argv: string[];
}
export interface CompilerError {
  file: string | null;
  line: number | null;
  message: string;
  rendered: string;
}
export interface CheckResult {
  ok: boolean;
  steps: (ToolResult & { name: string })[];
  errors: CompilerError[];
  log: string;
  cancelled: boolean;
  timedOut: boolean;
}

/** The crate names (Cargo.toml [package].name) of the crate folders a classification lists. */
export function crateNames(root: string, crateDirs: string[]): string[] {
  const names: string[] = [];
  for (const d of crateDirs) {
    const f = join(root, d === '.' ? '' : d, 'Cargo.toml');
    try {
      const t = parseToml(readFileSync(f, 'utf8')) as { package?: { name?: string } };
      if (t.package?.name) names.push(t.package.name);
    } catch {
      /* not a crate */
    }
  }
  return [...new Set(names)].sort();
}

/**
 * The checks of a workspace (GR-006), from what its root holds, every ecosystem found: Cargo (check and test of the
 * touched crates), package.json scripts (typecheck, test; with the lockfile's package manager), Go (build and test),
 * Python (pytest, reading the project's own configuration), a Makefile `test` target. `custom` (the workspace
 * setting) replaces them. None found: an empty plan, and the change is "unverified".
 */
export function checkPlan(root: string, crateDirs: string[], custom?: string[][]): CheckStep[] {
  if (custom && custom.length)
    return custom.filter((a) => a.length > 0).map((argv) => ({ name: argv.join(' '), argv }));
  return [
    ...cargoSteps(root, crateDirs),
    ...packageSteps(root),
    ...goSteps(root),
    ...pytestSteps(root),
    ...makeSteps(root),
  ];
}

const has = (root: string, f: string) => existsSync(join(root, f));
const readText = (root: string, f: string) => {
  try {
    return readFileSync(join(root, f), 'utf8');
  } catch {
    return '';
  }
};
const step = (argv: string[]): CheckStep => ({ name: argv.join(' '), argv });

function cargoSteps(root: string, crateDirs: string[]): CheckStep[] {
  if (!has(root, 'Cargo.toml')) return [];
  const p = crateNames(root, crateDirs).flatMap((n) => ['-p', n]);
  return [
    {
      name: `cargo check${p.length ? ` ${p.join(' ')}` : ''}`,
      argv: ['cargo', 'check', '--message-format=json', '--quiet', ...p],
    },
    { name: `cargo test${p.length ? ` ${p.join(' ')}` : ''}`, argv: ['cargo', 'test', '--quiet', ...p] },
  ];
}

/** npm's placeholder test script checks nothing. */
const PLACEHOLDER_TEST = /no test specified/;

function packageSteps(root: string): CheckStep[] {
  if (!has(root, 'package.json')) return [];
  let scripts: Record<string, string> = {};
  try {
    scripts = (JSON.parse(readText(root, 'package.json')) as { scripts?: Record<string, string> }).scripts ?? {};
  } catch {
    return []; // an unreadable package.json names no script
  }
  const pm = has(root, 'pnpm-lock.yaml') ? 'pnpm' : has(root, 'yarn.lock') ? 'yarn' : 'npm';
  const out: CheckStep[] = [];
  if (scripts.typecheck) out.push(step([pm, 'run', 'typecheck']));
  if (scripts.test && !PLACEHOLDER_TEST.test(scripts.test)) out.push(step([pm, 'test']));
  return out;
}

function goSteps(root: string): CheckStep[] {
  return has(root, 'go.mod') ? [step(['go', 'build', './...']), step(['go', 'test', './...'])] : [];
}

/** pytest where the project configures it (pytest.ini, pyproject, setup.cfg, tox.ini, conftest.py) or has tests. */
export function usesPytest(root: string): boolean {
  if (has(root, 'pytest.ini') || has(root, 'conftest.py')) return true;
  if (/^\[tool\.pytest\.ini_options\]/m.test(readText(root, 'pyproject.toml'))) return true;
  if (/^\[tool:pytest\]/m.test(readText(root, 'setup.cfg'))) return true;
  if (/^\[pytest\]/m.test(readText(root, 'tox.ini'))) return true;
  const isPython = has(root, 'pyproject.toml') || has(root, 'setup.py') || has(root, 'setup.cfg');
  if (!isPython) return false;
  for (const dir of ['tests', 'test', '.']) {
    try {
      if (readdirSync(join(root, dir)).some((f) => /^test_.*\.py$|_test\.py$/.test(f))) return true;
    } catch {
      /* no such folder */
    }
  }
  return false;
}

function pytestSteps(root: string): CheckStep[] {
  return usesPytest(root) ? [{ name: 'pytest', argv: ['python3', '-m', 'pytest', '-q'] }] : [];
}

function makeSteps(root: string): CheckStep[] {
  const f = ['GNUmakefile', 'makefile', 'Makefile'].find((m) => has(root, m));
  return f && /^test\s*:/m.test(readText(root, f)) ? [step(['make', 'test'])] : [];
}

/** Errors from cargo's JSON messages (`--message-format=json`), with the compiler's own rendering. */
export function cargoErrors(stdout: string): CompilerError[] {
  const out: CompilerError[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let m: {
      reason?: string;
      message?: {
        level?: string;
        message?: string;
        rendered?: string;
        spans?: { file_name: string; line_start: number; is_primary: boolean }[];
      };
    };
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m.reason !== 'compiler-message' || m.message?.level !== 'error') continue;
    const span = m.message.spans?.find((s) => s.is_primary) ?? m.message.spans?.[0];
    out.push({
      file: span?.file_name ?? null,
      line: span?.line_start ?? null,
      message: m.message.message ?? '',
      rendered: m.message.rendered ?? m.message.message ?? '',
    });
  }
  return out;
}

const isCargoJson = (s: CheckStep) => s.argv.includes('--message-format=json');

/** One step's output as it streams: whole lines per stream, cargo's JSON messages rendered. */
function stepStream(s: CheckStep, out: CheckOutput) {
  const emit = (text: string) => out(s.name, text);
  const stdout = lineSplitter(emit, isCargoJson(s) ? renderCargoLine : undefined);
  const stderr = lineSplitter(emit);
  return {
    onOutput: (chunk: string, stream: 'stdout' | 'stderr') => (stream === 'stdout' ? stdout : stderr).push(chunk),
    end: () => {
      stdout.end();
      stderr.end();
    },
  };
}

/** The end of a step, as the log and the stream say it. */
const stepEnd = (r: ToolResult, timeoutMs: number) =>
  (r.timedOut ? `\n[timed out after ${timeoutMs} ms]` : '') +
  (r.cancelled ? '\n[cancelled]' : '') +
  `\n[exit ${r.code ?? r.signal}] (${r.ms} ms)\n`;

/**
 * Runs the steps in order until one fails. `onOutput` gets each step's output as it comes (whole lines, cargo's
 * messages rendered); the result's log and errors are the bounded summary the model and the evidence get.
 */
export async function runChecks(
  root: string,
  steps: CheckStep[],
  o: {
    timeoutMs: number;
    signal?: AbortSignal;
    onOutput?: CheckOutput;
    env?: NodeJS.ProcessEnv;
    /** How a step runs (the OS sandbox); default: the plain executor. */
    run?: (r: ToolRun) => Promise<ToolResult>;
  },
): Promise<CheckResult> {
  const done: CheckResult['steps'] = [];
  const errors: CompilerError[] = [];
  const out: CheckOutput = o.onOutput ?? (() => {});
  let log = '';
  for (const s of steps) {
    out(s.name, `$ ${s.name}\n`);
    log += `$ ${s.name}\n`;
    const stream = stepStream(s, out);
    const r = await (o.run ?? runTool)({
      argv: s.argv,
      cwd: root,
      timeoutMs: o.timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.env ? { env: o.env } : {}),
      onOutput: stream.onOutput,
    });
    stream.end();
    out(s.name, stepEnd(r, o.timeoutMs).slice(1));
    const errs = isCargoJson(s) ? cargoErrors(r.stdout) : [];
    log +=
      (isCargoJson(s) ? `${errs.map((e) => e.rendered).join('')}${r.stderr}` : `${r.stdout}${r.stderr}`) +
      stepEnd(r, o.timeoutMs);
    done.push({ ...r, name: s.name });
    errors.push(...errs);
    if (r.code !== 0) {
      if (errs.length === 0)
        errors.push({
          file: null,
          line: null,
          message: `${s.name} failed (exit ${r.code ?? r.signal})`,
          rendered: `${r.stdout}${r.stderr}`.slice(-4_000),
        });
      return { ok: false, steps: done, errors, log, cancelled: r.cancelled, timedOut: r.timedOut };
    }
  }
  return { ok: true, steps: done, errors, log, cancelled: false, timedOut: false };
}
