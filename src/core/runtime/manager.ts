// The local model server's lifecycle (MODEL-POLICY.md §0, §6): one server, one model at a time; vLLM first,
// llama.cpp as fallback, or an external endpoint adopted as is. This file is the state machine (stopped, starting,
// ready, swapping, restarting, failed); each step's work lives beside it: engines.ts (which engine, the fallback),
// server.ts (the process and its log), probe.ts (readiness), identify.ts (what it serves), record.ts and adopt.ts
// (the record a later run finds), swap.ts (switching models), gpu.ts (memory freed before the next model).
// Processes are spawned through a port so that tests drive real servers and stand-ins alike; every fallback,
// restart and failure leaves an audit line.
import { randomBytes } from 'node:crypto';
import { adoptOrClean } from './adopt.js';
import { enginesFor, firstThatStarts, NOT_INSTALLED, specFor } from './engines.js';
import { gpuFree } from './gpu.js';
import { ExternalModel, identifyRun } from './identify.js';
import type { Engine, LaunchSpec } from './launch.js';
import { freePort } from './machine.js';
import { stalled, waitReady, type Exit } from './probe.js';
import { readRecord, recordPath, removeRecord, writeRecord } from './record.js';
import { MismatchNotice, type ServedModel } from './served.js';
import { engineName, killRun, startFailure, watch } from './server.js';
import { defaultSpawn, type SpawnPort } from './spawn.js';
import { externalStatus, runStatus } from './status.js';
import { assertLocalModel, putToSleep, wakeUp } from './swap.js';
import {
  RuntimeError,
  sleep,
  type ManagerOptions,
  type Running,
  type RuntimeRecord,
  type RuntimeState,
  type RuntimeStatus,
  type StartOptions,
} from './types.js';

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
  private readonly external: ExternalModel;

  constructor(private readonly o: ManagerOptions) {
    this.spawn = o.spawn ?? defaultSpawn;
    this.notice = o.notice ?? new MismatchNotice((t) => o.audit?.('mismatch', t));
    this.external = new ExternalModel(o.policy, this.notice, o.externalKey);
  }

  get recordPath(): string {
    return recordPath(this.o.stateDir);
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
    if (ext && !this.current) return externalStatus(ext, this.external.of(ext));
    return runStatus(this.st, this.current, this.message, [...this.asleep.keys()]);
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

  /** A server left by an earlier window or CLI run: adopted when it answers, stopped when it does not. */
  adoptOrClean(): Promise<RuntimeRecord | null> {
    return adoptOrClean(this.o.stateDir, this.o.audit);
  }

  /** What an external endpoint serves, from its /v1/models (with its key); null when it does not say. */
  identifyExternal(): Promise<ServedModel | null> {
    const url = this.o.externalEndpoint?.();
    return url ? this.external.ask(url) : Promise.resolve(null);
  }

  /** Starts the policy's model (or `modelKey`): vLLM when it is installed, else llama.cpp; vLLM failures fall back to llama.cpp. */
  start(o: StartOptions & { engine?: Engine; modelKey?: string } = {}): Promise<RuntimeStatus> {
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

  private async doStart(o: StartOptions & { engine?: Engine; modelKey?: string }): Promise<RuntimeStatus> {
    if (this.current && this.st === 'ready' && (!o.modelKey || o.modelKey === this.current.modelKey))
      return this.status();
    if (this.current) await this.doStop(true);
    const modelKey = o.modelKey ?? this.o.policy().runtime.model;
    const engines = enginesFor(this.o.binaries, o.engine);
    if (engines.length === 0) {
      this.set('failed', NOT_INSTALLED);
      throw new RuntimeError('not_installed', NOT_INSTALLED);
    }
    try {
      return await firstThatStarts(engines, (engine) => this.launch(engine, modelKey, o), this.o.audit);
    } catch (e) {
      if ((e as RuntimeError).kind !== 'cancelled') this.set('failed', (e as Error).message);
      throw e;
    }
  }

  /** One engine's start, on a fresh port and key; a port taken meanwhile is retried on another (4 tries). */
  private async launch(engine: Engine, modelKey: string, o: StartOptions): Promise<RuntimeStatus> {
    const policy = this.o.policy();
    this.restarts = 0; // a start asked for by the user; crash restarts count from here
    const past = readRecord(this.o.stateDir);
    for (let portTry = 0; ; portTry++) {
      const port = await freePort();
      const apiKey = randomBytes(18).toString('base64url');
      const spec = specFor(engine, policy, { ...this.o, modelKey, port, apiKey });
      this.set('starting', `starting ${engineName(engine)} with ${spec.served} on port ${port}`);
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
    o: StartOptions,
  ): Promise<'ready' | 'port_in_use'> {
    const t = this.o.timeouts ?? {};
    const proc = this.spawn(spec.command, spec.args, spec.env);
    const run = watch(spec, proc, modelKey, o.onLog);
    this.current = run;
    let exit: Exit | null = null;
    proc.onExit((code, signal) => {
      run.exited = true;
      exit = { code, signal };
      this.onExit(run, code, signal);
    });
    // The load may take long; it is never cut while its log keeps moving. The base grows with past loads.
    const base = spec.engine === 'vllm' ? (t.vllmMs ?? 900_000) : (t.llamaMs ?? 180_000);
    const timeoutMs = Math.max(base, past?.engine === spec.engine && past.last_load_ms ? past.last_load_ms * 3 : 0);
    const stallMs = t.stallMs ?? 60_000;
    const r = await waitReady(run, {
      signal: o.signal,
      exited: () => exit,
      timeoutMs,
      stallMs,
      pollMs: t.pollMs ?? 20,
    });
    if (r.kind === 'cancelled') {
      await killRun(run);
      this.current = null;
      this.set('stopped', 'start cancelled');
      throw new RuntimeError('cancelled', 'start cancelled by the user');
    }
    if (r.kind === 'exited') {
      this.current = null;
      const failure = startFailure(run, r.exit);
      if (failure === 'port_in_use') return failure;
      throw failure;
    }
    if (r.kind === 'stalled') {
      const error = stalled(run, stallMs);
      await killRun(run);
      this.current = null;
      throw error;
    }
    await this.becomeReady(run);
    return 'ready';
  }

  /** The ready step: what the server serves is read (identify.ts), recorded, audited, and the state set. */
  private async becomeReady(run: Running): Promise<void> {
    const { spec } = run;
    run.readyAt = Date.now();
    run.model = await identifyRun(run, this.o.policy());
    writeRecord(this.o.stateDir, run);
    this.o.audit?.(
      'start',
      `runtime: ${engineName(spec.engine)} ready with ${run.model?.name ?? 'an unidentified model'} ` +
        `(served as ${spec.served}) on 127.0.0.1:${spec.port} after ${run.readyAt - run.startedAt} ms`,
    );
    this.notice.note(run.model, spec.served);
    this.set('ready');
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

  stop(): Promise<void> {
    return this.track(this.doStop(false));
  }

  private async doStop(forSwap: boolean): Promise<void> {
    const all = [...(this.current ? [this.current] : []), ...this.asleep.values()];
    if (!forSwap) this.asleep.clear();
    const targets = forSwap ? (this.current ? [this.current] : []) : all;
    for (const r of targets) await killRun(r);
    await gpuFree(
      this.o.gpu,
      targets.map((r) => r.proc.pid),
    );
    this.current = null;
    if (!forSwap) {
      removeRecord(this.o.stateDir);
      this.o.audit?.('stop', 'runtime: stopped');
      this.set('stopped');
    }
  }

  /**
   * One model at a time: requests wait while the swap runs. With vLLM sleep mode (policy runtime.vllm.enable_sleep_mode)
   * the old server sleeps (POST /sleep) and a sleeping one wakes (POST /wake_up); otherwise the old process group is
   * stopped and its GPU memory freed before the next starts.
   */
  switchModel(modelKey: string, o: StartOptions = {}): Promise<RuntimeStatus> {
    return this.track(this.doSwitch(modelKey, o));
  }

  private async doSwitch(modelKey: string, o: StartOptions): Promise<RuntimeStatus> {
    const policy = this.o.policy();
    assertLocalModel(policy, modelKey);
    const cur = this.current;
    if (cur && cur.modelKey === modelKey && this.st === 'ready') return this.status();
    const from = cur?.modelKey ?? 'none';
    this.set('swapping', `switching ${from} -> ${modelKey}`);
    if (policy.runtime.vllm.enable_sleep_mode && cur?.spec.engine === 'vllm') {
      const slept = await this.swapBySleep(cur, from, modelKey, o);
      if (slept) return slept;
    }
    if (cur) await this.doStop(true);
    this.o.audit?.('swap', `runtime: ${from} stopped; starting ${modelKey}`);
    return this.doStart({ ...o, modelKey, ...(cur ? { engine: cur.spec.engine } : {}) });
  }

  /** vLLM sleep mode: the current server sleeps and a sleeping one wakes (or starts); null when /sleep failed. */
  private async swapBySleep(cur: Running, from: string, modelKey: string, o: StartOptions) {
    if (!(await putToSleep(cur))) {
      this.o.audit?.('fallback', `GR-005: runtime: POST /sleep failed on ${from}; swapping by restart instead`);
      return null;
    }
    this.asleep.set(cur.modelKey, cur);
    this.current = null;
    const sleeper = this.asleep.get(modelKey);
    if (sleeper && (await wakeUp(sleeper))) {
      this.asleep.delete(modelKey);
      this.current = sleeper;
      writeRecord(this.o.stateDir, sleeper);
      this.o.audit?.('swap', `runtime: ${from} put to sleep, ${modelKey} woken (vLLM sleep mode)`);
      this.set('ready');
      return this.status();
    }
    this.o.audit?.('swap', `runtime: ${from} put to sleep (vLLM sleep mode); starting ${modelKey}`);
    return this.doStart({ ...o, modelKey, engine: 'vllm' });
  }
}
