// The agent's running state as the router reads it, turn by turn (MODEL-POLICY.md §3): what the change measures so
// far (or, before any edit, what its scope says: a plan step's estimate and flags, crates the instruction names, a
// selection in unsafe code), failed check loops, the user's "use cloud", a low-confidence finish, an ask_user.
import type { Classification } from '../classifier/types.js';
import type { RiskFlag } from '../policy/constants.js';
import type { RouteRequest } from '../router/types.js';

/** What is known of the work before any edit. */
export interface Scope {
  estimate_lines?: number;
  flags?: RiskFlag[];
  cross_crate?: boolean;
  architectural?: boolean;
  /** Where it was read from, for the transcript (a plan step, the instruction, the selection). */
  why: string[];
}

export interface RunningState {
  scope: Scope;
  measured: Classification | null;
  failedLoops: number;
  userCloud: boolean;
  lowConfidence: number | null;
  ambiguous: boolean;
  localUnavailable: boolean;
}

/** A task's state before its first turn. */
export const initialState = (scope: Scope = { why: [] }): RunningState => ({
  scope,
  measured: null,
  failedLoops: 0,
  userCloud: false,
  lowConfidence: null,
  ambiguous: false,
  localUnavailable: false,
});

export function routeRequest(s: RunningState): Omit<RouteRequest, 'role'> {
  const m = s.measured;
  const flags = [...new Set([...(s.scope.flags ?? []), ...(m?.risk_flags ?? [])])].sort() as RiskFlag[];
  const crossCrate = (s.scope.cross_crate ?? false) || (m?.cross_crate ?? false);
  const req: Omit<RouteRequest, 'role'> = { failed_loops: s.failedLoops };
  if (m || flags.length || crossCrate)
    req.change = {
      lines_changed: m?.lines_changed ?? 0,
      high_risk: (m?.high_risk ?? false) || flags.length > 0 || crossCrate,
      risk_flags: flags,
      cross_crate: crossCrate,
    };
  if (s.scope.estimate_lines !== undefined) req.scope_estimate_lines = s.scope.estimate_lines;
  const signals: NonNullable<RouteRequest['signals']> = {};
  if (s.userCloud) signals.user_requests_cloud = true;
  if (s.lowConfidence !== null) signals.local_confidence = s.lowConfidence;
  if (s.ambiguous) signals.requirements_ambiguous = true;
  if (s.scope.architectural) signals.architectural_refactor = true;
  if (s.localUnavailable) signals.local_available = false;
  if (Object.keys(signals).length) req.signals = signals;
  return req;
}

/** The lane of a decision as the task view shows it. */
export const laneOf = (d: { location: string; provider: string; model: string | null; rule: string }) =>
  `${d.location} ${d.provider}/${d.model ?? '-'} (${d.rule})`;

/** Crates of the workspace that an instruction names (two or more: a cross-crate change before any edit). */
export function cratesNamed(instruction: string, crates: string[]): string[] {
  const text = instruction.toLowerCase();
  return crates.filter((c) =>
    new RegExp(`(^|[^a-z0-9_-])${c.toLowerCase().replace(/[-_]/g, '[-_]')}($|[^a-z0-9_-])`).test(text),
  );
}

/** A selection in unsafe or FFI code measures as such before any edit. */
export function selectionFlags(selection: string): RiskFlag[] {
  return /\bunsafe\b|\bextern\s+"[A-Za-z]+"|#\[no_mangle\]|\*mut\s|\*const\s/.test(selection) ? ['unsafe_ffi'] : [];
}
