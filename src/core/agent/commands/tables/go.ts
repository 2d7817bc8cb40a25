// go: build, test, vet, list, env (reading only), version. Output and input files (-o, -modfile, -C,
// -coverprofile, …) must be inside the workspace. Flags that run another program or hand flags to the compiler
// and linker ask: -toolexec and -exec run any program, -vettool too, -ldflags can name the external linker
// (`-extld=sh`), -gcflags/-asmflags can pass the compiler its own -o; -overlay and -pkgdir swap in other files.
import type { ArgKind, FlagTable, ProgramTable, SubTable } from '../types.js';

/** Package patterns and files (`./...`, `./cmd/x`, `example.com/m/pkg`). */
const PACKAGE: ArgKind = 'ref';

const BUILD: FlagTable = {
  '-a': 'none',
  '-n': 'none',
  '-x': 'none',
  '-v': 'none',
  '-work': 'none',
  '-race': 'none',
  '-msan': 'none',
  '-asan': 'none',
  '-cover': 'none',
  '-covermode': { value: { oneOf: ['set', 'count', 'atomic'] } },
  '-coverpkg': 'string',
  '-p': 'number',
  '-tags': 'string',
  '-trimpath': 'none',
  '-mod': { value: { oneOf: ['readonly', 'vendor', 'mod'] } },
  '-modfile': 'path',
  '-modcacherw': 'none',
  '-buildvcs': { value: { oneOf: ['true', 'false', 'auto'] } },
  '-C': 'path',
  '-o': 'path',
  '-json': 'none',
  '-pgo': 'path',
};

const TEST: FlagTable = {
  ...BUILD,
  '-run': 'string',
  '-skip': 'string',
  '-bench': 'string',
  '-benchtime': 'string',
  '-benchmem': 'none',
  '-count': 'number',
  '-cpu': 'string',
  '-failfast': 'none',
  '-fullpath': 'none',
  '-list': 'string',
  '-parallel': 'number',
  '-short': 'none',
  '-timeout': 'string',
  '-shuffle': 'string',
  '-vet': 'string',
  '-c': 'none',
  '-coverprofile': 'path',
  '-cpuprofile': 'path',
  '-memprofile': 'path',
  '-blockprofile': 'path',
  '-mutexprofile': 'path',
  '-trace': 'path',
  '-outputdir': 'path',
  '-args': { unsafe: 'passes the rest to the test binary unchecked' },
};

const SUBCOMMANDS: Record<string, SubTable> = {
  build: { name: 'go build', flags: BUILD, positionals: PACKAGE },
  test: { name: 'go test', flags: TEST, positionals: PACKAGE },
  vet: {
    name: 'go vet',
    flags: { '-n': 'none', '-x': 'none', '-json': 'none', '-tags': 'string', '-mod': BUILD['-mod'] as ArgKind },
    positionals: PACKAGE,
  },
  list: {
    name: 'go list',
    flags: {
      ...BUILD,
      '-json': { value: 'string', optional: true },
      '-m': 'none',
      '-f': 'string',
      '-deps': 'none',
      '-test': 'none',
      '-e': 'none',
      '-find': 'none',
      '-compiled': 'none',
      '-export': 'none',
      '-versions': 'none',
      '-u': 'none',
      '-retracted': 'none',
    },
    positionals: PACKAGE,
  },
  env: {
    name: 'go env',
    flags: {
      '-json': 'none',
      '-changed': 'none',
      '-w': { unsafe: 'writes Go’s environment config (GOFLAGS there reaches every later go command)' },
      '-u': { unsafe: 'changes Go’s environment config' },
    },
    positionals: { match: /^[A-Z][A-Z0-9_]*$/, what: 'an environment variable name' },
  },
  version: { name: 'go version', flags: { '-m': 'none', '-v': 'none' }, positionals: 'path' },
};

export const GO: ProgramTable = {
  program: 'go',
  subcommands: SUBCOMMANDS,
  singleDashLong: true,
  unsafe: {
    '-toolexec': 'runs any program in front of every compiler and linker call',
    '-exec': 'runs the test binaries through any program',
    '-vettool': 'runs any program as the vet tool',
    '-ldflags': 'passes flags to the linker (`-extld=sh` runs any program as the external linker)',
    '-gcflags': 'passes flags to the compiler (its own -o writes any file)',
    '-asmflags': 'passes flags to the assembler (its own -o writes any file)',
    '-overlay': 'replaces source files with any other files',
    '-pkgdir': 'reads and writes compiled packages in any folder',
    '-compiler': 'switches the compiler',
    '-gccgoflags': 'passes flags to gccgo',
    '-linkshared': 'links against shared libraries from anywhere',
  },
  pathLikeAnywhere: true,
};
