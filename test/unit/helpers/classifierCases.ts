// The table of changes against test/fixtures/cargo-ws, each with the flags and lane a careful
// reviewer gives it. Edits are applied to a fresh git copy of the fixture workspace.
import type { RiskFlag } from '../../../src/core/policy/constants.js';

export type Edit =
  | { path: string; replace: [string, string] } // first occurrence of [0] becomes [1]
  | { path: string; append: string }
  | { path: string; write: string } // create or overwrite
  | { path: string; remove: true };

export interface Case {
  name: string;
  edits: Edit[];
  flags: RiskFlag[];
  lane: 'local_reflex' | 'local' | 'cloud';
  /** Checks beyond flags and lane. */
  lines?: number;
  sharedState?: boolean;
  /** Without the repository the classifier sees only the hunks; where that must differ, say how. */
  diffOnlyFlags?: RiskFlag[];
}

const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');

export const CASES: Case[] = [
  {
    name: 'body-only change of a pub fn is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['Mode::Folded => word.to_lowercase(),', 'Mode::Folded => word.to_lowercase().trim().to_string(),'],
      },
    ],
  },
  {
    name: 'a pub fn gains a parameter',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          'pub fn top(&self, n: usize) -> Vec<(&str, usize)> {',
          'pub fn top(&self, n: usize, min: usize) -> Vec<(&str, usize)> {',
        ],
      },
    ],
  },
  {
    name: 'a new pub fn is API',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          'pub(crate) fn is_stop_word',
          '/// Number of distinct words.\npub fn distinct(c: &Counts) -> usize {\n    c.top(usize::MAX).len()\n}\n\npub(crate) fn is_stop_word',
        ],
      },
    ],
  },
  {
    name: 'a private helper is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          'pub(crate) fn is_stop_word',
          'fn is_blank(word: &str) -> bool {\n    word.trim().is_empty()\n}\n\npub(crate) fn is_stop_word',
        ],
      },
    ],
  },
  {
    name: 'pub(crate) signature change is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          'pub(crate) fn is_stop_word(word: &str) -> bool {',
          'pub(crate) fn is_stop_word(word: &str, extra: &[&str]) -> bool {',
        ],
      },
    ],
  },
  {
    name: 'comment-only change that mentions unsafe and token raises nothing',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          '/// Counts the words of `input` under `mode`.',
          '/// Counts the words of `input` under `mode`.\n/// This is not unsafe: no raw pointers, no auth token, no Mutex, no spawn.\n// TODO: unsafe fast path with a secret token cache',
        ],
      },
    ],
  },
  {
    name: 'docs only: no lines counted, no flags',
    lane: 'local_reflex',
    flags: [],
    lines: 0,
    edits: [
      {
        path: 'docs/guide.md',
        append: '\n## Security\nTokens here are words, not auth tokens. The unsafe FFI is documented elsewhere.\n',
      },
    ],
  },
  {
    name: 'one-line TLS feature flip in Cargo.toml',
    lane: 'cloud',
    flags: ['security_sandbox', 'build_tooling'],
    edits: [
      { path: 'Cargo.toml', replace: ['features = ["json", "native-tls"]', 'features = ["json", "rustls-tls"]'] },
    ],
  },
  {
    name: 'one-line token format change',
    lane: 'cloud',
    flags: ['security_sandbox'],
    edits: [
      { path: 'crates/auth/src/lib.rs', replace: ['const PREFIX: &str = "tly_";', 'const PREFIX: &str = "tly2_";'] },
    ],
  },
  {
    name: 'password hashing change',
    lane: 'cloud',
    flags: ['security_sandbox'],
    edits: [
      {
        path: 'crates/auth/src/lib.rs',
        replace: ['    h.update(salt.as_bytes());', '    h.update(salt.as_bytes());\n    h.update(b":");'],
      },
    ],
  },
  {
    name: 'large test-only change, 300 lines, with scary words',
    lane: 'local',
    flags: [],
    edits: [
      {
        path: 'crates/core/tests/integration.rs',
        append: many(
          100,
          (i) =>
            `#[test]\nfn unsafe_token_case_${i}() { let token = "secret"; assert_eq!(tally_core::count(token, tally_core::Mode::Exact).total, 1); }\n`,
        ),
      },
    ],
  },
  {
    name: 'very large test-only change goes to cloud by size, not by risk',
    lane: 'cloud',
    flags: [],
    edits: [
      {
        path: 'crates/core/tests/integration.rs',
        append: many(
          210,
          (i) => `#[test]\nfn many_${i}() { assert_eq!(tally_core::count("a", tally_core::Mode::Exact).total, 1); }\n`,
        ),
      },
    ],
  },
  {
    name: 'test module inside a library using unsafe raises nothing',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          '        assert!(is_stop_word("the"));',
          '        assert!(is_stop_word("the"));\n        let p = &c as *const Counts;\n        assert_eq!(unsafe { (*p).total }, 3);',
        ],
      },
    ],
  },
  {
    name: 'change inside an unsafe block',
    lane: 'cloud',
    flags: ['unsafe_ffi'],
    edits: [{ path: 'crates/ffi/src/lib.rs', replace: ['Err(_) => return -1,', 'Err(_) => return -2,'] }],
  },
  {
    name: 'a new exported C function',
    lane: 'cloud',
    flags: ['unsafe_ffi', 'public_api'],
    edits: [
      {
        path: 'crates/ffi/src/lib.rs',
        append: '\n/// Version of the C API.\n#[no_mangle]\npub extern "C" fn tally_version() -> u32 {\n    3\n}\n',
      },
    ],
  },
  {
    name: 'a libc call in a safe fn',
    lane: 'cloud',
    flags: ['unsafe_ffi'],
    edits: [{ path: 'crates/ffi/src/lib.rs', replace: ['n.max(0)', 'n.max(libc::EOF as i64)'] }],
  },
  {
    name: 'a spawned task and an await',
    lane: 'cloud',
    flags: ['async_concurrency'],
    edits: [
      {
        path: 'crates/server/src/lib.rs',
        replace: [
          '        let mut s = state.lock().await;\n        s.total += n;',
          '        let state = state.clone();\n        tokio::spawn(async move {\n            let mut s = state.lock().await;\n            s.total += n;\n        });',
        ],
      },
    ],
  },
  {
    name: 'shared state behind a Mutex',
    lane: 'cloud',
    flags: ['async_concurrency', 'public_api'],
    sharedState: true,
    edits: [
      {
        path: 'crates/server/src/lib.rs',
        replace: [
          'pub struct State {\n    pub total: u64,\n}',
          'pub struct State {\n    pub total: u64,\n    pub per_worker: Mutex<Vec<u64>>,\n}',
        ],
      },
    ],
  },
  {
    name: 'lock file format: a serde field renamed',
    lane: 'cloud',
    flags: ['public_api', 'persistence_schema'],
    edits: [{ path: 'crates/core/src/lockfile.rs', replace: ['    pub digest: String,', '    pub sha256: String,'] }],
  },
  {
    name: 'lock file rendering body change is not a schema change',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lockfile.rs',
        replace: [
          'out.push_str(&format!("{} {} {}\\n", e.path, e.digest, e.words));',
          'out.push_str(&format!("{}\\t{}\\t{}\\n", e.path, e.digest, e.words));',
        ],
      },
    ],
  },
  {
    name: 'a config field added to a Deserialize Config',
    lane: 'cloud',
    flags: ['public_api', 'persistence_schema'],
    edits: [
      {
        path: 'crates/core/src/config.rs',
        replace: [
          '    pub top: usize,\n}',
          '    pub top: usize,\n    /// Words to skip.\n    #[serde(default)]\n    pub stop_words: Vec<String>,\n}',
        ],
      },
    ],
  },
  {
    name: 'a clap flag added to a binary',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/cli/src/main.rs',
        replace: [
          '    #[arg(long)]\n    fold: bool,',
          '    #[arg(long)]\n    fold: bool,\n    /// Print as JSON.\n    #[arg(long)]\n    json: bool,',
        ],
      },
    ],
  },
  {
    name: 'a binary body change is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [{ path: 'crates/cli/src/main.rs', replace: ['println!("{n:>6} {word}");', 'println!("{n:>8} {word}");'] }],
  },
  {
    name: 'build.rs change',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [
      {
        path: 'crates/ffi/build.rs',
        replace: ['cargo:rerun-if-changed=build.rs', 'cargo:rerun-if-changed=src/lib.rs'],
      },
    ],
  },
  {
    name: 'toolchain bump',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [{ path: 'rust-toolchain.toml', replace: ['channel = "1.82"', 'channel = "1.85"'] }],
  },
  {
    name: 'CI workflow change',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [
      {
        path: '.github/workflows/ci.yml',
        replace: ['cargo test --workspace', 'cargo test --workspace --all-features'],
      },
    ],
  },
  {
    name: 'a lock-file-only change counts no lines',
    lane: 'local_reflex',
    flags: [],
    lines: 0,
    edits: [{ path: 'Cargo.lock', replace: ['version = "1.0.210"', 'version = "1.0.215"'] }],
  },
  {
    name: 'package description change is metadata, not tooling',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/Cargo.toml',
        replace: ['description = "Word counting library"', 'description = "Word counting library and tools"'],
      },
    ],
  },
  {
    name: 'a new dependency',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [{ path: 'crates/core/Cargo.toml', append: 'serde_json.workspace = true\n' }],
  },
  {
    name: 'body changes in two crates are cross-crate',
    lane: 'cloud',
    flags: ['cross_crate'],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['Mode::Exact => word.to_string(),', 'Mode::Exact => word.to_owned(),'],
      },
      {
        path: 'crates/server/src/lib.rs',
        replace: ['format!("{total} words so far")', 'format!("{total} words counted so far")'],
      },
    ],
  },
  {
    name: 'a library and its test-support crate are not cross-crate',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['Mode::Exact => word.to_string(),', 'Mode::Exact => word.to_owned(),'],
      },
      {
        path: 'crates/test-support/src/lib.rs',
        replace: ['"the quick brown fox jumps over the lazy dog"', '"the quick brown fox jumps over the lazy cat"'],
      },
    ],
  },
  {
    name: 'a pub enum gains a variant',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['    Folded,\n}', '    Folded,\n    /// Unicode case folding.\n    Unicode,\n}'],
      },
    ],
  },
  {
    name: 'a trait impl method body is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['write!(f, "{} words", self.total)', 'write!(f, "{} word(s)", self.total)'],
      },
    ],
  },
  {
    name: 'a private field of a pub struct is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: ['    table: BTreeMap<String, usize>,', '    table: BTreeMap<String, usize>,\n    longest: usize,'],
      },
    ],
  },
  {
    name: 'lexer tokens are not credentials',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/text.rs',
        replace: [
          'fn kind_of(word: &str) -> TokenKind {',
          'fn kind_of(token_text: &str) -> TokenKind {\n    let word = token_text;',
        ],
      },
    ],
  },
  {
    name: 'a pub use re-export',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [{ path: 'crates/core/src/lib.rs', replace: ['pub use text::Token;', 'pub use text::{Token, TokenKind};'] }],
  },
  {
    name: 'a medium private refactor stays local',
    lane: 'local',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          'pub(crate) fn is_stop_word',
          `${many(60, (i) => `fn helper_${i}(x: usize) -> usize {\n    x + ${i}\n}`)}\n\npub(crate) fn is_stop_word`,
        ],
      },
    ],
  },
  {
    name: 'a removed pub fn is API',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/ffi/src/lib.rs',
        replace: [
          '/// The page size of this machine, for buffer sizing.\npub fn page_size() -> usize {\n    4096\n}\n',
          '',
        ],
      },
    ],
  },
  {
    name: 'a pub fn in a private module is not public API',
    lane: 'local_reflex',
    flags: [],
    diffOnlyFlags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/util.rs',
        replace: [
          'pub fn clamp_len(n: usize, max: usize) -> usize {',
          'pub fn clamp_len(n: usize, max: usize, min: usize) -> usize {',
        ],
      },
    ],
  },
  {
    name: 'a pub item of a private module that the crate re-exports is public API',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/text.rs',
        replace: [
          "pub struct Token<'a> {\n    pub kind: TokenKind,",
          "pub struct Token<'a> {\n    pub kind: TokenKind,\n    pub offset: usize,",
        ],
      },
    ],
  },
  {
    name: 'a derive added to a pub struct is API',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          '#[derive(Debug, Default)]\npub struct Counts {',
          '#[derive(Debug, Default, Clone)]\npub struct Counts {',
        ],
      },
    ],
  },
  {
    name: 'an #[inline] hint on a pub fn is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/core/src/lib.rs',
        replace: [
          '    /// Adds one occurrence of `word`.\n    pub fn add',
          '    /// Adds one occurrence of `word`.\n    #[inline]\n    pub fn add',
        ],
      },
    ],
  },
  {
    name: 'a pub method of a private type is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/server/src/lib.rs',
        replace: ['    pub fn bump(&mut self, n: u64) {', '    pub fn bump(&mut self, n: u64, weight: u64) {'],
      },
    ],
  },
  {
    name: 'an extern block of C declarations',
    lane: 'cloud',
    flags: ['unsafe_ffi'],
    edits: [
      {
        path: 'crates/ffi/src/lib.rs',
        replace: [
          'fn clamp(n: i64) -> i64 {',
          'extern "C" {\n    fn getpagesize() -> i32;\n}\n\nfn clamp(n: i64) -> i64 {',
        ],
      },
    ],
  },
  {
    name: 'unsafe impl Send for a pub type',
    lane: 'cloud',
    flags: ['unsafe_ffi', 'async_concurrency', 'public_api'],
    edits: [
      {
        path: 'crates/server/src/lib.rs',
        append: '\n// SAFETY: State holds only plain data.\nunsafe impl Send for State {}\n',
      },
    ],
  },
  {
    name: 'spawning a process is sandbox-relevant',
    lane: 'cloud',
    flags: ['security_sandbox'],
    edits: [
      {
        path: 'crates/cli/src/main.rs',
        replace: [
          '    let cli = Cli::parse();',
          '    let cli = Cli::parse();\n    let _ = std::process::Command::new("true").status();',
        ],
      },
    ],
  },
  {
    name: 'a serde rename on a lock-file field',
    lane: 'cloud',
    flags: ['persistence_schema', 'public_api'],
    edits: [
      {
        path: 'crates/core/src/lockfile.rs',
        replace: ['    pub words: u64,', '    #[serde(rename = "word_count")]\n    pub words: u64,'],
      },
    ],
  },
  {
    name: 'a log string inside an async fn is not a concurrency change',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'crates/server/src/lib.rs',
        replace: ['format!("{total} words so far")', 'format!("{total} words counted")'],
      },
    ],
  },
  {
    name: 'a hand-written Serialize impl is a format change',
    lane: 'cloud',
    flags: ['persistence_schema'],
    edits: [
      {
        path: 'crates/core/src/lockfile.rs',
        replace: ['        s.serialize_u32(self.0)', '        s.serialize_u64(u64::from(self.0))'],
      },
    ],
  },
  {
    name: 'a new migration file',
    lane: 'cloud',
    flags: ['persistence_schema'],
    edits: [
      { path: 'crates/server/migrations/0002_totals.sql', write: 'ALTER TABLE totals ADD COLUMN worker INTEGER;\n' },
    ],
  },
];

