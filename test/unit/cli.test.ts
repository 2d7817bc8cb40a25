import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli.js';
import { rawPolicy } from './helpers/policy.js';

// The CLI as scripts use it: JSON on stdout, messages on stderr, exit codes. main() runs in this process with
// its own streams (the commands read and write only through them); `cliProcess` runs the real process for what
// only a process shows (the bin's exit code).
const ROOT = process.cwd();
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const cli = (args: string[], input?: string, cwd = ROOT) => runCli(args, { input, cwd });
const cliProcess = (args: string[], input?: string, cwd = ROOT) => {
  const res = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/bin.ts'), ...args], {
    input,
    encoding: 'utf8',
    cwd,
  });
  return { code: res.status, out: res.stdout, err: res.stderr };
};
const tmp = () => mkdtempSync(join(tmpdir(), 'sy-cli-'));

describe('switchyard route', () => {
  it('prints one decision for a request on stdin', async () => {
    const { code, out } = await cli(['route'], JSON.stringify({ role: 'implementer', change: { lines_changed: 40 } }));
    assert.equal(code, 0);
    const d = JSON.parse(out);
    assert.equal(d.rule, 'implementer.small_diff');
    assert.equal(d.location, 'local');
  });

  it('reads --request F and --policy F, and the same input prints the same bytes', async () => {
    const dir = tmp();
    const policy = rawPolicy();
    policy.escalation.implementer.small_diff_max_lines = 20;
    writeFileSync(join(dir, 'p.json'), JSON.stringify(policy));
    writeFileSync(join(dir, 'req.json'), JSON.stringify({ role: 'implementer', change: { lines_changed: 40 } }));
    const a = await cli(['route', '--policy', join(dir, 'p.json'), '--request', join(dir, 'req.json')]);
    const b = await cli(['route', '--policy', join(dir, 'p.json'), '--request', join(dir, 'req.json')]);
    assert.equal(a.code, 0);
    assert.equal(JSON.parse(a.out).rule, 'implementer.medium_diff');
    assert.equal(a.out, b.out);
  });

  it('uses the workspace .switchyard/policy.json when present', async () => {
    const dir = tmp();
    const policy = rawPolicy();
    policy.local_only = true;
    spawnSync('mkdir', ['-p', join(dir, '.switchyard')]);
    writeFileSync(join(dir, '.switchyard/policy.json'), `// team policy\n${JSON.stringify(policy)}`);
    const { code, out } = await cli(['route'], '{"role":"tutor"}', dir);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out).fallbacks, []);
  });

  it('exits 3 with the guardrail when refused (GR-009 judge under --local-only)', async () => {
    const { code, out, err } = await cli(['route', '--local-only'], '{"role":"judge"}');
    assert.equal(code, 3);
    assert.equal(JSON.parse(out).refused.guardrail, 'GR-009');
    assert.match(err, /REFUSED by GR-009/);
  });

  const bad: [string, string[], string | undefined, RegExp][] = [
    ['broken JSON', ['route'], '{"role": ', /--request: invalid JSON/],
    ['an unknown role', ['route'], '{"role":"wizard"}', /request\.role: Invalid option/],
    ['an unknown field', ['route'], '{"role":"tutor","colour":1}', /request\.colour: unknown field "colour"/],
    ['a wrong type', ['route'], '{"role":"tutor","failed_loops":"two"}', /request\.failed_loops: .*number/],
    ['a negative number', ['route'], '{"role":"tutor","context_estimate":-5}', /request\.context_estimate: Too small/],
    [
      'a missing file',
      ['route', '--request', '/nonexistent/r.json'],
      undefined,
      /cannot read \/nonexistent\/r\.json: no such file/,
    ],
    ['an unknown option', ['route', '--fast'], '{}', /Unknown option '--fast'/],
    ['an unknown command', ['fly'], undefined, /unknown command "fly"/],
  ];
  for (const [name, args, input, msg] of bad) {
    it(`exits 2 naming the problem for ${name}, never a stack trace`, async () => {
      const { code, err, out } = await cli(args, input);
      assert.equal(code, 2);
      assert.match(err, msg);
      assert.doesNotMatch(err, /\n\s+at /);
      assert.equal(out, '');
    });
  }
});

