// Running one agent command or check inside the OS sandbox: the allowlisted environment, the policy's layout as
// bwrap arguments, the proxy when the policy names hosts, and then the ordinary executor, so timeouts,
// cancellation and bounded output behave exactly as they do unsandboxed.
import { runTool, type ToolResult, type ToolRun } from './process.js';
import type { SandboxSupport } from './detect.js';
import { findOnPath } from './detect.js';
import { cleanEnv } from './env.js';
import { planSandbox, prepareProfile, type SandboxProfile } from './profile.js';
import { proxyEnv, startProxy, type SandboxProxy } from './proxy.js';

export interface SandboxedRun extends ToolRun {
  profile: SandboxProfile;
  support: SandboxSupport;
  /** Extra variable names to pass; secret-looking and SWITCHYARD_ names are refused all the same. */
  passEnv?: string[];
}
export type SandboxedResult = ToolResult & { sandbox: 'bubblewrap'; notes: string[] };

/** The loopback port inside the sandbox that leads to the proxy (the sandbox has its own network namespace, so
 * it cannot collide with anything outside). */
const PROXY_PORT = 3128;

export async function runSandboxed(r: SandboxedRun): Promise<SandboxedResult> {
  // The caller decides whether to ask the user to run unsandboxed; this never falls back on its own.
  if (!r.support.available) throw new Error(`no OS sandbox: ${r.support.why}`);
  const notes: string[] = [];
  if (!r.argv[0]) return { ...(await runTool({ ...r, argv: [] })), argv: r.argv, sandbox: 'bubblewrap', notes };
  const env = cleanEnv(r.env ?? process.env, r.passEnv ?? []);
  env.TMPDIR = '/tmp';
  const cleanup = prepareProfile(r.profile);
  let proxy: SandboxProxy | undefined;
  try {
    const hosts = r.profile.network?.hosts ?? [];
    if (hosts.length) {
      if (!findOnPath('socat', env)) {
        notes.push(`no network: socat is not installed, so the policy's hosts (${hosts.join(', ')}) cannot be reached`);
      } else {
        proxy = await startProxy(hosts);
        // After cleanEnv: these are Switchyard's, not the user's.
        Object.assign(env, proxyEnv(PROXY_PORT));
      }
    }
    const plan = planSandbox(r.profile, r.cwd, r.argv, { proxySocket: proxy?.socket, proxyPort: PROXY_PORT });
    notes.push(...plan.notes);
    const res = await runTool({ ...r, argv: [r.support.bwrap, ...plan.args], env });
    if (/^bwrap: execvp [^\n]*: No such file or directory/m.test(res.stderr)) {
      notes.push(`${r.argv[0]} is not installed (or not on PATH) inside the sandbox`);
    }
    if (proxy?.refused.length) notes.push(`network refused: ${proxy.refused.join(', ')}`);
    // The caller's view is the command it asked for; the wrapper is an implementation detail.
    return { ...res, argv: r.argv, sandbox: 'bubblewrap', notes };
  } finally {
    await proxy?.close();
    cleanup();
  }
}

const WRITE =
  /Read-only file system|EROFS|Permission denied|EACCES|EPERM|Operation not permitted|Device or resource busy|EBUSY/;
const NETWORK = new RegExp(
  'Network is unreachable|ENETUNREACH|Temporary failure in name resolution|Could not resolve host|EAI_AGAIN|' +
    'ENOTFOUND|getaddrinfo|Name or service not known|switchyard sandbox: the network host',
);
const SECRET_PATH =
  /\.ssh|\.aws|\.gnupg|\.kube|\.docker|\.netrc|\.npmrc|\.pypirc|credentials|keyrings|\.password-store/;
const MISSING = /No such file or directory|ENOENT|not found/;

/** A one-line explanation for the model when a failure looks like the sandbox's doing, or null. */
export function sandboxHint(r: ToolResult): string | null {
  const out = `${r.stdout}\n${r.stderr}`;
  const parts: string[] = [];
  if (WRITE.test(out)) {
    parts.push(
      'it can write only inside the workspace (not .git, .switchyard, .vscode or the files that define the checks: ' +
        'Makefile, package.json, Cargo.toml, build.rs, conftest.py) and the package caches',
    );
  }
  if (SECRET_PATH.test(out) && (MISSING.test(out) || WRITE.test(out))) {
    parts.push("it cannot read the user's secrets (~/.ssh, ~/.aws, credentials, keyrings)");
  }
  if (NETWORK.test(out)) parts.push('it has no network unless the policy names hosts for it (network.hosts)');
  if (!parts.length) return null;
  return `sandbox: this command ran in Switchyard's OS sandbox: ${parts.join('; ')}.`;
}
