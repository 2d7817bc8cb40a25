import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyAnswer, PatchError, unifiedDiff } from '../../src/core/agent/edits/answer.js';
import { runTool } from '../../src/core/sandbox/process.js';

// The text edit format (search/replace blocks, unified diffs) that models without tool calls answer in, and the
// tool executor the agent's checks and commands run through. The agent itself: agent.test.ts.
const block = (search: string, replace: string, path = 'crates/core/src/lib.rs') =>
  `${path}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

describe('patches: applied in memory, or a clear error', () => {
  const files: Record<string, string> = { 'a.rs': 'fn a() {\n    1\n}\n', 'b.rs': 'x\ny\n' };
  const read = async (p: string) => files[p];
  it('search/replace blocks, fenced or not, several per file; an empty SEARCH creates a file', async () => {
    const ans = `Here:\n\`\`\`rust\na.rs\n<<<<<<< SEARCH\n    1\n=======\n    2\n>>>>>>> REPLACE\n\`\`\`\n${block('y', 'z', 'b.rs')}${block('', 'new', 'c.rs')}`;
    const ch = await applyAnswer(ans, read);
    assert.deepEqual(
      ch.map((c) => [c.path, c.after]),
      [
        ['a.rs', 'fn a() {\n    2\n}\n'],
        ['b.rs', 'x\nz\n'],
        ['c.rs', 'new\n'],
      ],
    );
    assert.equal(ch[2]!.before, null);
    const diff = unifiedDiff(ch);
    assert.match(diff, /^diff --git a\/a\.rs b\/a\.rs\n--- a\/a\.rs\n\+\+\+ b\/a\.rs\n@@/);
    assert.match(diff, /new file mode 100644\n--- \/dev\/null\n\+\+\+ b\/c\.rs/);
  });
  it('a unified diff applies too', async () => {
    const ch = await applyAnswer('--- a/b.rs\n+++ b/b.rs\n@@ -1,2 +1,2 @@\n x\n-y\n+w\n', read);
    assert.equal(ch[0]!.after, 'x\nw\n');
  });
  it('what does not apply says which block and why', async () => {
    await assert.rejects(
      applyAnswer(block('not there', 'x', 'a.rs'), read),
      (e: unknown) =>
        e instanceof PatchError && /block 1 \(a\.rs\): the SEARCH text is not in the file/.test(e.message),
    );
    await assert.rejects(applyAnswer(block('', 'x', 'a.rs'), read), /exists; an empty SEARCH only creates new files/);
    await assert.rejects(applyAnswer(block('x', 'y', '../../etc/passwd'), read), /not a path inside the workspace/);
    await assert.rejects(applyAnswer(block('x', 'y', '.git/config'), read), /not a path inside the workspace/);
    await assert.rejects(applyAnswer(block('x', 'y', 'missing.rs'), read), /does not exist/);
    await assert.rejects(applyAnswer('just prose', read), /no search\/replace block and no unified diff/);
    await assert.rejects(
      applyAnswer('--- a/b.rs\n+++ b/b.rs\n@@ -1,2 +1,2 @@\n q\n-y\n+w\n', read),
      /does not apply to the current file/,
    );
    const twice = { 'd.rs': 'same\nsame\n' };
    await assert.rejects(
      applyAnswer(block('same', 'x', 'd.rs'), async (p) => (twice as Record<string, string>)[p]),
      /more than once/,
    );
  });
});

describe('the tool executor (GR-010)', () => {
  it('runs an argv without a shell: model text stays one argument', async () => {
    const marker = join(tmpdir(), `sy-no-shell-${process.pid}`);
    const r = await runTool({
      argv: ['printf', '%s', `$(touch ${marker}); echo pwned`],
      cwd: tmpdir(),
      timeoutMs: 5_000,
    });
    assert.equal(r.stdout, `$(touch ${marker}); echo pwned`);
    assert.equal(existsSync(marker), false);
  });
  it('a timeout and a cancel end the whole process group', async () => {
    const t = await runTool({ argv: ['sh', '-c', 'sleep 30 & sleep 30; wait'], cwd: tmpdir(), timeoutMs: 200 });
    assert.equal(t.timedOut, true);
    assert.ok(t.ms < 5_000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const c = await runTool({ argv: ['sleep', '30'], cwd: tmpdir(), timeoutMs: 60_000, signal: ac.signal });
    assert.equal(c.cancelled, true);
  });
});
