// apply_patch places a hunk whose text is not unique by its line numbers (the occurrence nearest the stated line,
// after the drift of earlier hunks), and refuses when two occurrences are about equally near, naming both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPatchText } from '../../src/core/agent/edits/applyPatch.js';

/** A file with the same three-line block at lines 3 and 63 (and filler between). */
function twice(): string {
  const block = ['fn check() {', '    let x = 1;', '}'];
  const filler = (n: number, tag: string) => Array.from({ length: n }, (_, k) => `// ${tag} ${k}`);
  return [...filler(2, 'head'), ...block, ...filler(57, 'mid'), ...block, ...filler(5, 'tail')].join('\n') + '\n';
}

const patchAt = (line: number) =>
  [
    '--- a/src/lib.rs',
    '+++ b/src/lib.rs',
    `@@ -${line},3 +${line},3 @@`,
    ' fn check() {',
    '-    let x = 1;',
    '+    let x = 2;',
    ' }',
    '',
  ].join('\n');

const read = (files: Record<string, string>) => (p: string) => files[p] ?? null;

test('a hunk whose text occurs twice applies at the occurrence its line numbers point to', () => {
  const before = twice();
  for (const [line, want] of [
    [63, 63],
    [3, 3],
    [58, 63], // shifted by 5: still nearer the second
    [8, 3],
  ] as const) {
    const r = applyPatchText(patchAt(line), read({ 'src/lib.rs': before }));
    assert.ok(r.ok, `@@ -${line}: ${r.ok ? '' : r.message}`);
    const after = r.changes[0]!.after!.split('\n');
    assert.equal(after[want], '    let x = 2;', `@@ -${line} should change the block at line ${want}`);
    assert.equal(after.filter((l) => l === '    let x = 2;').length, 1, 'only one occurrence changed');
  }
});

test('a hunk equally near both occurrences, or far from both, is refused with both locations', () => {
  const before = twice();
  for (const line of [33, 200]) {
    const r = applyPatchText(patchAt(line), read({ 'src/lib.rs': before }));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /lines 3, 63/);
    assert.match(r.ok ? '' : r.message, /hunk 1/);
  }
});

test("a later hunk's line numbers are read with the drift of the earlier hunks", () => {
  // The first hunk adds 10 lines near the top; the second names the second block by its original line (63),
  // which is 73 in the text the first hunk leaves.
  const before = twice();
  const adds = Array.from({ length: 10 }, (_, k) => `+// added ${k}`);
  const patch = [
    '--- a/src/lib.rs',
    '+++ b/src/lib.rs',
    '@@ -1,2 +1,12 @@',
    ' // head 0',
    ...adds,
    ' // head 1',
    '@@ -63,3 +73,3 @@',
    ' fn check() {',
    '-    let x = 1;',
    '+    let x = 2;',
    ' }',
    '',
  ].join('\n');
  const r = applyPatchText(patch, read({ 'src/lib.rs': before }));
  assert.ok(r.ok, r.ok ? '' : r.message);
  const after = r.changes[0]!.after!.split('\n');
  assert.equal(after[73], '    let x = 2;');
  assert.equal(after[13], '    let x = 1;', 'the first block is untouched');
});

test('context that lost its indentation still places by line number among equal blocks', () => {
  const before = twice();
  const patch = patchAt(61).replace(' fn check() {\n-    let x = 1;', ' fn check() {\n-let x = 1;');
  const r = applyPatchText(patch, read({ 'src/lib.rs': before }));
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.changes[0]!.after!.split('\n')[63], '    let x = 2;');
});

test('hunks without line numbers (@@ ... @@, a bare @@) apply by their text; a repeated text is refused', () => {
  const before = twice();
  const unique = (header: string) =>
    [
      '--- a/src/lib.rs',
      '+++ b/src/lib.rs',
      header,
      ' // mid 10',
      '-// mid 11',
      '+// mid eleven',
      ' // mid 12',
      '',
    ].join('\n');
  for (const header of ['@@ ... @@', '@@', '@@ fn check']) {
    const r = applyPatchText(unique(header), read({ 'src/lib.rs': before }));
    assert.ok(r.ok, `${header}: ${r.ok ? '' : r.message}`);
    assert.match(r.changes[0]!.after!, /\/\/ mid 10\n\/\/ mid eleven\n\/\/ mid 12\n/);
  }
  const repeated = patchAt(3).replace(/^@@ .* @@$/m, '@@ ... @@');
  const r = applyPatchText(repeated, read({ 'src/lib.rs': before }));
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /lines 3, 63/);
});

test('the *** Begin Patch format is refused with a message that says what to send instead', () => {
  const r = applyPatchText(
    '*** Begin Patch\n*** Update File: src/lib.rs\n@@\n-// mid 11\n+// mid eleven\n*** End Patch\n',
    read({ 'src/lib.rs': twice() }),
  );
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /Begin Patch.*not supported.*unified diff.*edit_file/s);
});
