// apply_patch's placement (issue 31): a hunk goes where its text is; where the text repeats, its line numbers (after
// the drift of earlier hunks) or its `*** Begin Patch` @@ lines choose, only when the choice is certain; otherwise a
// refusal names the places. Hunks without numbers, context that lost its whitespace, and every form of the
// `*** Begin Patch` format apply. The tool itself (tools.ts, with the workspace guard) still refuses a path outside.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after as afterAll, describe, it } from 'node:test';
import { applyPatchText, type PatchOutcome } from '../../src/core/agent/edits/applyPatch.js';
import { runAgentTool } from '../../src/core/agent/tools.js';
import { Workspace } from '../../src/core/agent/workspace.js';

/** A file with the same three-line block at lines 3 and 63 (and filler between). */
function twice(): string {
  const block = ['fn check() {', '    let x = 1;', '}'];
  const filler = (n: number, tag: string) => Array.from({ length: n }, (_, k) => `// ${tag} ${k}`);
  return [...filler(2, 'head'), ...block, ...filler(57, 'mid'), ...block, ...filler(5, 'tail')].join('\n') + '\n';
}

const patchAt = (line: number, body = [' fn check() {', '-    let x = 1;', '+    let x = 2;', ' }']) =>
  ['--- a/src/lib.rs', '+++ b/src/lib.rs', `@@ -${line},3 +${line},3 @@`, ...body, ''].join('\n');

const read = (files: Record<string, string>) => (p: string) => files[p] ?? null;
const one = (patch: string, text = twice(), path = 'src/lib.rs') => applyPatchText(patch, read({ [path]: text }));
const after = (r: PatchOutcome, path = 'src/lib.rs') => {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.changes.find((c) => c.path === path)!.after!;
};
const refusal = (r: PatchOutcome) => {
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? '' : r.message;
};

describe('apply_patch: a repeated text is placed by the hunk line numbers, when certain', () => {
  it('applies at the occurrence its line numbers point to, also shifted by 5', () => {
    for (const [line, want] of [
      [63, 63],
      [3, 3],
      [58, 63],
      [68, 63],
      [8, 3],
    ] as const) {
      const lines = after(one(patchAt(line))).split('\n');
      assert.equal(lines[want], '    let x = 2;', `@@ -${line} should change the block at line ${want}`);
      assert.equal(lines.filter((l) => l === '    let x = 2;').length, 1, 'only one occurrence changed');
    }
  });

  it('refuses a hunk equally near both occurrences, or far from both, naming both lines', () => {
    for (const line of [33, 200]) {
      const m = refusal(one(patchAt(line)));
      assert.match(m, /hunk 1/);
      assert.match(m, /lines 3, 63/);
      assert.match(m, /line 3 nor line 63/);
    }
    // Nearer one, but not twice as near as the other: 28 is 25 from line 3 and 35 from line 63.
    assert.match(refusal(one(patchAt(28))), /lines 3, 63/);
  });

  it('refuses when the other occurrence is only a few lines farther, even from an exact line number', () => {
    const block = ['fn check() {', '    let x = 1;', '}'];
    const file = (gap: number) =>
      ['// a', '// b', ...block, ...Array.from({ length: gap }, (_, k) => `// gap ${k}`), ...block, ''].join('\n');
    // Blocks at lines 3 and 7: a hunk stated at line 3 is 4 lines from the other, as far as numbers a few lines
    // off could be.
    const m = refusal(one(patchAt(3), file(1)));
    assert.match(m, /lines 3, 7/);
    assert.match(m, /6 lines farther/);
    // Blocks at lines 3 and 10: the stated line 3 is certain.
    assert.equal(after(one(patchAt(3), file(4))).split('\n')[3], '    let x = 2;');
    assert.equal(after(one(patchAt(10), file(4))).split('\n')[10], '    let x = 2;');
  });

  it("reads a later hunk's numbers with the drift of the earlier hunks", () => {
    // The first hunk adds 10 lines near the top and is itself stated 4 lines late (drift -4); the second names
    // the second block 4 lines late too (67 for 63): with the drift it is exact, at line 73 of the new text.
    const adds = Array.from({ length: 10 }, (_, k) => `+// added ${k}`);
    const patch = [
      '--- a/src/lib.rs',
      '+++ b/src/lib.rs',
      '@@ -5,2 +5,12 @@',
      ' // head 0',
      ...adds,
      ' // head 1',
      '@@ -67,3 +77,3 @@',
      ' fn check() {',
      '-    let x = 1;',
      '+    let x = 2;',
      ' }',
      '',
    ].join('\n');
    const lines = after(one(patch)).split('\n');
    assert.equal(lines[73], '    let x = 2;');
    assert.equal(lines[13], '    let x = 1;', 'the first block is untouched');
    // Without the drift, 67 + 10 = 77 would be 4 lines past the block; a third equal block 8 lines after the
    // second shows the drift is what decides: the hunk still lands on the second block.
    const three = twice().replace('// tail 4\n', '// tail 4\nfn check() {\n    let x = 1;\n}\n');
    const lines3 = after(one(patch, three)).split('\n');
    assert.equal(lines3[73], '    let x = 2;');
    assert.equal(lines3[81], '    let x = 1;');
  });

  it('applies hunks in order against the evolving text, and refuses one whose text is only before the last', () => {
    const patch = [
      '--- a/src/lib.rs',
      '+++ b/src/lib.rs',
      '@@ -30,1 +30,1 @@',
      '-// mid 27',
      '+// mid twenty-seven',
      '@@ ... @@',
      '-// mid 3',
      '+// mid three',
      '',
    ].join('\n');
    assert.match(refusal(one(patch)), /hunk 2 .*line 9, before the previous hunk.*in its order/);
  });
});

