// A stand-in for a NotebookLM MCP server (NotebookLM itself cannot be reached from these machines): a real MCP
// server over stdio, built with the official SDK, exposing a `notebook_query` tool that answers from the files
// of NOTEBOOK_SOURCES_DIR with citations. NOTEBOOK_MODE picks its behaviour: good, invented (quotes that are
// in no source), plain (text without citations), error (the tool reports an error), crash (exits at start).
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const mode = process.env.NOTEBOOK_MODE ?? 'good';
if (mode === 'crash') process.exit(3);
const dir = process.env.NOTEBOOK_SOURCES_DIR ?? '.';
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(md|rs|ts)$/.test(n))
      files.push({ path: relative(dir, p).split('\\').join('/'), text: readFileSync(p, 'utf8') });
  }
};
walk(dir);

const server = new McpServer({ name: 'notebooklm-standin', version: '1.0.0' });
server.registerTool(
  'notebook_query',
  {
    description: 'Ask a NotebookLM notebook a question; the answer cites its sources.',
    inputSchema: { question: z.string(), notebook_id: z.string().optional(), session_id: z.string().optional() },
  },
  async ({ question, notebook_id, session_id }) => {
    if (process.env.NOTEBOOK_LOG)
      appendFileSync(
        process.env.NOTEBOOK_LOG,
        `${JSON.stringify({ question: question.slice(0, 200), notebook_id, session_id })}\n`,
      );
    if (mode === 'error') return { isError: true, content: [{ type: 'text', text: 'notebook not found' }] };
    const words =
      question
        .split('\n')[0]
        .toLowerCase()
        .match(/[a-z]{4,}/g) ?? [];
    const scored = files
      .map((f) => ({ f, n: words.filter((w) => f.text.toLowerCase().includes(w)).length }))
      .sort((a, b) => b.n - a.n || (a.f.path < b.f.path ? -1 : 1));
    const best = scored[0].f;
    const line =
      best.text.split('\n').find((l) => words.some((w) => l.toLowerCase().includes(w)) && l.trim().length > 12) ??
      best.text.split('\n').find((l) => l.trim().length > 12);
    if (mode === 'plain') return { content: [{ type: 'text', text: `From the notebook: ${line.trim()}` }] };
    const citations =
      mode === 'invented'
        ? [{ source: best.path, quote: 'the ledger is replicated to three regions every hour' }]
        : [{ source: best.path, quote: line.trim() }];
    const answer = { answer: `According to ${best.path}: ${line.trim()}`, citations };
    return { content: [{ type: 'text', text: JSON.stringify(answer) }], structuredContent: answer };
  },
);
await server.connect(new StdioServerTransport());
