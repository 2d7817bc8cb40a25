// A vLLM stand-in for the lifecycle tests (vLLM itself needs a GPU and PyPI; neither exists here). It imitates
// what the manager can observe of `vllm serve`: its flags; the port checked at start (a clash: "Address already in
// use", exit 1) but no connection accepted until the model is loaded (ECONNREFUSED, not 503); a log that moves while
// loading; an EngineCore child process in the same process group; exit 1 with the out-of-memory text; a crash after
// ready; /health, /v1/models, streaming chat completions with usage; sleep mode (POST /sleep, /wake_up,
// GET /is_sleeping) only with --enable-sleep-mode and VLLM_SERVER_DEV_MODE=1; and one shared fake GPU (a JSON
// file) so that two large servers cannot run at once.
// Knobs: FAKE_VLLM_LOAD_MS, FAKE_VLLM_FAIL=oom|crash-after-ready, FAKE_VLLM_CRASH_MS, FAKE_VLLM_GPU_FILE,
// FAKE_VLLM_CLASH_ONCE=<file> (the first start that finds the file deletes it and reports a port clash).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
if (argv[0] === 'serve') argv.shift();
const a: Record<string, string> = {};
let model = '';
let sleepMode = false;
for (let i = 0; i < argv.length; i++) {
  const x = argv[i]!;
  if (!x.startsWith('--')) {
    model ||= x;
    continue;
  }
  const k = x.slice(2);
  if (k === 'enable-sleep-mode') sleepMode = true;
  else a[k] = argv[++i] ?? '';
}
const env = process.env;
const port = Number(a.port ?? 8000);
const served = a['served-model-name'] ?? model;
const util = Number(a['gpu-memory-utilization'] ?? 0.9);
const key = a['api-key'] ?? process.env.VLLM_API_KEY;
const loadMs = Number(env.FAKE_VLLM_LOAD_MS ?? 300);
const gpuFile = env.FAKE_VLLM_GPU_FILE ?? join(tmpdir(), 'switchyard-fake-gpu.json');
const log = (m: string) =>
  process.stdout.write(`(APIServer pid=${process.pid}) INFO ${new Date().toISOString().slice(11, 19)} ${m}\n`);
const err = (m: string) => process.stderr.write(`${m}\n`);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const readGpu = (): Record<string, number> => {
  try {
    return JSON.parse(readFileSync(gpuFile, 'utf8'));
  } catch {
    return {};
  }
};
function release() {
  const g = readGpu();
  delete g[process.pid];
  writeFileSync(gpuFile, JSON.stringify(g));
}

let engine: ReturnType<typeof spawn> | null = null;
function die(lines: string[]): never {
  for (const l of lines) err(l);
  try {
    release();
  } catch {
    /* */
  }
  engine?.kill('SIGKILL');
  process.exit(1);
}

