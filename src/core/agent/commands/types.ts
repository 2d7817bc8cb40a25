// The shape of a command's argument rules. A program's rules are data: one table per program (tables/*.ts) that
// names every flag, subcommand and positional argument known to be safe; the checker (check.ts) walks argv
// against it and asks for anything the table does not name. Deny by default: a flag missing from a table is not
// "probably fine", it asks.

/** What an argument (a positional, or a flag's value) may be. */
export type ArgKind =
  /** A switch: takes no value. */
  | 'none'
  /** A non-negative integer. */
  | 'number'
  /** Any text (a format string, a test-name filter). */
  | 'string'
  /** A file or folder that must resolve inside the workspace, lexically and through symlinks. */
  | 'path'
  /** A git revision, pattern or path: must not start with '-'; one that looks like a path or exists is a 'path'. */
  | 'ref'
  /** One of a fixed set of words. */
  | { readonly oneOf: readonly string[] }
  /** Text of a given shape; `what` names the shape in a why text. */
  | { readonly match: RegExp; readonly what: string };

/** A flag that takes a value, possibly optional. */
export interface FlagRule {
  readonly value: ArgKind;
  /**
   * The value may be left out. It is then only ever given glued (`--stat=10`, `-M50%`), never as the next
   * argument: the program does not read the next argument as its value, so neither may the checker, or a
   * positional would slip past the positional rules.
   */
  readonly optional?: boolean;
  /**
   * The value may start with '-' when given as the next argument (find's `-mtime -7`). Otherwise such a value asks:
   * the program might read it as a flag where the checker read a value.
   */
  readonly dashValue?: boolean;
}

/** A flag known to be unsafe; `unsafe` says why (it becomes the why text). */
export interface UnsafeFlag {
  readonly unsafe: string;
}

export type FlagSpec = ArgKind | FlagRule | UnsafeFlag;

/** Flag name (`--output`, `-n`, go's `-race`) to what it takes. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The rules of one subcommand (or of a program that has none). */
export interface SubTable {
  /** Named in why texts ("git log", "cargo test's test harness"). */
  readonly name?: string;
  readonly flags?: FlagTable;
  /** What positionals may be; an array gives them by position, its last kind repeating. Absent: none allowed. */
  readonly positionals?: ArgKind | readonly ArgKind[];
  readonly maxPositionals?: number;
  /** Positionals are only allowed when one of these flags is given (`git branch --list <pattern>`). */
  readonly positionalsNeed?: readonly string[];
  /** One of these flags must be given (`git cat-file -p|-t|-s|-e`). */
  readonly needOneOf?: readonly string[];
  /** Short switches combine (`-qv`); the program's own parser does this. */
  readonly combineShort?: boolean;
  /** A short flag's value may be glued to it (`-n5`, `-pcore`). */
  readonly gluedShort?: boolean;
  /** `-<n>` is a count (`git log -5`, `head -20`). */
  readonly numericShort?: boolean;
  /** Every argument is passed on as text to the repository's own code (an npm script's arguments). */
  readonly free?: boolean;
  /** The rules after `--`; absent: a `--` asks. */
  readonly afterDashDash?: SubTable;
}

/** One program's rules. The SubTable fields are the program's own when it has no subcommands. */
export interface ProgramTable extends SubTable {
  /** The program's name as argv[0] gives it (a basename, compared exactly). */
  readonly program: string;
  /** Arguments that must come first, exactly: `python3 -m pytest` is the only python3 that runs unattended. */
  readonly lead?: readonly string[];
  /** Flags before the subcommand. */
  readonly global?: FlagTable;
  /** The global flags are also accepted after the subcommand (cargo's and npm's parsers read them anywhere). */
  readonly globalAnywhere?: boolean;
  readonly subcommands?: Readonly<Record<string, SubTable>>;
  /** Global flags alone, no subcommand, are fine (`git --version`). */
  readonly bareOk?: boolean;
  /**
   * Flags that never run unattended, wherever they stand before `--` (name to why). Checked on the raw arguments
   * too, so a flag the checker took for another flag's value still asks.
   */
  readonly unsafe?: Readonly<Record<string, string>>;
  /** Argument shapes that never run unattended before `--` (cargo's `+toolchain`). */
  readonly unsafePatterns?: readonly { readonly match: RegExp; readonly why: string }[];
  /** Flags are single-dash words (go's `-race`) and `--race` means the same; `-v=false` is fine for a switch. */
  readonly singleDashLong?: boolean;
  /** Every argument, or `--flag=value` value, that looks like a path must be inside the workspace, whatever its role. */
  readonly pathLikeAnywhere?: boolean;
}

/** Where a command runs: the workspace root and the command's working folder (absolute). */
export interface CommandContext {
  readonly root: string;
  readonly cwd: string;
}
