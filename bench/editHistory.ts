// The edit benchmark from real history (issue 31): the commits of bench/edit-cases/ (public repositories of several
// languages; scripts/build-edit-cases.mjs rebuilds them) replayed as patches over each commit's parent files, in five
// forms: as written (-U3), one line of context (-U1), hunk line numbers shifted by ±5, no line numbers (`@@ ... @@`),
// and context lines with their whitespace stripped. apply_patch, `git apply` and GNU patch take the same texts; each
// result is exact (every file as the commit made it), refused, or wrong (applied, but not as the commit made it).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { applyPatchText } from '../src/core/agent/edits/applyPatch.js';
import type { Figure } from './router.js';

export interface EditCase {
  repo: string;
  commit: string;
  parent: string;
  subject: string;
  files: { path: string; before: string; after: string }[];
  u3: string;
  u1: string;
}

export const EDIT_CASES_DIR = new URL('./edit-cases/', import.meta.url).pathname;

/** Every committed case, with its repository's name. */
export function loadEditCases(dir = EDIT_CASES_DIR): EditCase[] {
  const out: EditCase[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json.gz')) continue;
    const data = JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString('utf8')) as {
      repo: string;
      cases: Omit<EditCase, 'repo'>[];
    };
    for (const c of data.cases) out.push({ ...c, repo: data.repo });
  }
  return out;
}

const HEADER = /^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@/;
const mapLines = (patch: string, f: (line: string, inHunk: boolean) => string) => {
  let inHunk = false;
  return patch
    .split('\n')
    .map((l) => {
      if (l.startsWith('diff --git ')) inHunk = false;
      else if (l.startsWith('@@')) inHunk = true;
      return f(l, inHunk);
    })
    .join('\n');
};

/** Each hunk's stated lines moved +5, -5, +5, … (counted over the whole patch), never below line 1. */
export function shifted(patch: string): string {
  let k = 0;
  return mapLines(patch, (l) => {
    const m = HEADER.exec(l);
    if (!m) return l;
    const d = k++ % 2 === 0 ? 5 : -5;
    const at = (n: string) => String(Math.max(1, Number(n) + d));
    return `@@ -${at(m[1]!)}${m[2] ?? ''} +${at(m[3]!)}${m[4] ?? ''} @@${l.slice(m[0].length)}`;
  });
}

/** Every `@@ -a,b +c,d @@` written `@@ ... @@` (the section text after it kept). */
export const unnumbered = (patch: string) =>
  mapLines(patch, (l) => {
    const m = HEADER.exec(l);
    return m ? `@@ ... @@${l.slice(m[0].length)}` : l;
  });

/** Context lines (' ' in a hunk) with their leading and trailing whitespace removed; - and + lines as they are. */
export const stripped = (patch: string) =>
  mapLines(patch, (l, inHunk) => (inHunk && l.startsWith(' ') ? ` ${l.slice(1).trim()}` : l));

const VARIANTS: [string, (c: EditCase) => string][] = [
  ['as written (-U3)', (c) => c.u3],
  ['one line of context (-U1)', (c) => c.u1],
  ['line numbers shifted ±5', (c) => shifted(c.u3)],
  ['no line numbers (@@ ... @@)', (c) => unnumbered(c.u3)],
  ['context whitespace stripped', (c) => stripped(c.u3)],
];

type Outcome = 'exact' | 'refused' | 'wrong';

/** Texts equal but for each line's leading and trailing whitespace. */
const loose = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .join('\n');

/** Applied where it belongs but with some context lines' whitespace changed: counted wrong, and told apart. */
let wrongWhitespaceOnly = 0;

/** The outcome of files' texts after a patch: exact, wrong, or refused where the tool changed nothing at all. */
function judge(c: EditCase, after: (path: string) => string | null): Outcome {
  const got = c.files.map((f) => after(f.path));
  if (c.files.every((f, k) => got[k] === f.after)) return 'exact';
  if (c.files.every((f, k) => got[k] === f.before)) return 'refused';
  return 'wrong';
}

function viaApplyPatch(c: EditCase, patch: string): Outcome {
  const pre = new Map(c.files.map((f) => [f.path, f.before]));
  const r = applyPatchText(patch, (p) => pre.get(p) ?? null);
  if (!r.ok) return 'refused';
  const after = new Map<string, string | null>(pre);
  for (const ch of r.changes) after.set(ch.path, ch.after);
  if (after.size !== c.files.length) return 'wrong';
  const o = judge(c, (p) => after.get(p) ?? null);
  if (o === 'wrong' && c.files.every((f) => loose(after.get(f.path) ?? '') === loose(f.after))) wrongWhitespaceOnly++;
  return o;
}

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<number>((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (err) => {
      resolve(err ? (typeof err.code === 'number' ? err.code : 1) : 0);
    });
  });

