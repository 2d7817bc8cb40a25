// switchyard runtime start|stop|status|switch MODEL: the local model server, headless. The server outlives
// the command (its log is <state>/runtime.log); `stop` ends its whole process group.
import { join } from 'node:path';
import { AuditLog } from '../../core/evidence/auditLog.js';
import type { Policy } from '../../core/policy/schema.js';
import type { Engine } from '../../core/runtime/launch.js';
import { recordedServer, stopRecorded } from '../../core/runtime/adopt.js';
import { nvidiaSmiProbe } from '../../core/runtime/gpu.js';
import { onPath } from '../../core/runtime/machine.js';
import { RuntimeManager } from '../../core/runtime/manager.js';
import { RuntimeError } from '../../core/runtime/types.js';
import { servedRecord, type ServedRecord } from '../../core/runtime/served.js';
import { fileLogSpawn } from '../../core/runtime/spawn.js';
import { EXIT, printJson, UsageError, io } from '../io.js';
import { resolvePolicy } from '../policyFile.js';
import { stateDir } from '../state.js';

export interface RuntimeOptions {
  sub?: string;
  args: string[];
  state?: string;
  policy?: string;
  engine?: string;
  binary?: string;
  modelPath?: string;
}

type Recorded = {
  pid: number;
  port: number;
  engine: string;
  modelKey: string;
  served: string;
  started_at: string;
  last_load_ms: number | null;
  model?: ServedRecord | null;
};

/** What `status` and an adopted `start` print of a recorded server. */
const publicView = (r: Recorded, state: string, dir: string) => ({
  state,
  engine: r.engine,
  model: r.modelKey,
  served_model: r.served,
  served: r.model ?? null,
  pid: r.pid,
  endpoint: `http://127.0.0.1:${r.port}/v1`,
  started_at: r.started_at,
  load_ms: r.last_load_ms,
  log: join(dir, 'runtime.log'),
});

interface StartContext {
  dir: string;
  policy: Policy;
  say: (kind: string, text: string) => void;
  view: (r: Recorded, state: string) => ReturnType<typeof publicView>;
}

/** `runtime start [MODEL]` and `runtime switch MODEL`: adopt a healthy server, or start one (Ctrl-C cancels). */
async function startCommand(o: RuntimeOptions, c: StartContext): Promise<number> {
  const { dir, policy, say } = c;
  const modelKey = o.sub === 'switch' ? o.args[0] : (o.args[0] ?? undefined);
  if (o.sub === 'switch' && !modelKey)
    throw new UsageError('runtime switch: give the model key (for example local_alt)');
  if (modelKey && policy.models[modelKey]?.provider !== 'local')
    throw new UsageError(`runtime: "${modelKey}" is not a local model of the policy`);
  if (o.engine && o.engine !== 'vllm' && o.engine !== 'llama_cpp')
    throw new UsageError(`runtime: --engine: "${o.engine}" is not vllm or llama_cpp`);
  const existing = await recordedServer(dir);
  if (existing?.healthy && o.sub === 'start' && (!modelKey || modelKey === existing.modelKey)) {
    printJson({ ...c.view(existing, 'ready'), adopted: true });
    return EXIT.ok;
  }
  if (existing) await stopRecorded(dir);
  const binary = o.binary ?? io().env.SWITCHYARD_RUNTIME_BINARY;
  const binaries = binary
    ? /vllm/.test(binary)
      ? { vllm: binary }
      : { llama: binary }
    : { vllm: onPath('vllm'), llama: onPath('llama-server') };
  const gpu = nvidiaSmiProbe();
  const m = new RuntimeManager({
    policy: () => policy,
    stateDir: dir,
    binaries,
    modelPath: o.modelPath ?? io().env.SWITCHYARD_MODEL_PATH,
    spawn: fileLogSpawn(join(dir, 'runtime.log')),
    ...(gpu ? { gpu } : {}),
    audit: say,
  });
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const s = await m.start({
      ...(o.engine ? { engine: o.engine as Engine } : {}),
      ...(modelKey ? { modelKey } : {}),
      signal: ac.signal,
      onLog: (l) => io().stderr.write(`${l}\n`),
    });
    printJson({
      state: s.state,
      engine: s.engine,
      model: s.modelKey,
      served_model: s.served,
      served: s.model ? servedRecord(s.model) : null,
      pid: s.pid,
      endpoint: s.endpoint,
      load_ms: s.loadMs,
      log: join(dir, 'runtime.log'),
    });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof RuntimeError) {
      if (e.kind === 'cancelled') {
        io().stderr.write('switchyard: runtime start cancelled; nothing is left running\n');
        return EXIT.cancelled;
      }
      io().stderr.write(
        `switchyard: the local model server could not start: ${e.message}\n` +
          (e.logTail.length ? `last log lines:\n${e.logTail.map((l) => `  ${l}`).join('\n')}\n` : ''),
      );
      return e.kind === 'not_installed' ? EXIT.badInput : EXIT.failed;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export async function runtimeCommand(o: RuntimeOptions): Promise<number> {
  const dir = stateDir(o.state);
  const { policy } = resolvePolicy(o.policy);
  const audit = new AuditLog(join(dir, 'audit.jsonl'));
  const say = (kind: string, text: string) =>
    audit.append({
      ts: new Date().toISOString(),
      kind: kind === 'fallback' ? 'fallback' : kind === 'failure' ? 'failure' : 'runtime',
      source: 'cli',
      audit: text,
      role: 'runtime',
    });
  const view = (r: Recorded, state: string) => publicView(r, state, dir);
  switch (o.sub) {
    case 'status': {
      const r = await recordedServer(dir);
      printJson(r ? view(r, r.healthy ? 'ready' : 'unresponsive') : { state: 'stopped' });
      return EXIT.ok;
    }
    case 'stop': {
      const r = await stopRecorded(dir);
      if (r) say('stop', `runtime: stopped ${r.engine} (pid ${r.pid}) from the command line`);
      printJson({ state: 'stopped', was: r ? { engine: r.engine, model: r.modelKey, pid: r.pid } : null });
      return EXIT.ok;
    }
    case 'start':
    case 'switch':
      return startCommand(o, { dir, policy, say, view });
    default:
      throw new UsageError(`runtime: say start [MODEL], stop, status or switch MODEL (got "${o.sub ?? ''}")`);
  }
}
