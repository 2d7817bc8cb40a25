// classifyDiff: a unified diff in, a Classification out (size, crates, risk flags with evidence, lane).
import { RISK_FLAGS, type RiskFlag } from '../policy/constants.js';
import type { Policy } from '../policy/schema.js';
import { CrateMap, type CrateInfo } from './crates.js';
import type { Tree } from 'web-tree-sitter';
import { parserFor, type GrammarName } from './grammar.js';
import { analyzeCargoToml, analyzePackageJson } from './manifest.js';
import { moduleReach } from './modules.js';
import { countsTowardSize, kindOf, languageOf, SWITCHYARD_FILES } from './paths.js';
import { analyzeRust } from './rust.js';
import { analyzeScript, type ScriptLanguage } from './scripting.js';
import { fragmentSides, fullSides, type SideText } from './sides.js';
import type { Classification, Evidence, FileSummary, Lane, RepoReader } from './types.js';
import { parseUnifiedDiff, type FilePatch } from './unifiedDiff.js';
import { PERSISTENCE_PATH, SECURITY_PATH } from './vocab.js';

export interface ClassifyOptions {
  policy: Policy;
  repo?: RepoReader;
}

/** Flags in the order the policy lists them (constants.ts). */
const FLAG_ORDER: readonly RiskFlag[] = RISK_FLAGS;
const MAX_EVIDENCE_PER_FLAG = 25;

export async function classifyDiff(diffText: string, opts: ClassifyOptions): Promise<Classification> {
  const parsed = parseUnifiedDiff(diffText);
  const warnings = [...parsed.problems];
  const crates = new CrateMap(opts.repo, new Set(parsed.files.map((f) => f.newPath ?? f.oldPath ?? '')));
  const files: FileSummary[] = [];
  const evidence: Evidence[] = [];
  const sourceCrates = new Map<string, string>(); // crate dir -> first path
  let sharedState = false;

  for (const f of parsed.files) {
    for (const p of f.problems) warnings.push(p);
    const path = (f.newPath ?? f.oldPath)!;
    const kind = kindOf(path);
    const language = languageOf(path);
    const added = f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '+').length, 0);
    const removed = f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '-').length, 0);
    const crate = await crates.crateOf(path);
    const status: FileSummary['status'] = f.binary
      ? 'binary'
      : !f.oldPath
        ? 'added'
        : !f.newPath
          ? 'deleted'
          : f.rename
            ? 'renamed'
            : 'modified';
    const isTest = kind === 'test' || !!crate?.isTestSupport;
    files.push({
      path,
      ...(f.rename && f.oldPath !== path ? { old_path: f.oldPath! } : {}),
      language,
      crate: crate?.dir ?? null,
      kind: isTest && kind === 'source' ? 'test' : kind,
      added,
      removed,
      status,
      counted: countsTowardSize(path, kind) && !f.binary,
    });
    if (f.binary) {
      warnings.push(`${path}: binary file; its content was not classified`);
      continue;
    }
    if (f.modeOnly) warnings.push(`${path}: file mode changed`);

    const found = await analyzeFile(f, path, kind, crate, isTest, opts.repo, warnings);
    for (const e of found.evidence) evidence.push(e); // no argument spread: its size grows with the diff
    sharedState ||= found.sharedState;
    if (kind === 'source' && !isTest && crate && found.codeChanged) {
      if (!sourceCrates.has(crate.dir)) sourceCrates.set(crate.dir, path);
    }
  }

  return conclude({ files, evidence, warnings, sharedState, sourceCrates }, opts.policy);
}

