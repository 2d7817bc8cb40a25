// A task's evidence folder is bounded (policy agent.max_evidence_bytes): past the bound, turn requests and tool
// results are kept by their hash only, and the record says so; diffs and check logs are never dropped.
import { createHash } from 'node:crypto';
import type { TaskEvidence } from '../evidence/taskEvidence.js';
import { folderBytes } from '../util/du.js';

export const DEFAULT_MAX_EVIDENCE_BYTES = 64 * 1024 * 1024;

/** A text kept by its hash only. */
export const hashOnly = (text: string) => ({
  kept_as_hash: true,
  sha256: createHash('sha256').update(text).digest('hex'),
  bytes: text.length,
});

export class EvidenceBound {
  /** What the folder holds, as last measured plus what was appended since. */
  private bytes = 0;

  constructor(
    private readonly evidence: TaskEvidence,
    private readonly max: number,
  ) {}

  /** A turn's request: whole while the folder is under its bound, else its hash and why. */
  request(name: string, body: object): void {
    const text = JSON.stringify(body);
    this.bytes = folderBytes(this.evidence.dir) + text.length;
    if (this.bytes <= this.max) {
      this.evidence.write(name, body);
      return;
    }
    this.evidence.write(name, {
      ...hashOnly(text),
      why:
        `the evidence folder reached its bound (${this.max} bytes, policy agent.max_evidence_bytes): turn requests ` +
        'and tool results are kept as hashes from here on; diffs and check logs are always kept',
    });
  }

  /** A tool call's record in tools.jsonl (the model still got the whole result). */
  tool(record: { turn: number; id: string; name: string; arguments: string; ok: boolean }, result: string): void {
    this.bytes += result.length + record.arguments.length;
    const kept = this.bytes <= this.max ? { result } : hashOnly(result);
    const args = record.arguments.length <= 100_000 ? record.arguments : hashOnly(record.arguments);
    this.evidence.append('tools.jsonl', { ...record, arguments: args, ...kept });
  }
}
