// The local model server's lifecycle (MODEL-POLICY.md §0, §6): one server, one model at a time; vLLM first,
// llama.cpp as fallback, or an external endpoint adopted as is. Processes are spawned through a port so that
// tests drive real servers and stand-ins alike; every fallback, restart and failure leaves an audit line.
import { spawn as nodeSpawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Policy } from '../policy/schema.js';
import { diagnoseLog, llamaSpec, vllmSpec, type Engine, type LaunchSpec } from './launch.js';
import { readGguf } from './gguf.js';
import {
  fromGguf,
  fromModelsList,
  MismatchNotice,
  servedRecord,
  type ServedModel,
  type ServedRecord,
} from './served.js';
import { defaultSpawn, type ServerProcess, type SpawnPort } from './spawn.js';

export type { ServerProcess, SpawnPort } from './spawn.js';

export type RuntimeState =
  'stopped' | 'starting' | 'ready' | 'sleeping' | 'swapping' | 'restarting' | 'failed' | 'external';

/** GPU memory in use by these pids (nvidia-smi where present); null when there is no way to know. */
export type GpuProbe = (pids: number[]) => Promise<number | null>;

export interface RuntimeStatus {
  state: RuntimeState;
  engine: Engine | 'external' | null;
  modelKey: string | null;
  served: string | null;
  endpoint: string | null;
  pid: number | null;
  port: number | null;
  loadMs: number | null;
  message: string | null;
  logTail: string[];
  sleeping: string[];
  /** When the manager saw the server ready (epoch ms). */
  readyAt: number | null;
  /** What the server really serves, read from the model (GGUF metadata or /v1/models); null until known. */
  model: ServedModel | null;
}

interface Running {
  spec: LaunchSpec;
  proc: ServerProcess;
  modelKey: string;
  log: string[];
  lastOutput: number;
  exited: boolean;
  stopping: boolean;
  startedAt: number;
  readyAt: number | null;
  model: ServedModel | null;
}

export interface RuntimeRecord {
  pid: number;
  port: number;
  engine: Engine;
  modelKey: string;
  served: string;
  apiKey: string;
  started_at: string;
  last_load_ms: number | null;
  /** What it serves, read from the model at start (the CLI names it in provenance). */
  model?: ServedRecord | null;
}

export interface ManagerOptions {
  policy: () => Policy;
  stateDir: string;
  binaries: { vllm?: string | undefined; llama?: string | undefined };
  modelPath?: string | undefined;
  threads?: number;
  spawn?: SpawnPort;
  gpu?: GpuProbe;
  audit?: (
    kind: 'fallback' | 'restart' | 'failure' | 'refusal' | 'start' | 'stop' | 'swap' | 'mismatch',
    text: string,
  ) => void;
  /** Base load timeouts; they grow with the longest load seen before, and a load whose log moves is never killed. */
  timeouts?: { vllmMs?: number; llamaMs?: number; stallMs?: number; pollMs?: number };
  restart?: { max: number; baseMs: number };
  externalEndpoint?: () => string | undefined;
  /** The key the external endpoint wants (a team's vLLM or gateway), for reading its /v1/models. */
  externalKey?: () => Promise<string | undefined> | string | undefined;
  /** Audits a served model that is not the policy's, once per session (shared by the managers of a window). */
  notice?: MismatchNotice;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export class RuntimeError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    readonly logTail: string[] = [],
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

export class RuntimeManager {
  private current: Running | null = null;
  private readonly asleep = new Map<string, Running>(); // vLLM sleep mode: modelKey -> a sleeping server
  private st: RuntimeState = 'stopped';
  private message: string | null = null;
  private transition: Promise<unknown> | null = null;
  private readonly listeners: ((s: RuntimeStatus) => void)[] = [];
  private restarts = 0;
  private readonly spawn: SpawnPort;
  private readonly notice: MismatchNotice;
  private external: { url: string; model: ServedModel | null } | null = null;
  private asking: { url: string; answer: Promise<ServedModel | null> } | null = null;

  constructor(private readonly o: ManagerOptions) {
    this.spawn = o.spawn ?? defaultSpawn;
    this.notice = o.notice ?? new MismatchNotice((t) => o.audit?.('mismatch', t));
  }

  get recordPath(): string {
    return join(this.o.stateDir, 'runtime.json');
  }

