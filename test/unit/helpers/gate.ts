// Messages from a view reach a controller through the one gate the panel host uses (validateMessage): the tests
// send raw messages the same way, so a hostile one is dropped and logged exactly as in the editor.
import type { z } from 'zod';
import { validateMessage } from '../../../src/core/protocol/validate.js';

export const viaGate =
  <T>(schema: z.ZodType<T>, view: string, handle: (m: T) => Promise<void>, warn: (s: string) => void) =>
  (raw: unknown): Promise<void> => {
    const m = validateMessage(schema, raw, view, warn);
    return m ? handle(m) : Promise.resolve();
  };
