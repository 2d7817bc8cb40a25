// Wiring tests in a real VS Code extension host: what the extension registers and how it reacts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SwitchyardApi } from '../../../src/vscode/extension.js';
import type { SwitchyardTesting } from '../../../src/vscode/testing.js';

/** The public API with the test probes (api.testing, present under test) spread in. */
type TestApi = SwitchyardApi & SwitchyardTesting;
const withProbes = (api: SwitchyardApi): TestApi => {
  assert.ok(api.testing, 'the test probes are exported under test (api.testing)');
  return Object.assign(Object.create(api), api, api.testing);
};
import { anthropicServer, openAiServer, type WireServer } from '../../support/wireServers.js';
import { writeTinyGguf } from '../../support/tinyGguf.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const EXT_ID = 'switchyard.switchyard';
const COMMANDS = [
  'switchyard.tutor.open',
  'switchyard.plan.create',
  'switchyard.plan.open',
  'switchyard.implement.reflex',
  'switchyard.judge.audit',
  'switchyard.classify.changes',
  'switchyard.budget.show',
  'switchyard.runtime.start',
  'switchyard.runtime.stop',
  'switchyard.runtime.switchModel',
  'switchyard.route.explain',
  'switchyard.keys.set',
  'switchyard.policy.open',
];
// Switchyard's own commands beyond CONTRACTS.md (issue 11).
const OWN_COMMANDS = [
  'switchyard.librarian.run',
  'switchyard.context.search',
  'switchyard.context.rebuild',
  'switchyard.context.ask',
  'switchyard.task.start',
  'switchyard.task.show',
  'switchyard.walkthrough.open',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Writes a file and waits for the extension to react. The file watcher may register after the first
 * write on a loaded machine (that event is then lost), so the write is repeated, as a user saves again.
 */
async function writeUntil<T>(
  uri: vscode.Uri,
  text: string,
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    try {
      return await until(what, fn, 5_000);
    } catch (e) {
      if (attempt >= 5) throw e;
    }
  }
}

