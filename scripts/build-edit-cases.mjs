#!/usr/bin/env node
// Rebuilds the edit benchmark's cases (bench/edit-cases/) from real history: for each commit in
// bench/edit-cases/commits.json, each modified file's text before and after, and the commit's -U3 and -U1 diffs of
// those files, one gzip JSON per source repository, with that repository's licence text beside it. For developers:
// `npm run bench` reads the committed cases and never fetches.
//
//   node scripts/build-edit-cases.mjs [--mirror DIR]            rebuild the cases from commits.json
//   node scripts/build-edit-cases.mjs --select [--per-repo N]   choose the commits first (rewrites commits.json)
//
// DIR holds one bare git directory per repository, `<owner>+<name>/repo` or `<owner>+<name>` (default
// /work/.mirror, or $EDIT_CASES_MIRROR).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const OUT = new URL('../bench/edit-cases/', import.meta.url).pathname;
const LIST = join(OUT, 'commits.json');

/** The repositories the selection draws from: their licence (SPDX) and the files that hold its text. */
const REPOS = {
  'BurntSushi/ripgrep': { licence: 'MIT OR Unlicense', files: ['LICENSE-MIT', 'UNLICENSE'] },
  'junegunn/fzf': { licence: 'MIT', files: ['LICENSE'] },
  'pallets/flask': { licence: 'BSD-3-Clause', files: ['LICENSE.txt'] },
  'expressjs/express': { licence: 'MIT', files: ['LICENSE'] },
  'jqlang/jq': { licence: 'MIT', files: ['COPYING'] },
  'google/gson': { licence: 'Apache-2.0', files: ['LICENSE'] },
};

/** Limits on a case: small enough to commit, large enough to be a real edit. */
const MAX_DIFF = 40_000;
const MAX_FILE = 200_000;
const MAX_FILES = 8;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : dflt;
};
const mirror = opt('--mirror', process.env.EDIT_CASES_MIRROR ?? '/work/.mirror');

function gitDir(repo) {
  const base = join(mirror, repo.replace('/', '+'));
  for (const d of [join(base, 'repo'), base]) if (existsSync(join(d, 'HEAD'))) return d;
  throw new Error(`no git directory for ${repo} under ${mirror} (fetch github:${repo} first)`);
}

const git = (dir, ...a) =>
  execFileSync('git', ['--git-dir', dir, ...a], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
const gitText = (dir, ...a) => git(dir, ...a).toString('utf8');

/** A blob's text, or null where it is not UTF-8 text (a NUL byte, or bytes that do not round-trip). */
function blobText(dir, commit, path) {
  const buf = git(dir, 'show', `${commit}:${path}`);
  if (buf.length > MAX_FILE || buf.includes(0)) return null;
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? text : null;
}

const DIFF = [
  'diff',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--no-renames',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

/** The case for one commit, or a reason it does not qualify (a snapshot may lack its largest blobs). */
function makeCase(dir, commit) {
  try {
    return readCase(dir, commit);
  } catch (e) {
    return `unreadable: ${String(e.stderr ?? e).trim()}`;
  }
}

function readCase(dir, commit) {
  const parents = gitText(dir, 'rev-list', '--parents', '-n1', commit).trim().split(' ').slice(1);
  if (parents.length !== 1) return 'not one parent';
  const [parent] = parents;
  const raw = gitText(dir, 'diff-tree', '-r', '--no-renames', '--numstat', parent, commit).trim();
  if (!raw) return 'empty';
  const paths = [];
  for (const line of raw.split('\n')) {
    const [add, del, path] = line.split('\t');
    if (add === '-' || del === '-') return 'binary';
    paths.push(path);
  }
  if (paths.length > MAX_FILES) return 'too many files';
  const status = gitText(dir, 'diff-tree', '-r', '--no-renames', '--name-status', parent, commit).trim();
  if (status.split('\n').some((l) => !l.startsWith('M\t'))) return 'adds or deletes';
  const u3 = gitText(dir, ...DIFF, '-U3', parent, commit, '--', ...paths);
  if (u3.length > MAX_DIFF) return 'diff too large';
  if (!u3.includes('\n@@ ')) return 'no hunks (mode change)';
  const u1 = gitText(dir, ...DIFF, '-U1', parent, commit, '--', ...paths);
  const files = [];
  for (const path of paths) {
    const before = blobText(dir, parent, path);
    const after = blobText(dir, commit, path);
    if (before === null || after === null) return 'not UTF-8 text or too large';
    files.push({ path, before, after });
  }
  const subject = gitText(dir, 'log', '-1', '--format=%s', commit).trim();
  return { commit, parent, subject, files, u3, u1 };
}

/** `perRepo` qualifying commits of each repository, spread evenly over its history. */
function select(perRepo) {
  const out = [];
  for (const [repo, { licence }] of Object.entries(REPOS)) {
    const dir = gitDir(repo);
    const all = gitText(dir, 'rev-list', '--no-merges', 'HEAD').trim().split('\n');
    // Walk the history with a stride (newest to oldest); in each stride, the first commit that qualifies.
    const stride = Math.max(1, Math.floor(all.length / (perRepo * 1.5)));
    const chosen = [];
    for (let k = 0; k < all.length && chosen.length < perRepo; k += stride) {
      for (let j = k; j < Math.min(k + stride, all.length); j++) {
        if (typeof makeCase(dir, all[j]) === 'object') {
          chosen.push(all[j]);
          break;
        }
      }
    }
    console.log(`${repo}: ${chosen.length} commits of ${all.length}`);
    for (const commit of chosen) out.push({ repo, commit, licence });
  }
  writeFileSync(LIST, JSON.stringify(out, null, 2) + '\n');
}

function build() {
  if (!existsSync(LIST)) throw new Error(`${LIST} missing: run with --select first`);
  const list = JSON.parse(readFileSync(LIST, 'utf8'));
  for (const f of readdirSync(OUT)) if (f.endsWith('.json.gz') || f.endsWith('.LICENSE')) rmSync(join(OUT, f));
  const byRepo = new Map();
  for (const e of list) byRepo.set(e.repo, [...(byRepo.get(e.repo) ?? []), e]);
  let total = 0;
  for (const [repo, entries] of byRepo) {
    const dir = gitDir(repo);
    const meta = REPOS[repo];
    if (!meta) throw new Error(`${repo}: no licence recorded in REPOS`);
    const cases = [];
    for (const e of entries) {
      const c = makeCase(dir, e.commit);
      if (typeof c !== 'object') throw new Error(`${repo} ${e.commit}: ${c}`);
      cases.push(c);
    }
    const stem = repo.replace('/', '__');
    const licenceText = meta.files.map((f) => `==> ${f} <==\n${gitText(dir, 'show', `HEAD:${f}`)}`).join('\n');
    writeFileSync(join(OUT, `${stem}.LICENSE`), `${repo} (${meta.licence})\n\n${licenceText}`);
    const gz = gzipSync(JSON.stringify({ repo, licence: meta.licence, cases }), { level: 9 });
    writeFileSync(join(OUT, `${stem}.json.gz`), gz);
    total += gz.length;
    console.log(`${repo}: ${cases.length} cases, ${(gz.length / 1024).toFixed(0)} KiB`);
  }
  console.log(`total ${list.length} cases, ${(total / 1024 / 1024).toFixed(2)} MiB compressed`);
}

mkdirSync(OUT, { recursive: true });
if (args.includes('--select')) select(Number(opt('--per-repo', '36')));
build();
