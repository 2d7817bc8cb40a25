// What the work measures before any edit (MODEL-POLICY.md §3 "Direct to cloud"): a plan step's estimate and risk
// flags, the crates an instruction names (two or more: cross-crate), a selection in unsafe or FFI code.
import { crateNames } from '../implement/checks.js';
import type { RiskFlag } from '../policy/constants.js';
import { cratesNamed, selectionFlags, type Scope } from './state.js';
import type { Workspace } from './workspace.js';

export interface ScopeInput {
  instruction: string;
  selection?: string;
  step?: {
    estimated_lines?: number;
    risk_flags?: RiskFlag[];
    title?: string;
    files?: string[];
    suggested_lane?: 'local_reflex' | 'local' | 'cloud';
  };
}

/** The workspace's Cargo package names (each Cargo.toml's [package].name). */
export function crateNamesOf(ws: Workspace): string[] {
  const manifests = ws.files().filter((p) => p === 'Cargo.toml' || p.endsWith('/Cargo.toml'));
  return crateNames(
    ws.root,
    manifests.map((m) => (m === 'Cargo.toml' ? '.' : m.slice(0, -'/Cargo.toml'.length))),
  );
}

export function taskScope(ws: Workspace, s: ScopeInput): Scope {
  const scope: Scope = { why: [] };
  const named = cratesNamed(s.instruction, crateNamesOf(ws));
  if (named.length >= 2) {
    scope.cross_crate = true;
    scope.why.push(`the instruction names ${named.length} crates (${named.join(', ')})`);
  }
  const flags = new Set<RiskFlag>(s.selection ? selectionFlags(s.selection) : []);
  if (flags.size) scope.why.push('the selection is in unsafe or FFI code');
  if (s.step) {
    for (const f of s.step.risk_flags ?? []) flags.add(f);
    if (s.step.estimated_lines !== undefined) scope.estimate_lines = s.step.estimated_lines;
    scope.why.push(
      `the plan step "${s.step.title ?? ''}" estimates ${s.step.estimated_lines ?? '?'} lines` +
        (s.step.risk_flags?.length ? ` with ${s.step.risk_flags.join(', ')}` : ''),
    );
    // §3 "multi-file architectural refactor": the Architect sends a step that spans files to the cloud.
    if (s.step.suggested_lane === 'cloud' && (s.step.files?.length ?? 0) > 1) {
      scope.architectural = true;
      scope.why.push(`the Architect suggests the cloud for this step across ${s.step.files!.length} files`);
    }
  }
  if (flags.size) scope.flags = [...flags].sort();
  return scope;
}