describe('Switchyard in the extension host', () => {
  let api: TestApi;
  const folder = () => vscode.workspace.workspaceFolders![0]!.uri;
  const policyUri = () => vscode.Uri.joinPath(folder(), '.switchyard', 'policy.json');

  before(async () => {
    const ext = vscode.extensions.getExtension<SwitchyardApi>(EXT_ID);
    assert.ok(ext, `${EXT_ID} is installed`);
    api = withProbes(await ext.activate());
  });

  after(async () => {
    await vscode.workspace.fs.delete(policyUri()).then(undefined, () => undefined);
  });

  it('activates and reports its activation time', () => {
    assert.equal(vscode.extensions.getExtension(EXT_ID)!.isActive, true);
    assert.equal(typeof api.activationMs, 'number');
    assert.ok(api.activationMs > 0);
  });

  it('registers every command of CONTRACTS.md, each titled under the Switchyard category', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of [...COMMANDS, ...OWN_COMMANDS]) assert.ok(all.has(id), `${id} registered`);
    const pkg = vscode.extensions.getExtension(EXT_ID)!.packageJSON;
    const contributed = pkg.contributes.commands as { command: string; title: string; category: string }[];
    assert.deepEqual(contributed.map((c) => c.command).sort(), [...COMMANDS, ...OWN_COMMANDS].sort());
    assert.ok(contributed.every((c) => c.category === 'Switchyard' && c.title.length > 3));
    assert.ok(
      pkg.contributes.menus['editor/context'].some(
        (m: { command: string }) => m.command === 'switchyard.implement.reflex',
      ),
    );
  });

  it('shows both status bar items: the budget meter against the tightest cap and the runtime', () => {
    const s = api.statusBarText();
    assert.match(s.budget, /\$0\.00 \/ \$10\.00/);
    assert.match(s.runtime, /Local: stopped/);
  });

  it('the Tutor panel opens and its view says ready; its open time beside a bare webview, in the same window', async () => {
    // A bare webview (one inline script that says ready) is the floor this VS Code sets for any panel.
    const bare = async (): Promise<number> => {
      const t0 = performance.now();
      // To the side, as the Tutor opens.
      const panel = vscode.window.createWebviewPanel('switchyard.test.bare', 'bare', vscode.ViewColumn.Beside, {
        enableScripts: true,
      });
      const ready = new Promise<void>((r) => {
        panel.webview.onDidReceiveMessage(() => r());
      });
      panel.webview.html =
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\';"></head><body><script>acquireVsCodeApi().postMessage("ready")</script></body></html>';
      await ready;
      const ms = performance.now() - t0;
      panel.dispose();
      return ms;
    };
    const tutor = async (): Promise<number> => {
      const before = api.tutorStats().openMs;
      await vscode.commands.executeCommand('switchyard.tutor.open');
      const ms = await until(
        'the Tutor view says ready',
        () => {
          const m = api.tutorStats().openMs;
          return m !== null && m !== before && m;
        },
        30_000,
      );
      views.push(api.tutorStats().viewLoadMs ?? NaN);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await sleep(300);
      return ms;
    };
    const b: number[] = [];
    const t: number[] = [];
    const views: number[] = [];
    for (let i = 0; i < 3; i++) {
      b.push(await bare());
      t.push(await tutor());
    }
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
    console.log(
      `      panel open to ready, median of 3: bare webview ${med(b).toFixed(0)} ms, Tutor ${med(t).toFixed(0)} ms (runs: bare ${b.map((x) => x.toFixed(0)).join('/')}, Tutor ${t.map((x) => x.toFixed(0)).join('/')}; of which the Tutor view's own load ${views.map((x) => x.toFixed(0)).join('/')})`,
    );
    assert.ok(t.every((x) => x > 0));
  });

  it('the light bulb offers the Judge on a selection, and on a plan file', async () => {
    const plans = vscode.Uri.joinPath(folder(), '.switchyard', 'plans');
    const plan = vscode.Uri.joinPath(plans, 'plan-test.json');
    await vscode.workspace.fs.writeFile(plan, new TextEncoder().encode('{"id": "plan-test"}\n'));
    const titles = async (uri: vscode.Uri, range: vscode.Range) => {
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(range.start, range.end);
      return (
        await vscode.commands.executeCommand<vscode.CodeAction[]>(
          'vscode.executeCodeActionProvider',
          doc.uri,
          editor.selection,
        )
      ).map((a) => a.title);
    };
    assert.ok(
      (await titles(plan, new vscode.Range(0, 0, 0, 0))).includes('Switchyard: Request Judge Audit of this plan'),
    );
    const src = (await vscode.workspace.findFiles('**/*.rs', '**/target/**', 1))[0]!;
    assert.ok((await titles(src, new vscode.Range(0, 0, 2, 0))).includes('Switchyard: Request Judge Audit'));
    assert.ok(
      !(await titles(src, new vscode.Range(0, 0, 0, 0))).includes('Switchyard: Request Judge Audit'),
      'not on an empty selection without a diagnostic',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.fs.delete(plans, { recursive: true });
  });

  it('Open Effective Policy shows the bundled policy as a read-only JSON document', async () => {
    await vscode.commands.executeCommand('switchyard.policy.open');
    const editor = await until(
      'the policy editor',
      () =>
        vscode.window.activeTextEditor?.document.uri.scheme === 'switchyard-policy' && vscode.window.activeTextEditor,
    );
    const text = editor.document.getText();
    assert.match(text, /^\/\/ Switchyard effective policy/);
    const json = JSON.parse(
      text
        .split('\n')
        .filter((l) => !l.startsWith('//'))
        .join('\n'),
    );
    assert.equal(json.policy_version, '2.0.0');
    assert.equal(editor.document.languageId, 'jsonc');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('a workspace policy overrides the bundled one; an invalid one is refused at its line and the last valid stays', async () => {
    const bundled = vscode.extensions.getExtension(EXT_ID)!.extensionUri;
    const raw = JSON.parse(
      new TextDecoder().decode(
        await vscode.workspace.fs.readFile(vscode.Uri.joinPath(bundled, 'policy', 'model-policy.json')),
      ),
    );
    raw.local_only = true;
    await writeUntil(policyUri(), `// team policy\n${JSON.stringify(raw, null, 2)}`, 'the workspace policy', () =>
      api.policySource().endsWith('.switchyard/policy.json'),
    );
    await until('local_only from the policy', () => api.effectiveLocalOnly());
    await until('the runtime item to say Local only', () => /Local only/.test(api.statusBarText().runtime));

    raw.escalation.implementer.max_failed_loops = 'two';
    const text = `// team policy\n${JSON.stringify(raw, null, 2)}`;
    const diags = await writeUntil(policyUri(), text, 'a diagnostic on the policy file', () => {
      const d = vscode.languages.getDiagnostics(policyUri());
      return d.length > 0 && d;
    });
    const expectedLine = text.split('\n').findIndex((l) => l.includes('"max_failed_loops"'));
    assert.equal(diags[0]!.range.start.line, expectedLine);
    assert.match(diags[0]!.message, /escalation\.implementer\.max_failed_loops: .*number/);
    assert.ok(api.effectiveLocalOnly(), 'the last valid policy (local_only=true) is still in force');

    await vscode.workspace.fs.delete(policyUri());
    await until('the bundled policy again', () => api.policySource().startsWith('bundled'), 30_000);
    assert.equal(api.effectiveLocalOnly(), false);
  });

  it('a hostile workspace policy (100,000 levels deep, 2 MiB, __proto__ keys) is refused with its reason; the editor keeps working under the bundled policy', async () => {
    const hostile: [string, string | Uint8Array, RegExp][] = [
      ['100,000 nested arrays', '['.repeat(100_000) + ']'.repeat(100_000), /nested more than 64 levels deep/],
      ['2 MiB of tokens', `{"a": ${'1 '.repeat(1024 * 1024)}}`, /a policy file may be at most 1\.0 MiB/],
      [
        'a __proto__ key',
        '{"__proto__": {"local_only": true}, "policy_version": "2.0.0"}',
        /"__proto__" is not allowed/,
      ],
      ['UTF-16', new Uint8Array([0xff, 0xfe, ...Buffer.from('{"policy_version": "2.0.0"}', 'utf16le')]), /UTF-16/],
    ];
    for (const [name, text, reason] of hostile) {
      const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
      let diags: vscode.Diagnostic[] | undefined;
      for (let attempt = 0; !diags; attempt++) {
        await vscode.workspace.fs.writeFile(policyUri(), bytes);
        diags = await until(
          `the refusal of ${name} on the policy file`,
          () => {
            const d = vscode.languages.getDiagnostics(policyUri());
            return d.some((x) => reason.test(x.message)) && d;
          },
          5_000,
        ).catch((e) => {
          if (attempt >= 5) throw e;
          return undefined;
        });
      }
      assert.equal(diags.length, 1, `${name}: one line says why, not one per token`);
      assert.ok(api.policySource().startsWith('bundled'), `${name}: the bundled policy stays in force`);
      assert.equal(api.effectiveLocalOnly(), false, `${name}: nothing of the refused file applies`);
      // The extension host is alive and its commands work: the effective policy opens, a model call is routed.
      await vscode.commands.executeCommand('switchyard.policy.open');
      const shown = await until('the effective policy document', () => {
        const t = vscode.window.activeTextEditor?.document.getText();
        return t?.includes('"policy_version"') && t;
      });
      assert.match(shown, /was refused and is NOT in force/, `${name}: the refusal is shown with the policy in force`);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
    await vscode.workspace.fs.delete(policyUri());
    await until('no diagnostic once the file is gone', () => vscode.languages.getDiagnostics(policyUri()).length === 0);
  });

  it('offers "Request Judge Audit" in the light bulb on a selection', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'crates', 'core', 'src', 'lib.rs');
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      new vscode.Range(0, 0, 2, 0),
    );
    assert.ok(
      actions.some(
        (a) => a.title === 'Switchyard: Request Judge Audit' && a.command?.command === 'switchyard.judge.audit',
      ),
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Classify Current Changes measures the working tree against HEAD and lists the evidence in Problems', async () => {
    const root = folder().fsPath;
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', root, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], {
        encoding: 'utf8',
      });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    const lib = join(root, 'crates', 'core', 'src', 'lib.rs');
    const original = readFileSync(lib, 'utf8');
    writeFileSync(
      lib,
      original.replace(
        'pub fn tokenize(text: &str) -> Vec<String> {',
        'pub fn tokenize(text: &str, keep_case: bool) -> Vec<String> {',
      ),
    );
    try {
      const result = await vscode.commands.executeCommand<{
        risk_flags: string[];
        lane: string;
        evidence: { line: number }[];
      }>('switchyard.classify.changes');
      assert.deepEqual(result.risk_flags, ['public_api']);
      assert.equal(result.lane, 'cloud');
      const diags = await until('a classification diagnostic', () => {
        const d = vscode.languages.getDiagnostics(vscode.Uri.file(lib)).filter((x) => x.source === 'switchyard');
        return d.length > 0 && d;
      });
      assert.match(diags[0]!.message, /^public_api: pub fn tokenize signature changed/);
      assert.equal(diags[0]!.range.start.line, result.evidence[0]!.line - 1);
      // The Implementer's route for the change is decided and kept in the audit log.
      const last = readFileSync(api.auditPath(), 'utf8').trim().split('\n').pop()!;
      const entry = JSON.parse(last) as { decision: { rule: string; provider: string } };
      assert.equal(entry.decision.rule, 'implementer.high_risk');
      assert.equal(entry.decision.provider, 'deepseek');
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    } finally {
      writeFileSync(lib, original);
    }
  });

  it('Explain Routing Decisions opens its webview panel', async () => {
    await vscode.commands.executeCommand('switchyard.route.explain');
    const tab = await until('the routing panel tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Switchyard: Routing'),
    );
    assert.ok(tab.input instanceof vscode.TabInputWebview);
    await vscode.window.tabGroups.close(tab);
  });
});

