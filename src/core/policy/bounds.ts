// The bounds of a policy file that hold before the validator loads: the editor checks the size before it reads
// the file (this module has no dependencies, so activation does not pay for zod).

export interface PolicyProblem {
  /** JSON path of the field, e.g. "roles.judge.location"; "" for the whole file. */
  field: string;
  reason: string;
  line: number; // 1-based; 0 when unknown
  column: number; // 1-based; 0 when unknown
}

/**
 * A policy file is a small team document (the bundled one is about 20 KB): 1 MiB leaves fifty times that, and
 * refuses at once what would otherwise cost the editor's shared extension host seconds and gigabytes.
 */
export const MAX_POLICY_BYTES = 1024 * 1024;

export const wholeFile = (reason: string): PolicyProblem => ({ field: '', reason, line: 0, column: 0 });

/** Refuses a file by its size before anything reads it whole (the readers call this with the file's size). */
export function policySizeProblem(bytes: number): PolicyProblem | null {
  if (bytes <= MAX_POLICY_BYTES) return null;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return wholeFile(
    `the file is ${mb(bytes)}; a policy file may be at most ${mb(MAX_POLICY_BYTES)} (policies are small)`,
  );
}
