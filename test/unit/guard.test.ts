// The workspace guard against a steered model: every tool call here is one a hostile AGENTS.md could ask for, run
// through the real tools (runAgentTool) and the real writes (Workspace.apply, what the loop calls after approval) in
// a temp workspace beside a temp "outside" folder. Each test looks at real outcomes: the outside folder's listing
// and content unchanged, nothing leaked into an answer, an answer instead of a crash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { forbiddenReason, governingReason, GOVERNING_GLOBS } from '../../src/core/agent/governing.js';
import { runAgentTool, type ToolOutcome } from '../../src/core/agent/tools.js';
import { ToolRefusal, Workspace } from '../../src/core/agent/workspace.js';

const SECRET = 'OUTSIDE-SECRET-7f3a';
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A workspace (optionally a git repository) and an outside folder holding a secret, side by side. */
function world(o: { git?: boolean } = {}) {
  const base = mkdtempSync(join(tmpdir(), 'sy-guard-'));
  made.push(base);
  const root = join(base, 'ws');
  const out = join(base, 'outside');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(out);
  writeFileSync(join(out, 'secret.txt'), `${SECRET}\n`);
  writeFileSync(join(root, 'src', 'lib.rs'), 'pub fn f() {}\n');
  writeFileSync(join(root, 'file.txt'), 'plain\n');
  if (o.git) execFileSync('git', ['init', '-q'], { cwd: root });
  const ws = new Workspace(root);
  const tool = (name: string, args: Record<string, unknown> | string, maxWriteBytes?: number) =>
    runAgentTool({ ws, maxWriteBytes }, name, typeof args === 'string' ? args : JSON.stringify(args));
  /** A tool call as the loop runs it: an edit is written (approval granted); a refusal is the answer. */
  const apply = async (name: string, args: Record<string, unknown>): Promise<ToolOutcome> => {
    const r = await tool(name, args);
    if (r.kind === 'edit')
      try {
        ws.apply(r.changes);
      } catch (e) {
        assert.ok(e instanceof ToolRefusal, `a raw error from the write: ${(e as Error).stack}`);
        return { kind: 'answer', content: e.message, ok: false };
      }
    return r;
  };
  const outside = () => listing(out);
  return { base, root, out, ws, tool, apply, outside };
}

/** Every path under a folder (links listed, not followed), for "nothing changed there". */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
}

function refused(r: ToolOutcome, re: RegExp) {
  assert.equal(r.kind, 'answer', `expected a refusal, got ${JSON.stringify(r).slice(0, 300)}`);
  assert.ok(r.kind === 'answer' && !r.ok, 'a refusal is not ok');
  assert.match(r.kind === 'answer' ? r.content : '', re);
  // A refusal, not an unforeseen error turned into an answer.
  assert.doesNotMatch(r.kind === 'answer' ? r.content : '', /: failed: /);
}
const text = (r: ToolOutcome) => (r.kind === 'answer' ? r.content : JSON.stringify(r));

