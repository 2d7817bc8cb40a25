import assert from 'node:assert/strict';
import { testCaller } from './helpers/caller.js';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AuditLog } from '../../src/core/evidence/auditLog.js';
import type { Policy } from '../../src/core/policy/schema.js';
import { bundledPolicy } from '../../src/core/policy/store.js';
import { callerEmbedder } from '../../src/core/retrieval/embeddings.js';
import { harvest } from '../../src/core/retrieval/git.js';
import { snippet } from '../../src/core/retrieval/rank.js';
import { Stage0 } from '../../src/core/retrieval/stage0.js';
import { tokenize } from '../../src/core/retrieval/tokenize.js';
import { listFiles } from '../../src/core/retrieval/walk.js';
import { conceptEmbedding, DIM } from '../support/conceptEmbedder.js';
import { openAiServer, type WireServer } from '../support/wireServers.js';

// Stage 0 on a fixture workspace with known relevant files: what is indexed (.gitignore at every level,
// binaries), ranking quality, determinism, explained scores, MMR, the git harvester, hybrid ranking with
// embeddings through the model-call path (fallback, local_only, a changed model), and the prompt block.
const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'retrieval');

/** A copy of the fixture with the files git would ignore (they cannot be committed in this repository). */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sy-stage0-'));
  cpSync(FIXTURE, dir, { recursive: true });
  mkdirSync(join(dir, 'build'), { recursive: true });
  writeFileSync(
    join(dir, 'build', 'generated.rs'),
    '// generated: ledger replay torn line crash ledger replay fsync LedgerWriter token bucket refill\n'.repeat(20),
  );
  writeFileSync(join(dir, 'server.log'), 'ledger replay torn line crash error ledger\n'.repeat(50));
  mkdirSync(join(dir, 'web', 'dist'), { recursive: true });
  writeFileSync(
    join(dir, 'web', 'dist', 'bundle.js'),
    'function formatCurrency(c){return c} // budget chart currency currency\n',
  );
  mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), 'module.exports = function ledgerReplay() {}\n');
  return dir;
}

// Queries a user would type, with the files a person reading the fixture judged relevant.
const QUERIES: { q: string; relevant: string[] }[] = [
  { q: 'verify token signature and expiry', relevant: ['src/auth/token.rs'] },
  {
    q: 'ledger replay after a crash with a torn last line',
    relevant: ['src/storage/ledger.rs', 'tests/ledger_replay.rs'],
  },
  { q: 'retry with exponential backoff on timeout', relevant: ['src/net/http_client.rs'] },
  { q: 'token bucket rate limiter refill', relevant: ['src/net/rate_limit.rs', 'tests/rate_limit.rs'] },
  { q: 'format currency amounts in the budget chart', relevant: ['web/src/format.ts', 'web/src/chart.ts'] },
  { q: 'TLS certificate renewal when deploying', relevant: ['docs/deploy.md'] },
  { q: 'override settings with environment variables', relevant: ['src/config.rs'] },
  { q: 'evict the least recently used entry', relevant: ['src/storage/cache.rs'] },
  { q: 'LedgerWriter', relevant: ['src/storage/ledger.rs'] },
  { q: 'histogram of request latency', relevant: ['src/metrics.rs'] },
  { q: 'session idle timeout sign out', relevant: ['src/auth/session.rs'] },
  { q: 'fetchParcel HTTP error', relevant: ['web/src/api.ts'] },
];

describe('Stage 0: what is indexed', () => {
  it('follows .gitignore at the root and in sub-folders, and skips .git, node_modules and binaries', async () => {
    const dir = workspace();
    const files = await listFiles(dir);
    assert.ok(!files.includes('build/generated.rs'), 'root .gitignore: /build/');
    assert.ok(!files.includes('server.log'), 'root .gitignore: *.log');
    assert.ok(!files.includes('web/dist/bundle.js'), 'web/.gitignore: dist/');
    assert.ok(!files.some((f) => f.startsWith('node_modules/')));
    assert.ok(files.includes('src/storage/ledger.rs') && files.includes('web/src/chart.ts'));
    const s = new Stage0({ root: dir });
    const stats = await s.build();
    assert.equal(stats.skipped.binary, 1, 'assets/logo.png is binary');
    assert.equal(stats.indexed, files.length - 1);
    assert.ok(!s.lexical.has('assets/logo.png'));
  });

  it('splits identifiers the way people search for them', () => {
    assert.deepEqual(tokenize('LedgerWriter::sync_data(parseHTTPRequest)'), [
      'ledger',
      'writer',
      'ledgerwriter',
      'sync',
      'data',
      'sync_data',
      'parse',
      'http',
      'request',
      'parsehttprequest',
    ]);
  });
});

