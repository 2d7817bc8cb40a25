// A check's output as it arrives, for the people watching (the task view, the output channel, the CLI): whole lines
// (a secret is masked per line, so a line is never shown in halves), cargo's JSON messages rendered as the compiler
// would print them. What the model gets is the bounded summary of checks.ts, not this.
import type { Redactor } from '../evidence/redact.js';

/** Where a check's lines go: the step (its name, `cargo test -p core`) and one or more whole lines. */
export type CheckOutput = (step: string, text: string) => void;

/** A partial line longer than this is passed on without its newline (minified output, a progress bar). */
const MAX_PARTIAL = 64 * 1024;
/** What is kept back of such a line, so that a secret at the cut is still masked whole in the next piece. */
const KEEP_BACK = 512;

interface CargoMessage {
  reason?: string;
  success?: boolean;
  fresh?: boolean;
  target?: { name?: string };
  message?: { rendered?: string | null; message?: string };
}

/**
 * One line of `cargo --message-format=json` as a person reads it: a compiler message as the compiler renders it,
 * "compiled NAME" for a crate built now (fresh ones say nothing), the end of the build; a line that is not one of
 * cargo's messages as it is. Null: nothing to show.
 */
export function renderCargoLine(line: string): string | null {
  if (!line.startsWith('{')) return `${line}\n`;
  let m: CargoMessage;
  try {
    m = JSON.parse(line) as CargoMessage;
  } catch {
    return `${line}\n`;
  }
  switch (m.reason) {
    case 'compiler-message': {
      const text = m.message?.rendered ?? m.message?.message ?? '';
      return text ? (text.endsWith('\n') ? text : `${text}\n`) : null;
    }
    case 'compiler-artifact':
      return m.fresh === false && m.target?.name ? `compiled ${m.target.name}\n` : null;
    case 'build-finished':
      return `build finished: ${m.success ? 'success' : 'failed'}\n`;
    default:
      return null; // build-script-executed and the like: nothing a person needs
  }
}

/**
 * Splits a stream into whole lines and passes each on (through `render` when given, which may drop a line). `end`
 * passes on what is left without a newline.
 */
export function lineSplitter(out: (text: string) => void, render?: (line: string) => string | null) {
  let partial = '';
  const emit = (lines: string[]) => {
    const shown = render ? lines.map(render).filter((l): l is string => l !== null) : lines.map((l) => `${l}\n`);
    if (shown.length) out(shown.join(''));
  };
  return {
    push(chunk: string): void {
      partial += chunk;
      const cut = partial.lastIndexOf('\n');
      if (cut >= 0) {
        emit(partial.slice(0, cut).split('\n'));
        partial = partial.slice(cut + 1);
      }
      if (partial.length > MAX_PARTIAL) {
        out(partial.slice(0, -KEEP_BACK));
        partial = partial.slice(-KEEP_BACK);
      }
    },
    end(): void {
      if (partial) emit([partial]);
      partial = '';
    },
  };
}

const KEY_BEGIN = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
const KEY_END = /-----END (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Masks secrets in whole lines as they stream: the redactor per piece, and a private key block (which spans lines,
 * so no one piece holds it whole) from its BEGIN line to its END line.
 */
export function streamRedactor(redactor: Redactor): (text: string) => string {
  let inKey = false;
  return (text) => {
    const out: string[] = [];
    for (const line of text.split(/(?<=\n)/)) {
      if (!inKey && KEY_BEGIN.test(line) && !KEY_END.test(line)) {
        inKey = true;
        out.push(`${line.slice(0, line.search(KEY_BEGIN))}[REDACTED]\n`);
      } else if (inKey) {
        if (KEY_END.test(line)) {
          inKey = false;
          const rest = line.slice(line.search(KEY_END)).replace(KEY_END, '');
          if (rest.trim()) out.push(redactor.redact(rest));
        }
      } else out.push(redactor.redact(line));
    }
    return out.join('');
  };
}
