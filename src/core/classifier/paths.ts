// What a path is: its language, its kind, and whether its lines count toward a change's size.
import type { FileKind } from './types.js';

const LOCK_FILES = new RegExp(
  String.raw`(^|\/)(Cargo\.lock|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|` +
    String.raw`poetry\.lock|uv\.lock|Gemfile\.lock|go\.sum|flake\.lock)$`,
);
const SNAPSHOTS = /(\.snap(\.new)?|\.pending-snap)$|(^|\/)__snapshots__\/|(^|\/)snapshots\//;
const DOCS = /\.(md|mdx|markdown|rst|adoc|txt)$|(^|\/)(docs?|book)\//i;
const BUILD = new RegExp(
  String.raw`(^|\/)(tsconfig[\w.-]*\.json|jsconfig\.json|(esbuild|webpack|vite|vitest|` +
    String.raw`rollup|babel|jest|eslint|prettier|tsup|turbo)\.config\.[cm]?[jt]s|\.eslintrc[\w.]*|` +
    String.raw`\.npmrc|\.nvmrc|pnpm-workspace\.yaml|setup\.py|setup\.cfg|requirements[\w.-]*\.txt|` +
    String.raw`tox\.ini|noxfile\.py|Pipfile|\.pre-commit-config\.yaml|build\.rs|rust-toolchain(\.toml)?|` +
    String.raw`clippy\.toml|\.clippy\.toml|rustfmt\.toml|\.rustfmt\.toml|deny\.toml|Makefile|makefile|GNUmakefile|` +
    String.raw`conftest\.py|pytest\.ini|\.envrc|` +
    String.raw`justfile|Dockerfile|\.config\/nextest\.toml|\.cargo\/config(\.toml)?)$|` +
    String.raw`(^|\/)\.github\/workflows\/|(^|\/)\.gitlab-ci\.yml$|(^|\/)\.circleci\/|(^|\/)\.devcontainer\/|` +
    String.raw`^\.vscode\/|^\.switchyard\/`,
);
/** Switchyard's own files (the policy, rules, plans): a change to them changes what governs the agent. */
export const SWITCHYARD_FILES = /^\.switchyard\//;
const TEST_DIRS = new RegExp(
  String.raw`(^|\/)(tests|test|benches|examples|fuzz|testdata|test-support|test_support|` +
    String.raw`test-utils|test_utils|fixtures)\/`,
);

export function languageOf(path: string): string {
  if (path.endsWith('.rs')) return 'rust';
  if (/\.(toml)$/.test(path)) return 'toml';
  if (/\.(ts|tsx|mts|cts)$/.test(path)) return 'typescript';
  if (/\.(js|jsx|mjs|cjs)$/.test(path)) return 'javascript';
  if (path.endsWith('.py')) return 'python';
  if (/\.(md|mdx|markdown)$/.test(path)) return 'markdown';
  if (/\.(ya?ml)$/.test(path)) return 'yaml';
  if (path.endsWith('.json')) return 'json';
  return 'other';
}

export function kindOf(path: string): FileKind {
  if (LOCK_FILES.test(path)) return 'other';
  if (/(^|\/)Cargo\.toml$|(^|\/)package\.json$|(^|\/)pyproject\.toml$/.test(path)) return 'manifest';
  if (BUILD.test(path)) return 'build';
  if (SNAPSHOTS.test(path)) return 'test';
  if (DOCS.test(path) && !/\.(rs|ts|js|py)$/.test(path)) return 'doc';
  if (
    TEST_DIRS.test(path) ||
    /(_test|_tests|\.test|\.spec)\.(rs|ts|tsx|js|py)$/.test(path) ||
    /(^|\/)tests?\.rs$/.test(path) ||
    /(^|\/)test_[^/]+\.py$/.test(path)
  )
    return 'test';
  if (/\.(rs|ts|tsx|mts|cts|js|jsx|mjs|cjs|py|c|h|cc|cpp|go|java|kt|swift|proto|sql)$/.test(path)) return 'source';
  return 'other';
}

/** Lines of source, test, build files and manifests count; lock files, snapshots and docs never do. */
export function countsTowardSize(path: string, kind: FileKind): boolean {
  if (LOCK_FILES.test(path) || SNAPSHOTS.test(path)) return false;
  return kind === 'source' || kind === 'test' || kind === 'manifest' || kind === 'build';
}
