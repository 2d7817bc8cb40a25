// Hostile and unlucky input, generated (nothing large is committed): policy files in the CLI and the loader the
// editor uses, diffs, closed pipes and money. Each class gets a clear message and exit 2 (or a partial
// classification with its reason), never a crash, a stack trace or a silent pass.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { classifyDiff } from '../../src/core/classifier/classify.js';
import { MAX_POLICY_PROBLEMS, parsePolicyText } from '../../src/core/policy/load.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { route } from '../../src/core/router/route.js';
import { usd } from '../../src/core/util/money.js';
import { runCli } from './helpers/cli.js';
import { BUNDLED_TEXT } from './helpers/policy.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sy-hostile-'));
const cli = (args: string[], input = '') =>
  runCli(args, { input, cwd: tmp(), env: { ...process.env, SWITCHYARD_STATE_DIR: tmp() } });
const noTrace = (s: string) => assert.doesNotMatch(s, /\n\s+at |internal error/);
/** A policy file through the three commands that read one: each exits 2 with the reason, nothing routed. */
async function refusedEverywhere(file: string, reason: RegExp) {
  for (const args of [
    ['policy', 'validate', file],
    ['route', '--policy', file],
    ['ask', '--policy', file, '--role', 'tutor', 'hi'],
  ]) {
    const r = await cli(args, '{"role":"tutor"}');
    assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
    assert.match(r.err, reason, args[0]);
    noTrace(r.err);
    assert.ok(r.err.split('\n').length < MAX_POLICY_PROBLEMS + 10, `${args[0]}: a bounded message`);
  }
}