describe('Stage 0: ranking quality on the fixture', () => {
  it('finds the relevant files: recall@5, MRR and the first hit of every query', async () => {
    const s = new Stage0({ root: workspace() });
    await s.build();
    let recall = 0,
      mrr = 0;
    const misses: string[] = [];
    for (const { q, relevant } of QUERIES) {
      const r = await s.query(q, { k: 5 });
      const paths = r.results.map((x) => x.path);
      recall += relevant.filter((p) => paths.includes(p)).length / relevant.length;
      const first = paths.findIndex((p) => relevant.includes(p));
      mrr += first < 0 ? 0 : 1 / (first + 1);
      if (first !== 0) misses.push(`${q}: ${paths.join(', ')}`);
    }
    recall /= QUERIES.length;
    mrr /= QUERIES.length;
    console.log(`stage0 quality: recall@5 ${recall.toFixed(3)}, MRR ${mrr.toFixed(3)} over ${QUERIES.length} queries`);
    assert.ok(recall >= 0.95, `recall@5 ${recall}`);
    assert.ok(mrr >= 0.9, `MRR ${mrr}; not first: ${misses.join(' | ')}`);
  });

  it('is deterministic: the same workspace and query give the same list and scores, whatever the batch size', async () => {
    const dir = workspace();
    const a = new Stage0({ root: dir, batch: 1 });
    const b = new Stage0({ root: dir, batch: 16 });
    await a.build();
    await b.build();
    for (const { q } of QUERIES) {
      const ra = await a.query(q),
        rb = await b.query(q);
      assert.deepEqual(ra.results, rb.results, q);
    }
  });

  it('explains every score: BM25 is the sum of its terms, relevance the weighted sum of its parts', async () => {
    const s = new Stage0({ root: workspace() });
    await s.build();
    const r = await s.query('ledger replay torn line');
    assert.ok(r.results.length > 0);
    for (const x of r.results) {
      const w = x.why;
      const termSum = w.lexical.terms.reduce((t, p) => t + p.score, 0);
      assert.ok(
        Math.abs(termSum - w.lexical.bm25) < 0.001 * w.lexical.terms.length + 1e-9,
        `${x.path}: ${termSum} vs ${w.lexical.bm25}`,
      );
      for (const t of w.lexical.terms) assert.ok(t.df > 0 && t.idf > 0 && t.tf_text + t.tf_path > 0);
      assert.ok(
        Math.abs(x.relevance - w.lexical.weight * w.lexical.normalized) < 0.001,
        'lexical only: relevance = 0.9 x normalized BM25',
      );
      assert.deepEqual(w.semantic, { unavailable: 'embeddings are off (switchyard.context.embeddings)' });
    }
    assert.equal(r.results[0]!.why.lexical.normalized, 1);
  });

  it('MMR: a near-duplicate of the best file is pushed down, and the redundancy is named', async () => {
    const dir = workspace();
    cpSync(join(dir, 'src/storage/ledger.rs'), join(dir, 'src/storage/ledger_v1.rs'));
    const s = new Stage0({ root: dir });
    await s.build();
    const plain = await s.query('ledger replay torn line crash', { lambda: 1, k: 4 });
    assert.deepEqual(
      plain.results
        .slice(0, 2)
        .map((x) => x.path)
        .sort(),
      ['src/storage/ledger.rs', 'src/storage/ledger_v1.rs'],
    );
    const diverse = await s.query('ledger replay torn line crash', { lambda: 0.5, k: 4 });
    assert.equal(diverse.results[0]!.path, plain.results[0]!.path);
    assert.notEqual(diverse.results[1]!.path.startsWith('src/storage/ledger'), true, 'the copy is not second any more');
    const copy = diverse.results.find((x) => x.path.startsWith('src/storage/ledger') && x.rank > 1);
    if (copy) {
      assert.ok(copy.why.redundancy.similarity > 0.9);
      assert.equal(copy.why.redundancy.to, diverse.results[0]!.path);
    }
  });

  it('follows edits: a saved file is searchable at once, a deleted one is gone', async () => {
    const dir = workspace();
    const s = new Stage0({ root: dir });
    await s.build();
    assert.equal((await s.query('quarantine')).results.length, 0);
    writeFileSync(
      join(dir, 'src/storage/cache.rs'),
      readFileSync(join(dir, 'src/storage/cache.rs'), 'utf8') + '\n// quarantine damaged parcels\n',
    );
    await s.refresh('src/storage/cache.rs');
    assert.equal((await s.query('quarantine')).results[0]?.path, 'src/storage/cache.rs');
    s.forget('src/storage/cache.rs');
    assert.equal((await s.query('quarantine')).results.length, 0);
  });

  it('a saved or created file that git ignores stays out of the index (build outputs, nested .gitignore, node_modules)', async () => {
    const dir = workspace();
    const s = new Stage0({ root: dir });
    await s.build();
    const put = async (p: string) => {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), 'zebracorn appears here\n');
      await s.refresh(p);
    };
    await put('build/out/gen.rs');
    await put('web/dist/chunk.js');
    await put('node_modules/x/index.js');
    await put('server2.log');
    assert.equal((await s.query('zebracorn')).results.length, 0);
    await put('src/zebra.rs');
    assert.deepEqual(
      (await s.query('zebracorn')).results.map((r) => r.path),
      ['src/zebra.rs'],
    );
    // A changed .gitignore applies to the next refresh.
    writeFileSync(join(dir, '.gitignore'), `${readFileSync(join(dir, '.gitignore'), 'utf8')}src/zebra.rs\n`);
    await s.refresh('.gitignore');
    await s.refresh('src/zebra.rs');
    assert.equal((await s.query('zebracorn')).results.length, 0);
  });

  it('a snippet is the window densest in the query terms', () => {
    const text = Array.from({ length: 100 }, (_, i) =>
      i === 70 || i === 72 ? `fn replay_ledger_${i}()` : `line ${i}`,
    ).join('\n');
    const s = snippet(text, ['replay', 'ledger'], 10);
    assert.ok(s.start <= 71 && s.end >= 73, `${s.start}-${s.end}`);
    assert.equal(s.end - s.start + 1, 10);
  });
});