describe('apply_patch: hunks without line numbers', () => {
  const unique = (header: string) => [
    '--- a/src/lib.rs',
    '+++ b/src/lib.rs',
    header,
    ' // mid 10',
    '-// mid 11',
    '+// mid eleven',
    ' // mid 12',
    '',
  ];
  it('apply by their text: @@ ... @@, a bare @@, a section heading, numbers without counts', () => {
    for (const header of ['@@ ... @@', '@@', '@@ fn check', '@@ -40 +40 @@']) {
      assert.match(after(one(unique(header).join('\n'))), /\/\/ mid 10\n\/\/ mid eleven\n\/\/ mid 12\n/, header);
    }
  });
  it('refuse a repeated text, naming its lines', () => {
    const m = refusal(one(patchAt(3).replace(/^@@ .* @@$/m, '@@ ... @@')));
    assert.match(m, /occurs 2 times \(lines 3, 63\)/);
  });
  it('read to their last line: a removed "- " line is a hunk line; git\'s mail signature ends the hunk', () => {
    const md = { 'a.md': 'x\n- \n\ny\n' };
    const removes = '--- a/a.md\n+++ b/a.md\n@@\n x\n-- \n\n-y\n+z\n';
    assert.equal(after(applyPatchText(removes, read(md)), 'a.md'), 'x\n\nz\n');
    const mail = 'Subject: x\n---\ndiff --git a/a.md b/a.md\n--- a/a.md\n+++ b/a.md\n@@\n x\n-- \n \n-- \n2.39.2\n\n';
    assert.equal(after(applyPatchText(mail, read(md)), 'a.md'), 'x\n\ny\n');
  });
  it('refuse a hunk that only adds lines (no context to place them by)', () => {
    assert.match(refusal(one('--- a/src/lib.rs\n+++ b/src/lib.rs\n@@\n+// new\n')), /only adds lines/);
  });
  it('read a miscounted hunk to its last line, and several files, each with its hunks', () => {
    const patch = [
      '--- a/src/lib.rs',
      '+++ b/src/lib.rs',
      '@@ -12,2 +12,2 @@',
      ' // mid 10',
      '-// mid 11',
      '+// mid eleven',
      ' // mid 12',
      '--- a/b.txt',
      '+++ b/b.txt',
      '@@',
      ' x',
      '-y',
      '+z',
      '',
    ].join('\n');
    const r = applyPatchText(patch, read({ 'src/lib.rs': twice(), 'b.txt': 'x\ny\n' }));
    assert.match(after(r), /\/\/ mid 10\n\/\/ mid eleven\n\/\/ mid 12\n/);
    assert.equal(after(r, 'b.txt'), 'x\nz\n');
  });
});

