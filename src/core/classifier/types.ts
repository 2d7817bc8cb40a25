// The Classification of CONTRACTS.md, and the pieces the classifier passes around.
import type { RiskFlag } from '../policy/constants.js';

export type FileKind = 'source' | 'test' | 'manifest' | 'build' | 'doc' | 'other';
export type Lane = 'local_reflex' | 'local' | 'cloud';

export interface Evidence {
  flag: RiskFlag;
  path: string;
  line: number;
  node: string;
  text: string;
  /** Extension: why this evidence raises the flag. */
  why?: string;
  /** Extension: `before` when the line is in the base revision (removed code), else `after`. */
  side?: 'before' | 'after';
}

export interface FileSummary {
  path: string;
  old_path?: string;
  language: string;
  crate: string | null;
  kind: FileKind;
  added: number;
  removed: number;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'binary';
  counted: boolean;
}

export interface Classification {
  lines_added: number;
  lines_removed: number;
  lines_changed: number;
  files: FileSummary[];
  crates_touched: string[];
  cross_crate: boolean;
  risk_flags: RiskFlag[];
  evidence: Evidence[];
  high_risk: boolean;
  lane: Lane;
  reasons: string[];
  // Extensions:
  shared_state: boolean;
  partial: boolean;
  warnings: string[];
}

/** What the classifier may read from the repository: all optional, all synchronous-free of the editor. */
export interface RepoReader {
  /** The file's text at the base revision (or the working tree's base), undefined when absent. */
  readBase(path: string): Promise<string | undefined>;
  /** A file of the current tree (Cargo.toml lookups), undefined when absent. */
  readCurrent(path: string): Promise<string | undefined>;
}
