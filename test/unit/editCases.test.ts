import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { applyPatch, parsePatch } from 'diff';
import { EDIT_CASES_DIR, loadEditCases, shifted, stripped, unnumbered } from '../../bench/editHistory.js';

// The edit benchmark's committed cases (issue 31): real commits of several public repositories, each with its
// licence beside it, whose -U3 diffs turn the pre-images into the post-images under git's own patch semantics.

const cases = loadEditCases();
const list = JSON.parse(readFileSync(join(EDIT_CASES_DIR, 'commits.json'), 'utf8')) as {
  repo: string;
  commit: string;
  licence: string;
}[];

describe('edit benchmark cases', () => {
  it('hold at least 150 commits of at least five repositories, exactly those commits.json lists', () => {
    assert.ok(cases.length >= 150, `${cases.length} cases`);
    assert.ok(new Set(cases.map((c) => c.repo)).size >= 5);
    assert.deepEqual(cases.map((c) => `${c.repo} ${c.commit}`).sort(), list.map((e) => `${e.repo} ${e.commit}`).sort());
  });

  it('keep each source repository licence text beside its cases', () => {
    for (const repo of new Set(list.map((e) => e.repo))) {
      const file = join(EDIT_CASES_DIR, `${repo.replace('/', '__')}.LICENSE`);
      assert.ok(existsSync(file), `${file} missing`);
      const text = readFileSync(file, 'utf8');
      const licence = list.find((e) => e.repo === repo)!.licence;
      assert.ok(text.startsWith(`${repo} (${licence})`), `${file} does not name ${licence}`);
      assert.ok(/permission|licen[cs]e/i.test(text) && text.length > 500, `${file} holds no licence text`);
    }
  });

  it('turn every pre-image into its post-image by the -U3 and -U1 diffs (the diff library, git semantics)', () => {
    for (const c of cases) {
      for (const [name, text] of [
        ['-U3', c.u3],
        ['-U1', c.u1],
      ] as const) {
        const patches = parsePatch(text);
        assert.equal(patches.length, c.files.length, `${c.repo} ${c.commit} ${name}: one patch per file`);
        for (const p of patches) {
          const path = p.newFileName!.replace(/^b\//, '');
          const f = c.files.find((x) => x.path === path);
          assert.ok(f, `${c.repo} ${c.commit}: ${path} not in the case`);
          assert.notEqual(f.before, f.after);
          assert.equal(applyPatch(f.before, p), f.after, `${c.repo} ${c.commit} ${name} ${path}`);
        }
      }
    }
  });

  it('derive the perturbed forms as named', () => {
    const p =
      'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -3,4 +3,5 @@ fn a\n   keep  \n-old\n+  new\n@@ -20 +21 @@\n-x\n+y\n';
    assert.equal(
      shifted(p),
      'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -8,4 +8,5 @@ fn a\n   keep  \n-old\n+  new\n@@ -15 +16 @@\n-x\n+y\n',
    );
    assert.match(unnumbered(p), /^@@ \.\.\. @@ fn a$/m);
    assert.doesNotMatch(unnumbered(p), /@@ -\d/);
    assert.match(stripped(p), /^ keep\n-old\n\+ {2}new$/m);
  });
});