describe('apply_patch: whitespace the context lost', () => {
  it('context that lost its indentation or trailing spaces places; the added lines keep their indentation', () => {
    const file = 'fn a() {\n    if x {   \n        go();\n    }\n}\n';
    const patch = [
      '--- a/a.rs',
      '+++ b/a.rs',
      '@@ -2,3 +2,3 @@',
      ' if x {',
      '-        go();',
      '+        stop();',
      ' }',
    ];
    assert.equal(after(one(patch.join('\n'), file, 'a.rs'), 'a.rs'), file.replace('go()', 'stop()'));
  });
  it('among equal blocks, stripped context still places by line number', () => {
    const body = [' fn check() {', '-    let x = 1;', '+    let x = 2;', '  }'];
    assert.equal(
      after(
        one(
          patchAt(
            61,
            body.map((l) => (l[0] === ' ' ? ` ${l.trim()}` : l)),
          ),
        ),
      ).split('\n')[63],
      '    let x = 2;',
    );
  });
  it('a whole hunk shifted alike moves its added lines with it; indentation that disagrees is refused', () => {
    const file = 'mod m {\n    fn f() {\n        one();\n    }\n}\n';
    const shifted = [
      '--- a/m.rs',
      '+++ b/m.rs',
      '@@ -2,3 +2,4 @@',
      ' fn f() {',
      '-    one();',
      '+    two();',
      '+    three();',
      ' }',
    ];
    assert.equal(
      after(one(shifted.join('\n'), file, 'm.rs'), 'm.rs'),
      file.replace('one();', 'two();\n        three();'),
    );
    // The removed line shifted by 4, the context not: which shift the added line has is not known.
    const mixed = [
      '--- a/m.rs',
      '+++ b/m.rs',
      '@@ -2,3 +2,3 @@',
      '     fn f() {',
      '-    one();',
      '+        two();',
      '     }',
    ];
    assert.match(refusal(one(mixed.join('\n'), file, 'm.rs')), /indentation differs .*different amounts/);
  });
  it('keeps CRLF line endings and a missing final newline', () => {
    const crlf = 'a\r\nb\r\nc\r\n';
    assert.equal(after(one('--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n', crlf, 'f'), 'f'), 'a\r\nB\r\nc\r\n');
    const patch =
      '--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n b\n-c\n\\ No newline at end of file\n+C\n\\ No newline at end of file\n';
    assert.equal(after(one(patch, 'a\nb\nc', 'f'), 'f'), 'a\nb\nC');
    const adds = '--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n b\n-c\n\\ No newline at end of file\n+c\n';
    assert.equal(after(one(adds, 'a\nb\nc', 'f'), 'f'), 'a\nb\nc\n');
  });
  it('a CRLF file without a final newline, a line added after its last; a mixed file keeps each line ending', () => {
    const noEol = '--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n b\n+c\n';
    assert.equal(after(one(noEol, 'a\r\nb', 'f'), 'f'), 'a\r\nb\r\nc');
    const gains = '--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+B\n';
    assert.equal(after(one(gains, 'a\r\nb', 'f'), 'f'), 'a\r\nB\r\n');
    // One CRLF line among LF lines: that line keeps its CRLF, the others (and the added line) stay LF.
    const mixed = '--- a/f\n+++ b/f\n@@ -2,2 +2,2 @@\n b\n-c\n+C\n';
    assert.equal(after(one(mixed, 'a\r\nb\nc\nd\n', 'f'), 'f'), 'a\r\nb\nC\nd\n');
    // A CRLF patch text over a CRLF file.
    const crlfPatch = '--- a/f\r\n+++ b/f\r\n@@ ... @@\r\n a\r\n-b\r\n+B\r\n';
    assert.equal(after(one(crlfPatch, 'a\r\nb\r\nc\r\n', 'f'), 'f'), 'a\r\nB\r\nc\r\n');
  });
});

