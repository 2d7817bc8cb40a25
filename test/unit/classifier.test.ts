import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyDiff } from '../../src/core/classifier/classify.js';
import { gitDiff, gitRepoReader } from '../../src/core/classifier/gitRepo.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { CASES, POLYGLOT_CASES, type Case, type Edit } from './helpers/classifierCases.js';
import { policyWith } from './helpers/policy.js';

const policy = bundledPolicy();
const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' });

function apply(dir: string, e: Edit): void {
  const p = join(dir, e.path);
  if ('remove' in e) {
    rmSync(p);
    return;
  }
  if ('write' in e) {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, e.write);
    return;
  }
  if ('append' in e) {
    appendFileSync(p, e.append);
    return;
  }
  const text = readFileSync(p, 'utf8');
  assert.ok(text.includes(e.replace[0]), `fixture ${e.path} contains ${JSON.stringify(e.replace[0])}`);
  writeFileSync(p, text.replace(e.replace[0], e.replace[1]));
}

function fixtureSuite(title: string, fixture: string, cases: Case[]): void {
  describe(title, () => {
    let repo: string;
    before(() => {
      repo = mkdtempSync(join(tmpdir(), 'sy-fixture-'));
      cpSync(fixture, repo, { recursive: true });
      git(repo, 'init', '-q');
      git(repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'add', '-A');
      git(repo, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', 'commit', '-qm', 'base');
    });
    after(() => rmSync(repo, { recursive: true, force: true }));
    for (const c of cases) it(c.name, () => runCase(repo, c));
  });
}

async function runCase(repo: string, c: Case): Promise<void> {
  git(repo, 'checkout', '-q', '--', '.');
  git(repo, 'clean', '-qfd');
  for (const e of c.edits) apply(repo, e);
  const diff = await gitDiff(repo, 'HEAD');
  assert.ok(diff.length > 0, 'the edit produced a diff');
  const reader = gitRepoReader(repo, 'HEAD');
  const withRepo = await classifyDiff(diff, { policy, repo: reader }).finally(() => reader.close());
  const why = JSON.stringify(
    { flags: withRepo.risk_flags, reasons: withRepo.reasons, warnings: withRepo.warnings },
    null,
    1,
  );
  assert.deepEqual([...withRepo.risk_flags].sort(), [...c.flags].sort(), why);
  assert.equal(withRepo.lane, c.lane, why);
  assert.equal(withRepo.high_risk, c.flags.length > 0);
  assert.equal(withRepo.partial, false, why);
  if (c.lines !== undefined) assert.equal(withRepo.lines_changed, c.lines);
  if (c.sharedState !== undefined) assert.equal(withRepo.shared_state, c.sharedState);
  for (const e of withRepo.evidence) {
    assert.ok(e.path && e.node && e.text !== undefined, 'evidence names path, node and text');
    if (e.line > 0) {
      const side = e.side === 'before' ? git(repo, 'show', `HEAD:${e.path}`) : readFileSync(join(repo, e.path), 'utf8');
      assert.equal(
        side.split('\n')[e.line - 1]!.trim().slice(0, 160),
        e.text,
        `evidence line ${e.path}:${e.line} quotes the file`,
      );
    }
  }
  // Without the repository only the hunks are known: high risk must never be missed.
  const diffOnly = await classifyDiff(diff, { policy });
  assert.deepEqual(
    [...diffOnly.risk_flags].sort(),
    [...(c.diffOnlyFlags ?? c.flags)].sort(),
    `diff only: ${JSON.stringify(diffOnly.reasons)}`,
  );
}

fixtureSuite(
  'classifier on a realistic multi-crate Cargo workspace (test/fixtures/cargo-ws)',
  'test/fixtures/cargo-ws',
  CASES,
);
fixtureSuite('classifier on TypeScript and Python (test/fixtures/polyglot)', 'test/fixtures/polyglot', POLYGLOT_CASES);

describe('classifier: lanes follow the policy thresholds and bad input is reported', () => {
  const body = (n: number) =>
    `diff --git a/src/main.rs b/src/main.rs\n--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,1 +1,${n + 1} @@\n fn main() {\n${Array.from({ length: n }, (_, i) => `+    let v${i} = ${i};`).join('\n')}\n`;

  it('the size thresholds come from the policy', async () => {
    assert.equal((await classifyDiff(body(99), { policy })).lane, 'local_reflex');
    assert.equal((await classifyDiff(body(100), { policy })).lane, 'local');
    assert.equal((await classifyDiff(body(501), { policy })).lane, 'cloud');
    const strict = policyWith((raw) => {
      raw.escalation.implementer.small_diff_max_lines = 10;
      raw.escalation.implementer.direct_cloud_over_lines = 50;
    });
    assert.equal((await classifyDiff(body(20), { policy: strict })).lane, 'local');
    assert.equal((await classifyDiff(body(51), { policy: strict })).lane, 'cloud');
  });

  it('binary files, renames and mode changes are reported, not crashed on', async () => {
    const d =
      'diff --git a/logo.png b/logo.png\nindex 1111111..2222222 100644\nBinary files a/logo.png and b/logo.png differ\n' +
      'diff --git a/src/old.rs b/src/new.rs\nsimilarity index 100%\nrename from src/old.rs\nrename to src/new.rs\n' +
      'diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n';
    const c = await classifyDiff(d, { policy });
    assert.deepEqual(
      c.files.map((f) => f.status),
      ['binary', 'renamed', 'modified'],
    );
    assert.ok(c.warnings.some((w) => /logo\.png: binary/.test(w)));
    assert.ok(c.warnings.some((w) => /run\.sh: file mode changed/.test(w)));
    assert.ok(c.risk_flags.includes('public_api'), 'a renamed module file of a library may move public items');
  });

  it('a truncated hunk gives a partial result that says so, never a silent low risk', async () => {
    const d =
      'diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,10 +1,12 @@\n pub fn a() {\n+    unsafe { b() }\n';
    const c = await classifyDiff(d, { policy });
    assert.equal(c.partial, true);
    assert.ok(c.warnings.some((w) => /could not fully parse/.test(w)));
    assert.ok(c.risk_flags.includes('unsafe_ffi'), JSON.stringify(c.reasons));
  });

  it('CRLF line endings and non-UTF-8 bytes are handled', async () => {
    const crlf =
      'diff --git a/src/lib.rs b/src/lib.rs\r\n--- a/src/lib.rs\r\n+++ b/src/lib.rs\r\n@@ -1,1 +1,1 @@\r\n-pub fn a() {}\r\n+pub fn a(x: u8) {}\r\n';
    const c = await classifyDiff(crlf, { policy });
    assert.deepEqual(c.risk_flags, ['public_api']);
    const bad = await classifyDiff(
      'diff --git a/src/x.rs b/src/x.rs\n--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-let a = "\uFFFD";\n+let a = "b";\n',
      { policy },
    );
    assert.ok(bad.warnings.some((w) => /not UTF-8/.test(w)));
    assert.equal(bad.partial, true);
  });

  it('text that is not a diff is said to be so', async () => {
    const c = await classifyDiff('hello, this is not a diff\n', { policy });
    assert.equal(c.partial, true);
    assert.ok(c.warnings.some((w) => /is this a unified diff/.test(w)));
  });

  it('a 100,000-line diff is classified', async () => {
    const c = await classifyDiff(body(100_000), { policy });
    assert.equal(c.lines_changed, 100_000);
    assert.equal(c.lane, 'cloud');
  });
});

describe('classifier: the tree-sitter runtime', () => {
  it('answers its i32 transfers straight from WASM memory, and cursors and nodes still read the same tree', async () => {
    const { parserFor, grammarStats } = await import('../../src/core/classifier/grammar.js');
    const parser = await parserFor('rust');
    assert.equal(grammarStats.fastTransfers, true);
    const src = 'pub fn a(x: u8) -> u8 {\n    unsafe { x }\n}\nstruct S { f: u32 }\n';
    const tree = parser.parse(src)!;
    const viaCursor: string[] = [];
    const c = tree.walk();
    for (let more = true; more;) {
      viaCursor.push(`${c.nodeType}@${c.startIndex}-${c.endIndex}`);
      if (c.gotoFirstChild()) continue;
      while (!c.gotoNextSibling())
        if (!c.gotoParent()) {
          more = false;
          break;
        }
    }
    c.delete();
    const viaNodes: string[] = [];
    const visit = (n: NonNullable<ReturnType<typeof tree.rootNode.child>>) => {
      viaNodes.push(`${n.type}@${n.startIndex}-${n.endIndex}`);
      for (const k of n.children) if (k) visit(k);
    };
    visit(tree.rootNode);
    assert.deepEqual(viaCursor, viaNodes);
    assert.ok(viaNodes.includes('unsafe_block@28-40'), viaNodes.join(' '));
    assert.equal(tree.rootNode.descendantForIndex(src.indexOf('f:'))!.type, 'field_identifier');
    tree.delete();
  });
});
