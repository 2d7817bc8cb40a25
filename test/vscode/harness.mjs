// Shared pieces of the real-VS-Code tests: servers in their own process group, a headless Chromium,
// an isolated profile per run. Only 127.0.0.1 is ever used.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const CACHE = process.env.SWITCHYARD_E2E_CACHE ?? join(ROOT, '.cache', 'vscode');
export const NODE24 = join(CACHE, 'node24', 'package', 'bin', 'node');
export const CODE_SERVER = join(CACHE, 'cs', 'node_modules', 'code-server');
export const OUTPUT = join(ROOT, 'test-output');

const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'window.commandCenter': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.auxiliaryBar.visible': false,
};

/** A fresh work dir with a user-data dir, an extensions dir and a copy of the demo workspace. */
export function workDir(name) {
  mkdirSync(OUTPUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${name}-`));
  for (const d of ['ud/User', 'exts', 'sd', 'xdg']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'ud/User/settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
  cpSync(join(ROOT, 'demo'), join(dir, 'ws'), { recursive: true });
  return dir;
}

/** Makes the workspace a git repository with one commit (Classify Current Changes reads the tree against HEAD). */
export function gitInit(ws) {
  const git = (...args) =>
    execFileSync('git', ['-C', ws, '-c', 'user.email=demo@example.invalid', '-c', 'user.name=demo', ...args], {
      stdio: 'pipe',
    });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'demo workspace');
}

export const xdgEnv = (dir) => ({
  ...process.env,
  XDG_CONFIG_HOME: join(dir, 'xdg/config'),
  XDG_DATA_HOME: join(dir, 'xdg/data'),
  XDG_CACHE_HOME: join(dir, 'xdg/cache'),
});

/** Starts a server detached in its own process group; stop() kills the whole group (watchers, extension hosts). */
export async function startServer(args, dir, { readyPath = '/healthz', port, env = {} }) {
  const log = openSync(join(dir, 'server.log'), 'a');
  const child = spawn(NODE24, args, { detached: true, stdio: ['ignore', log, log], env: { ...xdgEnv(dir), ...env } });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode}; see ${join(dir, 'server.log')}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}${readyPath}`);
      if (r.status < 500) return { stop, pid: child.pid };
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  stop();
  throw new Error(`server on port ${port} not ready after 60 s; see ${join(dir, 'server.log')}`);
}

/** A free loopback port, by binding port 0. */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'switchyard-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
