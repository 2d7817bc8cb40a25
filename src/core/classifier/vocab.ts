// Word lists the detectors match against identifiers, paths and crate names (never comments).
// Identifiers are split into lower-case words first: `AccessToken` -> ["access", "token"].

const wordCache = new Map<string, string[]>();

export function words(identifier: string): string[] {
  let w = wordCache.get(identifier);
  if (w) return w;
  w = splitWords(identifier);
  if (wordCache.size > 50_000) wordCache.clear();
  wordCache.set(identifier, w);
  return w;
}

function splitWords(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export const SECURITY_WORDS = new Set([
  'auth',
  'authn',
  'authz',
  'authenticate',
  'authenticated',
  'authentication',
  'authenticator',
  'authorize',
  'authorized',
  'authorization',
  'oauth',
  'oauth2',
  'oidc',
  'credential',
  'credentials',
  'creds',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'secrets',
  'keyring',
  'keychain',
  'netrc',
  'crypto',
  'cryptography',
  'cipher',
  'encrypt',
  'encrypted',
  'encryption',
  'decrypt',
  'decryption',
  'tls',
  'ssl',
  'rustls',
  'openssl',
  'x509',
  'certificate',
  'certificates',
  'cert',
  'certs',
  'hmac',
  'sha1',
  'sha2',
  'sha256',
  'sha384',
  'sha512',
  'blake2',
  'blake3',
  'md5',
  'digest',
  'argon2',
  'bcrypt',
  'scrypt',
  'pbkdf2',
  'redact',
  'redacted',
  'redaction',
  'sandbox',
  'sandboxed',
  'sandboxing',
  'seccomp',
  'landlock',
  'seatbelt',
  'execpolicy',
  'permission',
  'permissions',
  'approval',
  'approvals',
  'jwt',
  'apikey',
  'bearer',
  'csrf',
  'nonce',
  'signing',
  'privilege',
  'privileges',
  'sudo',
  'login',
  'logout',
  'pii',
  'ssh',
  'gpg',
  'pgp',
  'keypair',
  'keystore',
  'totp',
  'mfa',
  'saml',
  'kerberos',
  'ntlm',
  'webauthn',
  'passkey',
]);

/** "token" alone is a lexer word as often as a credential: these words around it decide. */
export const TOKEN_CREDENTIAL_CONTEXT = new Set([
  'access',
  'refresh',
  'bearer',
  'auth',
  'api',
  'session',
  'id',
  'secret',
  'github',
  'oauth',
  'jwt',
  'csrf',
  'personal',
  'token',
  'tokens',
]);
export const TOKEN_LEXER_CONTEXT = new Set([
  'tokenize',
  'tokenizer',
  'tokenizes',
  'tokenized',
  'lexer',
  'lex',
  'parse',
  'parser',
  'span',
  'kind',
  'stream',
  'tree',
  'count',
  'counts',
  'usage',
  'limit',
  'budget',
  'max',
  'prompt',
  'completion',
  'input',
  'output',
]);

export const SECURITY_PATH = new RegExp(
  String.raw`(^|\/)(auth|authn|authz|oauth|login|credentials?|secrets?|keyring|crypto|` +
    String.raw`tls|ssl|certs?|sandbox(ing)?|seccomp|landlock|seatbelt|exec_?policy|permissions?|` +
    String.raw`approvals?|redact(ion)?)(\/|\.rs$|_|-)`,
  'i',
);

export const SECURITY_CRATES = new RegExp(
  String.raw`^(rustls|tokio-rustls|hyper-rustls|rustls-[\w-]+|openssl|openssl-sys|native-tls|` +
    String.raw`tokio-native-tls|hyper-tls|ring|aws-lc-rs|aws-lc-sys|sha1|sha2|sha3|md-5|` +
    String.raw`md5|hmac|blake2|blake3|digest|argon2|bcrypt|scrypt|pbkdf2|keyring|jsonwebtoken|` +
    String.raw`oauth2|openidconnect|landlock|seccompiler|libseccomp|seccomp-sys|secrecy|` +
    String.raw`zeroize|webpki|webpki-roots|rcgen|x509-parser|ed25519-dalek|x25519-dalek|` +
    String.raw`chacha20poly1305|aes-gcm|aes|rsa|p256|ecdsa|age|gpgme|sequoia-openpgp|totp-rs|` +
    String.raw`password-hash|netrc|reqwest-middleware-auth)$`,
);
export const SECURITY_FEATURE = new RegExp(
  String.raw`(^|[-_])(tls|ssl|rustls|openssl|native-tls|crypto|vendored-openssl|webpki|` +
    String.raw`certs?|sandbox|seccomp|landlock|auth)([-_]|$)`,
);

export const FFI_PATH_ROOTS = new Set(['libc', 'windows_sys', 'winapi', 'nix', 'windows', 'ffi']);

export const CONCURRENCY_WORDS = new Set([
  'spawn',
  'spawn_blocking',
  'spawn_local',
  'block_on',
  'join_handle',
  'joinhandle',
  'join_set',
  'joinset',
  'mpsc',
  'oneshot',
  'broadcast',
  'watch',
  'channel',
  'unbounded_channel',
  'sync_channel',
  'crossbeam',
  'mutex',
  'rwlock',
  'arc',
  'atomic',
  'atomic_bool',
  'atomic_usize',
  'atomic_u64',
  'atomic_i64',
  'atomic_u32',
  'atomic_i32',
  'semaphore',
  'notify',
  'condvar',
  'barrier',
  'select',
  'join',
  'try_join',
  'timeout',
  'cancellation_token',
  'cancel',
  'cancelled',
  'abort',
  'flock',
  'lock_exclusive',
  'lock_shared',
  'try_lock',
  'rayon',
  'par_iter',
  'thread',
  'send',
  'sync',
  'once_lock',
  'once_cell',
  'lazy_lock',
  'lazy_static',
  'thread_local',
]);
export const SHARED_STATE_WORDS = new Set([
  'arc',
  'mutex',
  'rwlock',
  'atomic',
  'once_lock',
  'once_cell',
  'lazy_lock',
  'lazy_static',
  'thread_local',
  'semaphore',
  'condvar',
]);

export const PERSISTENCE_WORDS = new Set([
  'migration',
  'migrations',
  'migrate',
  'schema',
  'schema_version',
  'format_version',
  'lockfile',
  'receipt',
  'receipts',
  'on_disk',
  'serialize',
  'deserialize',
  'persist',
  'persisted',
  'persistence',
  'snapshot_format',
  'wire_format',
  'protocol_version',
]);
export const PERSISTENCE_PATH = /(^|\/)(migrations?|schemas?)\/|\.(sql|proto|avsc|fbs|capnp)$|(^|\/)schema\.json$/;

export const CONFIG_TYPE_NAME = /(Config|Configuration|Settings|Options|Opts|Profile|Manifest|Toml|Preferences|Prefs)$/;
export const CLI_DERIVES = new Set(['Parser', 'Args', 'Subcommand', 'ValueEnum', 'StructOpt']);
export const CLI_ATTRS = new Set(['arg', 'command', 'clap', 'structopt', 'value']);