  onDidChange(cb: (s: RuntimeStatus) => void): void {
    this.listeners.push(cb);
  }
  private set(state: RuntimeState, message: string | null = null): void {
    this.st = state;
    this.message = message;
    const s = this.status();
    for (const l of this.listeners) l(s);
  }

  status(): RuntimeStatus {
    const ext = this.o.externalEndpoint?.();
    if (ext && !this.current)
      return {
        state: 'external',
        engine: 'external',
        modelKey: null,
        served: null,
        endpoint: ext,
        pid: null,
        port: null,
        loadMs: null,
        message: null,
        logTail: [],
        sleeping: [],
        readyAt: null,
        model: this.external?.url === ext ? this.external.model : null,
      };
    const c = this.current;
    return {
      state: this.st,
      engine: c?.spec.engine ?? null,
      modelKey: c?.modelKey ?? null,
      served: c?.spec.served ?? null,
      endpoint: c && this.st === 'ready' ? `http://127.0.0.1:${c.spec.port}/v1` : null,
      pid: c?.proc.pid ?? null,
      port: c?.spec.port ?? null,
      loadMs: c?.readyAt ? c.readyAt - c.startedAt : null,
      message: this.message,
      logTail: c?.log.slice(-20) ?? [],
      sleeping: [...this.asleep.keys()],
      readyAt: c?.readyAt ?? null,
      model: c?.model ?? null,
    };
  }

  /** The API key of the running server (for the local provider); never logged. */
  apiKey(): string | undefined {
    return this.current?.spec.apiKey;
  }

  /**
   * The local endpoint for a request: an external endpoint as is; otherwise requests wait while the server
   * starts, swaps, wakes or restarts (never sent to a sleeping or loading server). Undefined when none runs.
   */
  async endpoint(maxWaitMs = 600_000): Promise<string | undefined> {
    const ext = this.o.externalEndpoint?.();
    if (ext) return ext;
    const end = Date.now() + maxWaitMs;
    while (this.transition && Date.now() < end) await this.transition;
    return this.st === 'ready' ? (this.status().endpoint ?? undefined) : undefined;
  }

  private past(): RuntimeRecord | null {
    try {
      return JSON.parse(readFileSync(this.recordPath, 'utf8')) as RuntimeRecord;
    } catch {
      return null;
    }
  }

  private writeRecord(r: Running): void {
    mkdirSync(this.o.stateDir, { recursive: true });
    const rec: RuntimeRecord = {
      pid: r.proc.pid,
      port: r.spec.port,
      engine: r.spec.engine,
      modelKey: r.modelKey,
      served: r.spec.served,
      apiKey: r.spec.apiKey,
      started_at: new Date(r.startedAt).toISOString(),
      last_load_ms: r.readyAt ? r.readyAt - r.startedAt : null,
      model: r.model ? servedRecord(r.model) : null,
    };
    writeFileSync(this.recordPath, JSON.stringify(rec, null, 2), { mode: 0o600 });
    chmodSync(this.recordPath, 0o600);
  }

