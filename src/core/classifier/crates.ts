// Which crate a path belongs to: the nearest ancestor folder whose Cargo.toml has [package].
import { parse as parseToml } from 'smol-toml';
import type { RepoReader } from './types.js';

export interface CrateInfo {
  dir: string;
  name: string | null;
  isLib: boolean;
  isTestSupport: boolean;
}

const TEST_SUPPORT =
  /(^|[-_])(test|tests|testing|test-support|test_support|test-utils|test_utils|fixtures|mock|mocks)([-_]|$)/;

export class CrateMap {
  private readonly cache = new Map<string, CrateInfo | null>();
  constructor(
    private readonly repo: RepoReader | undefined,
    private readonly changedPaths: Set<string>,
  ) {}

  async crateOf(path: string): Promise<CrateInfo | null> {
    const parts = path.split('/');
    for (let i = parts.length - 1; i >= 0; i--) {
      const dir = parts.slice(0, i).join('/');
      const info = await this.crateAt(dir);
      if (info) return info;
    }
    return this.repo ? null : this.guess(path);
  }

  private async crateAt(dir: string): Promise<CrateInfo | null> {
    if (this.cache.has(dir)) return this.cache.get(dir)!;
    const manifest = dir ? `${dir}/Cargo.toml` : 'Cargo.toml';
    let info: CrateInfo | null = null;
    const text = await this.repo?.readCurrent(manifest);
    if (text === undefined && this.repo) info = await this.otherPackageAt(dir);
    if (text !== undefined) {
      try {
        const t = parseToml(text) as Record<string, any>;
        if (t.package) {
          const name = typeof t.package.name === 'string' ? t.package.name : null;
          const hasLib =
            t.lib !== undefined || (await this.repo?.readCurrent(`${dir ? `${dir}/` : ''}src/lib.rs`)) !== undefined;
          info = { dir: dir || '.', name, isLib: hasLib, isTestSupport: isTestSupportName(name ?? dir) };
        }
      } catch {
        /* a broken manifest: keep looking upwards */
      }
    }
    this.cache.set(dir, info);
    return info;
  }

  /** A JS/TS package (package.json with a name) or a Python project (pyproject.toml, setup.py). */
  private async otherPackageAt(dir: string): Promise<CrateInfo | null> {
    const at = (f: string) => (dir ? `${dir}/${f}` : f);
    const pkg = await this.repo!.readCurrent(at('package.json'));
    if (pkg !== undefined) {
      try {
        const j = JSON.parse(pkg) as { name?: string; private?: boolean; workspaces?: unknown };
        if (typeof j.name === 'string' && !j.workspaces)
          return { dir: dir || '.', name: j.name, isLib: true, isTestSupport: isTestSupportName(j.name) };
      } catch {
        /* not JSON: not a package */
      }
    }
    const py = (await this.repo!.readCurrent(at('pyproject.toml'))) ?? (await this.repo!.readCurrent(at('setup.py')));
    if (py !== undefined && (/^\s*\[(project|tool\.poetry)\]/m.test(py) || /setup\(/.test(py))) {
      const name = /^\s*name\s*=\s*["']([^"']+)/m.exec(py)?.[1] ?? (dir.split('/').pop() || null);
      return { dir: dir || '.', name, isLib: true, isTestSupport: isTestSupportName(name ?? '') };
    }
    return null;
  }

  /** Without a repository: the folder above src/, tests/, benches/ or examples/, else the top folder pair. */
  private guess(path: string): CrateInfo | null {
    const m =
      /^(.*?)(?:^|\/)(src|lib|tests|test|benches|examples)\//.exec(path) ??
      /^((?:packages|apps|libs|crates)\/[^/]+)\//.exec(path);
    let dir: string | null = m ? (m[1] ?? '') : null;
    if (dir === null) {
      const manifest = [...this.changedPaths].find(
        (p) => p.endsWith('Cargo.toml') && path.startsWith(p.slice(0, -'Cargo.toml'.length)),
      );
      dir = manifest ? manifest.slice(0, -'/Cargo.toml'.length) : null;
    }
    if (dir === null) return null;
    const name = dir.split('/').pop() || null;
    const isLib = !/(^|\/)src\/(main\.rs|bin\/)/.test(path);
    return { dir: dir || '.', name, isLib, isTestSupport: isTestSupportName(name ?? '') };
  }
}

export const isTestSupportName = (name: string) => TEST_SUPPORT.test(name.split('/').pop() ?? name);
