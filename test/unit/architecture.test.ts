import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });

describe('architecture', () => {
  it('src/core never imports vscode (the core knows nothing of the editor)', () => {
    const files = walk('src/core').filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 5);
    const offenders = files.filter((f) =>
      /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)|import\(\s*['"]vscode['"]\s*\)/.test(
        readFileSync(f, 'utf8'),
      ),
    );
    assert.deepEqual(offenders, []);
  });

  it('the router does no I/O: no fs, net, child_process, clock or randomness', () => {
    const files = walk('src/core/router').filter((f) => f.endsWith('.ts'));
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      assert.doesNotMatch(
        text,
        /node:(fs|net|http|https|child_process)|Date\.now|new Date|Math\.random|process\.env/,
        f,
      );
    }
  });
});