void (async () => {
  log(`vLLM API server version 0.11.0 (started t=${Date.now()})`);
  log(
    `args: model=${model} served_model_name=${served} port=${port} gpu_memory_utilization=${util} sleep_mode=${sleepMode}`,
  );
  // The port is bound early (a clash ends the start at once).
  const clash = env.FAKE_VLLM_CLASH_ONCE;
  if (clash && existsSync(clash)) {
    rmSync(clash);
    die(['OSError: [Errno 98] Address already in use']);
  }
  const probe = netServer();
  await new Promise<void>((res) => {
    probe.once('error', () => die(['OSError: [Errno 98] Address already in use']));
    probe.listen(port, '127.0.0.1', () => probe.close(() => res()));
  });
  // EngineCore: a child in the same process group (it must die with the group).
  engine = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  log(`EngineCore started (pid=${engine.pid})`);
  // The shared GPU.
  const g = readGpu();
  let used = 0;
  for (const [pid, f] of Object.entries(g)) {
    if (Number(pid) !== process.pid && alive(Number(pid))) used += f;
    else delete g[pid];
  }
  if (env.FAKE_VLLM_FAIL === 'oom') {
    await new Promise((r) => setTimeout(r, 50));
    die([
      '(EngineCore pid=1) ERROR torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of 31.36 GiB of which 212.00 MiB is free.',
      'RuntimeError: Engine core initialization failed. See root cause above.',
    ]);
  }
  if (used + util > 1.0001)
    die([
      `ValueError: Free memory on device (${((1 - used) * 32).toFixed(2)}/32.0 GiB) on startup is less than desired GPU memory utilization (${util}, ${(util * 32).toFixed(2)} GiB).`,
      'RuntimeError: Engine core initialization failed. See root cause above.',
    ]);
  g[process.pid] = util;
  writeFileSync(gpuFile, JSON.stringify(g));
  process.on('exit', () => {
    try {
      release();
    } catch {
      /* */
    }
  });
  for (const s of ['SIGTERM', 'SIGINT'] as const)
    process.on(s, () => {
      log('Shutting down FastAPI HTTP server.');
      engine?.kill('SIGKILL');
      process.exit(0);
    });
  // Loading: the log moves; nothing listens yet.
  const steps = Math.max(1, Math.floor(loadMs / 100));
  for (let i = 1; i <= steps; i++) {
    await new Promise((r) => setTimeout(r, loadMs / steps));
    log(`Loading safetensors checkpoint shards: ${Math.round((100 * i) / steps)}% Completed`);
  }
  let sleeping = false;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/health') {
      res.writeHead(200);
      res.end();
      return;
    }
    if (url.pathname.startsWith('/v1/') && key && req.headers.authorization !== `Bearer ${key}`) {
      json(401, { error: 'Unauthorized' });
      return;
    }
    const dev = env.VLLM_SERVER_DEV_MODE === '1' && sleepMode;
    if (url.pathname === '/sleep' || url.pathname === '/wake_up' || url.pathname === '/is_sleeping') {
      if (!dev) {
        json(404, { detail: 'Not Found' });
        return;
      }
      if (url.pathname === '/is_sleeping') {
        json(200, { is_sleeping: sleeping });
        return;
      }
      sleeping = url.pathname === '/sleep';
      const gg = readGpu();
      gg[process.pid] = sleeping ? 0 : util;
      writeFileSync(gpuFile, JSON.stringify(gg));
      log(sleeping ? 'sleep mode: weights offloaded' : 'woke up');
      res.writeHead(200);
      res.end();
      return;
    }
    if (sleeping) {
      res.destroy();
      return;
    } // a request sent to a sleeping server hangs or dies: never do it
    if (url.pathname === '/v1/models') {
      // As vLLM answers: the served name in `id`, what it loaded (path or Hugging Face id) in `root`.
      const created = Math.floor(Date.now() / 1000);
      const entry = { id: served, object: 'model', created, owned_by: 'vllm', root: model, parent: null };
      json(200, {
        object: 'list',
        data: [{ ...entry, max_model_len: Number(a['max-model-len'] ?? 0) || null, permission: [] }],
      });
      return;
    }
    if (url.pathname === '/v1/chat/completions') {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const b = JSON.parse(body || '{}') as { stream?: boolean; max_tokens?: number };
        const n = Math.min(b.max_tokens ?? 8, 64);
        const chunk = (delta: object, finish: string | null) => ({
          id: 'chatcmpl-fake',
          object: 'chat.completion.chunk',
          created: 1,
          model: served,
          choices: [{ index: 0, delta, finish_reason: finish }],
        });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let i = 0; i < n; i++) res.write(`data: ${JSON.stringify(chunk({ content: 'ok ' }, null))}\n\n`);
        res.write(`data: ${JSON.stringify(chunk({}, 'length'))}\n\n`);
        res.write(
          `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model: served, choices: [], usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
      });
      return;
    }
    json(404, { detail: 'Not Found' });
  });
  server.listen(port, '127.0.0.1', () => log(`Application startup complete. (t=${Date.now()})`));
  if (env.FAKE_VLLM_FAIL === 'crash-after-ready')
    setTimeout(
      () =>
        die(['(EngineCore pid=1) ERROR EngineCore encountered a fatal error.', 'RuntimeError: Engine process died']),
      Number(env.FAKE_VLLM_CRASH_MS ?? 300),
    );
})();
