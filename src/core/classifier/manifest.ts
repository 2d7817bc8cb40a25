// Cargo.toml and other build files: which changed lines are build tooling, and which touch security.
import type { Evidence } from './types.js';
import { SECURITY_CRATES, SECURITY_FEATURE } from './vocab.js';
import type { SideText } from './sides.js';

const PACKAGE_METADATA = new RegExp(
  String.raw`^(version|description|authors|keywords|categories|readme|homepage|repository|` +
    String.raw`documentation|license|license-file|publish|exclude|include|metadata|maintainers|` +
    String.raw`classifiers|urls|name)\b`,
);

/**
 * Flags from a Cargo.toml (or pyproject.toml) side: build_tooling for dependency, feature, profile and build
 * changes; security for TLS/crypto crates and features.
 */
export function analyzeCargoToml(path: string, side: SideText): Evidence[] {
  const lines = side.text.split('\n');
  const out: Evidence[] = [];
  const seen = new Set<string>();
  const add = (e: Evidence) => {
    const k = `${e.flag}:${e.line}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(e);
    }
  };
  for (const row of [...side.changed].sort((a, b) => a - b)) {
    const raw = lines[row] ?? '';
    const code = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!code) continue;
    const section = sectionAt(lines, row);
    const line = side.lineOf(row);
    const text = raw.trim().slice(0, 160);
    const isHeader = /^\[/.test(code);
    const inPackage =
      section === 'package' ||
      section === 'workspace.package' ||
      section === 'project' ||
      section === 'tool.poetry' ||
      (section?.startsWith('project.urls') ?? false);
    if (!(inPackage && !isHeader && PACKAGE_METADATA.test(code))) {
      add({
        flag: 'build_tooling',
        path,
        line,
        node: isHeader ? 'table' : 'pair',
        text,
        why: `${path.split('/').pop()} [${section ?? '?'}] changed`,
      });
    }
    const key =
      /^([A-Za-z0-9_.-]+)\s*=/.exec(code)?.[1]?.split('.')[0] ??
      (isHeader ? code.replace(/[[\]]/g, '').split('.').pop()! : '');
    const strings = [...code.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    const inDeps = !!section && /(^|\.)(dependencies|dev-dependencies|build-dependencies)$/.test(section);
    const dependency = inDeps ? key : section?.match(/dependencies\.([\w-]+)$/)?.[1];
    if (
      (dependency && SECURITY_CRATES.test(dependency)) ||
      strings.some((s) => SECURITY_FEATURE.test(s) || SECURITY_CRATES.test(s.replace(/^dep:/, '').split('/')[0]!)) ||
      (section === 'features' && SECURITY_FEATURE.test(key))
    ) {
      add({
        flag: 'security_sandbox',
        path,
        line,
        node: 'pair',
        text,
        why: `TLS/crypto/security dependency or feature changed`,
      });
    }
  }
  return out;
}

/** The [table] a row sits in; null when the text shown does not say (a hunk without its header). */
export function sectionAt(lines: string[], row: number): string | null {
  for (let r = row; r >= 0; r--) {
    const m = /^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$/.exec(lines[r] ?? '');
    if (m) return m[1]!.trim();
  }
  return null;
}

const JSON_METADATA = new Set([
  'name',
  'description',
  'version',
  'keywords',
  'author',
  'authors',
  'contributors',
  'license',
  'repository',
  'homepage',
  'bugs',
  'funding',
  'displayName',
  'publisher',
  'icon',
  'galleryBanner',
  'categories',
]);
const JS_SECURITY_DEPS = new RegExp(
  String.raw`^(jsonwebtoken|jose|bcrypt|bcryptjs|argon2|passport[\w-]*|oauth[\w-]*|openid-client|` +
    String.raw`keytar|node-forge|tweetnacl|crypto-js|helmet|csurf|express-session|tls|` +
    String.raw`selfsigned)$`,
);

/** package.json: dependency, script, engine, export and bin changes are build tooling; name/description/version are not. */
export function analyzePackageJson(path: string, side: SideText): Evidence[] {
  const lines = side.text.split('\n');
  const out: Evidence[] = [];
  for (const row of [...side.changed].sort((a, b) => a - b)) {
    const raw = lines[row] ?? '';
    if (!raw.trim() || /^[\s{}\[\],]*$/.test(raw)) continue;
    const top = topLevelKey(lines, row);
    const line = side.lineOf(row);
    const text = raw.trim().slice(0, 160);
    if (top === null || !JSON_METADATA.has(top))
      out.push({ flag: 'build_tooling', path, line, node: 'pair', text, why: `package.json "${top ?? '?'}" changed` });
    const dep = /^\s*"([^"]+)"\s*:/.exec(raw)?.[1];
    if (top && /dependencies$/i.test(top) && dep && JS_SECURITY_DEPS.test(dep))
      out.push({ flag: 'security_sandbox', path, line, node: 'pair', text, why: 'security dependency changed' });
  }
  return out;
}

/** The top-level key a line of a pretty-printed JSON object sits under (its own key when it is top-level). */
function topLevelKey(lines: string[], row: number): string | null {
  for (let r = row; r >= 0; r--) {
    const m = /^(\s*)"([^"]+)"\s*:/.exec(lines[r] ?? '');
    if (m && m[1]!.length <= 2) return m[2]!;
  }
  return null;
}
