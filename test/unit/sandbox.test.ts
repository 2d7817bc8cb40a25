import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../src/core/sandbox/process.js';
import {
  bwrapArgs,
  cleanEnv,
  detectSandbox,
  findOnPath,
  hostAllowed,
  planSandbox,
  resetSandboxDetection,
  runSandboxed,
  sandboxHint,
  secretValues,
  type SandboxProfile,
} from '../../src/core/sandbox/index.js';

// The OS sandbox every agent command and check runs in, tested with the real bubblewrap: what a command steered
// by a hostile repository can no longer do (write outside the workspace or to the files that govern the agent,
// read the user's secrets, reach the network, see the provider keys), and what still works (writes in the
// workspace, timeouts and Stop, a real cargo check, the hosts a policy names).

const support = detectSandbox();
const skip = support.available ? false : `no OS sandbox on this host: ${support.why}`;

// Outside /tmp on purpose: the sandbox puts a fresh tmpfs on /tmp, which would hide a HOME under it wholesale and
// make "the secret is not readable" true for the wrong reason.
const BASE_PARENT = existsSync('/var/tmp') ? '/var/tmp' : homedir();

const secretEnv = {
  OPENAI_API_KEY: 'sk-openai-0123456789abcdef',
  ANTHROPIC_API_KEY: 'sk-ant-0123456789abcdef',
  SWITCHYARD_LOCAL_API_KEY: 'local-key-0123456789',
  GITHUB_TOKEN: 'ghp_0123456789abcdefghij',
  MY_SECRET: 'my-secret-value-0123',
};