describe('settings a cloned repository cannot set', () => {
  let api: TestApi;
  const cfg = () => vscode.workspace.getConfiguration('switchyard');
  before(async () => {
    api = withProbes(await vscode.extensions.getExtension<SwitchyardApi>(EXT_ID)!.activate());
  });

  it("the workspace's autoApprove, allowPaidFallback and judge.maxEvidenceChars are ignored; the user's count", async () => {
    const ws = vscode.ConfigurationTarget.Workspace;
    try {
      await cfg().update('agent.autoApprove', true, ws);
      await cfg().update('agent.allowPaidFallback', true, ws);
      await cfg().update('judge.maxEvidenceChars', 999_999, ws);
      assert.equal(cfg().get('agent.autoApprove'), true, 'VS Code itself sees the workspace value');
      assert.deepEqual(api.userOnlySettings(), {
        autoApprove: false,
        allowPaidFallback: false,
        judgeMaxEvidenceChars: 120_000,
      });
      await cfg().update('agent.autoApprove', true, vscode.ConfigurationTarget.Global);
      assert.equal(api.userOnlySettings().autoApprove, true, "the user's own value counts");
    } finally {
      await cfg().update('agent.autoApprove', undefined, vscode.ConfigurationTarget.Global);
      for (const k of ['agent.autoApprove', 'agent.allowPaidFallback', 'judge.maxEvidenceChars'])
        await cfg().update(k, undefined, ws);
    }
  });
});

