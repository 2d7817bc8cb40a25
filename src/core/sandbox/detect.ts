// Whether this machine can sandbox commands: Linux with a bubblewrap that really creates namespaces here. Finding
// the binary is not enough (containers and some distributions forbid the namespaces it needs), so it is tried once
// per process with the same isolation the commands get, and the answer says why when it is no.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export type SandboxSupport = { available: true; kind: 'bubblewrap'; bwrap: string } | { available: false; why: string };

/** An executable of this name on the environment's PATH (absolute entries only: a relative one would depend on
 * the directory the editor started in), or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

const proven = new Map<string, SandboxSupport>();

/** Forget what was proven, so a test can try another PATH or binary. */
export function resetSandboxDetection(): void {
  proven.clear();
}

export function detectSandbox(env: NodeJS.ProcessEnv = process.env): SandboxSupport {
  // Read before the cache, so switching it off takes effect at once.
  if (env.SWITCHYARD_SANDBOX === 'off') return { available: false, why: 'forced off by SWITCHYARD_SANDBOX=off' };
  if (process.platform !== 'linux')
    return { available: false, why: `no OS sandbox on ${process.platform} in this build` };
  const bwrap = findOnPath('bwrap', env);
  if (!bwrap)
    return { available: false, why: 'bubblewrap (bwrap) is not on PATH; install it (e.g. apt-get install bubblewrap)' };
  const known = proven.get(bwrap);
  if (known) return known;
  const probe = spawnSync(
    bwrap,
    [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      '--unshare-net',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--new-session',
      '--die-with-parent',
      'true',
    ],
    { env: { PATH: env.PATH ?? '/usr/bin:/bin' }, timeout: 10_000, encoding: 'utf8' },
  );
  let support: SandboxSupport;
  if (probe.status === 0) support = { available: true, kind: 'bubblewrap', bwrap };
  else {
    const said =
      (probe.error?.message ?? probe.stderr ?? '').trim().split('\n')[0] || `exit ${probe.status ?? probe.signal}`;
    support = { available: false, why: `bubblewrap at ${bwrap} cannot create a sandbox here: ${said}` };
  }
  proven.set(bwrap, support);
  return support;
}
