// GR-006 "compiler/tests are truth": which checks prove an Implementer's patch, and what the compiler said.
// Rust: `cargo check` then `cargo test`, limited to the crates the patch touches; npm: the project's test
// script. A workspace may set its own (argv arrays, never a shell line).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { runTool, type ToolResult } from './tools.js';

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

export function checkPlan(root: string, crateDirs: string[], custom?: string[][]): CheckStep[] {
  if (custom && custom.length)
    return custom.filter((a) => a.length > 0).map((argv) => ({ name: argv.join(' '), argv }));
  if (existsSync(join(root, 'Cargo.toml'))) {
    const p = crateNames(root, crateDirs).flatMap((n) => ['-p', n]);
    return [
      {
        name: `cargo check${p.length ? ` ${p.join(' ')}` : ''}`,
        argv: ['cargo', 'check', '--message-format=json', '--quiet', ...p],
      },
      { name: `cargo test${p.length ? ` ${p.join(' ')}` : ''}`, argv: ['cargo', 'test', '--quiet', ...p] },
    ];
  }
  if (existsSync(join(root, 'package.json'))) {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    const steps: CheckStep[] = [];
    if (pkg.scripts?.typecheck) steps.push({ name: 'npm run typecheck', argv: ['npm', 'run', 'typecheck'] });
    if (pkg.scripts?.test) steps.push({ name: 'npm test', argv: ['npm', 'test'] });
    return steps;
  }
  return [];
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

export async function runChecks(
  root: string,
  steps: CheckStep[],
  o: { timeoutMs: number; signal?: AbortSignal; onOutput?: (s: string) => void; env?: NodeJS.ProcessEnv },
): Promise<CheckResult> {
  const done: CheckResult['steps'] = [];
  const errors: CompilerError[] = [];
  let log = '';
  for (const s of steps) {
    o.onOutput?.(`$ ${s.name}\n`);
    log += `$ ${s.name}\n`;
    const r = await runTool({
      argv: s.argv,
      cwd: root,
      timeoutMs: o.timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.env ? { env: o.env } : {}),
      onOutput: (c) => {
        if (!s.argv.includes('--message-format=json')) o.onOutput?.(c);
      },
    });
    const errs = s.argv.includes('--message-format=json') ? cargoErrors(r.stdout) : [];
    const shown = s.argv.includes('--message-format=json')
      ? `${errs.map((e) => e.rendered).join('')}${r.stderr}`
      : `${r.stdout}${r.stderr}`;
    if (s.argv.includes('--message-format=json')) o.onOutput?.(shown);
    log +=
      shown +
      (r.timedOut ? `\n[timed out after ${o.timeoutMs} ms]` : '') +
      (r.cancelled ? '\n[cancelled]' : '') +
      `\n[exit ${r.code ?? r.signal}] (${r.ms} ms)\n`;
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
