// The sandbox's layout: a policy (the workspace, Switchyard's state, what else to hide or open) mapped to
// bubblewrap arguments. The whole machine is visible read-only; the workspace is writable except the files that
// govern the agent or run code later (git hooks and config, the policy, editor tasks, build scripts, the checks'
// definitions); the package caches are writable so builds can fetch; the user's secrets and the sockets that reach
// services outside (session bus, docker, systemd) are hidden. Reading the filesystem decides which paths exist;
// nothing here writes (prepareProfile does, before a run).
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export interface SandboxProfile {
  /** The workspace, a real path; writable. */
  root: string;
  /** Default os.homedir(). */
  home: string;
  /** Switchyard's state folders (keys, verdicts): hidden, even inside the workspace. */
  stateDirs: string[];
  /** Policy additions: absolute, "~/..." or workspace-relative paths. */
  denyRead?: string[];
  /** Policy-named extra writable folders (e.g. an out-of-tree target dir). */
  writable?: string[];
  /** Null or absent: no network at all. Hosts: reached only through the proxy (proxy.ts). */
  network?: { hosts: string[] } | null;
}

export interface SandboxOptions {
  /** The port inside the sandbox that forwards to the proxy's socket. */
  proxyPort?: number;
  /** The proxy's unix socket (its folder is bound into the sandbox). */
  proxySocket?: string;
}

export interface SandboxPlan {
  args: string[];
  /** What the policy asked for and did not get, and why: for the user, not the model. */
  notes: string[];
}

/** At the workspace root: what governs the agent (.switchyard, .git), what the editor or the user's tools run on
 * their own later (.vscode tasks, .envrc, git hooks, rust-toolchain's path, .npmrc's script-shell, yarnPath,
 * pre-commit and husky hooks), and what defines the checks (Makefile, package.json, conftest.py, build.rs). Cargo
 * writes Cargo.lock, never Cargo.toml, so manifests can be read-only too. */
const ROOT_PROTECTED = [
  '.cargo',
  '.devcontainer',
  '.envrc',
  '.git',
  '.github',
  '.husky',
  '.npmrc',
  '.pre-commit-config.yaml',
  '.switchyard',
  '.vscode',
  '.yarnrc',
  '.yarnrc.yml',
  'Cargo.toml',
  'GNUmakefile',
  'Makefile',
  'build.rs',
  'conftest.py',
  'makefile',
  'package.json',
  'pytest.ini',
  'rust-toolchain',
  'rust-toolchain.toml',
];
/** In crate and package folders one or two levels down. */
const NESTED_PROTECTED = ['.cargo', '.envrc', 'Cargo.toml', 'Makefile', 'build.rs', 'conftest.py', 'package.json'];
const WALK_SKIP = new Set(['target', 'node_modules']);
const WALK_LIMIT = 4_000;

/** Folders the agent governs or the user's tools read config from, made (empty) when missing so that a command
 * cannot create them: a new .vscode/tasks.json or .cargo/config.toml would run code outside the sandbox later, a new
 * .switchyard/policy.json would rewrite the agent's rules. prepareProfile makes them; its cleanup removes them. */
export const PLACEHOLDER_DIRS = ['.cargo', '.switchyard', '.vscode'];

/** Package caches, writable so builds can download; each under a toolchain home that must exist already, so a
 * machine without Go does not get a ~/go. Files are lock files. Never ~/.cargo/bin, ~/.cargo/config*, ~/.npmrc. */
const CACHES: { home: string; dirs: string[]; files: string[] }[] = [
  {
    home: '.cargo',
    dirs: ['.cargo/registry', '.cargo/git'],
    files: ['.cargo/.package-cache', '.cargo/.package-cache-mutate'],
  },
  { home: '.npm', dirs: ['.npm/_cacache'], files: [] },
  { home: '.cache', dirs: ['.cache/go-build'], files: [] },
  { home: 'go', dirs: ['go/pkg/mod'], files: [] },
];

/** Secrets under HOME: keys, cloud and registry credentials, keyrings, browser profiles (cookies), shell
 * histories (pasted tokens), the editor's state, and Switchyard's own. */
