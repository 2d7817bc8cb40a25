// NotebookLM has no public HTTP API (PROVIDERS.md): Switchyard reaches it through an MCP server the user
// configures (a stdio command that exposes a query tool). This adapter speaks MCP with the official SDK and
// turns the tool's answer into the one JSON shape the Stage 0 synthesis checks: {answer, citations}.
import { ZERO_USAGE } from '../budget/port.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallError } from './types.js';
import type { ChatRequest, ProviderAdapter, ProviderTarget, StreamResult, StreamSink } from './types.js';

export interface McpServerConfig {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** The query tool's name (default: the first tool whose name contains "query", "ask" or "chat"). */
  tool?: string;
  /** The notebook to ask, when the tool takes one. */
  notebook?: string;
  timeoutMs?: number;
}

export interface Citation {
  source: string;
  quote: string;
}

const QUESTION_KEYS = ['question', 'query', 'prompt', 'message', 'q'];
const NOTEBOOK_KEYS = ['notebook_id', 'notebook', 'notebook_url', 'notebookId'];
const SESSION_KEYS = ['session_id', 'session', 'sessionId'];

/** The answer and citations in a tool result: structured content, or JSON text, or plain text (no citations). */
export function parseToolResult(r: { content?: unknown; structuredContent?: unknown; isError?: boolean }): {
  answer: string;
  citations: Citation[];
} {
  const asShape = (v: unknown): { answer: string; citations: Citation[] } | null => {
    if (!v || typeof v !== 'object') return null;
    const o = v as Record<string, unknown>;
    const answer = typeof o.answer === 'string' ? o.answer : typeof o.text === 'string' ? o.text : null;
    if (answer === null) return null;
    const raw = Array.isArray(o.citations) ? o.citations : Array.isArray(o.sources) ? o.sources : [];
    const citations = raw.flatMap((c) => {
      if (!c || typeof c !== 'object') return [];
      const x = c as Record<string, unknown>;
      const source = String(x.source ?? x.title ?? x.path ?? '');
      const quote = String(x.quote ?? x.text ?? x.excerpt ?? '');
      return source ? [{ source, quote }] : [];
    });
    return { answer, citations };
  };
  const structured = asShape(r.structuredContent);
  if (structured) return structured;
  const text = (Array.isArray(r.content) ? r.content : [])
    .filter((c: { type?: string }) => c?.type === 'text')
    .map((c: { text?: string }) => c.text ?? '')
    .join('\n');
  try {
    const j = asShape(JSON.parse(text));
    if (j) return j;
  } catch {
    /* plain text */
  }
  return { answer: text, citations: [] };
}

export class McpNotebookAdapter implements ProviderAdapter {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private tool: { name: string; keys: { question: string; notebook?: string; session?: string } } | null = null;
  constructor(
    private readonly config: () => McpServerConfig | null,
    private readonly sessionId: string,
  ) {}

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    if (this.connecting) return this.connecting;
    const cfg = this.config();
    if (!cfg?.command)
      throw new CallError(
        'unavailable',
        'notebooklm: no MCP server is configured (setting switchyard.notebooklm.server)',
      );
    this.connecting = (async () => {
      const transport = new StdioClientTransport({
        command: cfg.command,
        args: cfg.args ?? [],
        env: { ...(process.env as Record<string, string>), ...(cfg.env ?? {}) },
        stderr: 'pipe',
      });
      const client = new Client({ name: 'switchyard', version: '0.1.0' });
      try {
        await client.connect(transport, { timeout: cfg.timeoutMs ?? 30_000 });
      } catch (e) {
        throw new CallError(
          'unavailable',
          `notebooklm: the MCP server "${cfg.command}" did not start: ${(e as Error).message}`,
        );
      }
      const tools = (await client.listTools()).tools;
      const t = cfg.tool ? tools.find((x) => x.name === cfg.tool) : tools.find((x) => /query|ask|chat/i.test(x.name));
      if (!t) {
        await client.close();
        throw new CallError(
          'unavailable',
          `notebooklm: the MCP server has no ${cfg.tool ? `tool "${cfg.tool}"` : 'query tool'} ` +
            `(it has: ${tools.map((x) => x.name).join(', ') || 'none'})`,
        );
      }
      const props = Object.keys((t.inputSchema as { properties?: Record<string, unknown> })?.properties ?? {});
      const question = QUESTION_KEYS.find((k) => props.includes(k)) ?? props[0] ?? 'question';
      this.tool = {
        name: t.name,
        keys: {
          question,
          notebook: NOTEBOOK_KEYS.find((k) => props.includes(k)),
          session: SESSION_KEYS.find((k) => props.includes(k)),
        },
      };
      client.onclose = () => {
        this.client = null;
        this.tool = null;
      };
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async stream(_t: ProviderTarget, req: ChatRequest, onEvent: StreamSink, signal: AbortSignal): Promise<StreamResult> {
    const client = await this.connect();
    const cfg = this.config();
    const tool = this.tool!;
    const question = [...req.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const args: Record<string, unknown> = { [tool.keys.question]: question };
    if (tool.keys.notebook && cfg?.notebook) args[tool.keys.notebook] = cfg.notebook;
    if (tool.keys.session) args[tool.keys.session] = this.sessionId;
    let r: { content?: unknown; structuredContent?: unknown; isError?: boolean };
    try {
      r = (await client.callTool({ name: tool.name, arguments: args }, undefined, {
        signal,
        timeout: cfg?.timeoutMs ?? 120_000,
      })) as typeof r;
    } catch (e) {
      if (signal.aborted) throw new CallError('cancelled', 'notebooklm: cancelled');
      throw new CallError('server', `notebooklm: the MCP tool "${tool.name}" failed: ${(e as Error).message}`);
    }
    if (r.isError)
      throw new CallError(
        'server',
        `notebooklm: the MCP tool "${tool.name}" reported an error: ${parseToolResult(r).answer.slice(0, 300)}`,
      );
    const parsed = parseToolResult(r);
    onEvent({ type: 'text', text: JSON.stringify(parsed) });
    return { usage: { ...ZERO_USAGE }, finish_reason: 'stop', model: 'notebooklm', tool_calls: [] };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.close();
  }
}
