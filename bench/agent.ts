// The agent's own cost per turn, apart from the model: routing the turn, measuring the whole change again after an
// edit, and the checkpoint before the edit, on the demo workspace and on a generated 20,000-file workspace, beside a
// bare `git diff` of the same change (the floor); checkpoint and restore of the 20,000-file workspace; and the edit
// matcher over edits taken from this repository's history, perturbed the way models get them wrong.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShadowCheckpoints } from '../src/core/agent/checkpoints.js';
import { unifiedDiff } from '../src/core/agent/edits/answer.js';
import { initialState, routeRequest } from '../src/core/agent/state.js';
import { Workspace } from '../src/core/agent/workspace.js';
import { classifyDiff } from '../src/core/classifier/classify.js';
import { bundledPolicy } from '../src/core/policy/store.js';
import { route } from '../src/core/router/route.js';
import { benchEditApply } from './editApply.js';
import type { Figure } from './router.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...args], { cwd, stdio: 'pipe' }).toString();
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

function demoRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-agent-demo-'));
  cpSync('demo', dir, { recursive: true });
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'demo');
  return dir;
}

/** The demo's crates plus 20,000 small source files in 200 folders, committed. */
function largeRepo(): string {
  const dir = demoRepo();
  for (let d = 0; d < 200; d++) {
    const folder = join(dir, 'generated', `m${d}`);
    mkdirSync(folder, { recursive: true });
    for (let f = 0; f < 100; f++)
      writeFileSync(
        join(folder, `f${f}.rs`),
        `// generated ${d}/${f}\npub fn f${f}() -> u32 {\n    ${d * 100 + f}\n}\n`,
      );
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'generated');
  return dir;
}

/** A model that answers in 50 ms (real ones take longer): the time the agent's snapshot has to finish in. */
const MODEL_MS = 50;

/**
 * One turn's overhead, `turns` times: an edit of lib.rs, the checkpoint before it, the re-measure, the route. Serial:
 * all of it after the answer. Critical path: as the agent runs it, the checkpoint taken while the model answers.
 */
async function turnOverhead(root: string, label: string, turns = 30): Promise<Figure[]> {
  const policy = bundledPolicy();
  const ws = new Workspace(root);
  const cps = new ShadowCheckpoints(mkdtempSync(join(tmpdir(), 'sy-bench-shadow-')), ws.root);
  await cps.create('baseline'); // the task's first checkpoint (its cost is the checkpoint figure below)
  const lib = 'crates/core/src/lib.rs';
  const base = ws.read(lib);
  const state = initialState();
  const afterCheckpoint = async (t: number) => {
    ws.write(lib, base.replace('!w.is_empty()', `!w.is_empty() && w.len() <= ${64 + t}`));
    const changes = ws.changes();
    const diff = unifiedDiff(changes);
    const asFile = changes.map((c) => ({ path: c.path, before: c.before, after: c.after ?? '' }));
    const readBase = async (p: string) => asFile.find((c) => c.path === p)?.before ?? undefined;
    state.measured = await classifyDiff(diff, { policy, repo: { readBase, readCurrent: async (p) => ws.current(p) } });
    route({ role: 'implementer', ...routeRequest(state) }, policy, {});
  };
  const serial: number[] = [];
  const critical: number[] = [];
  const floor: number[] = [];
  for (let t = 0; t < turns; t++) {
    const t0 = performance.now();
    await cps.create(`turn ${t}`);
    await afterCheckpoint(t);
    serial.push(performance.now() - t0);
    const snap = cps.snapshot('snapshot');
    await new Promise((r) => setTimeout(r, MODEL_MS));
    const t1 = performance.now();
    cps.keep(await snap, `turn ${t}b`);
    await afterCheckpoint(t + 1000);
    critical.push(performance.now() - t1);
    const f0 = performance.now();
    git(root, 'diff');
    floor.push(performance.now() - f0);
  }
  const goal = label.includes('20,000') ? 150 : 30;
  const p = (xs: number[]) => `${ms(pct(xs, 0.5))} / ${ms(pct(xs, 0.95))}`;
  return [
    {
      name: `per-turn overhead, ${label}, on the turn's path (p50 / p95 of ${turns})`,
      value: `${p(critical)} | git diff ${p(floor)}`,
      goal: `p95 < ${goal} ms`,
      ok: pct(critical, 0.95) < goal,
    },
    { name: `  the same with the checkpoint after the answer (serial)`, value: p(serial) },
  ];
}

async function checkpointFigures(root: string): Promise<Figure[]> {
  const cps = new ShadowCheckpoints(mkdtempSync(join(tmpdir(), 'sy-bench-shadow-')), root);
  let t0 = performance.now();
  const first = await cps.create('first');
  const cold = performance.now() - t0;
  writeFileSync(join(root, 'generated/m7/f7.rs'), '// changed\n');
  writeFileSync(join(root, 'generated/new.rs'), '// new\n');
  t0 = performance.now();
  await cps.create('second');
  const warm = performance.now() - t0;
  t0 = performance.now();
  await cps.restore(first.id);
  const restore = performance.now() - t0;
  return [
    { name: 'checkpoint, 20,000 files, first of a task (cold index)', value: ms(cold), goal: '< 1 s', ok: cold < 1000 },
    { name: 'checkpoint, 20,000 files, next one (2 files changed)', value: ms(warm), goal: '< 1 s', ok: warm < 1000 },
    { name: 'restore a checkpoint, 20,000 files', value: ms(restore), goal: '< 1 s', ok: restore < 1000 },
  ];
}

export async function benchAgent(): Promise<Figure[]> {
  const demo = demoRepo();
  const large = largeRepo();
  try {
    return [
      ...(await turnOverhead(demo, 'demo workspace')),
      ...(await turnOverhead(large, '20,000-file workspace')),
      ...(await checkpointFigures(large)),
      ...benchEditApply(),
    ];
  } finally {
    rmSync(demo, { recursive: true, force: true });
    rmSync(large, { recursive: true, force: true });
  }
}
