// A worker thread's share of a Stage 0 build: it reads and tokenizes its slice of the files and hands back the
// documents (typed arrays, transferred, not copied) for the main thread to merge. The extension host's own
// thread stays free while a large workspace is indexed.
import { parentPort, workerData } from 'node:worker_threads';
import { LexicalIndex } from './lexical.js';
import { loadText } from './walk.js';

export interface WorkerInput {
  root: string;
  files: string[];
  maxFileBytes: number;
}
export type WorkerMessage =
  | { type: 'progress'; done: number }
  | {
      type: 'done';
      part: import('./lexical.js').IndexPart;
      skipped: { binary: number; too_large: number; unreadable: number };
    };

if (parentPort) {
  const { root, files, maxFileBytes } = workerData as WorkerInput;
  const ix = new LexicalIndex();
  const skipped = { binary: 0, too_large: 0, unreadable: 0 };
  let done = 0;
  for (const path of files) {
    const r = loadText(root, path, maxFileBytes);
    if ('text' in r) ix.add(path, r.text);
    else skipped[r.skipped]++;
    if (++done % 256 === 0) parentPort.postMessage({ type: 'progress', done } satisfies WorkerMessage);
  }
  const part = ix.exportPart();
  const transfer = part.docs.flatMap((d) => [d.ids.buffer, d.body.buffer, d.inPath.buffer]) as ArrayBuffer[];
  parentPort.postMessage({ type: 'done', part, skipped } satisfies WorkerMessage, transfer);
}
