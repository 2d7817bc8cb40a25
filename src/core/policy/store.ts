// The effective policy: the bundled default, or the workspace's .switchyard/policy.json when it is valid.
// A broken workspace file never replaces a valid policy: the last valid one stays in force.
import bundledJson from '../../../policy/model-policy.json';
import type { PolicyLoad, PolicyProblem, PolicyWarning } from './load.js';
import type { Policy } from './schema.js';

export const BUNDLED_SOURCE = 'bundled policy/model-policy.json';

/**
 * The default policy shipped with Switchyard. It is validated by the test suite (which also proves
 * that validation changes nothing in it), so it is used as is: starting up loads no validator.
 */
export function bundledPolicy(): Policy {
  return bundledJson as unknown as Policy;
}

/** parsePolicyText of ./load.js, passed in so that a host can load the validator lazily. */
export type ParsePolicy = (text: string, source: string) => PolicyLoad;

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

  /** @param parse the validator: the extension loads it on first use, so activation never pays for zod. */
  constructor(private readonly parse: ParsePolicy) {
    this.state = { policy: bundledPolicy(), source: BUNDLED_SOURCE, warnings: [], rejected: null };
  }

  get current(): PolicyState {
    return this.state;
  }

  /** Applies workspace policy text (or its absence). Returns the load result; on failure the previous policy stays. */
  applyWorkspaceText(text: string | undefined, source: string): PolicyLoad | null {
    if (text === undefined) {
      if (this.state.source !== BUNDLED_SOURCE || this.state.rejected) {
        this.set({ policy: bundledPolicy(), source: BUNDLED_SOURCE, warnings: [], rejected: null });
      }
      return null;
    }
    return this.applyWorkspaceLoad(this.parse(text, source));
  }

  /** Applies a workspace policy already loaded (or refused before it was read, by its size). */
  applyWorkspaceLoad(load: PolicyLoad): PolicyLoad {
    const { source } = load;
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
