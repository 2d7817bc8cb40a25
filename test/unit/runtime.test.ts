import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import OpenAI from 'openai';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { RuntimeManager } from '../../src/core/runtime/manager.js';
import { RuntimeError, type GpuProbe, type ManagerOptions } from '../../src/core/runtime/types.js';
import { readGguf } from '../../src/core/runtime/gguf.js';
import {
  fromGguf,
  fromModelsList,
  MismatchNotice,
  modelStem,
  servedLabel,
  servedRecord,
  servedWarning,
} from '../../src/core/runtime/served.js';
import { testCaller } from './helpers/caller.js';
import { LLAMA_SERVER, llamaServerMissing, startLlama } from '../support/llamaServer.js';
import { writeTinyGguf } from '../support/tinyGguf.js';

// The local server's lifecycle against a real llama-server and a vLLM stand-in that behaves as vLLM does.
const tmp = () => mkdtempSync(join(tmpdir(), 'sy-rt-'));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const until = async (what: string, f: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

let fakeVllm: string;
let tinyModel: string;
const gpuFile = join(tmp(), 'gpu.json');
const gpuProbe: GpuProbe = async (pids) => {
  try {
    const g = JSON.parse(readFileSync(gpuFile, 'utf8')) as Record<string, number>;
    return pids.reduce((n, p) => n + (alive(p) ? (g[p] ?? 0) : 0), 0);
  } catch {
    return 0;
  }
};

before(() => {
  const missing = llamaServerMissing();
  if (missing) throw new Error(missing);
  const dir = tmp();
  const js = join(dir, 'fake-vllm.cjs');
  buildSync({
    entryPoints: ['test/support/fakeVllm.ts'],
    outfile: js,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
  });
  fakeVllm = join(dir, 'vllm');
  writeFileSync(fakeVllm, `#!/bin/sh\nexec "${process.execPath}" "${js}" "$@"\n`);
  chmodSync(fakeVllm, 0o755);
  tinyModel = join(dir, 'tiny.gguf');
  writeTinyGguf(tinyModel);
});

const managers: RuntimeManager[] = [];
after(async () => {
  for (const m of managers) await m.stop().catch(() => {});
});

function manager(o: { env?: Record<string, string>; pol?: Policy } = {}) {
  const audit: string[] = [];
  const policy = o.pol ?? bundledPolicy();
  const env = {
    FAKE_VLLM_GPU_FILE: gpuFile,
    FAKE_VLLM_LOAD_MS: '300',
    FAKE_VLLM_FAIL: '',
    FAKE_VLLM_CLASH_ONCE: '',
    ...(o.env ?? {}),
  };
  const m = new RuntimeManager({
    policy: () => policy,
    stateDir: tmp(),
    binaries: { vllm: fakeVllm, llama: LLAMA_SERVER },
    modelPath: tinyModel,
    threads: 2,
    gpu: gpuProbe,
    audit: (kind, text) => audit.push(`${kind}: ${text}`),
    restart: { max: 2, baseMs: 50 },
  } satisfies ManagerOptions);
  // The stand-in reads its knobs from the environment of the process it is spawned in.
  Object.assign(process.env, env);
  managers.push(m);
  return { m, audit };
}

describe('runtime: a real llama-server', () => {
  it('starts (503 while loading, then ready), serves chat, stops its whole process group and removes its record', async () => {
    const { m, audit } = manager();
    const s = await m.start({ engine: 'llama_cpp' });
    assert.equal(s.state, 'ready');
    assert.equal(s.engine, 'llama_cpp');
    assert.ok(s.loadMs !== null && s.loadMs < 30_000);
    assert.ok(existsSync(m.recordPath));
    // What it serves, read from the file (not the alias it answers to): the tiny test model, not the policy's.
    assert.equal(s.served, 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    assert.equal(s.model?.source, 'gguf');
    assert.equal(s.model?.name, 'switchyard-tiny');
    assert.equal(s.model?.architecture, 'llama');
    assert.equal(s.model?.quantization, 'F32');
    assert.equal(s.model?.contextLength, 8192);
    // The window is what the server runs with, read from its /props: -c 8192 (the policy's 32,768 capped at the
    // model's own 8,192) with one slot.
    assert.equal(s.model?.window, 8192);
    assert.equal(s.model?.testModel, true);
    assert.equal(s.model?.matchesPolicy, false);
    assert.equal(servedLabel(s.model!), 'switchyard-tiny (test model, random weights)');
    const mismatch = audit.filter((l) => l.startsWith('mismatch: GR-005'));
    assert.equal(mismatch.length, 1, audit.join('\n'));
    assert.match(
      mismatch[0]!,
      /serves "switchyard-tiny", a test model with random weights \(llama · \d+K parameters · F32 · window 8,192 tokens as served · read from the GGUF file\).*it is not the policy's model, Qwen3-Coder-30B-A3B/,
    );
    const client = new OpenAI({ baseURL: (await m.endpoint())!, apiKey: m.apiKey()!, maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: s.served!,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
    });
    assert.equal(r.usage?.completion_tokens, 4);
    const pid = s.pid!;
    await m.stop();
    assert.equal(alive(pid), false);
    assert.equal(existsSync(m.recordPath), false);
    assert.equal(m.status().state, 'stopped');
    assert.ok(audit.some((l) => /llama\.cpp ready/.test(l)));
  });

  it('a server left running by an earlier session is found and adopted; a dead record is cleaned', async () => {
    const { m } = manager();
    const s = await m.start({ engine: 'llama_cpp' });
    const second = new RuntimeManager({
      policy: () => bundledPolicy(),
      stateDir: join(m.recordPath, '..'),
      binaries: {},
    });
    const rec = await second.adoptOrClean();
    assert.equal(rec?.pid, s.pid);
    await m.stop();
    assert.equal(await second.adoptOrClean(), null);
  });
});

describe('runtime: the vLLM stand-in', () => {
  it('vLLM refuses connections while loading; readiness is seen, with its EngineCore child, and both die with the group', async () => {
    const { m } = manager({ env: { FAKE_VLLM_LOAD_MS: '400' } });
    const s = await m.start({ engine: 'vllm' });
    assert.equal(s.engine, 'vllm');
    assert.ok(s.loadMs! >= 400, `load ${s.loadMs} ms`);
    const engineCore = Number(/EngineCore started \(pid=(\d+)\)/.exec(s.logTail.join('\n'))?.[1]);
    assert.ok(alive(engineCore));
    await m.stop();
    await until('EngineCore to die', () => !alive(engineCore));
    assert.equal(alive(s.pid!), false);
  });

  it('out of memory: a clear message with the log excerpt, then the policy fallback (llama.cpp) with an audit line', async () => {
    const { m, audit } = manager({ env: { FAKE_VLLM_FAIL: 'oom' } });
    const s = await m.start();
    assert.equal(s.engine, 'llama_cpp');
    assert.ok(
      audit.some((l) =>
        /^fallback: GR-005: runtime vllm failed to start \(vLLM exited with 1 during start: the GPU does not have enough free memory.*falling back to llama\.cpp/.test(
          l,
        ),
      ),
      audit.join('\n'),
    );
    await m.stop();
    const only = manager({ env: { FAKE_VLLM_FAIL: 'oom' } });
    await assert.rejects(
      only.m.start({ engine: 'vllm' }),
      (e: unknown) =>
        e instanceof RuntimeError && e.kind === 'oom' && e.logTail.some((l) => /CUDA out of memory/.test(l)),
    );
    assert.equal(only.m.status().state, 'failed');
  });

  it('a port clash at start: another port is taken', async () => {
    const flag = join(tmp(), 'clash');
    writeFileSync(flag, '');
    const { m } = manager({ env: { FAKE_VLLM_CLASH_ONCE: flag } });
    const s = await m.start({ engine: 'vllm' });
    assert.equal(s.state, 'ready');
    assert.equal(existsSync(flag), false, 'the first start met the clash');
    await m.stop();
  });

  it('a crash after ready: restarted with backoff a bounded number of times, then stopped clearly', async () => {
    const { m, audit } = manager({
      env: { FAKE_VLLM_FAIL: 'crash-after-ready', FAKE_VLLM_CRASH_MS: '150', FAKE_VLLM_LOAD_MS: '100' },
    });
    await m.start({ engine: 'vllm' });
    await until('the manager to give up', () => m.status().state === 'failed', 20_000);
    assert.equal(audit.filter((l) => /^restart: GR-005: runtime: vllm crashed after ready/.test(l)).length, 2);
    assert.match(m.status().message!, /crashed .* restarted 2 times; it stays stopped/);
    assert.ok(audit.some((l) => /^failure:/.test(l)));
  });

  it('one model at a time: the shared GPU refuses a second large server; a swap frees it first', async () => {
    const { m } = manager();
    const a = await m.start({ engine: 'vllm' });
    const other = manager();
    await assert.rejects(
      other.m.start({ engine: 'vllm' }),
      (e: unknown) =>
        e instanceof RuntimeError &&
        /less than desired GPU memory|enough free memory/.test(e.message + e.logTail.join('\n')),
    );
    // Requests during the swap wait for it and go to the new server, never to the old one.
    const swap = m.switchModel('local_alt');
    const during = m.endpoint();
    const b = await swap;
    assert.equal(b.state, 'ready');
    assert.equal(b.modelKey, 'local_alt');
    assert.notEqual(b.pid, a.pid);
    assert.equal(alive(a.pid!), false);
    assert.equal(await during, b.endpoint);
    await m.stop();
  });

  it('with sleep mode on, a swap sleeps the old server and a swap back wakes it (no cold start)', async () => {
    const policy = structuredClone(bundledPolicy());
    policy.runtime.vllm.enable_sleep_mode = true;
    policy.runtime.vllm.gpu_memory_utilization = 0.45;
    const { m, audit } = manager({ pol: policy });
    const a = await m.start({ engine: 'vllm' });
    const b = await m.switchModel('local_alt');
    assert.deepEqual(b.sleeping, ['local_moe']);
    assert.ok(alive(a.pid!), 'the sleeping server is still there');
    const t = performance.now();
    const back = await m.switchModel('local_moe');
    assert.equal(back.pid, a.pid, 'woken, not restarted');
    assert.ok(performance.now() - t < 2000);
    assert.ok(audit.some((l) => /woken \(vLLM sleep mode\)/.test(l)));
    await m.stop();
    assert.equal(alive(a.pid!), false);
    assert.equal(alive(b.pid!), false);
  });

  it('a start can be cancelled while loading; nothing is left running', async () => {
    const { m } = manager({ env: { FAKE_VLLM_LOAD_MS: '5000' } });
    const ac = new AbortController();
    let pid = 0;
    const p = m.start({
      engine: 'vllm',
      signal: ac.signal,
      onLog: () => {
        pid ||= m.status().pid ?? 0;
      },
    });
    await until('loading', () => m.status().state === 'starting' && (m.status().pid ?? 0) > 0);
    pid = m.status().pid!;
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof RuntimeError && e.kind === 'cancelled');
    await until('the server to be gone', () => !alive(pid));
    assert.equal(m.status().state, 'stopped');
  });
});

describe('switchyard runtime (CLI)', () => {
  it('start leaves a server running for later commands; ask uses it; status; stop ends its group', async () => {
    const { execFile } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const state = tmp();
    const tsx = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((res) =>
        execFile(
          process.execPath,
          ['--import', tsx, 'src/cli/bin.ts', ...args, '--state', state],
          { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: process.env.HOME! } },
          (e, out, err) => res({ code: e ? Number((e as { code?: number }).code) : 0, out, err }),
        ),
      );
    const start = await cli(
      'runtime',
      'start',
      '--engine',
      'llama_cpp',
      '--binary',
      LLAMA_SERVER,
      '--model-path',
      tinyModel,
    );
    assert.equal(start.code, 0, start.err);
    const s = JSON.parse(start.out);
    assert.equal(s.state, 'ready');
    assert.ok(alive(s.pid), 'the server outlives the command');
    assert.doesNotMatch(start.out, /apiKey|api_key/);
    const ask = await cli('ask', '--role', 'tutor', '--local-only', '--max-tokens', '6', '--json', 'hello');
    assert.equal(ask.code, 0, ask.err);
    assert.equal(JSON.parse(ask.out).usage.output_tokens, 6);
    // What is served, read from the model at start, in start, status, ask and the CLI's provenance.
    assert.equal(s.served.name, 'switchyard-tiny');
    assert.equal(s.served.matches_policy, false);
    assert.equal(JSON.parse(ask.out).served.test_model, true);
    const prov = readFileSync(join(state, 'provenance.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(prov.at(-1).served_model.name, 'switchyard-tiny');
    const status = JSON.parse((await cli('runtime', 'status')).out);
    assert.equal(status.state, 'ready');
    assert.equal(status.served.name, 'switchyard-tiny');
    assert.equal(status.pid, s.pid);
    const again = JSON.parse((await cli('runtime', 'start')).out);
    assert.equal(again.adopted, true);
    const stop = await cli('runtime', 'stop');
    assert.equal(stop.code, 0);
    assert.equal(alive(s.pid), false);
    assert.equal(JSON.parse((await cli('runtime', 'status')).out).state, 'stopped');
    const none = await cli('runtime', 'start', '--binary', '/nonexistent/llama-server', '--model-path', tinyModel);
    assert.equal(none.code, 4);
    assert.match(none.err, /could not start/);
  });
});

/** The pids of a process group (from /proc). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ');
      if (Number(stat[2]) === pgid && stat[0] !== 'Z') out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('runtime: nothing left running', () => {
  it('kill -9 of the process that started the server (an extension host) ends the server within 10 s', async () => {
    const host = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/runtimeHost.ts', LLAMA_SERVER, tinyModel, tmp()],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    host.stdout!.on('data', (d) => (out += d));
    await until('the host says the server is ready', () => out.includes('\n'), 60_000);
    const status = JSON.parse(out.split('\n')[0]!) as { state: string; pid: number; port: number };
    assert.equal(status.state, 'ready');
    const members = groupMembers(status.pid);
    const server = members.find((p) => /llama-server/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')));
    assert.ok(server, `a llama-server in the server's group (members ${members.join(', ')})`);
    const health = await fetch(`http://127.0.0.1:${status.port}/health`).then((r) => r.status);
    assert.equal(health, 200);
    host.kill('SIGKILL');
    const t0 = Date.now();
    await until('no process of the server group is left', () => groupMembers(status.pid).length === 0, 10_000);
    // Gone, or a zombie waiting for a reaper (PID 1 of a container may never reap it): not running either way.
    const state = (() => {
      try {
        return readFileSync(`/proc/${server}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[0];
      } catch {
        return 'gone';
      }
    })();
    assert.ok(state === 'gone' || state === 'Z', `llama-server ${server} is ${state}`);
    assert.ok(Date.now() - t0 < 10_000);
  });
});

describe('runtime: what is served', () => {
  it("reads a GGUF file's own metadata and parameter count, and knows the policy's model by its name", () => {
    const dir = tmp();
    const tiny = join(dir, 'tiny.gguf');
    writeTinyGguf(tiny, { embd: 64, layers: 2, ctx: 1024 });
    const meta = readGguf(tiny);
    // 356 tokens; embeddings and output (64 x 356 each), the output norm, and per layer two norms, four 64 x 64
    // attention matrices and three 64 x 128 feed-forward ones.
    const vocab = 356;
    assert.equal(meta.parameters, 2 * 64 * vocab + 64 + 2 * (2 * 64 + 4 * 64 * 64 + 3 * 64 * 128));
    assert.equal(meta.contextLength, 1024);
    assert.equal(meta.architecture, 'llama');
    const policy = bundledPolicy();
    assert.equal(fromGguf(meta, tiny, policy, null).testModel, true);
    const qwen = join(dir, 'Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf');
    writeTinyGguf(qwen, { name: 'Qwen3 Coder 30B A3B Instruct', description: '' });
    const real = fromGguf(readGguf(qwen), qwen, policy, null);
    assert.equal(real.matchesPolicy, true);
    assert.equal(real.testModel, false);
    assert.equal(servedWarning(real), null);
    // The alternative is expected after a switch to it; the MoE file is then a mismatch.
    assert.equal(fromGguf(readGguf(qwen), qwen, policy, 'local_alt').matchesPolicy, false);
    // The names a model goes by reduce to one stem: organisation, case, punctuation and quantization tags dropped.
    const stem = modelStem('Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    for (const n of [
      'Qwen3 Coder 30B A3B Instruct',
      'Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf',
      'unsloth/Qwen3-Coder-30B-A3B-Instruct-UD-Q4_K_XL.gguf',
      'Qwen3-Coder-30B-A3B-Instruct-IQ3_XXS',
      'qwen3-coder-30b-a3b-instruct-q8_0',
      'Qwen3-Coder-30B-A3B-Instruct-FP8',
    ])
      assert.equal(modelStem(n), stem, n);
    assert.notEqual(modelStem('Qwen3-Coder-480B-A35B-Instruct'), stem);
    assert.notEqual(modelStem('Qwen3-30B-A3B-Instruct-2507'), stem);
    const notGguf = join(dir, 'x.gguf');
    writeFileSync(notGguf, 'not a model');
    assert.throws(() => readGguf(notGguf), /not a GGUF file/);
  });

  it("reads vLLM's /v1/models (root, max_model_len) and audits a mismatch once per session", async () => {
    const policy = bundledPolicy();
    const body = (root: string) => ({
      object: 'list',
      data: [{ id: 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ', object: 'model', root, max_model_len: 65536 }],
    });
    const same = fromModelsList(body('Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ'), 'vllm', policy, null)!;
    assert.equal(same.matchesPolicy, true);
    assert.equal(same.contextLength, 65536);
    const other = fromModelsList(body('/models/Meta-Llama-3-8B-Instruct'), 'vllm', policy, null)!;
    assert.equal(other.matchesPolicy, false);
    assert.equal(servedLabel(other), 'Meta-Llama-3-8B-Instruct');
    assert.equal(fromModelsList({ data: [] }, 'endpoint', policy, null), null);
    const lines: string[] = [];
    const notice = new MismatchNotice((t) => lines.push(t));
    notice.note(other, 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    notice.note(other, 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    notice.note(same, null);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /serves "\/models\/Meta-Llama-3-8B-Instruct" .*answering as "Qwen\/Qwen3-Coder-30B-A3B-Instruct-AWQ"/,
    );
  });

  it('a local call through the real path names the served model in its provenance and audit line', async () => {
    const { m } = manager();
    const s = await m.start({ engine: 'llama_cpp' });
    const t = testCaller({
      policy: bundledPolicy(),
      urls: { local: (await m.endpoint())! },
      keys: { local: m.apiKey()! },
      servedModel: () => (m.status().model ? servedRecord(m.status().model!) : null),
    });
    const r = await t.caller.call({ role: 'tutor', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    assert.equal(r.provider, 'local');
    assert.equal(r.served_model, s.served); // what the server answers as: the alias
    assert.equal(r.served?.name, 'switchyard-tiny'); // what it is
    const prov = t.provenance().at(-1)!;
    assert.equal(prov.served_model?.name, 'switchyard-tiny');
    assert.equal(prov.served_model?.test_model, true);
    assert.equal(prov.served_model?.matches_policy, false);
    assert.equal(prov.served_model?.policy_model, 'Qwen/Qwen3-Coder-30B-A3B-Instruct-AWQ');
    assert.ok(
      t.auditLines().some((l) => /answered .*the server serves switchyard-tiny, not the policy's model/.test(l)),
    );
    await m.stop();
  });

  it("an external endpoint (a team's server) says what it serves through /v1/models, asked with its key", async () => {
    const llama = await startLlama({ apiKey: 'team-key-0123456789', alias: 'team-coder' });
    try {
      const audit: string[] = [];
      const external = (key: string) =>
        new RuntimeManager({
          policy: () => bundledPolicy(),
          stateDir: tmp(),
          binaries: {},
          externalEndpoint: () => `${llama.url}/v1`,
          externalKey: () => key,
          audit: (kind, text) => audit.push(`${kind}: ${text}`),
        });
      const m = external('team-key-0123456789');
      assert.equal(m.status().state, 'external');
      assert.equal(m.status().model, null, 'not known before it is asked');
      const model = await m.identifyExternal();
      // llama-server lists the name it answers to (no `root`) and its own figures (meta).
      assert.equal(model?.source, 'endpoint');
      assert.equal(model?.name, 'team-coder');
      assert.equal(model?.contextLength, 8192);
      assert.equal(model?.window, 8192, "an endpoint's window comes from its /props");
      assert.ok((model?.parameters ?? 0) > 100_000, `parameters ${model?.parameters}`);
      assert.equal(model?.matchesPolicy, false);
      assert.equal(m.status().model, model);
      await m.identifyExternal();
      assert.equal(audit.filter((l) => l.startsWith('mismatch: GR-005')).length, 1, audit.join('\n'));
      // A wrong key: the endpoint refuses, and nothing is claimed about what it serves.
      assert.equal(await external('wrong-key-000000').identifyExternal(), null);
    } finally {
      await llama.stop();
    }
  });

  it('the vLLM stand-in: the identity comes from /v1/models with the server key', async () => {
    const { m } = manager();
    const s = await m.start({ engine: 'vllm' });
    assert.equal(s.model?.source, 'vllm');
    assert.equal(s.model?.name, tinyModel);
    assert.equal(s.model?.contextLength, 65536);
    await m.stop();
  });
});