describe('the guard: a symlink never carries a write out of the workspace', () => {
  it('a dangling link to a file: write_file, edit_file, apply_patch (create) and a direct write are refused; nothing appears outside', async () => {
    const w = world();
    const target = join(w.out, 'authorized_keys');
    symlinkSync(target, join(w.root, 'keys'));
    const before = w.outside();
    refused(
      await w.apply('write_file', { path: 'keys', content: 'ssh-ed25519 AAAA attacker\n' }),
      /keys is a symlink: the agent does not write through links/,
    );
    refused(await w.apply('edit_file', { path: 'keys', old_text: '', new_text: 'x' }), /symlink/);
    const patch = ['--- /dev/null', '+++ b/keys', '@@ -0,0 +1 @@', '+ssh-ed25519 AAAA attacker'].join('\n');
    refused(await w.apply('apply_patch', { patch }), /symlink/);
    assert.throws(() => w.ws.write('keys', 'x'), ToolRefusal);
    assert.throws(() => w.ws.remove('keys'), /symlink/);
    assert.deepEqual(w.outside(), before);
  });

  it('a dangling link to a folder: a write below it is an answer (not an internal error); no folder is made outside', async () => {
    const w = world();
    symlinkSync(join(w.out, 'newdir'), join(w.root, 'gen'));
    const before = w.outside();
    for (const path of ['gen/x.rs', 'gen/deep/er/x.rs', 'src/../gen/x.rs'])
      refused(await w.apply('write_file', { path, content: 'x\n' }), /gen is a symlink: the agent does not write/);
    const patch = ['--- /dev/null', '+++ b/gen/new.rs', '@@ -0,0 +1 @@', '+x'].join('\n');
    refused(await w.apply('apply_patch', { patch }), /symlink/);
    assert.throws(() => w.ws.write('gen/deep/x.rs', 'x'), ToolRefusal);
    assert.deepEqual(w.outside(), before);
  });

  it('a link to an existing outside file: write_file, edit_file and read_file are refused; its content is unchanged', async () => {
    const w = world();
    symlinkSync(join(w.out, 'secret.txt'), join(w.root, 'notes.txt'));
    refused(await w.apply('write_file', { path: 'notes.txt', content: 'pwned\n' }), /symlink/);
    refused(await w.apply('edit_file', { path: 'notes.txt', old_text: SECRET, new_text: 'pwned' }), /symlink/);
    const read = await w.tool('read_file', { path: 'notes.txt' });
    refused(read, /resolves \(through a symlink\) outside the workspace/);
    assert.doesNotMatch(text(read), new RegExp(SECRET));
    assert.equal(readFileSync(join(w.out, 'secret.txt'), 'utf8'), `${SECRET}\n`);
  });

  it('a link to a folder outside (and to the workspace parent): writes below are refused', async () => {
    const w = world();
    symlinkSync(w.out, join(w.root, 'out'));
    symlinkSync('..', join(w.root, 'up'));
    const before = w.outside();
    refused(await w.apply('write_file', { path: 'out/new.txt', content: 'x' }), /symlink/);
    refused(await w.apply('write_file', { path: 'up/outside/new.txt', content: 'x' }), /symlink/);
    refused(await w.tool('read_file', { path: 'up/outside/secret.txt' }), /outside the workspace/);
    refused(await w.tool('read_file', { path: 'out/secret.txt' }), /outside the workspace/);
    assert.deepEqual(w.outside(), before);
  });

  it('a link inside that points inside: readable (also as dir/../link and through a link to a link), never written through', async () => {
    const w = world();
    symlinkSync('src/lib.rs', join(w.root, 'lib-link.rs'));
    symlinkSync('lib-link.rs', join(w.root, 'link2.rs'));
    symlinkSync('src', join(w.root, 'srclink'));
    for (const path of ['lib-link.rs', 'src/../lib-link.rs', 'link2.rs', 'srclink/lib.rs', './srclink/../link2.rs'])
      assert.match(text(await w.tool('read_file', { path })), /pub fn f/, path);
    refused(await w.apply('write_file', { path: 'link2.rs', content: 'x' }), /symlink/);
    refused(await w.apply('write_file', { path: 'srclink/lib.rs', content: 'x' }), /srclink is a symlink/);
    assert.equal(readFileSync(join(w.root, 'src', 'lib.rs'), 'utf8'), 'pub fn f() {}\n');
  });

  it('a chain of links that ends outside, a link loop, a dangling link and a link into .git are refused for reads', async () => {
    const w = world({ git: true });
    symlinkSync(join(w.out, 'secret.txt'), join(w.root, 'a1'));
    symlinkSync('a1', join(w.root, 'a2'));
    symlinkSync('loop2', join(w.root, 'loop1'));
    symlinkSync('loop1', join(w.root, 'loop2'));
    symlinkSync('missing.txt', join(w.root, 'dangle'));
    symlinkSync('.git', join(w.root, 'g'));
    refused(await w.tool('read_file', { path: 'a2' }), /outside the workspace/);
    refused(await w.tool('read_file', { path: 'loop1' }), /loop|symlink/);
    refused(await w.tool('read_file', { path: 'dangle' }), /dangle is a dangling symlink/);
    refused(await w.tool('read_file', { path: 'g/config' }), /\.git\/ is not for the agent/);
    refused(await w.tool('list_files', { path: 'g' }), /\.git\/ is not for the agent/);
  });

  it('.git in any spelling is refused for reads and writes', async () => {
    const w = world({ git: true });
    for (const path of [
      '.git/config',
      '.GIT/config',
      '.git/',
      'src/../.git/HEAD',
      '.Git',
      'src/.git/x',
      '.git./config',
    ]) {
      refused(await w.tool('read_file', { path }), /\.git\/ is not for the agent/);
      refused(await w.apply('write_file', { path, content: 'x' }), /\.git\/ is not for the agent/);
    }
    assert.ok(!readFileSync(join(w.root, '.git', 'config'), 'utf8').includes('\nx'));
  });
});