const HOME_SECRETS = [
  '.aws',
  '.azure',
  '.bash_history',
  '.cargo/credentials',
  '.cargo/credentials.toml',
  '.config/BraveSoftware',
  '.config/Cursor',
  '.config/VSCodium',
  '.config/gcloud',
  '.config/gh',
  '.config/git/credentials',
  '.config/chromium',
  '.config/google-chrome',
  '.config/hub',
  '.config/op',
  '.config/switchyard',
  '.docker',
  '.git-credentials',
  '.gnupg',
  '.kube',
  '.local/share/fish/fish_history',
  '.local/share/keyrings',
  '.local/state/switchyard',
  '.mozilla',
  '.netrc',
  '.node_repl_history',
  '.npmrc',
  '.password-store',
  '.psql_history',
  '.pypirc',
  '.python_history',
  '.ssh',
  '.terraform.d',
  '.vscode-server',
  '.zsh_history',
];

/** /run holds the sockets that reach services outside the sandbox (session and system bus, systemd, docker,
 * databases, agents); a read-only mount does not stop connect(), so they are hidden. NixOS keeps its programs
 * there, so those stay. */
const RUN_KEEP = new Set(['booted-system', 'current-system', 'opengl-driver', 'opengl-driver-32', 'wrappers']);
const OTHER_SOCKET_DIRS = ['/var/lib/lxd', '/var/snap/lxd/common/lxd'];

/** Where a writable folder may never be: the system's own, or a folder of programs. */
const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/opt',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib',
];

const inside = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
const real = (p: string): string | null => {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
};
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

function expand(p: string, home: string, root: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(root, p);
}

/** The homes whose secrets are hidden: the profile's, and the user's real one when it differs (the whole
 * filesystem is visible, so another HOME does not hide the real ~/.ssh). */
function homes(p: SandboxProfile): string[] {
  return sorted([p.home, homedir()].map((h) => real(h) ?? resolve(h)));
}

function secretsToHide(p: SandboxProfile, root: string): string[] {
  const found: string[] = [];
  for (const h of homes(p)) {
    const names = [...HOME_SECRETS];
    try {
      for (const e of readdirSync(join(h, '.config'))) if (e.startsWith('Code')) names.push(`.config/${e}`);
    } catch {
      /* no ~/.config */
    }
    found.push(...names.map((n) => join(h, n)));
  }
  try {
    for (const e of readdirSync('/run', { withFileTypes: true })) {
      if (RUN_KEEP.has(e.name)) continue;
      if (e.isDirectory() || e.isSocket()) found.push(join('/run', e.name));
    }
  } catch {
    /* no /run */
  }
  found.push(...OTHER_SOCKET_DIRS);
  found.push(...p.stateDirs.map((d) => expand(d, p.home, root)));
  found.push(...(p.denyRead ?? []).map((d) => expand(d, p.home, root)));
  return found;
}

/** The governing files in the workspace that exist, as real paths: at the root, and one or two levels down in
 * crate and package folders (not under target/, node_modules/ or dot-folders; bounded so a huge tree stays cheap). */
function protectedPaths(root: string): { paths: string[]; truncated: boolean } {
  const out: string[] = [];
  const add = (p: string) => {
    const r = real(p);
    if (r) out.push(r);
  };
  for (const n of ROOT_PROTECTED) if (existsSync(join(root, n))) add(join(root, n));
  let seen = 0;
  let truncated = false;
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      // Symlinked folders are not followed: they may lead out of the workspace or loop.
      if (!e.isDirectory() || e.name.startsWith('.') || WALK_SKIP.has(e.name)) continue;
      if (++seen > WALK_LIMIT) {
        truncated = true;
        return;
      }
      const sub = join(dir, e.name);
      for (const n of NESTED_PROTECTED) if (existsSync(join(sub, n))) add(join(sub, n));
      if (depth < 2) walk(sub, depth + 1);
    }
  };
  walk(root, 1);
  return { paths: sorted(out), truncated };
}

