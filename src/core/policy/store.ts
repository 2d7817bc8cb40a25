// The effective policy: the bundled default, or the workspace's .switchyard/policy.json when it is valid.
// A broken workspace file never replaces a valid policy: the last valid one stays in force.
import bundledJson from '../../../policy/model-policy.json';
import { parsePolicyText, type PolicyLoad, type PolicyProblem, type PolicyWarning } from './load.js';
import { PolicySchema, type Policy } from './schema.js';

export const BUNDLED_SOURCE = 'bundled policy/model-policy.json';

let bundled: Policy | undefined;
/** The default policy shipped with Switchyard (validated once). */
export function bundledPolicy(): Policy {
  bundled ??= PolicySchema.parse(bundledJson);
  return bundled;
}

export interface PolicyState {
  policy: Policy;
  source: string;
  warnings: PolicyWarning[];
  /** Problems of the last file that was refused, kept so the user can be shown them. */
  rejected: { source: string; problems: PolicyProblem[] } | null;
}

export class PolicyStore {
  private state: PolicyState;
  private readonly listeners = new Set<(s: PolicyState) => void>();

  constructor() {
    this.state = { policy: bundledPolicy(), source: BUNDLED_SOURCE, warnings: [], rejected: null };
  }

  get current(): PolicyState { return this.state; }

  /** Applies workspace policy text (or its absence). Returns the load result; on failure the previous policy stays. */
  applyWorkspaceText(text: string | undefined, source: string): PolicyLoad | null {
    if (text === undefined) {
      this.set({ policy: bundledPolicy(), source: BUNDLED_SOURCE, warnings: [], rejected: null });
      return null;
    }
    const load = parsePolicyText(text, source);
    if (load.ok) this.set({ policy: load.policy, source, warnings: load.warnings, rejected: null });
    else this.set({ ...this.state, rejected: { source, problems: load.problems } });
    return load;
  }

  onDidChange(fn: (s: PolicyState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(s: PolicyState): void {
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }
}