describe('the guard: search and list_files do not read or list through a link out', () => {
  for (const git of [false, true])
    it(`a file link and a folder link to the outside (${git ? 'git ls-files' : 'the walk'})`, async () => {
      const w = world({ git });
      symlinkSync(join(w.out, 'secret.txt'), join(w.root, 'leak.txt'));
      symlinkSync(w.out, join(w.root, 'leakdir'));
      symlinkSync(join(w.out, 'gone'), join(w.root, 'dangling.txt'));
      symlinkSync('src/lib.rs', join(w.root, 'inside-link.rs'));
      const list = text(await w.tool('list_files', {}));
      assert.doesNotMatch(list, /leak|dangling/);
      assert.match(list, /src\/lib\.rs/);
      assert.match(list, /inside-link\.rs/);
      for (const q of [SECRET, SECRET.toLowerCase()]) {
        // The answer echoes the query: it must say no line matched, and name no file.
        assert.match(text(await w.tool('search', { query: q })), /^no line matches/);
      }
      const re = text(await w.tool('search', { query: 'OUTSIDE-.*', mode: 'regex' }));
      assert.match(re, /^no line matches/);
      assert.match(text(await w.tool('search', { query: 'pub fn' })), /inside-link\.rs:1/);
      for (const path of ['leakdir', 'leakdir/', 'leak.txt'])
        refused(await w.tool('list_files', { path }), /outside the workspace/);
      assert.match(text(await w.tool('list_files', { glob: '**/secret*' })), /^no files under/);
    });

  it('a FIFO in the workspace does not hang read_file or search', async () => {
    const w = world();
    try {
      execFileSync('mkfifo', [join(w.root, 'pipe')]);
    } catch {
      return; // no mkfifo here
    }
    refused(await w.tool('read_file', { path: 'pipe' }), /not a regular file/);
    assert.match(text(await w.tool('search', { query: 'plain' })), /file\.txt:1/);
  });
});