/** `git apply` (atomic: all or nothing) or GNU `patch -p1` on the pre-images in a fresh directory. */
async function viaTool(tool: 'git' | 'patch', c: EditCase, patch: string): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'edit-case-'));
  try {
    const tree = join(dir, 'tree');
    for (const f of c.files) {
      mkdirSync(dirname(join(tree, f.path)), { recursive: true });
      writeFileSync(join(tree, f.path), f.before);
    }
    const file = join(dir, 'change.patch');
    writeFileSync(file, patch);
    const rc =
      tool === 'git'
        ? await run('git', ['apply', file], tree)
        : await run('patch', ['-p1', '--no-backup-if-mismatch', '-f', '-s', '-i', file], tree);
    if (rc !== 0) return 'refused';
    return judge(c, (p) => readFileSync(join(tree, p), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const k = next++;
        out[k] = await jobs[k]!();
      }
    }),
  );
  return out;
}

const ENGINES = ['apply_patch', 'git apply', 'GNU patch'] as const;
type Tally = Record<Outcome, number>;

export async function benchEditHistory(): Promise<Figure[]> {
  let cases: EditCase[];
  try {
    cases = loadEditCases();
  } catch (e) {
    return [{ name: 'edit history', value: `cases unreadable: ${String(e)}` }];
  }
  const started = Date.now();
  wrongWhitespaceOnly = 0;
  const repos = new Set(cases.map((c) => c.repo));
  const width = Math.max(2, Math.min(8, availableParallelism()));
  // results[variant][engine][case]
  const results: Outcome[][][] = [];
  for (const [, make] of VARIANTS) {
    const texts = cases.map(make);
    const ours = cases.map((c, k) => viaApplyPatch(c, texts[k]!));
    const git = await pool(
      cases.map((c, k) => () => viaTool('git', c, texts[k]!)),
      width,
    );
    const gnu = await pool(
      cases.map((c, k) => () => viaTool('patch', c, texts[k]!)),
      width,
    );
    results.push([ours, git, gnu]);
  }
  const tally = (os: Outcome[]): Tally => {
    const t: Tally = { exact: 0, refused: 0, wrong: 0 };
    for (const o of os) t[o]++;
    return t;
  };
  const cell = (t: Tally) => `${t.exact}/${t.refused}/${t.wrong}`.padEnd(13);
  const n = cases.length;
  const figures: Figure[] = [
    {
      name: `edit history: ${n} real commits of ${repos.size} repositories`,
      value: `${[...repos].join(', ')}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    },
    { name: '  form: exact/refused/wrong', value: ENGINES.map((e) => e.padEnd(13)).join(' ') },
  ];
  for (const [v, [name]] of VARIANTS.entries())
    figures.push({ name: `  ${name}`, value: results[v]!.map((r) => cell(tally(r))).join(' ') });

  const pct = (k: number) => (100 * k) / n;
  const ours = (v: number) => tally(results[v]![0]!);
  const gitAtU3 = results[0]![1]!.map((o, k) => (o === 'exact' ? k : -1)).filter((k) => k >= 0);
  const oursOnThose = gitAtU3.filter((k) => results[0]![0]![k] === 'exact').length;
  const wrong = results.reduce((s, r) => s + tally(r[0]!).wrong, 0);
  figures.push(
    {
      name: 'apply_patch -U3, exact where git apply is exact',
      value: `${oursOnThose}/${gitAtU3.length}`,
      goal: 'all',
      ok: oursOnThose === gitAtU3.length,
    },
    ...[1, 2].map((v) => ({
      name: `apply_patch exact, ${VARIANTS[v]![0]}`,
      value: `${pct(ours(v).exact).toFixed(1)} %`,
      goal: '>= 95 %',
      ok: pct(ours(v).exact) >= 95,
    })),
    {
      name: `apply_patch exact, ${VARIANTS[3]![0]}`,
      value: `${pct(ours(3).exact).toFixed(1)} %`,
      goal: '>= 90 %',
      ok: pct(ours(3).exact) >= 90,
    },
    { name: 'apply_patch wrong, every form', value: String(wrong), goal: '0', ok: wrong === 0 },
    { name: '  of which the right place, only whitespace differs', value: String(wrongWhitespaceOnly) },
    {
      name: '  (a tool that reports success but changed nothing',
      value: 'counts as refused: GNU patch does so on @@ ... @@ hunks under a diff --git header)',
    },
  );
  return figures;
}