describe('switchyard as a process', () => {
  it("exits with the command's code and prints no stack trace (the bin, not main() in-process)", async () => {
    const ok = cliProcess(['route'], '{"role":"tutor"}');
    assert.equal(ok.code, 0, ok.err);
    assert.equal(JSON.parse(ok.out).role, 'tutor');
    const bad = cliProcess(['route'], '{"role": ');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--request: invalid JSON/);
    assert.doesNotMatch(bad.err, /\n\s+at /);
  });
});

describe('switchyard policy', () => {
  it('validate: a good file exits 0 with warnings for retired model ids', async () => {
    const dir = tmp();
    const p = rawPolicy();
    p.models.kimi_k2.id = 'kimi-k2-thinking';
    p.prices.per_mtok['kimi-k2-thinking'] = {
      provider: 'moonshot',
      input: 0.6,
      cached_input: 0.15,
      output: 2.5,
      source: 'test',
    };
    writeFileSync(join(dir, 'p.json'), JSON.stringify(p, null, 2));
    const { code, out, err } = await cli(['policy', 'validate', join(dir, 'p.json')]);
    assert.equal(code, 0, err);
    assert.equal(JSON.parse(out).valid, true);
    assert.match(err, /kimi-k2-thinking" was retired on 2026-05-25; use "kimi-k2.6"/);
  });

  it('validate: a bad file exits 2 naming field, reason and line', async () => {
    const dir = tmp();
    const p = rawPolicy();
    p.budget.caps[1].usd = -1;
    const text = JSON.stringify(p, null, 2);
    writeFileSync(join(dir, 'p.json'), text);
    const { code, out, err } = await cli(['policy', 'validate', join(dir, 'p.json')]);
    assert.equal(code, 2);
    const prob = JSON.parse(out).problems[0];
    assert.equal(prob.field, 'budget.caps.1.usd');
    assert.ok(prob.line > 1);
    assert.match(err, new RegExp(`p\\.json:${prob.line}:\\d+: budget\\.caps\\.1\\.usd: Too small`));
  });

  it('validate: refuses a policy of another major version', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...rawPolicy(), policy_version: '1.0.0' }));
    const { code, err } = await cli(['policy', 'validate', join(dir, 'old.json')]);
    assert.equal(code, 2);
    assert.match(err, /policy version 1\.0\.0 is older than this Switchyard supports/);
  });

  it('show prints the effective policy and schema prints the JSON Schema', async () => {
    const show = await cli(['policy', 'show']);
    assert.equal(show.code, 0);
    assert.equal(JSON.parse(show.out).policy_version, '2.0.0');
    const schema = await cli(['policy', 'schema']);
    assert.equal(schema.code, 0);
    assert.equal(JSON.parse(schema.out).type, 'object');
  });

  it('route refuses to decide on an invalid --policy (nothing routed on a half-read policy)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'p.json'), '{"policy_version":"2.0.0","models":{}}');
    const { code, out, err } = await cli(['route', '--policy', join(dir, 'p.json')], '{"role":"tutor"}');
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /invalid policy \(nothing was routed\)/);
  });
});

