// The agent's command rules (src/core/agent/commands): deny by default, argument tables per program. Every attack
// that worked against the old prefix allowlist asks now, and so do others of the same classes; the everyday
// commands of each table still run unattended.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  argumentsSafe,
  decideCommand,
  PROGRAMS_WITH_TABLES,
  type CommandRuleSet,
  type CommandVerdict,
} from '../../src/core/agent/commands/decide.js';

let root = '';
let ctx = { root: '', cwd: '' };

before(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'sy-cmd-')));
  mkdirSync(join(root, 'src'));
  mkdirSync(join(root, 'tests'));
  writeFileSync(join(root, 'src', 'lib.rs'), '');
  writeFileSync(join(root, 'Cargo.toml'), '');
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync(join(tmpdir(), 'sy-cmd-missing-target', 'x'), join(root, 'dangling'));
  ctx = { root, cwd: root };
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Every program with a table on the user's allowlist, so the tables alone decide. */
const ALL: CommandRuleSet = { userAllow: PROGRAMS_WITH_TABLES.map((p) => [p]), repoAllow: [], deny: [] };

function decide(argv: string[], rules: CommandRuleSet = ALL, c = ctx): CommandVerdict {
  return decideCommand(argv, c, rules);
}

function allows(argv: string[], rules: CommandRuleSet = ALL): void {
  const v = decide(argv, rules);
  assert.equal(v.verdict, 'allow', `${argv.join(' ')}: ${v.why}`);
}

/** It asks, and the why names `offending` (the exact argument). */
function asks(argv: string[], offending: string, rules: CommandRuleSet = ALL): void {
  const v = decide(argv, rules);
  assert.equal(v.verdict, 'ask', `${argv.join(' ')} should ask: ${v.why}`);
  assert.match(v.why, /^asks: /);
  assert.ok(v.why.includes(offending), `why should name ${offending}: ${v.why}`);
}

