// Whose command rules count. The user's own allow rules (the bundled policy, a policy file the user names, the user's
// settings) are trusted as they are. Allow rules that come with the repository (its `.switchyard/policy.json`
// allowlist, its `.vscode/settings.json` `switchyard.commands.allow`) can narrow them freely, but an entry that
// widens them is honoured only after the user approved that exact list once: remembered by its hash in the user's
// state folder, asked again when the list changes (`switchyard policy trust` headless). Deny rules always count.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface CommandRules {
  /** argv prefixes the user allowed: trusted. */
  userAllow: string[][];
  /** argv prefixes that came with the repository and widen the user's: honoured only when approved (else empty). */
  repoAllow: string[][];
  /** argv prefixes that never run (deny wins). */
  deny: string[][];
}

export interface RepoRulesStatus {
  /** The widening entries and their hash; `trusted` says whether the user approved exactly this list. */
  widening: string[][];
  hash: string | null;
  trusted: boolean;
}

export interface CommandRuleSources {
  /** The allow list of the policy when the user chose it (bundled, --policy F): trusted. */
  trustedPolicyAllow: string[][];
  /** The allow list of the repository's own policy, when the policy in force came from the workspace. */
  repoPolicyAllow?: string[][];
  /** The user's `switchyard.commands.allow` / `.deny`. */
  userSettingsAllow?: string[][];
  userSettingsDeny?: string[][];
  /** The workspace's `switchyard.commands.allow` / `.deny` (never honoured in an untrusted workspace). */
  repoSettingsAllow?: string[][];
  repoSettingsDeny?: string[][];
}

const isPrefix = (p: string[], of: string[]) => p.length <= of.length && p.every((a, k) => of[k] === a);

/** Canonical hash of a list of argv prefixes (order and duplicates do not matter). */
export function rulesHash(allow: string[][]): string {
  const canon = [...new Set(allow.map((a) => JSON.stringify(a)))].sort();
  return createHash('sha256').update(JSON.stringify(canon)).digest('hex');
}

/**
 * The command rules in force. A repository entry that is the same as, or narrower than, a trusted entry (a trusted
 * prefix of it) narrows: it counts at once. When the repository's policy is in force, the bundled/trusted list
 * is replaced by it (a team that removes `cargo build` from its list makes it ask).
 */
export function composeCommandRules(
  s: CommandRuleSources,
  isTrusted: (hash: string) => boolean,
): { rules: CommandRules; repo: RepoRulesStatus } {
  const user = s.userSettingsAllow ?? [];
  const baseline = [...s.trustedPolicyAllow, ...user];
  const repoEntries = [...(s.repoPolicyAllow ?? []), ...(s.repoSettingsAllow ?? [])];
  const covered = (e: string[]) => baseline.some((b) => isPrefix(b, e));
  const narrowing = repoEntries.filter(covered);
  const widening = repoEntries.filter((e) => !covered(e));
  const hash = widening.length ? rulesHash(widening) : null;
  const trusted = hash !== null && isTrusted(hash);
  // With the repository's policy in force its own list replaces the trusted policy's; the user's settings stay.
  const policyAllow = s.repoPolicyAllow ? narrowing : [...s.trustedPolicyAllow, ...narrowing];
  return {
    rules: {
      userAllow: [...policyAllow, ...user],
      repoAllow: trusted ? widening : [],
      deny: [...(s.userSettingsDeny ?? []), ...(s.repoSettingsDeny ?? [])],
    },
    repo: { widening, hash, trusted },
  };
}

/** The user's approvals of repository command rules, by workspace and hash, in the state folder (owner-only). */
export class CommandTrustStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'trusted-command-rules.json');
  }

  private read(): Record<string, { hash: string; allow: string[][]; at: string }> {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as never) : {};
    } catch {
      return {};
    }
  }

  private key(root: string): string {
    try {
      return realpathSync(root);
    } catch {
      return root;
    }
  }

  isTrusted(root: string, hash: string): boolean {
    return this.read()[this.key(root)]?.hash === hash;
  }

  /** Approves exactly this list for this workspace (a later, different list asks again). */
  trust(root: string, allow: string[][]): string {
    const all = this.read();
    const hash = rulesHash(allow);
    all[this.key(root)] = { hash, allow, at: new Date().toISOString() };
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    return hash;
  }
}

/** The user's own `switchyard.commands.allow`/`deny` outside the editor: `$XDG_CONFIG_HOME/switchyard/settings.json`. */
export function readCommandSettings(file: string): { allow: string[][]; deny: string[][] } {
  let v: Record<string, unknown> = {};
  try {
    v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return { allow: [], deny: [] };
  }
  return { allow: argvList(v['switchyard.commands.allow']), deny: argvList(v['switchyard.commands.deny']) };
}

/** A list of non-empty argv arrays of strings; anything else in it is left out. */
export function argvList(v: unknown): string[][] {
  if (!Array.isArray(v)) return [];
  return v.filter(
    (a): a is string[] =>
      Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string' && x.length > 0 && !x.includes('\0')),
  );
}