describe('Stage 0: the git harvester', () => {
  it('recent history of the touched files, and the files that changed with them raise their rank', async () => {
    const dir = workspace();
    const git = (...a: string[]) =>
      execFileSync('git', a, {
        cwd: dir,
        stdio: 'pipe',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'T',
          GIT_AUTHOR_EMAIL: 't@x',
          GIT_COMMITTER_NAME: 'T',
          GIT_COMMITTER_EMAIL: 't@x',
        },
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'initial');
    for (let i = 0; i < 3; i++) {
      for (const f of ['src/auth/token.rs', 'src/metrics.rs'])
        writeFileSync(join(dir, f), `${readFileSync(join(dir, f), 'utf8')}// change ${i}\n`);
      git('commit', '-qam', `tokens: rotate signing keys, step ${i}`);
    }
    const h = await harvest(dir, ['src/auth/token.rs']);
    assert.equal(h.commits.length, 4);
    assert.equal(h.commits[0]!.subject, 'tokens: rotate signing keys, step 2');
    assert.deepEqual(h.cochange[0], { path: 'src/metrics.rs', count: 4 }, 'the initial commit and the three together');
    assert.equal(h.cochange[1]!.count, 1);
    const s = new Stage0({ root: dir });
    await s.build();
    const r = await s.query('signature expiry', { touched: ['src/auth/token.rs'], k: 5 });
    const m = r.results.find((x) => x.path === 'src/metrics.rs');
    assert.ok(m, 'metrics.rs comes in through co-change although no query term is in it');
    assert.deepEqual(m.why.git, { cochange: 4, normalized: 1, weight: 0.1 });
    const ctx = await s.context({ query: 'signature expiry', touched: ['src/auth/token.rs'] });
    assert.match(
      ctx.text,
      /recent history of src\/auth\/token\.rs\n[0-9a-f]{10} \d{4}-\d\d-\d\d tokens: rotate signing keys, step 2/,
    );
  });

  it('outside a repository the history says why it is missing', async () => {
    const h = await harvest(mkdtempSync(join(tmpdir(), 'sy-nogit-')), ['a.rs']);
    assert.match(h.unavailable ?? '', /git log failed/);
  });
});