/** From the files and their evidence: the flags (evidence capped per flag), the size, the lane and its reasons. */
function conclude(
  m: {
    files: FileSummary[];
    evidence: Evidence[];
    warnings: string[];
    sharedState: boolean;
    sourceCrates: Map<string, string>;
  },
  policy: Policy,
): Classification {
  const { files, evidence, warnings, sharedState, sourceCrates } = m;
  const opts = { policy };
  if (sourceCrates.size >= 2) {
    const dirs = [...sourceCrates.keys()].sort();
    evidence.push({
      flag: 'cross_crate',
      path: sourceCrates.get(dirs[1]!)!,
      line: 0,
      node: 'crate',
      text: dirs.join(', '),
      why: `${dirs.length} crates touched: ${dirs.join(', ')}`,
    });
  }

  // Keep the evidence readable: at most MAX_EVIDENCE_PER_FLAG per flag, in file then line order.
  const perFlag = new Map<RiskFlag, Evidence[]>();
  for (const e of evidence) {
    const l = perFlag.get(e.flag) ?? [];
    if (l.length < MAX_EVIDENCE_PER_FLAG) l.push(e);
    perFlag.set(e.flag, l);
  }
  const risk_flags = FLAG_ORDER.filter((f) => perFlag.has(f));
  const kept = risk_flags.flatMap((f) => perFlag.get(f)!);
  const counted = files.filter((f) => f.counted);
  const lines_added = counted.reduce((n, f) => n + f.added, 0);
  const lines_removed = counted.reduce((n, f) => n + f.removed, 0);
  const lines_changed = lines_added + lines_removed;
  const hr = new Set<string>(opts.policy.high_risk.flags);
  const high_risk = risk_flags.some((f) => hr.has(f));
  const t = opts.policy.escalation.implementer;
  const lane: Lane =
    high_risk || lines_changed > t.direct_cloud_over_lines
      ? 'cloud'
      : lines_changed < t.small_diff_max_lines
        ? 'local_reflex'
        : 'local';
  const reasons = risk_flags.map((f) => {
    const e = perFlag.get(f)![0]!;
    return `${f}: ${e.why ?? e.node}${e.line ? ` (${e.path}:${e.line})` : ` (${e.path})`}`;
  });
  reasons.push(
    lane === 'cloud'
      ? high_risk
        ? `lane cloud: high risk (${risk_flags.filter((f) => hr.has(f)).join(', ')})`
        : `lane cloud: lines_changed=${lines_changed} > ${t.direct_cloud_over_lines}`
      : lane === 'local_reflex'
        ? `lane local_reflex: lines_changed=${lines_changed} < ${t.small_diff_max_lines}, no high-risk flag`
        : `lane local: ${t.small_diff_max_lines} <= lines_changed=${lines_changed} <= ${t.direct_cloud_over_lines}, no high-risk flag`,
  );
  const partial = warnings.some((w) => !/file mode changed/.test(w));
  if (partial && !high_risk)
    reasons.push('partial: part of the diff could not be read (see warnings); the risk may be understated');
  return {
    lines_added,
    lines_removed,
    lines_changed,
    files,
    crates_touched: [...new Set(files.filter((f) => f.crate && f.kind !== 'doc').map((f) => f.crate!))].sort(),
    cross_crate: sourceCrates.size >= 2,
    risk_flags,
    evidence: kept,
    high_risk,
    lane,
    reasons,
    shared_state: sharedState,
    partial,
    warnings,
  };
}

interface FileFindings {
  evidence: Evidence[];
  sharedState: boolean;
  codeChanged: boolean;
}

async function analyzeFile(
  f: FilePatch,
  path: string,
  kind: string,
  crate: CrateInfo | null,
  isTest: boolean,
  repo: RepoReader | undefined,
  warnings: string[],
): Promise<FileFindings> {
  const evidence: Evidence[] = [];
  let sharedState = false;
  const first = firstChange(f);
  const fileEvidence = (flag: RiskFlag, why: string): Evidence => ({
    flag,
    path,
    line: first.line,
    node: 'file',
    text: first.text,
    why,
    side: first.side,
  });
  const isCargo = /(^|\/)(Cargo|pyproject)\.toml$/.test(path);
  const isPackageJson = /(^|\/)package\.json$/.test(path);
  const script = scriptLanguage(path);
  if (f.hunks.length === 0) {
    const renamedModule = f.rename && crate?.isLib && kind === 'source' && !isTest && path.endsWith('.rs');
    return { evidence: renamedModule ? [moduleRenamed(f, path)] : [], sharedState, codeChanged: f.rename };
  }
  const sides = await sidesOf(f, repo, warnings);
  let codeChanged = false;

  /** Runs an analysis on each side that has changed rows; evidence from the base side is marked removed. */
  const eachSide = async (
    analyze: (
      side: SideText,
    ) => Promise<{ evidence: Evidence[]; sharedState?: boolean }> | { evidence: Evidence[]; sharedState?: boolean },
  ) => {
    for (const [side, removedSide] of [
      [sides.after, false],
      [sides.before, true],
    ] as const) {
      if (!side || side.changed.size === 0) continue;
      const found = await analyze(side);
      for (const e of found.evidence)
        evidence.push(removedSide ? { ...e, why: `${e.why} (removed)`, side: 'before' } : { ...e, side: 'after' });
      sharedState ||= found.sharedState === true;
    }
  };
  if (path.endsWith('.rs')) {
    const isLib = !!crate?.isLib && !/(^|\/)(src\/main\.rs|src\/bin\/|build\.rs$)/.test(path);
    const reach = isLib && repo && crate ? await moduleReach(crate.dir, path, repo.readCurrent) : 'unknown';
    await eachSide((side) =>
      parsed('rust', side, (tree, lines) =>
        analyzeRust(
          { tree, changed: side.changed, lineOf: side.lineOf, lines },
          { path, isLib, isTestFile: isTest, moduleExported: reach !== 'private' },
        ),
      ),
    );
    codeChanged = changedCodeLines(f, path).length > 0;
  } else if (script) {
    await eachSide((side) =>
      parsed(script.grammar, side, (tree, lines) =>
        analyzeScript(
          { tree, changed: side.changed, lineOf: side.lineOf, lines },
          { path, language: script.language, isTestFile: isTest, isPackage: crate ? crate.isLib : !repo },
        ),
      ),
    );
    codeChanged = changedCodeLines(f, path).length > 0;
  } else if (isPackageJson || isCargo) {
    await eachSide((side) => ({ evidence: (isPackageJson ? analyzePackageJson : analyzeCargoToml)(path, side) }));
    codeChanged = evidence.length > 0;
  } else {
    codeChanged = changedCodeLines(f, path).length > 0;
  }
  if (codeChanged || SWITCHYARD_FILES.test(path))
    for (const e of pathFlags(path, kind, isTest, isCargo || isPackageJson)) evidence.push(fileEvidence(...e));
  return { evidence, sharedState, codeChanged };
}

