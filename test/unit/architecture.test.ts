import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cycles, functionSpans, importGraph, longLines, sourceFiles, walk } from './helpers/codeShape.js';

const MAX_LINE = 140;
const MAX_FUNCTION_LINES = 80;

/** A webview (media/src/) may import its own helpers and src/core/protocol/, nothing else of the tree. */
const webviewOffences = ([from, to]: [string, string[]]): string[] =>
  to.filter((t) => !/^(media\/src\/|src\/core\/protocol\/)/.test(t)).map((t) => `${from} imports ${t}`);

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

  it('no import cycle between files anywhere in src/ and media/src/ (type-only and lazy imports count)', () => {
    const graph = importGraph(sourceFiles('src', 'media/src'));
    assert.ok(graph.size > 100, 'the graph covers the tree');
    assert.ok(
      [...graph.values()].some((to) => to.length > 5),
      'imports are resolved',
    );
    assert.deepEqual(cycles(graph), []);
  });

  it('no import cycle between the folders of src/core (budget, providers, router, plan, protocol, ...)', () => {
    const files = sourceFiles('src/core');
    const folder = (f: string) => f.split('/').slice(0, 3).join('/');
    const graph = new Map<string, string[]>();
    for (const [from, to] of importGraph(files)) {
      const set = new Set(graph.get(folder(from)) ?? []);
      for (const t of to) if (folder(t) !== folder(from)) set.add(folder(t));
      graph.set(folder(from), [...set]);
    }
    assert.ok(graph.size >= 10);
    assert.deepEqual(cycles(graph), []);
  });

  it('the cycle check finds a cycle when there is one (two files, and three)', () => {
    const two = new Map([
      ['a', ['b']],
      ['b', ['a']],
    ]);
    assert.deepEqual(cycles(two), [['a', 'b']]);
    const three = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    assert.deepEqual(cycles(three), [['a', 'b', 'c']]);
  });

  it(`no line in src/ or media/src/ is longer than ${MAX_LINE} characters`, () => {
    const files = sourceFiles('src', 'media/src');
    assert.deepEqual(
      files.flatMap((f) => longLines(f, MAX_LINE)),
      [],
    );
  });

  it(`no function in src/ or media/src/ is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const spans = sourceFiles('src', 'media/src').flatMap(functionSpans);
    assert.ok(spans.length > 500, 'functions are found');
    const over = spans
      .filter((s) => s.lines > MAX_FUNCTION_LINES)
      .map((s) => `${s.file}:${s.line} ${s.name} is ${s.lines} lines`);
    assert.deepEqual(over, []);
  });

  it('the webviews import only the protocol and their own helpers; the CLI never imports the adapter', () => {
    const graph = importGraph(sourceFiles('src', 'media/src'));
    const webviews = [...graph].filter(([from]) => from.startsWith('media/src/'));
    assert.ok(
      webviews.some(([, to]) => to.some((t) => t.startsWith('src/core/protocol/'))),
      'the webviews import the protocol',
    );
    assert.deepEqual(webviews.flatMap(webviewOffences), []);
    for (const [from, to] of graph) {
      if (from.startsWith('src/cli/')) {
        for (const t of to) assert.ok(!t.startsWith('src/vscode/'), `${from} imports ${t}`);
      }
    }
  });

  it('the webview rule refuses a webview that reaches into the core past the protocol', () => {
    assert.deepEqual(webviewOffences(['media/src/task.ts', ['src/core/util/money.ts', 'src/core/protocol/task.ts']]), [
      'media/src/task.ts imports src/core/util/money.ts',
    ]);
    assert.deepEqual(webviewOffences(['media/src/a.ts', ['media/src/lib/dom.ts', 'src/core/protocol/money.ts']]), []);
  });
});