describe('Stage 0: hybrid ranking with embeddings through the model-call path', () => {
  let local: WireServer, oai: WireServer;
  before(async () => {
    [local, oai] = await Promise.all([openAiServer('openai'), openAiServer('openai')]);
  });
  after(async () => {
    await Promise.all([local.close(), oai.close()]);
  });
  beforeEach(() => {
    for (const s of [local, oai]) {
      s.queue.length = 0;
      s.requests.length = 0;
      s.embed = conceptEmbedding;
    }
  });

  function setup(o: { policy?: Policy; localOnly?: boolean; localUrl?: string | null } = {}) {
    const state = mkdtempSync(join(tmpdir(), 'sy-emb-'));
    const policy = o.policy ?? bundledPolicy();
    const caller = testCaller({
      policy,
      urls: { openai: oai.url, local: o.localUrl === null ? undefined : local.url },
      localOnly: o.localOnly,
      stateDir: state,
    }).caller;
    return {
      caller,
      embedder: callerEmbedder(caller),
      audit: () => new AuditLog(join(state, 'audit.jsonl')).read().map((e) => e.audit),
    };
  }

  it('bge-m3 on the local runtime: a query with no word in common finds the right files, with the cosine explained', async () => {
    const dir = workspace();
    const { embedder } = setup();
    const file = join(dir, '.switchyard', 'index', 'embeddings.json');
    const s = new Stage0({ root: dir, embedder, embeddingsFile: file });
    const stats = await s.build();
    assert.deepEqual(stats.embeddings, { model: 'BAAI/bge-m3', dim: DIM });
    assert.equal(stats.embedded, stats.indexed);
    assert.equal(oai.requests.length, 0, 'nothing went to the cloud');
    const lexicalOnly = await s.query('login credentials', { semantic: false });
    assert.equal(lexicalOnly.results.length, 0, 'no fixture file has these words');
    const r = await s.query('login credentials', { k: 3 });
    assert.deepEqual(r.semantic, { model: 'BAAI/bge-m3' });
    assert.ok(
      ['src/auth/token.rs', 'src/auth/session.rs'].includes(r.results[0]!.path),
      r.results.map((x) => x.path).join(),
    );
    const sem = r.results[0]!.why.semantic;
    assert.ok('cosine' in sem && sem.cosine > 0.5 && sem.model === 'BAAI/bge-m3' && sem.weight === 0.3);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      model: string;
      dim: number;
      entries: Record<string, unknown>;
    };
    assert.equal(saved.model, 'BAAI/bge-m3');
    assert.equal(saved.dim, DIM);
    assert.equal(Object.keys(saved.entries).length, stats.indexed);
    // Stable: a second build reuses every vector (no embeddings request for unchanged files).
    const before = local.requests.length;
    const again = new Stage0({ root: dir, embedder, embeddingsFile: file });
    assert.equal((await again.build()).embedded, 0);
    assert.equal(
      local.requests.length,
      before + 1,
      'one request: which model serves now (a probe with the first file)',
    );
    assert.deepEqual((await again.query('login credentials', { k: 3 })).results, r.results);
  });

  it('a changed embeddings model rebuilds the index, and says so', async () => {
    const dir = workspace();
    const file = join(dir, '.switchyard', 'index', 'embeddings.json');
    await new Stage0({ root: dir, embedder: setup().embedder, embeddingsFile: file }).build();
    const policy = structuredClone(bundledPolicy());
    policy.models.local_embed!.id = 'BAAI/bge-m3-v2';
    const s = new Stage0({ root: dir, embedder: setup({ policy }).embedder, embeddingsFile: file });
    const stats = await s.build();
    assert.equal(stats.embedded, stats.indexed, 'every file embedded again');
    assert.match(
      stats.notes.join('\n'),
      /embeddings index rebuilt: vectors were from local\/BAAI\/bge-m3 \(dimension 32\), now local\/BAAI\/bge-m3-v2/,
    );
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { model: string }).model, 'BAAI/bge-m3-v2');
  });

  it('local server down: OpenAI embeddings serve, with a GR-005 line; the query is embedded by the same model', async () => {
    const dir = workspace();
    const s0 = setup({ localUrl: null });
    const s = new Stage0({ root: dir, embedder: s0.embedder });
    const stats = await s.build();
    assert.deepEqual(stats.embeddings, { model: 'text-embedding-3-small', dim: DIM });
    assert.ok(oai.requests.every((r) => r.path.endsWith('/embeddings')) && oai.requests.length > 0);
    assert.ok(
      s0
        .audit()
        .some((l) =>
          /^GR-005: local\/BAAI\/bge-m3 -> openai\/text-embedding-3-small: local: no local model server/.test(l),
        ),
    );
    const r = await s.query('login credentials', { k: 3 });
    assert.deepEqual(r.semantic, { model: 'text-embedding-3-small' });
  });

  it('under local_only with the local server down nothing leaves the machine: lexical only, and the reason given', async () => {
    const dir = workspace();
    const s0 = setup({ localUrl: null, localOnly: true });
    const s = new Stage0({ root: dir, embedder: s0.embedder });
    const stats = await s.build();
    assert.equal(stats.embeddings, null);
    assert.match(stats.notes.join('\n'), /embeddings not built: .*; ranking is lexical only/);
    assert.equal(oai.requests.length, 0);
    assert.ok(
      s0.audit().some((l) => /local_only=true: cloud fallbacks removed \(openai\/text-embedding-3-small\)/.test(l)),
      s0.audit().join('\n'),
    );
    const r = await s.query('ledger replay');
    assert.ok(['src/storage/ledger.rs', 'tests/ledger_replay.rs'].includes(r.results[0]!.path));
    assert.match((r.semantic as { unavailable: string }).unavailable, /embeddings index is empty/);
  });

  it('a query embedded by another model than the index is ranked lexically, never mixed', async () => {
    const dir = workspace();
    const s = new Stage0({ root: dir, embedder: setup().embedder });
    await s.build();
    (s.o as { embedder: unknown }).embedder = setup({ localUrl: null }).embedder; // the local server died since
    const r = await s.query('ledger replay');
    assert.match(
      (r.semantic as { unavailable: string }).unavailable,
      /embedded by openai\/text-embedding-3-small .* the index holds local\/BAAI\/bge-m3: vectors of two models are never compared/,
    );
    assert.ok(r.results.every((x) => 'unavailable' in x.why.semantic));
  });
});

