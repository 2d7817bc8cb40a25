import { homedir } from 'node:os';
import { join } from 'node:path';
import { io } from './io.js';

/** --state DIR, else SWITCHYARD_STATE_DIR, else $XDG_STATE_HOME/switchyard (~/.local/state/switchyard). */
export function stateDir(flag: string | undefined): string {
  return (
    flag ??
    io().env.SWITCHYARD_STATE_DIR ??
    join(io().env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'switchyard')
  );
}