describe('the guard: hostile names and sizes are answers', () => {
  it('__proto__, constructor, toString, hasOwnProperty as tool names', async () => {
    const w = world();
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'x'.repeat(5000)]) {
      const r = await w.tool(name, {});
      refused(r, /unknown tool/);
      assert.ok(text(r).length < 500, 'a long name is not echoed whole');
    }
  });

  it('a 10,000-character path, a 300-byte component, a path through a file, a NUL: answers for every tool', async () => {
    const w = world();
    const cases: [string, RegExp][] = [
      ['a/'.repeat(5000), /over the 1024-character limit/],
      [`src/${'é'.repeat(150)}`, /300 bytes, over the 255-byte limit/],
      ['file.txt/x', /file\.txt is a file, not a folder/],
      ['src/\0x', /NUL/],
    ];
    for (const [path, re] of cases) {
      refused(await w.tool('read_file', { path }), re);
      refused(await w.apply('write_file', { path, content: 'x' }), re);
      refused(await w.apply('edit_file', { path, old_text: 'a', new_text: 'b' }), re);
      refused(await w.tool('list_files', { path }), re);
      refused(await w.tool('run_command', { argv: ['ls'], cwd: path }), re);
      const patch = ['--- /dev/null', `+++ b/${path}`, '@@ -0,0 +1 @@', '+x'].join('\n');
      refused(await w.apply('apply_patch', { patch }), /apply_patch/);
    }
    assert.deepEqual(readdirSync(w.root).sort(), ['file.txt', 'src']);
  });

  it('a 50 MB write_file is refused with the limit and how the policy raises it', async () => {
    const w = world();
    const r = await w.tool('write_file', { path: 'big.txt', content: 'x'.repeat(50 * 1024 * 1024) });
    refused(r, /52428800 bytes, over the agent's write limit of 2097152 bytes \(2 MiB\).*agent\.max_write_bytes/);
    assert.ok(!w.ws.exists('big.txt'));
    // A raised limit (the policy's agent.max_write_bytes) lets a larger file through.
    assert.equal((await w.tool('write_file', { path: 'ok.txt', content: 'x'.repeat(3000) }, 4096)).kind, 'edit');
    refused(await w.tool('write_file', { path: 'no.txt', content: 'x'.repeat(5000) }, 4096), /4096 bytes/);
  });

  it('edit_file replace_all and apply_patch that grow a file past the limit are refused', async () => {
    const w = world();
    writeFileSync(join(w.root, 'many.txt'), 'ab\n'.repeat(100_000)); // 300 KB
    refused(
      await w.tool('edit_file', { path: 'many.txt', old_text: 'ab', new_text: 'ab'.repeat(20), replace_all: true }),
      /many\.txt would be \d+ bytes, over the agent's write limit/,
    );
    writeFileSync(join(w.root, 'small.txt'), 'one\n');
    const patch = ['--- a/small.txt', '+++ b/small.txt', '@@ -1 +1 @@', '-one', `+${'y'.repeat(5000)}`].join('\n');
    refused(await w.tool('apply_patch', { patch }, 4096), /small\.txt would be 5001 bytes/);
    assert.equal(readFileSync(join(w.root, 'small.txt'), 'utf8'), 'one\n');
  });
});

describe('the guard: apply_patch headers', () => {
  it('a patch that creates a symlink (mode 120000) or turns a file into one is refused; nothing is created', async () => {
    const w = world();
    const create = [
      'diff --git a/keys b/keys',
      'new file mode 120000',
      'index 0000000..1b2c3d4',
      '--- /dev/null',
      '+++ b/keys',
      '@@ -0,0 +1 @@',
      `+${join(w.out, 'authorized_keys')}`,
      '\\ No newline at end of file',
    ].join('\n');
    refused(await w.apply('apply_patch', { patch: create }), /symlink/);
    const retype = ['diff --git a/file.txt b/file.txt', 'old mode 100644', 'new mode 120000'].join('\n');
    refused(await w.apply('apply_patch', { patch: retype }), /symlink/);
    assert.deepEqual(readdirSync(w.root).sort(), ['file.txt', 'src']);
    assert.deepEqual(w.outside(), ['secret.txt']);
  });

  it('a rename or copy to a path outside is refused; a rename inside is a delete and a create', async () => {
    const w = world();
    const out = [
      'diff --git a/file.txt b/../outside/file.txt',
      'similarity index 100%',
      'rename from file.txt',
      'rename to ../outside/file.txt',
    ].join('\n');
    refused(await w.apply('apply_patch', { patch: out }), /outside the workspace/);
    const copy = ['diff --git a/file.txt b/x', 'copy from file.txt', 'copy to ../outside/x'].join('\n');
    refused(await w.apply('apply_patch', { patch: copy }), /outside the workspace/);
    assert.deepEqual(w.outside(), ['secret.txt']);
    const inside = [
      'diff --git a/file.txt b/moved.txt',
      'similarity index 100%',
      'rename from file.txt',
      'rename to moved.txt',
    ].join('\n');
    const r = await w.apply('apply_patch', { patch: inside });
    assert.equal(r.kind, 'edit', text(r));
    assert.equal(readFileSync(join(w.root, 'moved.txt'), 'utf8'), 'plain\n');
    assert.ok(!w.ws.exists('file.txt'));
  });

  it('a binary patch is refused', async () => {
    const w = world();
    const patch = [
      'diff --git a/b.bin b/b.bin',
      'new file mode 100644',
      'GIT binary patch',
      'literal 3',
      'abc',
      '',
    ].join('\n');
    refused(await w.apply('apply_patch', { patch }), /binary/);
  });
});