describe('apply_patch: the *** Begin Patch format', () => {
  const files = () => ({
    'src/app.py': [
      'class Foo:',
      '    def bar(self):',
      '        return 1',
      '',
      '    def baz(self):',
      '        return 1',
      '',
      'class Qux:',
      '    def bar(self):',
      '        return 1',
      '',
    ].join('\n'),
    'old.txt': 'keep\n',
    'gone.txt': 'bye\n',
  });
  const run = (body: string[]) =>
    applyPatchText(['*** Begin Patch', ...body, '*** End Patch', ''].join('\n'), read(files()));

  it('adds, deletes, updates and moves files in one patch', () => {
    const r = run([
      '*** Add File: docs/new.md',
      '+# New',
      '+',
      '+text',
      '*** Delete File: gone.txt',
      '*** Update File: old.txt',
      '*** Move to: moved/new.txt',
      '@@',
      '-keep',
      '+kept',
    ]);
    assert.ok(r.ok, r.ok ? '' : r.message);
    const byPath = Object.fromEntries(r.changes.map((c) => [c.path, c]));
    assert.equal(byPath['docs/new.md']!.after, '# New\n\ntext\n');
    assert.equal(byPath['docs/new.md']!.before, null);
    assert.equal(byPath['gone.txt']!.after, null);
    assert.equal(byPath['old.txt']!.after, null);
    assert.equal(byPath['moved/new.txt']!.after, 'kept\n');
    // A pure move: no hunk.
    const moved = run(['*** Update File: old.txt', '*** Move to: elsewhere.txt']);
    assert.equal(after(moved, 'elsewhere.txt'), 'keep\n');
  });

  it('@@ anchors narrow where the context is searched, nested ones too', () => {
    // "return 1" is in all three methods: the anchors say which.
    const baz = run(['*** Update File: src/app.py', '@@ def baz(self):', '-        return 1', '+        return 2']);
    assert.match(after(baz, 'src/app.py'), /def baz\(self\):\n {8}return 2\n/);
    assert.equal(after(baz, 'src/app.py').match(/return 2/g)!.length, 1);
    const qux = run([
      '*** Update File: src/app.py',
      '@@ class Qux',
      '@@     def bar',
      '-        return 1',
      '+        return 3',
    ]);
    assert.match(after(qux, 'src/app.py'), /class Qux:\n {4}def bar\(self\):\n {8}return 3\n$/);
    assert.equal(after(qux, 'src/app.py').match(/return 3/g)!.length, 1);
    // Without an anchor the text repeats: refused, naming the lines.
    const bare = run(['*** Update File: src/app.py', '@@', '-        return 1', '+        return 4']);
    assert.match(refusal(bare), /occurs 3 times \(lines 3, 6, 10\)/);
    // An anchor that names nothing.
    assert.match(
      refusal(run(['*** Update File: src/app.py', '@@ def nope', '-        return 1', '+x'])),
      /no line reads "def nope"/,
    );
  });

  it('*** End of File places the hunk at the end; a hunk that only adds lines is appended', () => {
    const eof = run([
      '*** Update File: src/app.py',
      '@@',
      '     def bar(self):',
      '-        return 1',
      '+        return 5',
      '*** End of File',
    ]);
    assert.match(after(eof, 'src/app.py'), /class Qux:\n {4}def bar\(self\):\n {8}return 5\n$/);
    const append = run(['*** Update File: old.txt', '+appended']);
    assert.equal(after(append, 'old.txt'), 'keep\nappended\n');
  });

  it("keeps a CRLF file's line endings, reads a patch inside a shell heredoc, and leaves a file's missing newline", () => {
    const crlf = 'a\r\nb\r\nc\r\n';
    const r = applyPatchText(
      "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: f\n@@\n a\n-b\n+B\n+b2\n*** End Patch\nEOF\n",
      read({ f: crlf }),
    );
    assert.equal(after(r, 'f'), 'a\r\nB\r\nb2\r\nc\r\n');
    const eof = applyPatchText(
      '*** Begin Patch\n*** Update File: f\n@@\n b\n-c\n+C\n*** End of File\n*** End Patch\n',
      read({ f: 'a\nb\nc' }),
    );
    assert.equal(after(eof, 'f'), 'a\nb\nC');
  });

  it('a unified diff whose context holds a "*** Begin Patch" line is read as a unified diff', () => {
    const patch = '--- a/R.md\n+++ b/R.md\n@@ -1,3 +1,3 @@\n x\n *** Begin Patch\n-y\n+z\n';
    assert.equal(
      after(applyPatchText(patch, read({ 'R.md': 'x\n*** Begin Patch\ny\n' })), 'R.md'),
      'x\n*** Begin Patch\nz\n',
    );
  });

  it('several hunks of a file apply in order; what is malformed is refused and nothing applies', () => {
    const two = run([
      '*** Update File: src/app.py',
      '@@ class Foo:',
      ' class Foo:',
      '-    def bar(self):',
      '+    def bar(self, n):',
      '@@ class Qux:',
      '-    def bar(self):',
      '+    def bar(self, m):',
    ]);
    assert.match(after(two, 'src/app.py'), /def bar\(self, n\):[^]*def bar\(self, m\):/);
    const cut = applyPatchText('*** Begin Patch\n*** Update File: old.txt\n@@\n-keep\n+kept\n', read(files()));
    assert.match(refusal(cut), /no "\*\*\* End Patch" line/);
    assert.match(refusal(run(['*** Add File: x.txt', 'no plus'])), /each line of a new file starts with "\+"/);
    assert.match(refusal(run(['*** Update File: missing.txt', '@@', '-a', '+b'])), /missing\.txt does not exist/);
    assert.match(refusal(run(['*** Add File: old.txt', '+x'])), /old\.txt already exists/);
  });
});