describe('switchyard classify', () => {
  const repoWith = () => {
    const dir = tmp();
    spawnSync('cp', ['-r', 'test/fixtures/cargo-ws/.', dir]);
    const g = (...a: string[]) =>
      spawnSync('git', ['-C', dir, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...a], {
        encoding: 'utf8',
      });
    g('init', '-q');
    g('add', '-A');
    g('commit', '-qm', 'base');
    return { dir, g };
  };

  it('--base over git revisions of --repo: the working tree against HEAD', async () => {
    const { dir } = repoWith();
    writeFileSync(join(dir, 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.90"\n');
    const { code, out } = await cli(['classify', '--repo', dir, '--base', 'HEAD']);
    assert.equal(code, 0);
    const c = JSON.parse(out);
    assert.deepEqual(c.risk_flags, ['build_tooling']);
    assert.equal(c.lane, 'cloud');
  });

  it('--base and --head compare two commits; --diff - reads a diff on stdin', async () => {
    const { dir, g } = repoWith();
    const lib = join(dir, 'crates/ffi/src/lib.rs');
    writeFileSync(lib, readFileSync(lib, 'utf8').replace('n.max(0)', 'n.max(1)'));
    g('commit', '-qam', 'clamp');
    const byRev = JSON.parse((await cli(['classify', '--repo', dir, '--base', 'HEAD~1', '--head', 'HEAD'])).out);
    assert.equal(byRev.lines_changed, 2);
    assert.equal(byRev.lane, 'local_reflex');
    const diff = g('diff', 'HEAD~1', 'HEAD').stdout;
    const byDiff = JSON.parse((await cli(['classify', '--diff', '-'], diff)).out);
    assert.deepEqual(byDiff.risk_flags, byRev.risk_flags);
  });

  it('exits 2 for a bad revision, a missing diff file or conflicting options', async () => {
    const { dir } = repoWith();
    assert.match(
      (await cli(['classify', '--repo', dir, '--base', 'no-such-rev'])).err,
      /--base: "no-such-rev" is not a revision/,
    );
    assert.equal((await cli(['classify', '--diff', '/nonexistent.diff'])).code, 2);
    assert.match((await cli(['classify', '--diff', '-', '--base', 'HEAD'], '')).err, /either --diff/);
    assert.match((await cli(['classify'])).err, /missing --diff/);
  });
});

describe('the built CLI bundle (dist/cli.js as users run it)', () => {
  it('routes and classifies with its grammars beside it', async () => {
    const build = spawnSync(process.execPath, ['esbuild.config.mjs'], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const dir = join(ROOT, 'dist');
    const run = (args: string[], input?: string) =>
      spawnSync(process.execPath, [join(dir, 'cli.js'), ...args], { input, encoding: 'utf8', cwd: tmp() });
    const r = run(['route'], '{"role":"judge"}');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).rule, 'judge.cloud_only');
    const c = run(
      ['classify', '--diff', '-'],
      'diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,1 +1,1 @@\n-fn a() {}\n+fn a() { unsafe { b() } }\n',
    );
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout).risk_flags, ['unsafe_ffi']);
  });
});

describe('switchyard audit', () => {
  it('prints the audit log of --state as JSON lines, skipping a torn last line, filtered by --since', async () => {
    const dir = tmp();
    const line = (ts: string, rule: string) =>
      JSON.stringify({ ts, kind: 'decision', source: 'cli', audit: `route x by ${rule}`, decision: { rule } });
    writeFileSync(
      join(dir, 'audit.jsonl'),
      `${line('2026-11-01T10:00:00.000Z', 'a')}\n${line('2026-11-20T10:00:00.000Z', 'b')}\n{"ts":"2026-11-2`,
    );
    const all = await cli(['audit', '--state', dir]);
    assert.equal(all.code, 0);
    assert.deepEqual(
      all.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).decision.rule),
      ['a', 'b'],
    );
    const recent = await cli(['audit', '--state', dir, '--since', '2026-11-10']);
    assert.deepEqual(
      recent.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).decision.rule),
      ['b'],
    );
    assert.equal((await cli(['audit', '--state', dir, '--since', 'last tuesday'])).code, 2);
  });
});

describe('switchyard context search', () => {
  it('ranks the fixture workspace for a query, every score explained; bad input exits 2 naming the argument', async () => {
    const { code, out, err } = await cli([
      'context',
      'search',
      '--repo',
      'test/fixtures/retrieval',
      '--k',
      '3',
      'token',
      'bucket',
      'refill',
    ]);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as {
      results: { rank: number; path: string; why: { lexical: { terms: { term: string }[] } } }[];
      index: { indexed: number; skipped: { binary: number } };
    };
    assert.equal(r.results[0]!.path, 'src/net/rate_limit.rs');
    assert.deepEqual(
      r.results[0]!.why.lexical.terms.map((t) => t.term),
      ['token', 'bucket', 'refill'],
    );
    assert.equal(r.results.length, 3);
    assert.equal(r.index.skipped.binary, 1);
    const bad = await cli(['context', 'search', '--k', 'many', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--k: "many" is not a whole number/);
    assert.equal((await cli(['context', 'search'])).code, 2);
  });
});