/** Why a folder may not be made writable, or null when it may. */
export function refuseWritable(dir: string, p: SandboxProfile, root: string, hidden: string[] = []): string | null {
  if (dir === '/') return 'it is /';
  for (const h of homes(p)) {
    if (inside(h, dir)) return 'it is HOME or holds it';
    const rel = relative(h, dir);
    if (inside(dir, h) && rel.startsWith('.'))
      return 'it is inside a dot-folder of HOME (configs, credentials, installed programs)';
  }
  if (dir.split(sep).some((s) => s === 'bin' || s === 'sbin')) return 'it is a folder of programs';
  if (SYSTEM_DIRS.some((s) => inside(dir, s))) return 'it is a system folder';
  if (inside(root, dir)) return 'it holds the workspace (its read-only files would become writable through it)';
  if (hidden.some((h) => inside(dir, h) || inside(h, dir))) return 'it overlaps a hidden path';
  return null;
}

function cachePaths(p: SandboxProfile): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const c of CACHES) {
    dirs.push(...c.dirs.map((d) => join(p.home, d)));
    files.push(...c.files.map((f) => join(p.home, f)));
  }
  return { dirs, files };
}

/** The paths to hide, as real paths; kept apart from planSandbox so the layout reads in order. One that holds the
 * workspace would hide it, so it is refused (with a note); one inside another is covered by it (and could not be
 * mounted on anyway). */
function hiddenPaths(p: SandboxProfile, root: string, notes: string[]): string[] {
  const hideCandidates = sorted(
    secretsToHide(p, root)
      .map((h) => (existsSync(h) ? real(h) : null))
      .filter((h): h is string => !!h),
  );
  const hidden: string[] = [];
  for (const h of hideCandidates) {
    if (inside(root, h)) {
      notes.push(`not hidden: ${h} holds the workspace`);
      continue;
    }
    if (hidden.some((o) => inside(h, o))) continue;
    hidden.push(h);
  }
  return hidden;
}

/** The bwrap arguments that cover each hidden path (an empty read-only tmpfs for a folder, /dev/null for a file);
 * its own function to keep planSandbox short. A path gone since it was found is skipped. */
function hideArgs(hidden: string[]): string[] {
  const args: string[] = [];
  for (const h of hidden) {
    let dir = false;
    try {
      dir = statSync(h).isDirectory();
    } catch {
      continue;
    }
    if (dir) args.push('--tmpfs', h, '--remount-ro', h);
    else args.push('--ro-bind', '/dev/null', h);
  }
  return args;
}

export function planSandbox(p: SandboxProfile, cwd: string, argv: string[], opts: SandboxOptions = {}): SandboxPlan {
  const notes: string[] = [];
  const root = real(p.root) ?? resolve(p.root);
  // No --new-session: it would move the command out of the executor's process group, so a timeout or Stop (a
  // signal to the group) would miss it. The executor already starts it in a session of its own with no terminal
  // (detached, stdin /dev/null), so there is no terminal to inject keystrokes into.
  const args = ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net'];
  // /tmp is a fresh tmpfs so nothing a command leaves there persists or reaches other programs' files.
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  args.push('--bind', root, root);

  // Hidden paths, decided first because a writable folder may not overlap them.
  const hidden = hiddenPaths(p, root, notes);

  for (const w of sorted(p.writable ?? [])) {
    const want = expand(w, p.home, root);
    const dir = real(want);
    if (!dir) {
      notes.push(`not writable: ${w} does not exist`);
      continue;
    }
    const why = refuseWritable(dir, p, root, hidden);
    if (why) notes.push(`not writable: ${w}: ${why}`);
    else if (!statSync(dir).isDirectory()) notes.push(`not writable: ${w} is not a folder`);
    else args.push('--bind', dir, dir);
  }

  const caches = cachePaths(p);
  for (const c of sorted([...caches.dirs, ...caches.files])) {
    const r = existsSync(c) ? real(c) : null;
    // A cache that resolves somewhere it should not (a symlink to ~/.cargo/bin) is not opened.
    if (r && !refuseCacheTarget(r, p)) args.push('--bind', r, r);
  }

  if (opts.proxySocket) {
    const d = dirname(opts.proxySocket);
    args.push('--ro-bind', d, d);
  }

  // After the writable binds, so none of them can make these writable again.
  const prot = protectedPaths(root);
  if (prot.truncated)
    notes.push(
      `the workspace has more than ${WALK_LIMIT} folders two levels down; only the first were searched for build files`,
    );
  for (const x of prot.paths) args.push('--ro-bind', x, x);

  // Last, so they cover whatever was bound before (a state folder inside the workspace stays hidden).
  args.push(...hideArgs(hidden));

  args.push('--chdir', cwd, '--setenv', 'TMPDIR', '/tmp', '--');
  args.push(...(opts.proxySocket ? proxied(argv, opts.proxySocket, opts.proxyPort ?? 3128) : argv));
  return { args, notes };
}