describe('apply_patch through the tool: the workspace guard still holds', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  it('a *** Begin Patch or unified path that leaves the workspace is refused; nothing is written outside', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sy-place-'));
    made.push(base);
    const root = join(base, 'ws');
    const out = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(out);
    writeFileSync(join(root, 'a.txt'), 'a\n');
    writeFileSync(join(out, 'secret.txt'), 'secret\n');
    const ws = new Workspace(root);
    const tool = (patch: string) => runAgentTool({ ws }, 'apply_patch', JSON.stringify({ patch }));
    const begin = (body: string[]) => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
    for (const patch of [
      begin(['*** Add File: ../outside/new.txt', '+x']),
      begin(['*** Update File: ../outside/secret.txt', '@@', '-secret', '+owned']),
      begin(['*** Update File: a.txt', '*** Move to: ../outside/a.txt']),
      begin(['*** Delete File: ../outside/secret.txt']),
      '--- a/../outside/secret.txt\n+++ b/../outside/secret.txt\n@@ ... @@\n-secret\n+owned\n',
    ]) {
      const r = await tool(patch);
      assert.equal(r.kind, 'answer', JSON.stringify(r).slice(0, 200));
      assert.ok(r.kind === 'answer' && !r.ok);
      assert.match(r.kind === 'answer' ? r.content : '', /apply_patch: .*outside the workspace/);
    }
    assert.deepEqual(readdirSync(out), ['secret.txt']);
    // Links: a folder link that leads out, a dangling link, both as the target of Add, Update and Move to.
    symlinkSync(out, join(root, 'out-link'));
    symlinkSync(join(out, 'nothing-yet.txt'), join(root, 'dangling.txt'));
    for (const patch of [
      begin(['*** Add File: out-link/new.txt', '+x']),
      begin(['*** Update File: out-link/secret.txt', '@@', '-secret', '+owned']),
      begin(['*** Add File: dangling.txt', '+x']),
      begin(['*** Update File: a.txt', '*** Move to: out-link/a.txt']),
      begin(['*** Update File: a.txt', '*** Move to: dangling.txt']),
      '--- a/out-link/secret.txt\n+++ b/out-link/secret.txt\n@@ -1 +1 @@\n-secret\n+owned\n',
    ]) {
      const r = await tool(patch);
      assert.ok(r.kind === 'answer' && !r.ok, `${patch.split('\n')[1]}: ${JSON.stringify(r).slice(0, 200)}`);
    }
    assert.deepEqual(readdirSync(out), ['secret.txt'], 'nothing was written through a link');
    const ok = await tool(begin(['*** Update File: a.txt', '@@', '-a', '+b']));
    assert.equal(ok.kind, 'edit', JSON.stringify(ok));
  });
});