/** TypeScript/JavaScript and Python, against test/fixtures/polyglot (a JS workspace and a Python project). */
export const POLYGLOT_CASES: Case[] = [
  {
    name: 'TS: an exported function gains a parameter',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'packages/api/src/index.ts',
        replace: [
          'export function countWords(text: string, options: CountOptions): number {',
          'export function countWords(text: string, options: CountOptions, min = 0): number {',
        ],
      },
    ],
  },
  {
    name: 'TS: an exported function body change is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'packages/api/src/index.ts',
        replace: [
          'const words = text.split(/\\s+/).filter(Boolean);',
          'const words = text.trim().split(/\\s+/).filter(Boolean);',
        ],
      },
    ],
  },
  {
    name: 'TS: a private method is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      { path: 'packages/api/src/index.ts', replace: ['  private reset(): void {', '  private reset(to = 0): void {'] },
    ],
  },
  {
    name: 'TS: a module-private helper is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'packages/api/src/index.ts',
        replace: ['function helper(x: number): number {', 'function helper(x: number, y = 1): number {'],
      },
    ],
  },
  {
    name: 'TS: Promise.all and await in a body',
    lane: 'cloud',
    flags: ['async_concurrency'],
    edits: [
      {
        path: 'packages/api/src/index.ts',
        replace: [
          "  const text = await readFile(path, 'utf8');",
          "  const [text] = await Promise.all([readFile(path, 'utf8')]);",
        ],
      },
    ],
  },
  {
    name: 'TS: importing child_process is process execution',
    lane: 'cloud',
    flags: ['security_sandbox'],
    edits: [
      {
        path: 'packages/api/src/index.ts',
        replace: [
          "import { readFile } from 'node:fs/promises';",
          "import { readFile } from 'node:fs/promises';\nimport { execFile } from 'node:child_process';",
        ],
      },
    ],
  },
  {
    name: 'package.json: a new dependency is build tooling',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [
      { path: 'packages/api/package.json', replace: ['"zod": "^4.0.0"', '"zod": "^4.0.0",\n    "lodash": "^4.17.21"'] },
    ],
  },
  {
    name: 'package.json: a description change is metadata',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'packages/api/package.json',
        replace: ['"description": "Counting API"', '"description": "The counting API"'],
      },
    ],
  },
  {
    name: 'TS: body changes in two packages are cross-package',
    lane: 'cloud',
    flags: ['cross_crate'],
    edits: [
      { path: 'packages/api/src/index.ts', replace: ['return x * 2;', 'return x * 3;'] },
      { path: 'packages/web/src/app.ts', replace: ['words</p>', 'word(s)</p>'] },
    ],
  },
  {
    name: 'Python: a public def gains a parameter',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [
      {
        path: 'py/tally_py/__init__.py',
        replace: ['def count(text, fold=False):', 'def count(text, fold=False, strip=True):'],
      },
    ],
  },
  {
    name: 'Python: a body change is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [
      { path: 'py/tally_py/__init__.py', replace: ['    words = text.split()', '    words = text.strip().split()'] },
    ],
  },
  {
    name: 'Python: a private helper is not API',
    lane: 'local_reflex',
    flags: [],
    edits: [{ path: 'py/tally_py/__init__.py', replace: ['def _helper(x):', 'def _helper(x, y=1):'] }],
  },
  {
    name: 'Python: a test change raises nothing',
    lane: 'local_reflex',
    flags: [],
    edits: [
      {
        path: 'py/tests/test_count.py',
        append: '\n\ndef test_secret_token():\n    import ctypes\n    assert count("token") == 1\n',
      },
    ],
  },
  {
    name: 'Python: asyncio in a body',
    lane: 'cloud',
    flags: ['async_concurrency'],
    edits: [
      {
        path: 'py/tally_py/__init__.py',
        replace: ['        self.total += count(text)', '        self.total += asyncio.run(_acount(text))'],
      },
    ],
  },
  {
    name: 'Python: ctypes is FFI',
    lane: 'cloud',
    flags: ['unsafe_ffi'],
    edits: [
      { path: 'py/tally_py/__init__.py', replace: ['"""Word counting."""', '"""Word counting."""\nimport ctypes'] },
    ],
  },
  {
    name: 'Python: __all__ is API',
    lane: 'cloud',
    flags: ['public_api'],
    edits: [{ path: 'py/tally_py/__init__.py', replace: ['__all__ = ["count", "Counter"]', '__all__ = ["count"]'] }],
  },
  {
    name: 'pyproject: a dependency change is build tooling',
    lane: 'cloud',
    flags: ['build_tooling'],
    edits: [
      { path: 'py/pyproject.toml', replace: ['dependencies = ["requests>=2"]', 'dependencies = ["requests>=2.31"]'] },
    ],
  },
];