export function bwrapArgs(p: SandboxProfile, cwd: string, argv: string[], opts: SandboxOptions = {}): string[] {
  return planSandbox(p, cwd, argv, opts).args;
}

function refuseCacheTarget(r: string, p: SandboxProfile): boolean {
  return homes(p).some((h) => inside(r, join(h, '.cargo', 'bin')) || r === h) || r.split(sep).includes('bin');
}

/** The command behind a socat that forwards 127.0.0.1:port inside to the proxy's socket outside, started first and
 * waited for (its listening socket shows in this network namespace's /proc/net/tcp) so the first request finds it. */
function proxied(argv: string[], socket: string, port: number): string[] {
  if (!/^[\w./-]+$/.test(socket)) throw new Error(`proxy socket path has unsafe characters: ${socket}`);
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const script =
    `socat TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${socket} </dev/null >/dev/null 2>&1 & ` +
    `i=0; while ! grep -q ':${hex} 00000000:0000 0A' /proc/net/tcp 2>/dev/null; do ` +
    `i=$((i+1)); [ "$i" -gt 300 ] && break; sleep 0.01; done; exec "$@"`;
  return ['/bin/sh', '-c', script, 'sh', ...argv];
}

/** Before a run: make the package caches that belong to installed toolchains and the policy's writable folders
 * (bwrap binds only what exists), and the placeholder folders. Returns the cleanup that removes the placeholders
 * it made, if they are still empty. */
export function prepareProfile(p: SandboxProfile): () => void {
  const root = real(p.root) ?? resolve(p.root);
  for (const c of CACHES) {
    if (!existsSync(join(p.home, c.home))) continue;
    try {
      for (const d of c.dirs) mkdirSync(join(p.home, d), { recursive: true });
      for (const f of c.files) if (!existsSync(join(p.home, f))) writeFileSync(join(p.home, f), '');
    } catch {
      /* a read-only home: the cache stays read-only too */
    }
  }
  for (const w of p.writable ?? []) {
    const dir = expand(w, p.home, root);
    // Checked before it is made, so a refused path is never created; planSandbox checks the real path again.
    if (!existsSync(dir) && !refuseWritable(dir, p, root)) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch {
        /* planSandbox notes it as missing */
      }
    }
  }
  const made: string[] = [];
  for (const n of PLACEHOLDER_DIRS) {
    const d = join(root, n);
    if (lexists(d)) {
      // The user's own folder is left alone; one this process made for a run still going is shared.
      const n = held.get(d);
      if (n !== undefined) {
        held.set(d, n + 1);
        made.push(d);
      }
      continue;
    }
    try {
      mkdirSync(d);
      held.set(d, 1);
      made.push(d);
    } catch {
      /* could not: the folder stays creatable */
    }
  }
  return () => {
    for (const d of made) {
      const n = (held.get(d) ?? 1) - 1;
      if (n > 0) {
        held.set(d, n);
        continue;
      }
      held.delete(d);
      try {
        rmdirSync(d);
      } catch {
        /* not empty (Switchyard wrote there meanwhile) or gone: left as it is */
      }
    }
  };
}

/** Placeholders this process made and how many runs use them, so one run's cleanup does not remove a folder that
 * another run's sandbox still has mounted read-only. */
const held = new Map<string, number>();

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