  /** A server left by an earlier window or CLI run: adopted when it answers, stopped when it does not. */
  async adoptOrClean(): Promise<RuntimeRecord | null> {
    const rec = this.past();
    if (!rec) return null;
    if (!alive(rec.pid)) {
      rmSync(this.recordPath, { force: true });
      return null;
    }
    const healthy = await fetch(`http://127.0.0.1:${rec.port}/health`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (healthy) return rec;
    try {
      process.kill(-rec.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    this.o.audit?.(
      'stop',
      `runtime: stopped an unresponsive ${rec.engine} server (pid ${rec.pid}) left by an earlier session`,
    );
    rmSync(this.recordPath, { force: true });
    return null;
  }

  /** Starts the policy's model (or `modelKey`): vLLM when it is installed, else llama.cpp; vLLM failures fall back to llama.cpp. */
  start(
    o: { engine?: Engine; modelKey?: string; signal?: AbortSignal; onLog?: (line: string) => void } = {},
  ): Promise<RuntimeStatus> {
    return this.track(this.doStart(o));
  }

  /** Requests wait on the transition in progress (start, stop, swap, restart) until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    const settled: Promise<unknown> = p
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.transition === settled) this.transition = null;
      });
    this.transition = settled;
    return p;
  }

  private async doStart(o: {
    engine?: Engine;
    modelKey?: string;
    signal?: AbortSignal;
    onLog?: (line: string) => void;
  }): Promise<RuntimeStatus> {
    if (this.current && this.st === 'ready' && (!o.modelKey || o.modelKey === this.current.modelKey))
      return this.status();
    if (this.current) await this.doStop(true);
    const modelKey = o.modelKey ?? this.o.policy().runtime.model;
    const engines: Engine[] = o.engine
      ? [o.engine]
      : [...(this.o.binaries.vllm ? ['vllm' as const] : []), ...(this.o.binaries.llama ? ['llama_cpp' as const] : [])];
    if (engines.length === 0) {
      const msg =
        'no local runtime found: install vLLM (`vllm` on PATH) or llama.cpp (`llama-server`), or set ' +
        'switchyard.runtime.binaryPath, or use an external endpoint';
      this.set('failed', msg);
      throw new RuntimeError('not_installed', msg);
    }
    let last: RuntimeError | null = null;
    for (let i = 0; i < engines.length; i++) {
      const engine = engines[i]!;
      try {
        return await this.launch(engine, modelKey, o);
      } catch (e) {
        last = e instanceof RuntimeError ? e : new RuntimeError('other', (e as Error).message);
        if (last.kind === 'cancelled') throw last;
        const next = engines[i + 1];
        this.o.audit?.(
          next ? 'fallback' : 'failure',
          `GR-005: runtime ${engine} failed to start (${last.message})` +
            (next ? `; falling back to ${next === 'llama_cpp' ? 'llama.cpp' : next} (policy runtime.fallback)` : ''),
        );
      }
    }
    this.set('failed', last?.message ?? 'start failed');
    throw last!;
  }

  private async launch(
    engine: Engine,
    modelKey: string,
    o: { signal?: AbortSignal; onLog?: (line: string) => void },
  ): Promise<RuntimeStatus> {
    const policy = this.o.policy();
    this.restarts = 0; // a start asked for by the user; crash restarts count from here
    const past = this.past();
    for (let portTry = 0; ; portTry++) {
      const port = await freePort();
      const apiKey = randomBytes(18).toString('base64url');
      const binary = (engine === 'vllm' ? this.o.binaries.vllm : this.o.binaries.llama)!;
      const spec =
        engine === 'vllm'
          ? vllmSpec(policy, {
              binary,
              modelKey,
              port,
              apiKey,
              ...(this.o.modelPath ? { modelPath: this.o.modelPath } : {}),
            })
          : llamaSpec(policy, {
              binary,
              modelKey,
              port,
              apiKey,
              ...(this.o.modelPath ? { modelPath: this.o.modelPath } : {}),
              ...(this.o.threads ? { threads: this.o.threads } : {}),
            });
      this.set('starting', `starting ${engine === 'vllm' ? 'vLLM' : 'llama.cpp'} with ${spec.served} on port ${port}`);
      const r = await this.spawnAndWait(spec, modelKey, past, o);
      if (r === 'port_in_use' && portTry < 3) {
        o.onLog?.(`port ${port} was taken; trying another`);
        continue;
      }
      if (r === 'port_in_use') throw new RuntimeError('port_in_use', 'no free port after 4 tries');
      return this.status();
    }
  }

  private async spawnAndWait(
    spec: LaunchSpec,
    modelKey: string,
    past: RuntimeRecord | null,
    o: { signal?: AbortSignal; onLog?: (line: string) => void },
  ): Promise<'ready' | 'port_in_use'> {
    const t = this.o.timeouts ?? {};
    const proc = this.spawn(spec.command, spec.args, spec.env);
    const run = this.watch(spec, proc, modelKey, o.onLog);
    let exit: { code: number | null; signal: string | null } | null = null;
    proc.onExit((code, signal) => {
      run.exited = true;
      exit = { code, signal };
      this.onExit(run, code, signal);
    });
    // The load may take long; it is never cut while its log keeps moving. The base grows with past loads.
    const base = spec.engine === 'vllm' ? (t.vllmMs ?? 900_000) : (t.llamaMs ?? 180_000);
    const timeout = Math.max(base, past?.engine === spec.engine && past.last_load_ms ? past.last_load_ms * 3 : 0);
    const stall = t.stallMs ?? 60_000;
    const poll = t.pollMs ?? 20;
    const url = `http://127.0.0.1:${spec.port}/health`;
    for (;;) {
      if (o.signal?.aborted) {
        await this.killRun(run);
        this.current = null;
        this.set('stopped', 'start cancelled');
        throw new RuntimeError('cancelled', 'start cancelled by the user');
      }
      if (exit) {
        this.current = null;
        const failure = startFailure(run, exit);
        if (failure === 'port_in_use') return failure;
        throw failure;
      }
      const code = await fetch(url, { signal: AbortSignal.timeout(2000) })
        .then((r) => r.status)
        .catch(() => 0); // 0: refused (vLLM while loading)
      if (code === 200) break;
      const now = Date.now();
      if (now - run.startedAt > timeout && now - run.lastOutput > stall) {
        await this.killRun(run);
        this.current = null;
        throw new RuntimeError(
          'timeout',
          `no progress: not ready after ${Math.round((now - run.startedAt) / 1000)} s and its log has ` +
            `not moved for ${Math.round(stall / 1000)} s`,
          run.log.slice(-15),
        );
      }
      await sleep(poll);
    }
    run.readyAt = Date.now();
    run.model = await this.identify(run);
    this.writeRecord(run);
    this.o.audit?.(
      'start',
      `runtime: ${spec.engine === 'vllm' ? 'vLLM' : 'llama.cpp'} ready with ${run.model?.name ?? 'an unidentified model'} ` +
        `(served as ${spec.served}) on 127.0.0.1:${spec.port} after ${run.readyAt - run.startedAt} ms`,
    );
    this.notice.note(run.model, spec.served);
    this.set('ready');
    return 'ready';
  }

  /** What a started server serves: the GGUF file's own metadata (llama.cpp), or vLLM's /v1/models. */
  private async identify(run: Running): Promise<ServedModel | null> {
    const { spec, modelKey } = run;
    const policy = this.o.policy();
    try {
      if (spec.engine === 'llama_cpp') return fromGguf(readGguf(spec.model), spec.model, policy, modelKey);
      const res = await fetch(`http://127.0.0.1:${spec.port}/v1/models`, {
        headers: { authorization: `Bearer ${spec.apiKey}` },
        signal: AbortSignal.timeout(5000),
      });
      return fromModelsList(await res.json(), 'vllm', policy, modelKey);
    } catch (e) {
      run.log.push(`could not read what the server serves: ${(e as Error).message}`);
      return null;
    }
  }

  /** What an external endpoint serves, from its /v1/models (with its key); null when it does not say. */
  identifyExternal(): Promise<ServedModel | null> {
    const url = this.o.externalEndpoint?.();
    if (!url) return Promise.resolve(null);
    if (this.asking?.url === url) return this.asking.answer; // asked once per endpoint, even while in flight
    const answer = (async () => {
      const key = await this.o.externalKey?.();
      const model = await fetch(`${url.replace(/\/+$/, '')}/models`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        signal: AbortSignal.timeout(5000),
      })
        .then(async (r) => (r.ok ? fromModelsList(await r.json(), 'endpoint', this.o.policy(), null) : null))
        .catch(() => null);
      this.external = { url, model };
      this.notice.note(model, null);
      return model;
    })();
    this.asking = { url, answer };
    return answer;
  }

  /** A started process, its log kept (key redacted, the last 400 lines) and watched for progress. */
  private watch(spec: LaunchSpec, proc: Running['proc'], modelKey: string, onLog?: (line: string) => void): Running {
    const now = Date.now();
    const run: Running = {
      spec,
      proc,
      modelKey,
      log: [],
      lastOutput: now,
      exited: false,
      stopping: false,
      startedAt: now,
      readyAt: null,
      model: null,
    };
    this.current = run;
    proc.onOutput((text) => {
      run.lastOutput = Date.now();
      for (const line of text.split('\n'))
        if (line.trim()) {
          run.log.push(line.replace(spec.apiKey, '[REDACTED]'));
          if (run.log.length > 400) run.log.shift();
          onLog?.(line.replace(spec.apiKey, '[REDACTED]'));
        }
    });
    return run;
  }

  /** A crash after ready: restart with backoff a bounded number of times, then stop clearly. */
  private onExit(run: Running, code: number | null, signal: string | null): void {
    if (run.stopping || this.current !== run || run.readyAt === null) return;
    const max = this.o.restart?.max ?? 3;
    const tail = run.log.slice(-10);
    this.current = null;
    if (this.restarts >= max) {
      const msg =
        `the local server crashed (exit ${code ?? signal}) and was restarted ${max} times; it stays ` +
        `stopped. Last log lines:\n${tail.join('\n')}`;
      this.o.audit?.('failure', `GR-005: runtime: ${msg.split('\n')[0]}`);
      this.set('failed', msg);
      return;
    }
    const wait = (this.o.restart?.baseMs ?? 1000) * 2 ** this.restarts;
    this.restarts++;
    this.o.audit?.(
      'restart',
      `GR-005: runtime: ${run.spec.engine} crashed after ready (exit ${code ?? signal}); restart ${this.restarts} of ${max} in ${wait} ms`,
    );
    this.set('restarting', `crashed (exit ${code ?? signal}); restarting in ${Math.round(wait / 1000)} s`);
    const again = (async () => {
      await sleep(wait);
      await this.spawnAndWait(run.spec, run.modelKey, null, {});
    })().catch((e: Error) => {
      this.o.audit?.('failure', `GR-005: runtime: restart failed: ${e.message}`);
      this.set('failed', e.message);
    });
    void this.track(again);
  }

  private async killRun(run: Running): Promise<void> {
    run.stopping = true;
    if (run.exited) return;
    const gone = new Promise<void>((r) => run.proc.onExit(() => r()));
    run.proc.killGroup('SIGTERM');
    const t = setTimeout(() => run.proc.killGroup('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
    // vLLM's EngineCore children share the group; make sure none survived the parent.
    run.proc.killGroup('SIGKILL');
  }

  /** Waits until the stopped server's GPU memory is free (nvidia-smi where present), so the next model fits. */
  private async gpuFree(pids: number[]): Promise<void> {
    if (!this.o.gpu) return;
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      const used = await this.o.gpu(pids);
      if (used === null || used === 0) return;
      await sleep(50);
    }
  }

  stop(): Promise<void> {
    return this.track(this.doStop(false));
  }

  private async doStop(forSwap: boolean): Promise<void> {
    const all = [...(this.current ? [this.current] : []), ...this.asleep.values()];
    if (!forSwap) this.asleep.clear();
    const targets = forSwap ? (this.current ? [this.current] : []) : all;
    for (const r of targets) await this.killRun(r);
    await this.gpuFree(targets.map((r) => r.proc.pid));
    this.current = null;
    if (!forSwap) {
      rmSync(this.recordPath, { force: true });
      this.o.audit?.('stop', 'runtime: stopped');
      this.set('stopped');
    }
  }

  /**
   * One model at a time: requests wait while the swap runs. With vLLM sleep mode (policy runtime.vllm.enable_sleep_mode)
   * the old server sleeps (POST /sleep) and a sleeping one wakes (POST /wake_up); otherwise the old process group is
   * stopped and its GPU memory freed before the next starts.
   */
  switchModel(
    modelKey: string,
    o: { signal?: AbortSignal; onLog?: (line: string) => void } = {},
  ): Promise<RuntimeStatus> {
    return this.track(this.doSwitch(modelKey, o));
  }

  private async doSwitch(
    modelKey: string,
    o: { signal?: AbortSignal; onLog?: (line: string) => void },
  ): Promise<RuntimeStatus> {
    const policy = this.o.policy();
    if (!policy.models[modelKey] || policy.models[modelKey]!.provider !== 'local')
      throw new RuntimeError(
        'bad_model',
        `"${modelKey}" is not a local model of the policy (local models: ${Object.entries(policy.models)
          .filter(([, m]) => m.provider === 'local' && m.kind === 'chat')
          .map(([k]) => k)
          .join(', ')})`,
      );
    const cur = this.current;
    if (cur && cur.modelKey === modelKey && this.st === 'ready') return this.status();
    const from = cur?.modelKey ?? 'none';
    this.set('swapping', `switching ${from} -> ${modelKey}`);
    const sleepMode = policy.runtime.vllm.enable_sleep_mode && cur?.spec.engine === 'vllm';
    if (sleepMode && cur) {
      const auth = { authorization: `Bearer ${cur.spec.apiKey}` };
      const r = await fetch(`http://127.0.0.1:${cur.spec.port}/sleep?level=1`, { method: 'POST', headers: auth }).catch(
        () => null,
      );
      if (r?.ok) {
        this.asleep.set(cur.modelKey, cur);
        this.current = null;
        const sleeper = this.asleep.get(modelKey);
        if (sleeper) {
          const w = await fetch(`http://127.0.0.1:${sleeper.spec.port}/wake_up`, {
            method: 'POST',
            headers: { authorization: `Bearer ${sleeper.spec.apiKey}` },
          }).catch(() => null);
          if (w?.ok) {
            this.asleep.delete(modelKey);
            this.current = sleeper;
            this.writeRecord(sleeper);
            this.o.audit?.('swap', `runtime: ${from} put to sleep, ${modelKey} woken (vLLM sleep mode)`);
            this.set('ready');
            return this.status();
          }
        }
        this.o.audit?.('swap', `runtime: ${from} put to sleep (vLLM sleep mode); starting ${modelKey}`);
        return this.doStart({ ...o, modelKey, engine: 'vllm' });
      }
      this.o.audit?.('fallback', `GR-005: runtime: POST /sleep failed on ${from}; swapping by restart instead`);
    }
    if (cur) await this.doStop(true);
    this.o.audit?.('swap', `runtime: ${from} stopped; starting ${modelKey}`);
    return this.doStart({ ...o, modelKey, ...(cur ? { engine: cur.spec.engine } : {}) });
  }
}

/** nvidia-smi's view of the memory these pids hold, where nvidia-smi exists. */
export function nvidiaSmiProbe(): GpuProbe | undefined {
  const candidates = ['/usr/bin/nvidia-smi', '/usr/local/bin/nvidia-smi'];
  const bin = candidates.find((c) => existsSync(c));
  if (!bin) return undefined;
  return async (pids) =>
    new Promise((resolve) => {
      const p = nodeSpawn(bin, ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits']);
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.on('error', () => resolve(null));
      p.on('exit', () => {
        let used = 0;
        // A server's GPU memory is often held by its children (vLLM's EngineCore): count every process of its group.
        const pgrp = (pid: number) => {
          try {
            return Number(
              readFileSync(`/proc/${pid}/stat`, 'utf8')
                .replace(/^.*\) /s, '')
                .split(' ')[2],
            );
          } catch {
            return NaN;
          }
        };
        for (const line of out.split('\n')) {
          const [pid, mem] = line.split(',').map((x) => x.trim());
          if (pid && (pids.includes(Number(pid)) || pids.includes(pgrp(Number(pid))))) used += Number(mem) || 0;
        }
        resolve(used);
      });
    });
}

/** Stops the server a runtime record names (another process started it): its whole group, then the record. */
export async function stopRecorded(stateDir: string): Promise<RuntimeRecord | null> {
  const path = join(stateDir, 'runtime.json');
  let rec: RuntimeRecord;
  try {
    rec = JSON.parse(readFileSync(path, 'utf8')) as RuntimeRecord;
  } catch {
    return null;
  }
  if (alive(rec.pid)) {
    try {
      process.kill(-rec.pid, 'SIGTERM');
    } catch {
      try {
        process.kill(rec.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    const end = Date.now() + 10_000;
    while (alive(rec.pid) && Date.now() < end) await sleep(50);
    if (alive(rec.pid)) {
      try {
        process.kill(-rec.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  rmSync(path, { force: true });
  return rec;
}

/** The recorded server, if it is alive and answers /health. */
export async function recordedServer(stateDir: string): Promise<(RuntimeRecord & { healthy: boolean }) | null> {
  let rec: RuntimeRecord;
  try {
    rec = JSON.parse(readFileSync(join(stateDir, 'runtime.json'), 'utf8')) as RuntimeRecord;
  } catch {
    return null;
  }
  if (!alive(rec.pid)) return null;
  const healthy = await fetch(`http://127.0.0.1:${rec.port}/health`, { signal: AbortSignal.timeout(2000) })
    .then((r) => r.ok)
    .catch(() => false);
  return { ...rec, healthy };
}

/** `name` on PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** Why a server exited during its start, from its log: a port already taken (the caller retries), or an error. */
function startFailure(
  run: Running,
  exit: { code: number | null; signal: string | null },
): 'port_in_use' | RuntimeError {
  const d = diagnoseLog(run.log.join('\n'));
  if (d.kind === 'port_in_use') return 'port_in_use';
  return new RuntimeError(
    d.kind,
    `${run.spec.engine === 'vllm' ? 'vLLM' : 'llama.cpp'} exited with ${exit.code ?? exit.signal} during start: ${d.message}`,
    run.log.slice(-15),
  );
}