describe('model calls from the editor', () => {
  let api: TestApi;
  let local: WireServer, anth: WireServer;
  const cfg = () => vscode.workspace.getConfiguration('switchyard');
  before(async () => {
    api = withProbes(await vscode.extensions.getExtension<SwitchyardApi>(EXT_ID)!.activate());
    [local, anth] = await Promise.all([openAiServer(), anthropicServer()]);
    await cfg().update('runtime.endpoint', local.url, vscode.ConfigurationTarget.Global);
    await cfg().update('providers.anthropic.baseUrl', anth.url, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await cfg().update('runtime.endpoint', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('providers.anthropic.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await Promise.all([local.close(), anth.close()]);
  });

  it('a tutor call streams from the configured local endpoint and is audited', async () => {
    const pieces: string[] = [];
    const r = await api.callModel({
      role: 'tutor',
      prompt: 'what is a borrow?',
      onEvent: (e) => {
        if (e.type === 'text') pieces.push(e.text);
      },
    });
    assert.equal(r.provider, 'local');
    assert.equal(r.text, 'Hello from the test server.');
    assert.equal(pieces.join(''), r.text);
    const lines = readFileSync(api.auditPath(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; audit: string });
    assert.match(lines.at(-1)!.audit, /tutor: local\/.* answered/);
  });

  it('with the local server failing and no Anthropic key in SecretStorage, the error says what happened and what to do', async () => {
    local.fallback = { kind: 'status', status: 500 };
    try {
      await assert.rejects(
        api.callModel({ role: 'tutor', prompt: 'hi' }),
        (e: Error & { audit?: string[] }) =>
          /every model the policy allows for tutor failed/.test(e.message) &&
          (e.audit ?? []).some((l) => /Set API Key/.test(l)),
      );
      assert.equal(anth.requests.length, 0, 'no key, no request');
    } finally {
      local.fallback = { kind: 'ok' };
    }
  });

  it('a CancellationToken cancels the stream', async () => {
    local.queue.push({ kind: 'ok', chunks: Array.from({ length: 300 }, () => 'x'), chunkMs: 10 });
    const cts = new vscode.CancellationTokenSource();
    let n = 0;
    await assert.rejects(
      api.callModel({
        role: 'tutor',
        prompt: 'long',
        token: cts.token,
        onEvent: (e) => {
          if (e.type === 'text' && ++n === 3) cts.cancel();
        },
      }),
      (e: Error & { kind?: string }) => e.kind === 'cancelled',
    );
    assert.ok(n < 50);
  });

  it('the budget meter changes after a cloud call; the key set through "Set API Key" lives only in SecretStorage', async () => {
    const before = api.statusBarText().budget;
    assert.match(before, /\$0\.00 \/ \$10\.00/);
    const key = 'sk-ant-api03-exthost-test-key-0123456789';
    const w = vscode.window as unknown as { showInputBox: typeof vscode.window.showInputBox };
    const original = w.showInputBox;
    w.showInputBox = async () => key; // the user types the key into the command's password box
    try {
      await vscode.commands.executeCommand('switchyard.keys.set', 'anthropic');
    } finally {
      w.showInputBox = original;
    }
    local.fallback = { kind: 'status', status: 500 };
    anth.queue.push({
      kind: 'ok',
      text: 'from haiku',
      usage: {
        start: { input_tokens: 100_000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
        final: { input_tokens: 100_000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 10 },
      },
    });
    try {
      const r = await api.callModel({ role: 'tutor', prompt: 'hi' });
      assert.equal(`${r.provider}/${r.model}`, 'anthropic/claude-haiku-4-5');
      assert.equal(r.cost_usd, 0.10005); // 100,000 in x $1/MTok + 10 out x $5/MTok
    } finally {
      local.fallback = { kind: 'ok' };
    }
    const after = await until(
      'the meter to change',
      () => api.statusBarText().budget !== before && api.statusBarText().budget,
    );
    assert.match(after, /\$0\.10 \/ \$10\.00/);
    const h = anth.requests.at(-1)!.headers;
    assert.equal(h['x-api-key'] ?? String(h.authorization).replace(/^Bearer /, ''), key);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('switchyard'));
    assert.ok(!settings.includes(key));
    assert.ok(!readFileSync(api.auditPath(), 'utf8').includes(key));
  });

  it('Stage 0: the workspace is indexed, a search ranks the right file with its score explained, a new file is found at once', async () => {
    const rows = await vscode.commands.executeCommand<{ path: string; relevance: number; why: string }[]>(
      'switchyard.context.search',
      'split text into lower-case words',
    );
    const stats = api.stage0Stats()!;
    assert.ok(stats.indexed >= 4, JSON.stringify(stats));
    assert.equal(rows[0]!.path, 'crates/core/src/lib.rs');
    assert.match(
      rows[0]!.why,
      /^#1 crates\/core\/src\/lib\.rs: relevance 0\.9, mmr [\d.]+; bm25 [\d.]+ \(split [\d.]+, text [\d.]+/,
    );
    const fresh = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'docs', 'quarantine-notes.md');
    try {
      await writeUntil(
        fresh,
        '# Quarantine\n\nDamaged parcels are quarantined for review.\n',
        'the new file in the index',
        async () =>
          (
            await vscode.commands.executeCommand<{ path: string }[]>('switchyard.context.search', 'quarantined parcels')
          )[0]?.path === 'docs/quarantine-notes.md',
      );
    } finally {
      await vscode.workspace.fs.delete(fresh).then(undefined, () => undefined);
    }
  });

  it("Stage 0: a workspace of over 2,000 files is indexed in worker threads (dist/indexWorker.js), off the host's thread", async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const big = join(root, 'big-generated');
    mkdirSync(big, { recursive: true });
    try {
      for (let i = 0; i < 2100; i++)
        writeFileSync(
          join(big, `note-${i}.md`),
          `# Note ${i}\n\nparcel ${i % 7 === 0 ? 'zebracorn' : 'ordinary'} entry\n`,
        );
      await vscode.commands.executeCommand('switchyard.context.rebuild');
      const stats = api.stage0Stats()!;
      assert.ok(stats.threads >= 1, `threads ${stats.threads}; notes ${stats.notes.join('; ')}`);
      assert.ok(stats.indexed >= 2100, String(stats.indexed));
      assert.deepEqual(stats.notes, []);
      const rows = await vscode.commands.executeCommand<{ path: string }[]>('switchyard.context.search', 'zebracorn');
      assert.ok(rows.length > 0 && rows.every((r) => r.path.startsWith('big-generated/')));
    } finally {
      rmSync(big, { recursive: true, force: true });
      await vscode.commands.executeCommand('switchyard.context.rebuild');
    }
  });

  it('the Librarian synthesises two documents on the local lane and opens the result with who wrote it and why', async () => {
    local.queue.push({
      kind: 'ok',
      text: JSON.stringify({
        title: 'Word tools overview',
        document: '# Word tools overview\n\nThe demo counts words (README.md).\n',
        contradictions_resolved: [],
        open_questions: ['Which limit applies?'],
        confidence: 0.85,
      }),
    });
    const r = await vscode.commands.executeCommand<{
      result: { provider: string; decision: { rule: string } };
      escalated_on: string[];
    }>('switchyard.librarian.run', { paths: ['README.md', 'docs/word-filter-spec.md'], mode: 'synthesise', goal: '' });
    assert.equal(r.result.provider, 'local');
    assert.equal(r.result.decision.rule, 'librarian.routine');
    assert.deepEqual(r.escalated_on, []);
    const last = api.lastLibrarian()!;
    assert.match(last.opened ?? '', /^# Word tools overview\n/);
    assert.match(
      last.opened ?? '',
      /\n<!-- Switchyard Librarian · local\/.* \(routine, local\) · confidence 0\.85 · evidence \.switchyard\/evidence\/lib-[^ ]+ -->\n$/,
    );
    assert.match(last.opened ?? '', /## Open questions\n\n- Which limit applies\?/);
    const saved = JSON.parse(readFileSync(join(last.evidence, 'librarian.json'), 'utf8')) as {
      inputs: { path: string }[];
      served: { provider: string };
    };
    assert.deepEqual(
      saved.inputs.map((i) => i.path),
      ['README.md', 'docs/word-filter-spec.md'],
    );
    assert.equal(saved.served.provider, 'local');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a Judge audit of a file: findings become diagnostics, an invented citation says UNVERIFIED, and each offers its code actions', async () => {
    // The Anthropic key is in SecretStorage (test above); no OpenAI key, so the chain's Opus answers.
    const lib = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'crates', 'core', 'src', 'lib.rs');
    const f = (line: number, quote: string, severity = 'medium') => ({
      severity,
      file: 'crates/core/src/lib.rs',
      line_start: line,
      line_end: line,
      quote,
      rationale: `about line ${line}`,
    });
    anth.queue.push({
      kind: 'ok',
      text: JSON.stringify({
        verdict: 'request_changes',
        summary: 'two allocations',
        findings: [
          f(1, "//! The demo workspace's library crate"),
          f(4, 'pub fn tokenize(text: &str) -> Vec<String> {', 'high'),
          f(12, 'pub fn word_counts(text: &str)'),
          f(400, 'fn invented()', 'low'),
        ],
      }),
    });
    const r = await vscode.commands.executeCommand<{
      verdict: string;
      provider: string;
      findings: { verified: boolean }[];
      unreliable: boolean;
    }>('switchyard.judge.audit', { uri: lib.toString() });
    assert.equal(r.provider, 'anthropic');
    assert.equal(r.verdict, 'request_changes');
    assert.deepEqual(
      r.findings.map((x) => x.verified),
      [true, true, true, false],
    );
    assert.equal(r.unreliable, false, 'one bad citation in four is shown, not retried');
    const diags = vscode.languages.getDiagnostics(lib).filter((d) => String(d.code ?? '').startsWith('judge-'));
    assert.equal(diags.length, 4);
    assert.match(diags.find((d) => d.range.start.line === 3)!.message, /^Judge \(high\): about line 4/);
    assert.equal(diags.find((d) => d.range.start.line === 3)!.severity, vscode.DiagnosticSeverity.Error);
    assert.match(
      diags.find((d) => d.range.start.line === 399)!.message,
      /UNVERIFIED citation \(lines 400-400 do not exist/,
    );
    const doc = await vscode.workspace.openTextDocument(lib);
    await vscode.window.showTextDocument(doc);
    const at4 = diags.find((d) => d.range.start.line === 3)!;
    const titles = (
      await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        lib,
        new vscode.Range(3, 0, 3, 5),
      )
    ).map((a) => a.title);
    for (const t of [
      "Switchyard: Open the Judge's Evidence",
      'Switchyard: Audit Again',
      'Switchyard: Ask the Tutor to Explain',
      'Switchyard: Request Judge Audit',
    ])
      assert.ok(titles.includes(t), `${t} in ${titles.join(', ')}`);
    assert.ok(at4);
    const saved = api.lastVerdict()!.evidence;
    assert.ok(
      existsSync(saved) &&
        existsSync(join(saved, '..', 'manifest.sha256')) &&
        existsSync(join(saved, '..', 'bundle.txt')),
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a failed Implementer task: the reflector writes a lesson into .switchyard/playbook.md (a routine failure: the local model)', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri;
    const playbook = vscode.Uri.joinPath(root, '.switchyard', 'playbook.md');
    await vscode.workspace.fs.delete(playbook).then(undefined, () => undefined);
    const lesson = {
      title: 'Answer with a patch',
      lesson: 'Every attempt answered in prose. Reply with search/replace blocks against the file as it is.',
      applies_to: ['crates/core/src/lib.rs'],
      check_first: 'the answer format',
    };
    const saved = { local: local.fallback, anth: anth.fallback };
    local.queue.length = 0;
    anth.queue.length = 0;
    local.fallback = { kind: 'ok', text: JSON.stringify(lesson) }; // prose, never an edit: the agent's task fails
    anth.fallback = { kind: 'ok', text: 'I would rather explain than patch.' };
    try {
      const r = await vscode.commands.executeCommand<{
        status: string;
        attempts: { outcome: string; provider: string | null }[];
      }>('switchyard.implement.reflex', {
        instruction: 'make tokenize skip words longer than 64 characters',
        path: 'crates/core/src/lib.rs',
      });
      assert.equal(r.status, 'failed', JSON.stringify(r));
      assert.ok(
        r.attempts.length >= 2 && r.attempts.every((a) => a.outcome === 'no_patch'),
        JSON.stringify(r.attempts),
      );
      assert.ok(
        r.attempts.every((a) => a.provider === 'local'),
        JSON.stringify(r.attempts),
      );
      const refl = await api.lastReflection();
      assert.equal(refl?.action, 'written');
      const text = readFileSync(playbook.fsPath, 'utf8');
      assert.match(text, /^# Switchyard playbook\n/);
      assert.match(text, /## \d{4}-\d\d-\d\d · Answer with a patch\n\n- Failure: `[^`]+`\n- Task: impl-/);
      assert.match(text, /- Written by: local\/.* \(routine curation\)/);
    } finally {
      local.fallback = saved.local;
      anth.fallback = saved.anth;
      await vscode.workspace.fs.delete(playbook).then(undefined, () => undefined);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('Implement with Reflex Lane runs the agent: tool calls over the wire, the edit approved (autoApprove), the task view open, the file changed, a checkpoint taken', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const lib = join(root, 'crates', 'core', 'src', 'lib.rs');
    const before = readFileSync(lib, 'utf8');
    await cfg().update('agent.autoApprove', true, vscode.ConfigurationTarget.Global);
    // A trivial real check keeps this suite within its time; cargo's checks of the agent run in the unit tests.
    await cfg().update('implement.checkCommands', [['git', '--version']], vscode.ConfigurationTarget.Global);
    local.queue.length = 0;
    local.requests.length = 0;
    local.queue.push(
      { kind: 'ok', text: '', tools: [{ name: 'read_file', arguments: { path: 'crates/core/src/lib.rs' } }] },
      {
        kind: 'ok',
        text: '',
        tools: [
          {
            name: 'edit_file',
            arguments: {
              path: 'crates/core/src/lib.rs',
              old_text: '.filter(|w| !w.is_empty())',
              new_text: '.filter(|w| !w.is_empty() && w.len() <= 64)',
            },
          },
        ],
      },
      {
        kind: 'ok',
        text: '',
        tools: [{ name: 'finish', arguments: { summary: 'long words ignored', confidence: 0.9 } }],
      },
    );
    try {
      const r = await vscode.commands.executeCommand<{
        status: string;
        checkpoints: { label: string }[];
        changed: string[];
      }>('switchyard.implement.reflex', {
        instruction: 'ignore words longer than 64 characters',
        path: 'crates/core/src/lib.rs',
      });
      assert.equal(r?.status, 'passed', JSON.stringify(r));
      assert.deepEqual(r.changed, ['crates/core/src/lib.rs']);
      // One before the edit, one before the checks (what they write is restored too).
      assert.deepEqual(
        r.checkpoints.map((c) => c.label.replace(/ \d+.*/, '')),
        ['before turn', 'before the checks of turn'],
      );
      assert.match(readFileSync(lib, 'utf8'), /w\.len\(\) <= 64/);
      const body = local.requests[0]!.body as { tools?: { function: { name: string } }[] };
      assert.ok(body.tools?.some((t) => t.function.name === 'edit_file'));
      const tab = await until('the task view tab', () =>
        vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Switchyard: Task'),
      );
      assert.ok(tab.input instanceof vscode.TabInputWebview);
      assert.equal(api.lastAgent()?.status, 'passed');
    } finally {
      writeFileSync(lib, before);
      await cfg().update('agent.autoApprove', undefined, vscode.ConfigurationTarget.Global);
      await cfg().update('implement.checkCommands', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('the task view: a hostile message is dropped by the gate; Resume or Abandon of a task that is not interrupted is refused, saying what it is', async () => {
    const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const evidence = join(root, '.switchyard', 'evidence');
    const id = readdirSync(evidence)
      .filter((n) => n.startsWith('impl-'))
      .sort()
      .pop();
    assert.ok(id, 'the task of the test before is on disk');
    const calls = local.requests.length;
    const lib = join(root, 'crates', 'core', 'src', 'lib.rs');
    const before = readFileSync(lib, 'utf8');
    try {
      // The gate: an unknown field, a path for an id, a wrong type: dropped, nothing done.
      for (const raw of [
        { type: 'resume', task: id, extra: 1 },
        { type: 'resume', task: '../../../etc' },
        { type: 'abandon', task: 42 },
        { type: 'resume' },
      ])
        assert.deepEqual(await api.taskViewMessage(raw), { accepted: false, refusal: null }, JSON.stringify(raw));
      // A well-formed resume of a task that ended: refused, with its status in the words of the protocol.
      const resumed = await api.taskViewMessage({ type: 'resume', task: id });
      assert.equal(resumed.accepted, true);
      assert.match(resumed.refusal ?? '', new RegExp(`task ${id} is passed, not interrupted`));
      const abandoned = await api.taskViewMessage({ type: 'abandon', task: id });
      assert.match(abandoned.refusal ?? '', /is passed, not interrupted: only an interrupted task can be abandoned/);
      const unknown = await api.taskViewMessage({ type: 'resume', task: 'impl-20000101-000000-0000' });
      assert.match(unknown.refusal ?? '', /there is no task impl-20000101-000000-0000/);
      assert.equal(local.requests.length, calls, 'no model was called');
      assert.equal(readFileSync(lib, 'utf8'), before, 'the workspace is as it was');
      assert.notEqual(api.taskView()?.status, 'running');
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  it('Show Budget opens the Budget view', async () => {
    await vscode.commands.executeCommand('switchyard.budget.show');
    const tab = await until('the budget panel tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Switchyard: Budget'),
    );
    assert.ok(tab.input instanceof vscode.TabInputWebview);
    await vscode.window.tabGroups.close(tab);
  });
});

describe('the local model server from the editor', () => {
  let api: TestApi;
  const cfg = () => vscode.workspace.getConfiguration('switchyard');
  before(async () => {
    api = withProbes(await vscode.extensions.getExtension<SwitchyardApi>(EXT_ID)!.activate());
    const model = join(mkdtempSync(join(tmpdir(), 'sy-exthost-')), 'tiny.gguf');
    writeTinyGguf(model);
    const root = vscode.extensions.getExtension(EXT_ID)!.extensionPath;
    await cfg().update(
      'runtime.binaryPath',
      join(root, '.cache', 'llama', 'llama-server'),
      vscode.ConfigurationTarget.Global,
    );
    await cfg().update('runtime.modelPath', model, vscode.ConfigurationTarget.Global);
  });
  after(async () => {
    await vscode.commands.executeCommand('switchyard.runtime.stop');
    await cfg().update('runtime.binaryPath', undefined, vscode.ConfigurationTarget.Global);
    await cfg().update('runtime.modelPath', undefined, vscode.ConfigurationTarget.Global);
  });

  it('Start Local Model Server runs llama.cpp (no vLLM here), the status bar says ready, the tutor is served by it, Stop ends it', async () => {
    await vscode.commands.executeCommand('switchyard.runtime.start');
    await until('the server to be ready', () => api.runtimeState() === 'ready', 60_000);
    const bar = api.statusBarText();
    assert.match(bar.runtime, /Local: ready · switchyard-tiny \(test model, random weights\) · not the policy's model/);
    assert.equal(bar.runtimeWarning, true, 'the item is shown as a warning');
    assert.match(
      bar.runtimeTooltip,
      /Serving: switchyard-tiny \(test model, random weights\)\n {2}llama · \d+K parameters · F32/,
    );
    assert.match(bar.runtimeTooltip, /Warning \(GR-005\): this is not the policy's model/);
    assert.match(
      bar.runtimeTooltip,
      /Policy's model: Qwen3-Coder-30B-A3B .*\(Qwen\/Qwen3-Coder-30B-A3B-Instruct-AWQ\)/,
    );
    const r = await api.callModel({ role: 'tutor', prompt: 'hello', max_tokens: 8 });
    assert.equal(r.provider, 'local');
    assert.ok(r.text.length > 0);
    assert.equal(r.served?.name, 'switchyard-tiny');
    assert.equal(r.served?.matches_policy, false);
    const mismatch = readFileSync(api.auditPath(), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"mismatch"') && l.includes('switchyard-tiny'));
    assert.equal(mismatch.length, 1, `one GR-005 mismatch line per session and model: ${mismatch.join('\n')}`);
    await vscode.commands.executeCommand('switchyard.runtime.stop');
    await until('the server to stop', () => api.runtimeState() === 'stopped');
    assert.match(api.statusBarText().runtime, /Local: stopped/);
  });
});