describe('Stage 0: the prompt block', () => {
  it('ranked snippets with their explanation, within the character budget', async () => {
    const s = new Stage0({ root: workspace() });
    await s.build();
    const c = await s.context({ query: 'ledger replay torn line', maxChars: 2500 });
    assert.ok(c.chars <= 2500, String(c.chars));
    assert.match(c.text, /^Stage 0 context \(deterministic retrieval for: "ledger replay torn line"; lexical only/);
    assert.match(
      c.text,
      /--- src\/storage\/ledger\.rs lines 1-\d+ \(#1 src\/storage\/ledger\.rs: relevance 0\.9, mmr [\d.]+; bm25 [\d.]+ \(ledger [\d.]+, replay [\d.]+/,
    );
    assert.match(c.text, /pub fn replay\(path: &Path\)/);
  });
});

describe('Stage 0: the build in worker threads', () => {
  it('a missing worker script: the build runs on one thread and says so', async () => {
    const dir = workspace();
    const s = new Stage0({ root: dir, workerScript: join(dir, 'no-such-worker.js'), workerMinFiles: 4 });
    const stats = await s.build();
    assert.match(
      stats.notes.join('\n'),
      /the index worker .*no-such-worker\.js is missing; this build ran on one thread/,
    );
    assert.equal(stats.indexed, (await new Stage0({ root: dir }).build()).indexed);
    assert.ok((await s.query('ledger replay')).results.length > 0);
  });

  it('gives the same ranking as the build on this thread, and reports its progress', async () => {
    const { buildSync } = await import('esbuild');
    const out = mkdtempSync(join(tmpdir(), 'sy-worker-'));
    const workerScript = join(out, 'indexWorker.js');
    buildSync({
      entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'core', 'retrieval', 'indexWorker.ts')],
      outfile: workerScript,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'silent',
    });
    const dir = workspace();
    const single = new Stage0({ root: dir });
    const threaded = new Stage0({ root: dir, workerScript, workers: 2, workerMinFiles: 4 });
    const progress: number[] = [];
    const a = await single.build();
    const b = await threaded.build({
      onProgress: (p) => {
        if (p.phase === 'reading') progress.push(p.done);
      },
    });
    assert.equal(b.threads, 2);
    assert.equal(a.threads, 0);
    assert.deepEqual({ ...b, ms: 0, phases: null, threads: 0 }, { ...a, ms: 0, phases: null });
    assert.equal(progress.at(-1), a.files);
    for (const { q } of QUERIES) {
      const ra = (await single.query(q)).results.map((x) => [x.path, x.relevance, x.why.lexical.bm25]);
      const rb = (await threaded.query(q)).results.map((x) => [x.path, x.relevance, x.why.lexical.bm25]);
      assert.deepEqual(rb, ra, q);
    }
    // A rebuild after a file turned binary: it leaves both indexes.
    const victim = single.lexical.paths()[0]!;
    writeFileSync(join(dir, victim), Buffer.from([0x66, 0x6e, 0x00, 0x01]));
    await single.build();
    await threaded.build();
    assert.ok(!single.lexical.paths().includes(victim));
    assert.deepEqual(threaded.lexical.paths(), single.lexical.paths());
  });
});