describe('protected paths', () => {
  it("Switchyard's evidence, checkpoints and index are refused outright (any case), by the tools and by the write itself", async () => {
    const w = world();
    const verdict = JSON.stringify({ verdict: 'approve' });
    for (const path of [
      '.switchyard/evidence/t/judge-x.json',
      '.Switchyard/Evidence/t/judge-x.json',
      '.switchyard/checkpoints/x',
      '.switchyard/index/chunks.json',
      '.switchyard-checkpoints/x',
    ]) {
      refused(await w.apply('write_file', { path, content: verdict }), /is not for the agent to write/);
      const patch = ['--- /dev/null', `+++ b/${path}`, '@@ -0,0 +1 @@', `+${verdict}`].join('\n');
      refused(await w.apply('apply_patch', { patch }), /is not for the agent to write/);
      assert.throws(() => w.ws.write(path, verdict), /is not for the agent to write/);
    }
    refused(
      await w.apply('write_file', { path: '.switchyard/evidence/t/judge-x.json', content: verdict }),
      /^write_file: \.switchyard\/evidence\/t\/judge-x\.json: Switchyard's evidence is not for the agent to write$/,
    );
    assert.ok(!w.ws.exists('.switchyard'));
  });

  it('a write to a file that governs the agent or its checks comes back as an edit with `governs` set', async () => {
    const w = world();
    writeFileSync(join(w.root, 'package.json'), JSON.stringify({ scripts: { test: 'node --test' }, dependencies: {} }));
    const cases: [string, string, RegExp][] = [
      ['.switchyard/policy.json', '{}', /policy file changed/],
      ['package.json', JSON.stringify({ scripts: { test: 'true' }, dependencies: {} }), /scripts/],
      ['Makefile', 'test:\n\ttrue\n', /Makefile/],
      ['crates/x/build.rs', 'fn main() {}\n', /build script/],
      ['.cargo/config.toml', '[target.x86_64-unknown-linux-gnu]\nrunner = "true"\n', /Cargo's configuration/],
      ['conftest.py', 'import os\n', /pytest/],
      ['.github/workflows/ci.yml', 'on: push\n', /CI/],
      ['.vscode/settings.json', '{}', /editor's settings/],
    ];
    for (const [path, content, re] of cases) {
      const r = await w.tool('write_file', { path, content });
      assert.equal(r.kind, 'edit', `${path}: ${text(r)}`);
      assert.ok(r.kind === 'edit');
      assert.match(r.changes[0]!.governs ?? '', re, path);
    }
    const dep = await w.tool('write_file', {
      path: 'package.json',
      content: JSON.stringify({ scripts: { test: 'node --test' }, dependencies: { left: '1' } }),
    });
    assert.ok(dep.kind === 'edit' && dep.changes[0]!.governs === undefined, text(dep));
    const src = await w.tool('edit_file', { path: 'src/lib.rs', old_text: 'f()', new_text: 'g()' });
    assert.ok(src.kind === 'edit' && src.changes[0]!.governs === undefined);
    const mk = await w.tool('apply_patch', {
      patch: ['--- /dev/null', '+++ b/sub/GNUmakefile', '@@ -0,0 +1 @@', '+x'].join('\n'),
    });
    assert.ok(mk.kind === 'edit' && /Makefile/.test(mk.changes[0]!.governs ?? ''), text(mk));
  });

  it('governingReason: manifests govern only when what they run changes; an unparsable one governs', () => {
    const pkg = (o: object) => JSON.stringify(o);
    assert.equal(
      governingReason('package.json', pkg({ scripts: { a: '1', b: '2' } }), pkg({ scripts: { b: '2', a: '1' } })),
      null,
    );
    assert.match(governingReason('web/package.json', pkg({}), pkg({ packageManager: 'yarn@4' }))!, /packageManager/);
    assert.match(governingReason('package.json', pkg({}), '{ not json')!, /does not parse/);
    assert.match(governingReason('package.json', null, pkg({ scripts: { postinstall: 'x' } }))!, /scripts/);
    const cargo = '[package]\nname = "x"\nversion = "0.1.0"\n';
    assert.equal(governingReason('Cargo.toml', cargo, `${cargo}\n[dependencies]\nserde = "1"\n`), null);
    assert.match(
      governingReason('crates/x/Cargo.toml', cargo, cargo.replace('name', 'build = "evil.rs"\nname'))!,
      /package\.build/,
    );
    assert.match(governingReason('Cargo.toml', cargo, `${cargo}\n[lib]\ntest = false\n`)!, /lib/);
    const py = '[project]\nname = "x"\n';
    assert.equal(governingReason('pyproject.toml', py, `${py}dependencies = ["a"]\n`), null);
    assert.match(
      governingReason('pyproject.toml', py, `${py}[tool.pytest.ini_options]\naddopts = "-k nothing"\n`)!,
      /tool\.pytest/,
    );
    assert.match(governingReason('pyproject.toml', py, `[build-system]\nrequires = ["x"]\n${py}`)!, /build-system/);
    const gomod = 'module x\n\ngo 1.21\n';
    assert.equal(governingReason('go.mod', gomod, `${gomod}\nrequire y v1.0.0\n`), null);
    assert.match(governingReason('go.mod', gomod, `${gomod}toolchain go1.99.0\n`)!, /toolchain/);
    assert.match(governingReason('MAKEFILE', 'a', 'b')!, /Makefile/);
    assert.match(governingReason('Makefile.', 'a', 'b')!, /Makefile/);
    assert.match(governingReason('.SWITCHYARD/Policy.json', 'a', 'b')!, /policy file changed/);
    for (const p of ['.envrc', 'rust-toolchain.toml', '.npmrc', '.yarnrc.yml', 'tox.ini', 'pytest.ini', 'Jenkinsfile'])
      assert.ok(governingReason(p, null, 'x'), p);
    assert.equal(governingReason('src/main.rs', 'a', 'b'), null);
    assert.equal(governingReason('docs/Makefile.md', 'a', 'b'), null);
    assert.ok(GOVERNING_GLOBS.includes('.github/workflows/**'));
    assert.match(forbiddenReason('.switchyard/evidence')!, /evidence/);
    assert.match(forbiddenReason('a/.GIT/config')!, /\.git/);
    assert.equal(forbiddenReason('.switchyard/policy.json'), null);
  });
});

describe('the guard: the write itself', () => {
  it('Workspace.apply checks every path before writing any', () => {
    const w = world();
    symlinkSync(w.out, join(w.root, 'out'));
    assert.throws(
      () =>
        w.ws.apply([
          { path: 'first.txt', after: 'a' },
          { path: 'out/second.txt', after: 'b' },
        ]),
      /symlink/,
    );
    assert.ok(!w.ws.exists('first.txt'));
    assert.deepEqual(w.outside(), ['secret.txt']);
  });

  it('a link planted after the check is not followed by the write (O_NOFOLLOW), and missing folders are made one by one', async () => {
    const w = world();
    const r = await w.tool('write_file', { path: 'new/deep/x.txt', content: 'x\n' });
    assert.ok(r.kind === 'edit');
    // Between the proposal and the approved write, the folder becomes a link out.
    symlinkSync(w.out, join(w.root, 'new'));
    assert.throws(() => w.ws.apply(r.changes), /symlink/);
    assert.deepEqual(w.outside(), ['secret.txt']);
    rmSync(join(w.root, 'new'));
    const f = await w.tool('write_file', { path: 'plain.txt', content: 'x\n' });
    assert.ok(f.kind === 'edit');
    symlinkSync(join(w.out, 'planted'), join(w.root, 'plain.txt'));
    assert.throws(() => w.ws.apply(f.changes), /symlink/);
    assert.deepEqual(w.outside(), ['secret.txt']);
    rmSync(join(w.root, 'plain.txt'));
    w.ws.apply(r.changes);
    assert.equal(readFileSync(join(w.root, 'new', 'deep', 'x.txt'), 'utf8'), 'x\n');
  });
});
