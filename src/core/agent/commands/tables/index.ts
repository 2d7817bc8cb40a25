// Every program that has argument rules, by name. A program listed here is checked argument by argument whoever
// allowed it; one not listed runs with any arguments only on the user's own allowlist.
import type { ProgramTable } from '../types.js';
import { CARGO } from './cargo.js';
import { GIT } from './git.js';
import { GO } from './go.js';
import { MAKE } from './make.js';
import { NPM, PNPM, YARN } from './npm.js';
import { PYTEST_TABLE, PYTHON, PYTHON3 } from './python.js';
import { BASE64, CAT, CUT, ECHO, FIND, GREP, HEAD, LS, PWD, RG, SED, SORT, STAT, TAIL, TREE, WC } from './readonly.js';

const ALL: readonly ProgramTable[] = [
  GIT,
  CARGO,
  NPM,
  PNPM,
  YARN,
  GO,
  PYTEST_TABLE,
  PYTHON3,
  PYTHON,
  MAKE,
  LS,
  CAT,
  HEAD,
  TAIL,
  WC,
  GREP,
  RG,
  FIND,
  TREE,
  PWD,
  ECHO,
  SORT,
  BASE64,
  STAT,
  CUT,
  SED,
];

export const TABLES: ReadonlyMap<string, ProgramTable> = new Map(ALL.map((t) => [t.program, t]));