describe('hostile policy files', () => {
  it('nesting of any depth past the limit is refused with its line (arrays, objects, mixed), in the CLI too', async () => {
    await fc.assert(
      fc.property(
        fc.integer({ min: 65, max: 50_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
        (depth, kinds) => {
          const open = Array.from({ length: depth }, (_, i) => (kinds[i % kinds.length] ? '[' : '{"a":')).join('');
          const close = Array.from({ length: depth }, (_, i) =>
            kinds[(depth - 1 - i) % kinds.length] ? ']' : '}',
          ).join('');
          const r = parsePolicyText(open + close, 'p.json');
          assert.equal(r.ok, false);
          assert.ok(!r.ok && r.problems.length === 1 && /nested more than 64 levels deep/.test(r.problems[0]!.reason));
        },
      ),
      { numRuns: 30 },
    );
    const f = join(tmp(), 'deep.json');
    writeFileSync(f, '['.repeat(100_000) + ']'.repeat(100_000));
    await refusedEverywhere(f, /nested more than 64 levels deep/);
  });

  it('a file over 1 MiB is refused by its size before it is read (50 MB generated here, not committed)', async () => {
    const f = join(tmp(), 'big.json');
    writeFileSync(f, `{"a": ${'1 '.repeat(25_000_000)}}`);
    await refusedEverywhere(f, /the file is 47\.7 MiB; a policy file may be at most 1\.0 MiB/);
  });

  it('an invalid file under the limit lists at most 20 problems, then "and N more"', () => {
    const text = `{${'"k": ,'.repeat(100_000)}}`;
    const r = parsePolicyText(text, 'p.json');
    assert.ok(!r.ok);
    assert.equal(r.problems.length, MAX_POLICY_PROBLEMS + 1);
    assert.match(r.problems.at(-1)!.reason, /^and \d+ more problems$/);
    assert.ok(r.problems.slice(0, -1).every((p) => p.line > 0));
  });

  it('encodings: UTF-8 with a BOM reads; UTF-16 (LE or BE, with a BOM or without) is refused in one line', async () => {
    assert.equal(parsePolicyText(`\uFEFF${BUNDLED_TEXT}`, 'p.json').ok, true);
    const le = Buffer.from(BUNDLED_TEXT, 'utf16le');
    const be = Buffer.from(le).swap16();
    const dir = tmp();
    for (const [name, bytes] of [
      ['le-bom', Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
      ['be-bom', Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
      ['le', le],
      ['be', be],
    ] as const) {
      const r = parsePolicyText(bytes.toString('utf8'), name);
      assert.ok(!r.ok && r.problems.length === 1 && /UTF-16/.test(r.problems[0]!.reason), name);
      writeFileSync(join(dir, `${name}.json`), bytes);
    }
    await refusedEverywhere(join(dir, 'le-bom.json'), /looks like UTF-16.*save it as UTF-8/);
  });

  it('prototype keys anywhere are refused with their path, never taken as structure', async () => {
    const keys = ['__proto__', 'constructor', 'prototype'] as const;
    const raw = JSON.parse(BUNDLED_TEXT);
    const paths: string[][] = [
      [],
      ['roles'],
      ['roles', 'judge'],
      ['models'],
      ['budget'],
      ['escalation', 'implementer'],
    ];
    await fc.assert(
      fc.property(fc.constantFrom(...keys), fc.constantFrom(...paths), (key, at) => {
        // Written as text: JSON.stringify would drop a __proto__ key set on an object.
        const marker = '"__marker__":1';
        const copy = structuredClone(raw);
        let node = copy;
        for (const k of at) node = node[k];
        node.__marker__ = 1;
        const text = JSON.stringify(copy).replace(marker, `"${key}": {"local_only": true}`);
        const r = parsePolicyText(text, 'p.json');
        assert.ok(!r.ok, `${key} at ${at.join('.')}`);
        assert.equal(r.problems[0]!.field, [...at, key].join('.'));
        assert.match(r.problems[0]!.reason, new RegExp(`"${key}" is not allowed as a key`));
        assert.ok(r.problems[0]!.line > 0);
      }),
      { numRuns: 40 },
    );
    const f = join(tmp(), 'proto.json');
    writeFileSync(f, `{"__proto__": ${BUNDLED_TEXT}}`);
    await refusedEverywhere(f, /"__proto__" is not allowed as a key/);
    assert.equal(({} as Record<string, unknown>).local_only, undefined, 'no prototype was polluted');
  });
});

const DIFF_HEAD = 'diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n';
const noRepo = { readBase: async () => undefined, readCurrent: async () => undefined };

describe('hostile diffs', () => {
  it('a garbled hunk header makes the classification partial, naming the line; nothing is dropped silently', async () => {
    const garbled = fc.oneof(
      fc.constantFrom('@@@@', '@ -1,1 +1,2 @@', '@@ -x +y @@', '@@ -1,1 +1,2', '@@-1 +1@@'),
      fc.string({ maxLength: 20 }).map((s) => `@${s.replace(/\n/g, '')}`),
    );
    await fc.assert(
      fc.asyncProperty(garbled, async (header) => {
        fc.pre(!/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@/.test(header));
        const diff = `${DIFF_HEAD}${header}\n+pub unsafe extern "C" fn f() {}\n`;
        const c = await classifyDiff(diff, { policy: bundledPolicy(), repo: noRepo });
        assert.equal(c.partial, true, header);
        assert.ok(
          c.warnings.some((w) => /^line 4: a hunk header that cannot be read/.test(w)),
          c.warnings.join('; '),
        );
        assert.ok(c.reasons.some((r) => /partial/.test(r)));
      }),
      { numRuns: 60 },
    );
  });

  it('paths that leave the repository are refused with a message, and nothing outside is read', async () => {
    const outside = fc.oneof(
      fc.constantFrom('../../etc/passwd', '/etc/passwd', 'a/../../b', '.git/config', '..'),
      fc.stringMatching(/^[a-z]{1,5}$/).map((s) => `../${s}`),
    );
    await fc.assert(
      fc.asyncProperty(outside, async (p) => {
        const diff = `diff --git a/${p} b/${p}\n--- a/${p}\n+++ b/${p}\n@@ -1,1 +1,1 @@\n-a\n+b\n`;
        const read: string[] = [];
        const repo = { readBase: async (x: string) => (read.push(x), undefined), readCurrent: async () => undefined };
        const c = await classifyDiff(diff, { policy: bundledPolicy(), repo });
        assert.equal(c.files.length, 0, p);
        assert.equal(c.partial, true);
        assert.ok(
          c.warnings.some((w) => /leaves the repository/.test(w)),
          c.warnings.join('; '),
        );
        assert.deepEqual(read, []);
      }),
      { numRuns: 30 },
    );
    const r = await cli(
      ['classify', '--diff', '-'],
      `diff --git a/../x b/../x\n--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n`,
    );
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.out).partial, true);
  });

  it('a 200,000-line diff adding one public function a line is classified (no stack overflow)', async () => {
    const n = 200_000;
    const lines: string[] = [
      `diff --git a/src/lib.rs b/src/lib.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/lib.rs\n@@ -0,0 +1,${n} @@`,
    ];
    for (let i = 0; i < n; i++) lines.push(`+pub fn f${i}() {}`);
    const c = await classifyDiff(`${lines.join('\n')}\n`, { policy: bundledPolicy(), repo: noRepo });
    assert.equal(c.lines_changed, n);
    assert.equal(c.lane, 'cloud');
  });
});

describe('closed pipes and money', () => {
  it('a reader that closes early ends the command quietly: exit 0, no stack trace', async () => {
    const tsx = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
    const child = spawn(process.execPath, ['--import', tsx, 'src/cli/bin.ts', 'policy', 'schema'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    assert.equal(err, '');
  });

  it('sub-cent amounts keep the digits that tell them apart; a $0.001 cap refusal names $0.001', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-7, max: 0.00999, noNaN: true }), (x) => {
        const shown = Number(usd(x).slice(1));
        assert.ok(Math.abs(shown - x) / x < 0.06, `${x} shown as ${usd(x)}`);
      }),
    );
    assert.equal(usd(0), '$0.00');
    assert.equal(usd(12.345), '$12.35');
    const d = route(
      { role: 'judge', budget: { spent_usd: 0.0004, cap_usd: 0.001, estimate_usd: 0.002 } },
      bundledPolicy(),
    );
    assert.ok(d.refused);
    assert.match(d.refused!.message, /\$0\.001\b/);
    assert.match(d.refused!.message, /\$0\.0004\b/);
  });
});
