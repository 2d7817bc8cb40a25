import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { rawPolicy } from './helpers/policy.js';

// The CLI as scripts use it: a process, JSON on stdout, messages on stderr, exit codes.
const ROOT = process.cwd();
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const cli = (args: string[], input?: string, cwd = ROOT) => {
  const res = spawnSync(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/main.ts'), ...args], { input, encoding: 'utf8', cwd });
  return { code: res.status, out: res.stdout, err: res.stderr };
};
const tmp = () => mkdtempSync(join(tmpdir(), 'sy-cli-'));

describe('switchyard route', () => {
  it('prints one decision for a request on stdin', () => {
    const { code, out } = cli(['route'], JSON.stringify({ role: 'implementer', change: { lines_changed: 40 } }));
    assert.equal(code, 0);
    const d = JSON.parse(out);
    assert.equal(d.rule, 'implementer.small_diff');
    assert.equal(d.location, 'local');
  });

  it('reads --request F and --policy F, and the same input prints the same bytes', () => {
    const dir = tmp();
    const policy = rawPolicy();
    policy.escalation.implementer.small_diff_max_lines = 20;
    writeFileSync(join(dir, 'p.json'), JSON.stringify(policy));
    writeFileSync(join(dir, 'req.json'), JSON.stringify({ role: 'implementer', change: { lines_changed: 40 } }));
    const a = cli(['route', '--policy', join(dir, 'p.json'), '--request', join(dir, 'req.json')]);
    const b = cli(['route', '--policy', join(dir, 'p.json'), '--request', join(dir, 'req.json')]);
    assert.equal(a.code, 0);
    assert.equal(JSON.parse(a.out).rule, 'implementer.medium_diff');
    assert.equal(a.out, b.out);
  });

  it('uses the workspace .switchyard/policy.json when present', () => {
    const dir = tmp();
    const policy = rawPolicy();
    policy.local_only = true;
    spawnSync('mkdir', ['-p', join(dir, '.switchyard')]);
    writeFileSync(join(dir, '.switchyard/policy.json'), `// team policy\n${JSON.stringify(policy)}`);
    const { code, out } = cli(['route'], '{"role":"tutor"}', dir);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out).fallbacks, []);
  });

  it('exits 3 with the guardrail when refused (GR-009 judge under --local-only)', () => {
    const { code, out, err } = cli(['route', '--local-only'], '{"role":"judge"}');
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
    ['a missing file', ['route', '--request', '/nonexistent/r.json'], undefined, /cannot read \/nonexistent\/r\.json: no such file/],
    ['an unknown option', ['route', '--fast'], '{}', /Unknown option '--fast'/],
    ['an unknown command', ['fly'], undefined, /unknown command "fly"/],
  ];
  for (const [name, args, input, msg] of bad) {
    it(`exits 2 naming the problem for ${name}, never a stack trace`, () => {
      const { code, err, out } = cli(args, input);
      assert.equal(code, 2);
      assert.match(err, msg);
      assert.doesNotMatch(err, /\n\s+at /);
      assert.equal(out, '');
    });
  }
});

describe('switchyard policy', () => {
  it('validate: a good file exits 0 with warnings for retired model ids', () => {
    const dir = tmp();
    const p = rawPolicy();
    p.models.kimi_k2.id = 'kimi-k2-thinking';
    p.prices.per_mtok['kimi-k2-thinking'] = { provider: 'moonshot', input: 0.6, cached_input: 0.15, output: 2.5, source: 'test' };
    writeFileSync(join(dir, 'p.json'), JSON.stringify(p, null, 2));
    const { code, out, err } = cli(['policy', 'validate', join(dir, 'p.json')]);
    assert.equal(code, 0, err);
    assert.equal(JSON.parse(out).valid, true);
    assert.match(err, /kimi-k2-thinking" was retired on 2026-05-25; use "kimi-k2.6"/);
  });

  it('validate: a bad file exits 2 naming field, reason and line', () => {
    const dir = tmp();
    const p = rawPolicy();
    p.budget.caps[1].usd = -1;
    const text = JSON.stringify(p, null, 2);
    writeFileSync(join(dir, 'p.json'), text);
    const { code, out, err } = cli(['policy', 'validate', join(dir, 'p.json')]);
    assert.equal(code, 2);
    const prob = JSON.parse(out).problems[0];
    assert.equal(prob.field, 'budget.caps.1.usd');
    assert.ok(prob.line > 1);
    assert.match(err, new RegExp(`p\\.json:${prob.line}:\\d+: budget\\.caps\\.1\\.usd: Too small`));
  });

  it('validate: refuses a policy of another major version', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ ...rawPolicy(), policy_version: '1.0.0' }));
    const { code, err } = cli(['policy', 'validate', join(dir, 'old.json')]);
    assert.equal(code, 2);
    assert.match(err, /policy version 1\.0\.0 is older than this Switchyard supports/);
  });

  it('show prints the effective policy and schema prints the JSON Schema', () => {
    const show = cli(['policy', 'show']);
    assert.equal(show.code, 0);
    assert.equal(JSON.parse(show.out).policy_version, '2.0.0');
    const schema = cli(['policy', 'schema']);
    assert.equal(schema.code, 0);
    assert.equal(JSON.parse(schema.out).type, 'object');
  });

  it('route refuses to decide on an invalid --policy (nothing routed on a half-read policy)', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'p.json'), '{"policy_version":"2.0.0","models":{}}');
    const { code, out, err } = cli(['route', '--policy', join(dir, 'p.json')], '{"role":"tutor"}');
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /invalid policy \(nothing was routed\)/);
  });
});
