// What the work measures before any edit (MODEL-POLICY.md §3 "Direct to cloud"): a plan step's estimate and risk
// flags, the crates an instruction names (two or more: cross-crate), a selection in unsafe or FFI code.
import { crateNames } from './checks.js';
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
    const step = stepScope(s.step);
    for (const f of step.flags ?? []) flags.add(f);
    if (step.estimate_lines !== undefined) scope.estimate_lines = step.estimate_lines;
    if (step.architectural) scope.architectural = true;
    scope.why.push(...step.why);
  }
  if (flags.size) scope.flags = [...flags].sort();
  return scope;
}

/** What a plan step says of its work before any edit: its estimate, its flags, and (§3) a multi-file step the
 * Architect sends to the cloud, an architectural refactor. The plan review's lane badges read the same. */
export function stepScope(step: NonNullable<ScopeInput['step']>): Scope {
  const scope: Scope = {
    why: [
      `the plan step "${step.title ?? ''}" estimates ${step.estimated_lines ?? '?'} lines` +
        (step.risk_flags?.length ? ` with ${step.risk_flags.join(', ')}` : ''),
    ],
  };
  if (step.risk_flags?.length) scope.flags = [...step.risk_flags].sort();
  if (step.estimated_lines !== undefined) scope.estimate_lines = step.estimated_lines;
  if (step.suggested_lane === 'cloud' && (step.files?.length ?? 0) > 1) {
    scope.architectural = true;
    scope.why.push(`the Architect suggests the cloud for this step across ${step.files!.length} files`);
  }
  return scope;
}