describe('the attacks that worked against the prefix allowlist', () => {
  const bundled: CommandRuleSet = {
    userAllow: [
      ['cargo', 'check'],
      ['cargo', 'test'],
      ['cargo', 'build'],
      ['cargo', 'clippy'],
      ['cargo', 'fmt', '--check'],
      ['git', 'status'],
      ['git', 'diff'],
      ['git', 'log'],
    ],
    repoAllow: [],
    deny: [],
  };
  it('git log --output writes any file', () => {
    asks(['git', 'log', '-1', '--format=tformat:TEXT', '--output=/home/u/.bashrc'], '--output', bundled);
    const v = decide(['git', 'log', '-1', '--format=tformat:TEXT', '--output=/home/u/.bashrc'], bundled);
    assert.match(v.why, /--output writes the output to any file; git's --output is not allowed unattended/);
  });
  it('cargo test --config sets a runner that runs any program', () => {
    asks(['cargo', 'test', '--config', 'target.x86_64-unknown-linux-gnu.runner=["sh","-c","id"]'], '--config', bundled);
  });
  it('git diff --no-index reads any file', () => {
    asks(['git', 'diff', '--no-index', '/home/u/.ssh/id_rsa', '/dev/null'], '--no-index', bundled);
  });
  it('git diff of two paths outside the work tree (an implicit --no-index) asks', () => {
    asks(['git', 'diff', '/home/u/.ssh/id_rsa', '/dev/null'], '/home/u/.ssh/id_rsa', bundled);
    asks(['git', 'diff', '--stat', '../../x', 'y'], '../../x', bundled);
  });
});

describe('git', () => {
  it('allows read-only subcommands and flags', () => {
    allows(['git', 'status']);
    allows(['git', 'status', '--porcelain=v1', '-sb']);
    allows(['git', 'log', '--oneline', '-n', '20']);
    allows(['git', 'log', '-5', '--format=%H %s', '--', 'src']);
    allows(['git', 'log', '--grep', 'fix', '--since', '2 weeks ago', 'main..HEAD']);
    allows(['git', 'diff', '--stat', 'HEAD~1']);
    allows(['git', 'diff', '--cached', '-U5', '--', 'src/lib.rs']);
    allows(['git', 'show', 'HEAD:src/lib.rs']);
    allows(['git', 'blame', '-L', '1,5', 'src/lib.rs']);
    allows(['git', 'grep', '-n', '-C', '2', 'TODO']);
    allows(['git', 'ls-files', '-z']);
    allows(['git', 'rev-parse', '--abbrev-ref', 'HEAD']);
    allows(['git', 'rev-parse', '--git-dir']);
    allows(['git', 'branch']);
    allows(['git', 'branch', '--show-current']);
    allows(['git', 'branch', '--list', 'feat*']);
    allows(['git', 'cat-file', '-p', 'HEAD']);
    allows(['git', 'merge-base', 'main', 'HEAD']);
    allows(['git', 'describe', '--tags', '--always']);
    allows(['git', '--no-pager', 'log', '-1']);
    allows(['git', '--version']);
  });
  it('asks for --output in its separate-value form', () => asks(['git', 'log', '--output', 'foo'], '--output'));
  it('asks for --output hidden as another flag’s value', () =>
    asks(['git', 'log', '--grep', '--output=/tmp/x'], '--output'));
  it('asks for config and location overrides', () => {
    asks(['git', '-c', 'core.pager=sh', 'log'], '-c');
    asks(['git', '-ccore.pager=sh', 'status'], '-c');
    asks(['git', '--config-env=core.pager=X', 'log'], '--config-env');
    asks(['git', '--exec-path=/tmp', 'log'], '--exec-path');
    asks(['git', '-C', '/etc', 'status'], '-C');
    asks(['git', '--git-dir=/tmp/evil/.git', 'log'], '--git-dir');
    asks(['git', '--work-tree', '/', 'status'], '--work-tree');
    asks(['git', '-p', 'log'], '-p');
    asks(['git', '--paginate', 'log'], '--paginate');
  });
  it('asks for flags that run configured programs', () => {
    asks(['git', 'diff', '--ext-diff'], '--ext-diff');
    asks(['git', 'show', '--textconv', 'HEAD'], '--textconv');
    asks(['git', 'cat-file', '--filters', 'HEAD:x'], '--filters');
    asks(['git', 'grep', '-O', 'vim', 'x'], '-O');
    asks(['git', 'grep', '-Ovim', 'x'], '-O');
    asks(['git', 'grep', '--open-files-in-pager=vim', 'x'], '--open-files-in-pager');
    asks(['git', 'log', '--show-signature'], '--show-signature');
  });
  it('asks for subcommands that change things, and branch mutations', () => {
    asks(['git', 'checkout', 'status'], 'checkout');
    asks(['git', 'commit', '-m', 'x'], 'commit');
    asks(['git', 'fetch'], 'fetch');
    asks(['git', 'branch', 'new-branch'], 'new-branch');
    asks(['git', 'branch', '-d', 'feature'], '-d');
    asks(['git', 'cat-file', 'HEAD'], 'cat-file');
  });
  it('asks for unknown flags and abbreviations git would expand', () => {
    asks(['git', 'log', '--outp=/tmp/x'], '--outp');
    asks(['git', 'log', '--frobnicate'], '--frobnicate');
  });
  it('asks for a path-like revision outside the workspace, through a symlink too', () => {
    asks(['git', 'log', '--', '/etc/passwd'], '/etc/passwd');
    asks(['git', 'diff', 'etc-link/passwd', 'src/lib.rs'], 'etc-link/passwd');
  });
  it('the destructive ones always ask, even on a user allow of git', () => {
    const git: CommandRuleSet = { userAllow: [['git']], repoAllow: [], deny: [] };
    asks(['git', 'reset', '--hard'], '--hard', git);
    asks(['git', 'push', '--force'], '--force', git);
    asks(['git', 'push', '-f', 'origin', 'main'], '-f', git);
    asks(['git', 'push', '--force-with-lease'], '--force-with-lease', git);
    asks(['git', 'clean', '-fdx'], '-fdx', git);
    asks(['git', 'checkout', '--', '.'], 'checkout', git);
    assert.match(decide(['git', 'reset', '--hard'], git).why, /always asks/);
  });
});

describe('cargo', () => {
  it('allows the build, check, test and lint forms', () => {
    allows(['cargo', 'check']);
    allows(['cargo', 'check', '--workspace', '--all-targets', '--message-format=json']);
    allows(['cargo', 'build', '--release', '-p', 'core', '-j', '4']);
    allows(['cargo', 'build', '-pcore', '-j4', '--target', 'x86_64-unknown-linux-gnu']);
    allows(['cargo', 'test', '-q', 'words']);
    allows(['cargo', 'test', '--no-fail-fast', '--', '--nocapture', '--test-threads=1', 'parse::']);
    allows(['cargo', 'test', '--', '--exact', 'tests::one', '--test-threads', '2']);
    allows(['cargo', 'clippy', '--all-targets', '--', '-D', 'warnings']);
    allows(['cargo', 'fmt', '--check']);
    allows(['cargo', 'fmt']);
    allows(['cargo', 'check', '--manifest-path', 'Cargo.toml', '--target-dir', 'target/x']);
    allows(['cargo', 'tree', '-e', 'normal', '--depth', '1']);
    allows(['cargo', 'metadata', '--format-version', '1', '--no-deps']);
    allows(['cargo', '--explain', 'E0308']);
    allows(['cargo', '-V']);
  });
  it('asks for toolchain, unstable and config overrides', () => {
    asks(['cargo', '+nightly', 'test'], '+nightly');
    asks(['cargo', '-Zunstable-options', 'check'], '-Z');
    asks(['cargo', 'check', '-Z', 'build-std'], '-Z');
    asks(['cargo', 'build', '--config=build.rustc-wrapper="sh"'], '--config');
    asks(['cargo', '-C', '/tmp', 'check'], '-C');
  });
  it('asks for paths outside the workspace', () => {
    asks(['cargo', 'check', '--manifest-path', '/etc/Cargo.toml'], '/etc/Cargo.toml');
    asks(['cargo', 'check', '--target-dir', '../out'], '../out');
    asks(['cargo', 'check', '--target-dir=etc-link/x'], 'etc-link/x');
    asks(['cargo', 'build', '--target-dir', 'dangling'], 'dangling');
  });
  it('asks for what goes past `--` to programs that could run others', () => {
    asks(['cargo', 'test', '--', '--logfile', '/tmp/x'], '--logfile');
    asks(['cargo', 'test', '--', '-Zunstable-options'], '-Z');
    asks(['cargo', 'clippy', '--', '-C', 'linker=sh'], '-C');
    asks(['cargo', 'check', '--', 'x'], '--');
  });
  it('asks for subcommands outside the table', () => {
    asks(['cargo', 'run'], 'run');
    asks(['cargo', 'install', 'x'], 'install');
    asks(['cargo', 'doc', '--open'], '--open');
  });
});

describe('npm, pnpm, yarn', () => {
  it('allows running scripts and listing', () => {
    allows(['npm', 'test']);
    allows(['npm', 'run', 'lint']);
    allows(['npm', 'run', 'test:unit', '--', '--grep', 'router']);
    allows(['npm', 'run-script', 'build', '--silent']);
    allows(['npm', '--prefix', 'src', 'test']);
    allows(['npm', 'ls', '--depth', '0']);
    allows(['pnpm', 'run', 'typecheck']);
    allows(['pnpm', 'test']);
    allows(['pnpm', '--filter', 'web', 'test']);
    allows(['yarn', 'test']);
    allows(['yarn', 'run', 'build']);
  });
  it('asks for settings that swap the program npm runs', () => {
    asks(['npm', 'test', '--script-shell=/bin/sh'], '--script-shell');
    asks(['npm', 'run', '--userconfig', '~/.npmrc', 'test'], '--userconfig');
    asks(['npm', 'test', '--node-options=--require=/tmp/x.js'], '--node-options');
    asks(['npm', 'test', '--globalconfig', 'x'], '--globalconfig');
    asks(['npm', 'run', 'test', '--cache', '/tmp/c'], '--cache');
    asks(['npm', '--prefix', '/tmp', 'test'], '/tmp');
    asks(['pnpm', '--config.script-shell=sh', 'test'], '--config.script-shell');
    asks(['yarn', '--use-yarnrc', 'x', 'test'], '--use-yarnrc');
  });
  it('asks for installs and unknown flags', () => {
    asks(['npm', 'ci'], 'ci');
    asks(['npm', 'install', 'left-pad'], 'install');
    asks(['npm', 'exec', 'x'], 'exec');
    asks(['npm', 'test', '--foo'], '--foo');
    // a flag where a value was expected: npm might read it as a setting
    asks(['npm', '--prefix', '--userconfig=/x', 'test'], '--userconfig');
  });
  it('asks for script arguments that are paths outside the workspace', () =>
    asks(['npm', 'run', 'test', '--', '--require=/tmp/evil.js'], '/tmp/evil.js'));
});

describe('go', () => {
  it('allows builds, tests, vet, list, env and version', () => {
    allows(['go', 'build', './...']);
    allows(['go', 'test', './...']);
    allows(['go', 'test', '-run', 'TestX', '-count=1', '-race', './pkg/...']);
    allows(['go', 'test', '-v=true', './...', '-timeout', '30s']);
    allows(['go', 'vet', './...']);
    allows(['go', 'list', '-m', '-json', 'all']);
    allows(['go', 'env', 'GOPATH']);
    allows(['go', 'version']);
    allows(['go', 'build', '-o', 'bin/app', './cmd/app']);
  });
  it('asks for flags that run other programs', () => {
    asks(['go', 'test', '-exec', 'sh', './...'], '-exec');
    asks(['go', 'build', '-toolexec', 'x', './...'], '-toolexec');
    asks(['go', 'build', '--toolexec=x', './...'], '--toolexec');
    asks(['go', 'vet', '-vettool=/tmp/x', './...'], '-vettool');
    asks(['go', 'build', '-ldflags=-extld=sh', './...'], '-ldflags');
    asks(['go', 'build', '-overlay', 'o.json', './...'], '-overlay');
    asks(['go', 'test', './...', '-args', '-x'], '-args');
  });
  it('asks for files outside the workspace and config writes', () => {
    asks(['go', 'build', '-o', '/tmp/x'], '/tmp/x');
    asks(['go', 'build', '-modfile=/tmp/go.mod', './...'], '/tmp/go.mod');
    asks(['go', 'build', '-C', '..', './...'], '..');
    asks(['go', 'env', '-w', 'GOFLAGS=-toolexec=x'], '-w');
    asks(['go', 'run', '.'], 'run');
  });
});

describe('pytest', () => {
  it('allows pytest in its three forms', () => {
    allows(['python3', '-m', 'pytest']);
    allows(['python', '-m', 'pytest', '-q', '-x', 'tests']);
    allows(['pytest', '-k', 'parse and not slow', '-m', 'unit', '--maxfail', '2', '--tb=short']);
    allows(['pytest', '-vx', 'tests/test_a.py::test_one']);
    allows(['pytest', '-p', 'no:cacheprovider', '--junitxml', 'out/report.xml']);
  });
  it('asks for any other python3', () => {
    asks(['python3', '-c', 'import os; os.system("id")'], 'python3 -c');
    asks(['python3', '-m', 'http.server'], 'http.server');
    asks(['python3', 'script.py'], 'script.py');
  });
  it('asks for flags that load code or write outside', () => {
    asks(['python3', '-m', 'pytest', '-p', 'evil'], 'evil');
    asks(['pytest', '-pevil'], '-p');
    asks(['pytest', '-o', 'addopts=-p evil'], '-o');
    asks(['pytest', '-W', 'error::evil.Warning'], '-W');
    asks(['pytest', '--pdb'], '--pdb');
    asks(['pytest', '--rootdir', '/'], '/');
    asks(['pytest', '--junitxml=/tmp/r.xml'], '/tmp/r.xml');
    asks(['pytest', '--basetemp', '../t'], '../t');
    asks(['pytest', '-c', '/etc/pytest.ini'], '/etc/pytest.ini');
    asks(['pytest', '/etc'], '/etc');
  });
});

describe('make', () => {
  it('allows targets and the everyday switches', () => {
    allows(['make']);
    allows(['make', 'test']);
    allows(['make', '-j', '4', 'build', 'docs/html']);
    allows(['make', '-j8', '-ks', 'check']);
    allows(['make', '-C', 'src', '-f', 'Cargo.toml', 'all']);
    allows(['make', '--dry-run', 'install']);
  });
  it('asks for evaluation, assignments and folders outside', () => {
    asks(['make', '--eval=x:;sh'], '--eval');
    asks(['make', '-E', 'x:;sh'], '-E');
    asks(['make', 'SHELL=/bin/sh', 'test'], 'SHELL=/bin/sh');
    asks(['make', 'test', 'CC=sh'], 'CC=sh');
    asks(['make', '-C', '/tmp', 'x'], '/tmp');
    asks(['make', '-f', '../Makefile'], '../Makefile');
    asks(['make', '-I', 'inc', 'x'], '-I');
  });
});

describe('read-only tools', () => {
  it('allows reading inside the workspace', () => {
    allows(['ls', '-la', 'src']);
    allows(['cat', 'src/lib.rs']);
    allows(['head', '-n', '20', 'src/lib.rs']);
    allows(['tail', '-5', 'src/lib.rs']);
    allows(['wc', '-l', 'src/lib.rs', 'Cargo.toml']);
    allows(['grep', '-rn', 'fn main', 'src']);
    allows(['rg', '-n', '--context', '1', '--heading', 'foo']);
    allows(['rg', 'Cargo.toml', '-n']);
    allows(['find', '.', '-name', '*.rs', '-type', 'f']);
    allows(['find', 'src', '-mtime', '-7', '-print0']);
    allows(['tree', '-L', '2']);
    allows(['pwd']);
    allows(['echo', 'hello', 'world']);
    allows(['sort', '-u', 'Cargo.toml']);
    allows(['base64', 'src/lib.rs']);
    allows(['sed', '-n', '1,5p', 'src/lib.rs']);
  });
  it('asks for find actions that run, delete or write', () => {
    asks(['find', '.', '-exec', 'sh', ';'], '-exec');
    asks(['find', '.', '-name', '*.py', '-execdir', 'python3', '{}', ';'], '-execdir');
    asks(['find', '.', '-ok', 'rm', '{}', ';'], '-ok');
    asks(['find', '.', '-delete'], '-delete');
    asks(['find', '.', '-fprint', 'out.txt'], '-fprint');
    asks(['find', '.', '-fls', 'x'], '-fls');
    asks(['find', '-L', '.'], '-L');
    asks(['find', '/', '-name', 'id_rsa'], '/');
  });
  it('asks for rg flags that run programs', () => {
    asks(['rg', '--pre', 'sh', 'x'], '--pre');
    asks(['rg', '--pre=pwned', 'x'], '--pre');
    asks(['rg', '--hostname-bin', 'whoami', 'x'], '--hostname-bin');
    asks(['rg', '-z', 'x'], '-z');
    asks(['rg', '-iz', 'x'], '-z');
    asks(['rg', '--search-zip', 'x'], '--search-zip');
  });
  it('asks for reads outside the workspace and writes anywhere', () => {
    asks(['cat', '/etc/passwd'], '/etc/passwd');
    asks(['cat', 'etc-link/passwd'], 'etc-link/passwd');
    asks(['cat', 'etc-link'], 'etc-link');
    asks(['head', '../../secret'], '../../secret');
    asks(['ls', '~'], '~');
    asks(['sort', '-o', 'x', 'Cargo.toml'], '-o');
    asks(['base64', '-o', 'out.bin'], '-o');
    asks(['base64', '--output=out.bin'], '--output');
    asks(['base64', '-ob64.txt'], '-o');
    asks(['grep', '-R', 'x', '.'], '-R');
    asks(['tail', '-f', 'log'], '-f');
    asks(['sed', '-n', '1w /tmp/x', 'src/lib.rs'], '1w /tmp/x');
    asks(['sed', '-i', 's/a/b/', 'src/lib.rs'], '-i');
  });
});

describe('decideCommand', () => {
  it('deny wins over allow', () => {
    const r: CommandRuleSet = { userAllow: [['git']], repoAllow: [], deny: [['git', 'status']] };
    const v = decide(['git', 'status'], r);
    assert.equal(v.verdict, 'deny');
    assert.match(v.why, /git status/);
  });
  it('asks when no allow prefix matches', () => {
    const r: CommandRuleSet = { userAllow: [['cargo', 'check']], repoAllow: [], deny: [] };
    asks(['cargo', 'test'], 'not in the allowlist', r);
    asks(['git', 'status'], 'not in the allowlist', r);
  });
  it('a user allow of a program without a table allows any arguments', () => {
    const r: CommandRuleSet = { userAllow: [['just']], repoAllow: [], deny: [] };
    const v = decide(['just', 'anything', '--at=all'], r);
    assert.equal(v.verdict, 'allow', v.why);
    assert.match(v.why, /no argument rules/);
  });
  it('a repository allow of a program without a table asks', () => {
    const r: CommandRuleSet = { userAllow: [], repoAllow: [['just']], deny: [] };
    asks(['just', 'test'], "just has no argument rules; a repository's allowlist cannot run it unattended", r);
  });
  it('a repository allow of a program with a table follows the table', () => {
    const r: CommandRuleSet = { userAllow: [], repoAllow: [['cargo', 'test']], deny: [] };
    allows(['cargo', 'test', '--workspace'], r);
    asks(['cargo', 'test', '--config', 'x'], '--config', r);
  });
  it('rm -r always asks even when the user allows rm', () => {
    const r: CommandRuleSet = { userAllow: [['rm']], repoAllow: [], deny: [] };
    asks(['rm', '-rf', 'target'], '-rf', r);
    asks(['rm', '-r', 'x'], '-r', r);
    asks(['rm', '-fr', 'x'], '-fr', r);
    allows(['rm', 'x.txt'], r);
  });
  it('a program given as a path is not the same program', () => {
    asks(['/usr/bin/git', 'status'], '/usr/bin/git', { userAllow: [['/usr/bin/git']], repoAllow: [], deny: [] });
    asks(['./git', 'status'], './git');
  });
  it('the basename is compared exactly', () => {
    asks(['gitx', 'status'], 'not in the allowlist');
    asks(['Git', 'status'], 'not in the allowlist');
  });
  it('malformed argv is denied with a why', () => {
    assert.equal(decide([]).verdict, 'deny');
    assert.match(decide([]).why, /empty/);
    assert.equal(decide([1 as unknown as string]).verdict, 'deny');
    assert.equal(decide(['git', 'log', 'a\0b']).verdict, 'deny');
  });
  it('a working folder outside the workspace asks', () => {
    const v = decideCommand(['git', 'status'], { root, cwd: tmpdir() }, ALL);
    assert.equal(v.verdict, 'ask');
    assert.match(v.why, /working folder/);
  });
  it('relative paths resolve from the working folder', () => {
    const sub = { root, cwd: join(root, 'src') };
    assert.equal(decideCommand(['cat', 'lib.rs'], sub, ALL).verdict, 'allow');
    assert.equal(decideCommand(['cat', '../Cargo.toml'], sub, ALL).verdict, 'allow');
    assert.equal(decideCommand(['cat', '../../x'], sub, ALL).verdict, 'ask');
  });
});

describe('argumentsSafe', () => {
  it('says when a program has no table', () => {
    const r = argumentsSafe(['just', 'x'], ctx);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && 'noTable' in r && r.noTable);
  });
  it('checks arguments without any allowlist', () => {
    assert.deepEqual(argumentsSafe(['git', 'status'], ctx), { ok: true });
    const r = argumentsSafe(['git', 'log', '--output=x'], ctx);
    assert.ok(!r.ok && r.why.includes('--output'));
  });
  it('lists the programs with tables', () => {
    for (const p of ['git', 'cargo', 'npm', 'pnpm', 'yarn', 'go', 'pytest', 'python3', 'make', 'find', 'rg'])
      assert.ok(PROGRAMS_WITH_TABLES.includes(p), p);
  });
});