/** A library's module file renamed: its public path changed. */
const moduleRenamed = (f: FilePatch, path: string): Evidence => ({
  flag: 'public_api',
  path,
  line: 0,
  node: 'file',
  text: `${f.oldPath} -> ${path}`,
  why: 'module file of a library renamed',
  side: 'after',
});

/** Parses a side with a grammar, hands the tree to a detector, and frees it. */
async function parsed<T>(
  grammar: GrammarName,
  side: SideText,
  detect: (tree: Tree, lines: string[]) => T,
): Promise<T | { evidence: Evidence[] }> {
  const tree = (await parserFor(grammar)).parse(side.text);
  if (!tree) return { evidence: [] };
  try {
    return detect(tree, side.text.split('\n'));
  } finally {
    tree.delete();
  }
}

/** Flags a changed file earns by what it is: build configuration, a security module, a schema or migration. */
function pathFlags(path: string, kind: string, isTest: boolean, manifest: boolean): [RiskFlag, string][] {
  // Switchyard's own files govern the agent (its routing, its command rules): any change to them counts, comments too.
  if (SWITCHYARD_FILES.test(path)) return [['build_tooling', 'policy file changed']];
  const out: [RiskFlag, string][] = [];
  if (kind === 'build' && !manifest) out.push(['build_tooling', 'build, toolchain or CI configuration changed']);
  if (isTest || !(kind === 'source' || kind === 'build' || kind === 'manifest' || kind === 'other')) return out;
  if (SECURITY_PATH.test(path) && kind === 'source')
    out.push(['security_sandbox', 'code in a security, auth or sandbox module changed']);
  if (PERSISTENCE_PATH.test(path)) out.push(['persistence_schema', 'migration, schema or wire-format file changed']);
  return out;
}

async function sidesOf(f: FilePatch, repo: RepoReader | undefined, warnings: string[]) {
  if (f.oldPath && repo) {
    const base = await repo.readBase(f.oldPath);
    if (base !== undefined) {
      const full = fullSides(base, f.hunks);
      if (full) return full;
      warnings.push(
        `${f.oldPath}: the hunks do not apply to the repository's copy; classified from the diff's context only`,
      );
    }
  }
  if (!f.oldPath && f.newPath) {
    const after: SideText = fragmentSides(f.hunks, true, false).after!;
    return { before: null, after, full: true };
  }
  return fragmentSides(f.hunks, !f.oldPath, !f.newPath);
}

/** The first added line (or, in a deletion, the first removed one): where file-level evidence points. */
function firstChange(f: FilePatch): { line: number; text: string; side: 'before' | 'after' } {
  let removed: { line: number; text: string; side: 'before' } | undefined;
  for (const h of f.hunks) {
    let n = h.newStart,
      o = h.oldStart;
    for (const l of h.lines) {
      if (l[0] === '+' && l.slice(1).trim())
        return { line: Math.max(1, n), text: l.slice(1).trim().slice(0, 160), side: 'after' };
      if (l[0] === '-' && l.slice(1).trim() && !removed)
        removed = { line: Math.max(1, o), text: l.slice(1).trim().slice(0, 160), side: 'before' };
      if (l[0] === ' ' || l[0] === '+') n++;
      if (l[0] === ' ' || l[0] === '-') o++;
    }
  }
  return removed ?? { line: 0, text: '', side: 'after' };
}

function changedCodeLines(f: FilePatch, path: string): string[] {
  const comment = /\.(ya?ml|toml|sh|py|cfg|ini|txt)$|(^|\/)(Makefile|justfile|Dockerfile)$/.test(path)
    ? /^\s*#/
    : /^\s*(\/\/|\/\*|\*)/;
  return f.hunks.flatMap((h) =>
    h.lines.filter((l) => (l[0] === '+' || l[0] === '-') && l.slice(1).trim() !== '' && !comment.test(l.slice(1))),
  );
}

function scriptLanguage(
  path: string,
): { language: ScriptLanguage; grammar: 'typescript' | 'tsx' | 'javascript' | 'python' } | null {
  if (/\.(ts|mts|cts)$/.test(path) && !path.endsWith('.d.ts')) return { language: 'typescript', grammar: 'typescript' };
  if (path.endsWith('.d.ts')) return { language: 'typescript', grammar: 'typescript' };
  if (path.endsWith('.tsx')) return { language: 'typescript', grammar: 'tsx' };
  if (/\.(js|jsx|mjs|cjs)$/.test(path)) return { language: 'javascript', grammar: 'javascript' };
  if (path.endsWith('.py')) return { language: 'python', grammar: 'python' };
  return null;
}