/** Processes (anywhere on the host: the sandbox's are visible from outside) whose command line has this text. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').includes(marker)) found.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return found;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: () => boolean, ms: number): Promise<boolean> {
  for (const t0 = Date.now(); Date.now() - t0 < ms; await sleep(25)) if (what()) return true;
  return what();
}

describe('sandbox: commands and checks run in bubblewrap', { skip }, () => {
  let base: string;
  let home: string;
  let ws: string;
  let outOfTree: string;
  let profile: SandboxProfile;
  let env: NodeJS.ProcessEnv;
  const files: Record<string, string> = {};

  const run = (argv: string[], extra: Partial<Parameters<typeof runSandboxed>[0]> = {}) =>
    runSandboxed({ argv, cwd: ws, timeoutMs: 20_000, profile, support, env, ...extra });

  before(() => {
    base = realpathSync(mkdtempSync(join(BASE_PARENT, 'sy-sandbox-')));
    home = join(base, 'home');
    ws = join(base, 'ws');
    outOfTree = join(base, 'target-out');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'id_rsa'), 'SECRET-KEY-CONTENT\n');
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_secret_access_key = AWS-SECRET-CONTENT\n');
    mkdirSync(join(home, '.cargo', 'bin'), { recursive: true });
    writeFileSync(join(home, 'notes.txt'), 'VISIBLE-NOTES\n');
    mkdirSync(join(ws, '.switchyard'), { recursive: true });
    mkdirSync(join(ws, '.state'));
    mkdirSync(join(ws, 'crates', 'lib', 'src'), { recursive: true });
    mkdirSync(join(ws, 'crates', 'app', 'src'), { recursive: true });
    execFileSync('git', ['init', '-q', ws]);
    const put = (rel: string, text: string) => {
      writeFileSync(join(ws, rel), text);
      files[rel] = text;
    };
    put('.switchyard/policy.json', '{"version":1}\n');
    put('.state/verdict-key', 'STATE-KEY-CONTENT\n');
    put('package.json', '{"name":"ws","scripts":{"test":"true"}}\n');
    put('Makefile', 'check:\n\ttrue\n');
    put('Cargo.toml', '[workspace]\nmembers = ["crates/app", "crates/lib"]\nresolver = "2"\n');
    put('crates/lib/Cargo.toml', '[package]\nname = "lib"\nversion = "0.1.0"\nedition = "2021"\n');
    put('crates/lib/build.rs', 'fn main() {}\n');
    put('crates/lib/src/lib.rs', 'pub fn answer() -> u32 { 42 }\n');
    put(
      'crates/app/Cargo.toml',
      '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nlib = { path = "../lib" }\n',
    );
    put('crates/app/src/main.rs', 'fn main() { println!("{}", lib::answer()); }\n');
    files['.git/config'] = readFileSync(join(ws, '.git', 'config'), 'utf8');
    profile = { root: ws, home, stateDirs: [join(ws, '.state')] };
    env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', ...secretEnv };
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('(a) writes outside the workspace fail (and the hint says why); writes inside work', async () => {
    const out = await run(['sh', '-c', 'echo x > $HOME/pwned']);
    assert.notEqual(out.code, 0);
    assert.equal(out.sandbox, 'bubblewrap');
    assert.deepEqual(out.argv, ['sh', '-c', 'echo x > $HOME/pwned'], 'the caller sees its own command');
    assert.match(out.stderr, /Read-only file system/);
    assert.equal(existsSync(join(home, 'pwned')), false);
    assert.match(sandboxHint(out) ?? '', /^sandbox: .*can write only inside the workspace/);
    const ok = await run(['sh', '-c', 'echo made-inside > inside.txt && mkdir -p src/new && echo y > src/new/f']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(readFileSync(join(ws, 'inside.txt'), 'utf8'), 'made-inside\n');
    assert.equal(readFileSync(join(ws, 'src/new/f'), 'utf8'), 'y\n');
  });

  it("(b) the user's secrets and Switchyard's state are hidden; the rest of HOME is readable", async () => {
    const out = await run([
      'sh',
      '-c',
      'cat ~/.ssh/id_rsa; cat ~/.aws/credentials; cat .state/verdict-key; cat ~/notes.txt',
    ]);
    const all = out.stdout + out.stderr;
    assert.doesNotMatch(all, /SECRET-KEY-CONTENT|AWS-SECRET-CONTENT|STATE-KEY-CONTENT/);
    assert.match(out.stdout, /VISIBLE-NOTES/, 'HOME itself stays visible, so the hiding is selective');
    assert.match(out.stderr, /\.ssh\/id_rsa: No such file or directory/);
    assert.match(sandboxHint(out) ?? '', /cannot read the user's secrets/);
    assert.equal(readFileSync(join(home, '.ssh', 'id_rsa'), 'utf8'), 'SECRET-KEY-CONTENT\n', 'the real file is intact');
  });

  it('(c) no network: a TCP server outside on 127.0.0.1 is not reached from inside', async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    try {
      const argv = ['bash', '-c', `echo hi > /dev/tcp/127.0.0.1/${port}`];
      const control = await runTool({ argv, cwd: ws, timeoutMs: 10_000 });
      assert.equal(control.code, 0, 'outside the sandbox the server is reachable');
      assert.ok(await until(() => connections === 1, 2_000));
      const out = await run(argv);
      assert.notEqual(out.code, 0);
      await sleep(200);
      assert.equal(connections, 1, 'the sandboxed command made no connection');
    } finally {
      server.close();
    }
  });

  it('(d) the files that govern the agent and define the checks stay unchanged, and none can be created', async () => {
    const script = [
      'echo evil > .git/hooks/pre-commit',
      'echo "[core] hooksPath = /x" >> .git/config',
      'echo "{}" > .switchyard/policy.json',
      'echo "{\\"scripts\\":{\\"test\\":\\"evil\\"}}" > package.json',
      'echo evil > Makefile; rm -f Makefile; mv Makefile Makefile.old',
      'echo evil > crates/lib/build.rs; echo evil >> crates/lib/Cargo.toml; echo evil >> Cargo.toml',
      'mkdir -p .vscode && echo "{}" > .vscode/tasks.json',
      'mkdir -p .cargo && echo "[build]" > .cargo/config.toml',
      'echo done',
    ].join('; ');
    const out = await run(['sh', '-c', script]);
    assert.match(out.stdout, /done/, 'the script ran to its end');
    assert.match(out.stderr, /Read-only file system/);
    for (const [rel, text] of Object.entries(files)) {
      if (rel.startsWith('.state')) continue;
      assert.equal(readFileSync(join(ws, rel), 'utf8'), text, `${rel} unchanged`);
    }
    assert.equal(existsSync(join(ws, '.git/hooks/pre-commit')), false);
    assert.equal(existsSync(join(ws, 'Makefile.old')), false);
    assert.equal(existsSync(join(ws, '.vscode')), false, 'the placeholder .vscode is removed after the run');
    assert.equal(existsSync(join(ws, '.cargo')), false, 'the placeholder .cargo is removed after the run');
  });

  it('(e) the environment is an allowlist: no provider key or secret, even when named', async () => {
    const out = await run(['env'], {
      env: { ...env, EXTRA_OK: 'passed-on-request' },
      passEnv: ['MY_SECRET', 'GITHUB_TOKEN', 'SWITCHYARD_LOCAL_API_KEY', 'EXTRA_OK'],
    });
    assert.equal(out.code, 0, out.stderr);
    for (const [name, value] of Object.entries(secretEnv)) {
      assert.doesNotMatch(out.stdout, new RegExp(`^${name}=`, 'm'));
      assert.ok(!out.stdout.includes(value), `${name}'s value is absent`);
    }
    assert.match(out.stdout, new RegExp(`^HOME=${home}$`, 'm'));
    assert.match(out.stdout, /^PATH=/m);
    assert.match(out.stdout, /^EXTRA_OK=passed-on-request$/m, 'an ordinary passthrough name does pass');
    assert.deepEqual(cleanEnv({ PATH: '/bin', LC_ALL: 'C', GOFLAGS: '-toolexec=x', AUTH_X: 'y' }, ['AUTH_X']), {
      PATH: '/bin',
      LC_ALL: 'C',
    });
    assert.deepEqual(
      secretValues({ ...secretEnv, PATH: '/usr/bin:/bin:/x', SHORT_KEY: 'abc' }).sort(),
      Object.values(secretEnv).sort(),
    );
  });

  it('(f) /tmp inside is private: a write there leaves /tmp outside untouched', async () => {
    const name = `sy-sandbox-marker-${process.pid}-${Date.now()}`;
    writeFileSync(join('/tmp', `${name}-outside`), 'outside\n');
    try {
      const out = await run([
        'sh',
        '-c',
        `echo inside > /tmp/${name} && cat /tmp/${name} && echo "TMPDIR=$TMPDIR"; test -e /tmp/${name}-outside && echo SEES-OUTSIDE`,
      ]);
      assert.equal(out.code, 1, 'the last test fails: the outside file is not visible');
      assert.match(out.stdout, /^inside$/m);
      assert.match(out.stdout, /^TMPDIR=\/tmp$/m);
      assert.doesNotMatch(out.stdout, /SEES-OUTSIDE/);
      assert.equal(existsSync(join('/tmp', name)), false);
    } finally {
      rmSync(join('/tmp', `${name}-outside`), { force: true });
    }
  });

  it('(g) timeout and Stop still end the sandboxed process, and nothing is left running', async () => {
    const marker = `31.${process.pid}`;
    const pending = run(['sleep', marker], { timeoutMs: 1_500 });
    assert.ok(await until(() => processesWith(marker).length > 0, 3_000), 'the sleep ran (the check below can fail)');
    const t = await pending;
    assert.equal(t.timedOut, true);
    assert.ok(t.ms < 5_000, `returned after ${t.ms} ms`);
    assert.ok(await until(() => processesWith(marker).length === 0, 3_000), 'no sleep is left');

    const marker2 = `32.${process.pid}`;
    const ac = new AbortController();
    const pending2 = run(['sleep', marker2], { signal: ac.signal });
    assert.ok(await until(() => processesWith(marker2).length > 0, 3_000));
    ac.abort();
    const c = await pending2;
    assert.equal(c.cancelled, true);
    assert.ok(c.ms < 5_000, `returned after ${c.ms} ms`);
    assert.ok(await until(() => processesWith(marker2).length === 0, 3_000), 'no sleep is left');
  });

  it('(g2) a program that does not exist inside is an ordinary failed result', async () => {
    const out = await run(['definitely-not-a-program-sy']);
    assert.notEqual(out.code, 0);
    assert.equal(out.timedOut, false);
    assert.match(out.stderr, /definitely-not-a-program-sy/);
    assert.ok(out.notes.some((n) => /not installed/.test(n)));
  });

  it(
    '(h) the policy names hosts: they are reached through the proxy, any other host gets a 403 naming it',
    { skip: findOnPath('socat') ? false : 'socat is not installed, so the proxy cannot be reached from inside' },
    async () => {
      const server: HttpServer = createHttpServer((req, res) => res.end(`hello-from-outside ${req.url}`));
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const port = (server.address() as { port: number }).port;
      // Node's http does not read HTTP_PROXY, so the probe uses it by hand (which also proves it is set).
      writeFileSync(
        join(ws, 'probe.mjs'),
        `import http from 'node:http';
const [mode, target] = process.argv.slice(2);
const p = new URL(process.env.HTTP_PROXY);
const done = (s) => { console.log(s); };
if (mode === 'get') {
  http.get({ host: p.hostname, port: p.port, path: target }, (res) => {
    let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => done(res.statusCode + ' ' + b.trim()));
  }).on('error', (e) => done('ERR ' + e.code));
} else {
  const req = http.request({ host: p.hostname, port: p.port, method: 'CONNECT', path: target });
  req.on('connect', (res, sock) => {
    if (res.statusCode !== 200) { done(String(res.statusCode)); sock.destroy(); return; }
    sock.write('GET /tunnel HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
    let b = ''; sock.on('data', (d) => (b += d)); sock.on('end', () => done('200 ' + b.split('\\r\\n\\r\\n')[1]));
  });
  req.on('error', (e) => done('ERR ' + e.code));
  req.end();
}
`,
      );
      const net = { ...profile, network: { hosts: ['127.0.0.1', '*.allowed.test'] } };
      try {
        const probe = (mode: string, target: string) => run(['node', 'probe.mjs', mode, target], { profile: net });
        const get = await probe('get', `http://127.0.0.1:${port}/plain`);
        assert.equal(get.stdout.trim(), '200 hello-from-outside /plain', get.stderr);
        const tunnel = await probe('connect', `127.0.0.1:${port}`);
        assert.equal(tunnel.stdout.trim(), '200 hello-from-outside /tunnel', tunnel.stderr);
        const refused = await probe('get', 'http://refused.example/x');
        assert.match(refused.stdout, /^403 switchyard sandbox: the network host refused\.example was refused/);
        assert.match(refused.stdout, /network\.hosts: 127\.0\.0\.1, \*\.allowed\.test/);
        assert.ok(refused.notes.includes('network refused: refused.example'));
        assert.match(sandboxHint(refused) ?? '', /no network unless the policy names hosts/);
        const refusedTunnel = await probe('connect', 'refused.example:443');
        assert.equal(refusedTunnel.stdout.trim(), '403');
        // Without hosts the same probe has no proxy at all.
        const none = await run(['sh', '-c', 'echo "proxy=${HTTP_PROXY:-none}"']);
        assert.equal(none.stdout.trim(), 'proxy=none');
      } finally {
        server.close();
        rmSync(join(ws, 'probe.mjs'), { force: true });
      }
      assert.equal(hostAllowed('a.allowed.test', ['*.allowed.test']), true);
      assert.equal(hostAllowed('allowed.test', ['*.allowed.test']), false);
      assert.equal(hostAllowed('evil-allowed.test', ['*.allowed.test']), false);
      assert.equal(hostAllowed('EXAMPLE.com.', ['example.com']), true);
    },
  );

  it('(i) SWITCHYARD_SANDBOX=off forces the no-sandbox path, and runSandboxed refuses to run without one', async () => {
    const off = detectSandbox({ ...process.env, SWITCHYARD_SANDBOX: 'off' });
    assert.deepEqual(off, { available: false, why: 'forced off by SWITCHYARD_SANDBOX=off' });
    resetSandboxDetection();
    assert.equal(detectSandbox({ PATH: '/nonexistent' }).available, false);
    assert.deepEqual(detectSandbox(), support, 'proven again after the reset');
    await assert.rejects(
      runSandboxed({ argv: ['true'], cwd: ws, timeoutMs: 1_000, profile, support: off }),
      /no OS sandbox: forced off/,
    );
  });

  it('(j) the arguments are deterministic, hide state folders inside the workspace, and refuse unsafe writable folders', () => {
    mkdirSync(outOfTree, { recursive: true });
    const p: SandboxProfile = { ...profile, writable: [home, '~/.cargo/bin', '/', outOfTree, '~/.ssh'] };
    const plan = planSandbox(p, ws, ['cargo', 'check']);
    assert.deepEqual(bwrapArgs(p, ws, ['cargo', 'check']), plan.args);
    assert.deepEqual(planSandbox(p, ws, ['cargo', 'check']), plan);
    const a = plan.args;
    const at = (...seq: string[]) => a.findIndex((_, i) => seq.every((s, j) => a[i + j] === s));
    const wsBind = at('--bind', ws, ws);
    assert.ok(wsBind > at('--tmpfs', '/tmp'), 'the workspace is bound after /tmp is replaced');
    assert.ok(at('--tmpfs', join(ws, '.state')) > wsBind, 'the state folder inside the workspace is hidden after');
    assert.ok(at('--ro-bind', join(ws, '.git'), join(ws, '.git')) > wsBind);
    assert.ok(at('--ro-bind', join(ws, 'crates/lib/build.rs'), join(ws, 'crates/lib/build.rs')) > wsBind);
    assert.ok(at('--tmpfs', join(home, '.ssh')) > 0);
    assert.ok(at('--bind', outOfTree, outOfTree) > wsBind, 'an out-of-tree folder is made writable');
    const bound = a.filter((_, i) => a[i - 1] === '--bind');
    assert.deepEqual(
      bound.filter((b) => b === home || b === '/' || b.includes('.cargo/bin') || b.includes('.ssh')),
      [],
    );
    assert.equal(plan.notes.filter((n) => n.startsWith('not writable')).length, 4, plan.notes.join('\n'));
    assert.deepEqual(a.slice(a.indexOf('--')), ['--', 'cargo', 'check']);
  });

  it(
    '(k) a real cargo check of two crates (a path dependency and a build script) passes inside',
    { skip: findOnPath('cargo') ? false : 'cargo is not installed' },
    async () => {
      const target = join(ws, 'target-sbx');
      const out = await run(['cargo', 'check', '--offline'], {
        timeoutMs: 180_000,
        env: {
          ...env,
          RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
          ...(process.env.RUSTUP_TOOLCHAIN ? { RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN } : {}),
          CARGO_TARGET_DIR: target,
        },
        passEnv: ['CARGO_TARGET_DIR'],
      });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stderr, /Checking app v0\.1\.0/);
      assert.ok(existsSync(join(target, 'debug')), 'the target folder inside the workspace was written');
      assert.ok(existsSync(join(ws, 'Cargo.lock')), 'Cargo.lock is writable');
    },
  );
});
