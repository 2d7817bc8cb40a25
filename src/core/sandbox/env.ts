// The environment a sandboxed command sees: an allowlist, not the editor's environment with a few names removed.
// The agent's process holds provider keys and Switchyard's own settings; a command steered by a hostile repository
// would print them or send them on, so only what locates the user and the toolchains gets through.

/** Names that describe where things are (the user, the locale, the toolchains), never what the user may do. */
const ALLOWED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'TERM',
  'TZ',
  'TMPDIR',
  'SHELL',
  'CI',
  // Toolchains' locations. Not RUSTFLAGS or GOFLAGS: those carry arguments (GOFLAGS=-toolexec=... runs a program),
  // and a caller that wants them names them in passthrough.
  'CARGO_HOME',
  'RUSTUP_HOME',
  'RUSTUP_TOOLCHAIN',
  'GOPATH',
  'GOROOT',
  'GOCACHE',
  'GOMODCACHE',
  'JAVA_HOME',
  'VIRTUAL_ENV',
  'PYENV_ROOT',
  'PYENV_VERSION',
  'NVM_DIR',
]);

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH/i;

/** A name that is never passed, even when the caller names it: it looks like a secret, or it is Switchyard's own. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || name.toUpperCase().startsWith('SWITCHYARD_');
}

export function cleanEnv(source: NodeJS.ProcessEnv, passthrough: string[] = []): NodeJS.ProcessEnv {
  const extra = new Set(passthrough);
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || isSecretName(name)) continue;
    if (ALLOWED.has(name) || name.startsWith('LC_') || extra.has(name)) out[name] = value;
  }
  return out;
}

/** The values the caller's redactor removes from what a command printed: every secret-looking or Switchyard value
 * long enough not to match ordinary words, longest first so a value that contains another is removed whole. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= 8 && isSecretName(name)) values.add(value);
  }
  return [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}
