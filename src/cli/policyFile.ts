import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblems, parsePolicyText, type PolicyLoad, type PolicyWarning } from '../core/policy/load.js';
import { policySizeProblem } from '../core/policy/bounds.js';
import type { Policy } from '../core/policy/schema.js';
import { BUNDLED_SOURCE, bundledPolicy } from '../core/policy/store.js';
import { readInput, UsageError, io } from './io.js';

/** --policy F, else the workspace's .switchyard/policy.json, else the bundled policy. Invalid files exit 2. */
export function resolvePolicy(
  file: string | undefined,
  cwd = io().cwd,
): { policy: Policy; source: string; warnings: PolicyWarning[] } {
  const path =
    file ?? (existsSync(join(cwd, '.switchyard', 'policy.json')) ? join(cwd, '.switchyard', 'policy.json') : undefined);
  if (!path) return { policy: bundledPolicy(), source: BUNDLED_SOURCE, warnings: [] };
  const load = loadPolicyFile(path, '--policy');
  if (!load.ok) throw new UsageError(`invalid policy (nothing was routed):\n${formatProblems(path, load.problems)}`);
  return { policy: load.policy, source: path, warnings: load.warnings };
}

/** A policy file, refused by its size before it is read (a file of gigabytes never reaches memory). */
export function loadPolicyFile(path: string, what: string): PolicyLoad {
  let size = 0;
  try {
    size = path === '-' ? 0 : statSync(path).size;
  } catch {
    // readInput says what is wrong with the path
  }
  const tooBig = policySizeProblem(size);
  if (tooBig) return { ok: false, problems: [tooBig], source: path };
  return parsePolicyText(readInput(path, what), path);
}
