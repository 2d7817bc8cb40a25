// The Tutor chat (MODEL-POLICY.md §1: a maieutic coach, always local, Haiku as the fallback; "keep sessions
// short"). The logic behind the webview, without VS Code: validated messages in, state and streamed text out.
// Every effect (the model call, the clipboard, the editor, links) goes through a port the host provides.
import { randomUUID } from 'node:crypto';
import type { CallResult } from '../providers/call.js';
import type { ChatMessage, StreamEvent } from '../providers/types.js';
import { z } from 'zod';
import { FromTutorView, Turn, type Meter, type Served, type ToTutorView } from '../protocol/tutor.js';
import { recordLabel, recordWarning } from '../runtime/served.js';

export const TUTOR_SYSTEM = [
  'You are the Tutor in Switchyard, a maieutic coach for a programmer working in their editor.',
  'Help the learner reach the answer themselves: ask one or two short guiding questions, point ' +
    'at the concept or the line to look at, and give a small hint before a full solution.',
  'When they ask for the answer outright, or are stuck after a hint, give it plainly and briefly, ' +
    'then one question that checks their understanding.',
  'Answer in Markdown; put code in fenced blocks with the language. Be brief: this is an interactive session.',
].join('\n');

export interface Attachment {
  id: string;
  label: string;
  text: string;
  tokens: number;
}

export interface TutorPorts {
  call(o: { messages: ChatMessage[]; signal: AbortSignal; onEvent: (e: StreamEvent) => void }): Promise<CallResult>;
  post(m: ToTutorView): void;
  selection(): { label: string; text: string } | null;
  pickFile(): Promise<{ label: string; text: string } | null>;
  copy(text: string): Promise<void>;
  /** Inserts at the cursor of the editor the user last worked in; an error message when there is none. */
  insert(text: string): Promise<string | null>;
  /** Opens an http(s) or mailto link after the user confirms (the host asks). */
  openLink(href: string): Promise<void>;
  countTokens(text: string): number;
  /** The model that would serve now, for the header ("local: Qwen3-Coder… via llama.cpp"). */
  lane(): string;
  /** Why the model serving the local lane is not the policy's, or null. */
  laneWarning?(): string | null;
  label(provider: string, model: string): string;
  /** The policy's "keep sessions short" as tokens, and the serving model's context window. */
  limits(): { short: number; window: number };
  /** Called before each answer: the host starts the local server when it can. */
  beforeSend?(): Promise<void>;
  /** Whether the local server is stopped or failed and may be started from here; and starting it. */
  canStart?(): boolean;
  startServer?(): Promise<void>;
  /** "Start a Task" from the Tutor: the pipeline's command. */
  startTask?(): Promise<void>;
  log: { warn(s: string): void; info(s: string): void };
  /** How often streamed text is sent to the view (ms); the view batches its DOM updates per animation frame. */
  flushMs?: number;
}

/** http, https and mailto only; anything else (javascript:, command:, file:, data:, vscode:) is refused. */
export function safeLink(href: string): string | null {
  let u: URL;
  try {
    u = new URL(href);
  } catch {
    return null;
  }
  if (!['http:', 'https:', 'mailto:'].includes(u.protocol)) return null;
  if (u.username || u.password) return null;
  return u.toString();
}

const MAX_ATTACHMENT_CHARS = 60_000;
const MAX_ATTACHMENTS = 8;

export class TutorController {
  turns: Turn[] = [];
  attachments: Attachment[] = [];
  private inflight: { id: string; ac: AbortController } | null = null;
  private notice: string | null = null;
  /** What the view said it rendered of each answer, against what was sent (tests and the bench read it). */
  readonly renders = new Map<
    string,
    { sentChars: number; sentBatches: number; chars: number; batches: number; frames: number }
  >();
  private sent = new Map<string, { chars: number; batches: number }>();
  /** A user turn as the model saw it (the typed text and its attachments); the view shows the text and the labels. */
  private full = new Map<string, string>();

  constructor(private readonly p: TutorPorts) {}

  async handle(m: FromTutorView): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.postState();
        return;
      case 'send':
        return this.send(m.text);
      case 'stop':
        this.inflight?.ac.abort();
        return;
      case 'startServer':
        if (!this.p.canStart?.()) {
          this.say('The local server is already running (or cannot be started from this window).');
          return;
        }
        await this.p.startServer?.();
        this.postState();
        return;
      case 'startTask':
        await this.p.startTask?.();
        return;
      case 'newSession':
        return this.newSession();
      case 'attachSelection': {
        const s = this.p.selection();
        if (!s || !s.text.trim()) {
          this.say('Select some code in an editor first, then attach it.');
          return;
        }
        this.attach(s);
        return;
      }
      case 'attachFile': {
        const f = await this.p.pickFile();
        if (f) this.attach(f);
        return;
      }
      case 'removeAttachment':
        this.attachments = this.attachments.filter((a) => a.id !== m.id);
        this.postState();
        return;
      case 'copy':
        await this.p.copy(m.text);
        return;
      case 'insert': {
        const err = await this.p.insert(m.text);
        if (err) this.say(err);
        return;
      }
      case 'openLink': {
        const url = safeLink(m.href);
        if (!url) {
          this.p.log.warn(`tutor view: refused to open a link that is not http(s) or mailto: ${m.href.slice(0, 200)}`);
          this.say('That link was not opened: only http, https and mailto links open from the Tutor.');
          return;
        }
        await this.p.openLink(url);
        return;
      }
      case 'rendered': {
        const sent = this.sent.get(m.id);
        if (!sent) return;
        this.renders.set(m.id, {
          sentChars: sent.chars,
          sentBatches: sent.batches,
          chars: m.chars,
          batches: m.batches,
          frames: m.frames,
        });
        if (m.chars !== sent.chars || m.batches !== sent.batches)
          this.p.log.warn(
            `tutor view: answer ${m.id} rendered ${m.chars} of ${sent.chars} characters (${m.batches} of ${sent.batches} batches)`,
          );
        return;
      }
    }
  }

  private newSession(): void {
    this.inflight?.ac.abort();
    this.turns = [];
    this.attachments = [];
    this.notice = null;
    this.full.clear();
    this.postState();
  }

  private say(text: string): void {
    this.notice = text;
    this.postState();
    this.notice = null;
  }

  /** Attaches text from the host (an "Ask the Tutor to Explain" action). */
  attachText(label: string, text: string): void {
    this.attach({ label, text });
  }

  private attach(a: { label: string; text: string }): void {
    if (this.attachments.length >= MAX_ATTACHMENTS) {
      this.say(`At most ${MAX_ATTACHMENTS} attachments per message.`);
      return;
    }
    const cut = a.text.length > MAX_ATTACHMENT_CHARS;
    const text = cut ? a.text.slice(0, MAX_ATTACHMENT_CHARS) : a.text;
    this.attachments.push({
      id: randomUUID().slice(0, 8),
      label: cut ? `${a.label} (first ${MAX_ATTACHMENT_CHARS} characters)` : a.label,
      text,
      tokens: this.p.countTokens(text),
    });
    this.postState();
  }

  /** The conversation as the model sees it: the coach's instructions, then each finished turn. */
  messages(extra?: { text: string; attachments: Attachment[] }): ChatMessage[] {
    const out: ChatMessage[] = [{ role: 'system', content: TUTOR_SYSTEM }];
    // Every earlier exchange may go, oldest first, its question with its answer; the one being asked never.
    const lastUser = extra ? -1 : this.turns.map((t) => t.role).lastIndexOf('user');
    let group = '';
    this.turns.forEach((t, k) => {
      if (t.role === 'user') group = t.id;
      const cut = k < lastUser || extra ? { cut: { order: 1, label: 'earlier conversation', group } } : {};
      if (t.role === 'user') out.push({ role: 'user', content: this.full.get(t.id) ?? t.text, ...cut });
      else if ((t.status === 'done' || t.status === 'stopped') && t.text)
        out.push({
          role: 'assistant',
          content: t.status === 'stopped' ? `${t.text}\n[stopped by the learner]` : t.text,
          ...cut,
        });
    });
    if (extra) out.push({ role: 'user', content: withAttachments(extra.text, extra.attachments) });
    return out;
  }

  meter(): Meter {
    const { short, window } = this.p.limits();
    const used =
      this.p.countTokens(
        this.messages()
          .map((m) => m.content)
          .join('\n'),
      ) + this.attachments.reduce((n, a) => n + a.tokens, 0);
    return { used, short, window, level: used >= window ? 'full' : used >= short * 0.8 ? 'warning' : 'ok' };
  }

  postState(): void {
    this.p.post(this.stateMessage());
  }

  /** What the view shows now (also carried in the panel's HTML for its first paint). */
  stateMessage(): Extract<ToTutorView, { type: 'state' }> {
    return {
      type: 'state',
      turns: this.turns,
      attachments: this.attachments.map(({ id, label, tokens }) => ({ id, label, tokens })),
      meter: this.meter(),
      busy: this.inflight !== null,
      lane: this.p.lane(),
      laneWarning: this.p.laneWarning?.() ?? null,
      notice: this.notice,
      canStart: this.p.canStart?.() ?? false,
    };
  }

  private async send(text: string): Promise<void> {
    if (this.inflight) {
      this.say('An answer is still streaming: stop it first or wait for it.');
      return;
    }
    const attachments = this.attachments;
    const messages = this.messages({ text, attachments });
    const m = this.meter();
    if (m.used + this.p.countTokens(text) >= m.window) {
      this.say(
        `This session (${m.used} tokens) no longer fits the model's context (${m.window}). Start a ` +
          `new session: the policy keeps Tutor sessions short.`,
      );
      return;
    }
    const user: Turn = {
      id: randomUUID(),
      role: 'user',
      text,
      attachments: attachments.map((a) => a.label),
      status: 'done',
      served: null,
      error: null,
    };
    const answer: Turn = {
      id: randomUUID(),
      role: 'assistant',
      text: '',
      attachments: [],
      status: 'streaming',
      served: null,
      error: null,
    };
    this.full.set(user.id, withAttachments(text, attachments));
    this.turns.push(user, answer);
    this.attachments = [];
    const ac = new AbortController();
    this.inflight = { id: answer.id, ac };
    this.postState();

    const stream = this.streamer(answer);
    try {
      await this.p.beforeSend?.();
      const r = await this.p.call({ messages, signal: ac.signal, onEvent: stream.onEvent });
      stream.end();
      answer.text = r.text;
      answer.status = 'done';
      answer.served = served(r, r.served ? recordLabel(r.served) : this.p.label(r.provider, r.model));
    } catch (e) {
      stream.end();
      const err = e as Error & { kind?: string; guardrail?: string | null };
      if (err.kind === 'cancelled') {
        answer.status = 'stopped';
      } else {
        answer.status = 'failed';
        answer.error = `${err.guardrail ? `${err.guardrail}: ` : ''}${err.message}`;
      }
    } finally {
      this.sent.set(answer.id, stream.sent());
      this.inflight = null;
      this.postState();
    }
  }

  /**
   * The answer's stream to the view: text batched per frame (`flushMs`), a reset voids what was shown; `end`
   * flushes the rest, `sent` says what went out (the view's render check compares against it).
   */
  private streamer(answer: Turn) {
    let pending = '';
    let seq = 0;
    let chars = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      if (!pending) return;
      const t = pending;
      pending = '';
      chars += t.length;
      this.p.post({ type: 'delta', id: answer.id, seq: seq++, text: t });
    };
    const onEvent = (e: StreamEvent) => {
      if (e.type === 'text') {
        answer.text += e.text;
        pending += e.text;
        timer ??= setTimeout(flush, this.p.flushMs ?? 16);
      } else if (e.type === 'reset') {
        if (timer) {
          clearTimeout(timer);
          timer = null;
        }
        pending = '';
        answer.text = '';
        chars = 0;
        this.p.post({ type: 'reset', id: answer.id, reason: `${e.reason}; next: ${e.next}` });
      }
    };
    const end = () => {
      if (timer) clearTimeout(timer);
      flush();
    };
    return { onEvent, end, sent: () => ({ chars, batches: seq }) };
  }

  /** What survives a window reload (the host keeps it in the workspace's state). */
  snapshot(): { turns: Turn[]; full: [string, string][] } {
    return {
      turns: this.turns.map((t) => (t.status === 'streaming' ? { ...t, status: 'stopped' as const } : t)),
      full: [...this.full],
    };
  }

  restore(s: unknown): void {
    const r = Snapshot.safeParse(s);
    if (!r.success) {
      if (s !== undefined) this.p.log.warn('tutor: the saved session could not be read; starting a new one');
      return;
    }
    this.turns = r.data.turns;
    this.full = new Map(r.data.full);
  }

  dispose(): void {
    this.inflight?.ac.abort();
  }
}

const Snapshot = z.object({ turns: z.array(Turn).max(500), full: z.array(z.tuple([z.string(), z.string()])).max(500) });

function withAttachments(text: string, attachments: Attachment[]): string {
  if (attachments.length === 0) return text;
  return `${text}\n\n${attachments.map((a) => `Attached: ${a.label}\n\`\`\`\n${a.text}\n\`\`\``).join('\n\n')}`;
}

function served(r: CallResult, label: string): Served {
  const why = [...r.audit].reverse().find((l) => l.startsWith('GR-005:')) ?? null;
  return {
    provider: r.provider,
    model: r.model,
    label,
    lane: r.provider === 'local' ? 'local' : 'cloud',
    fallback: r.escalated || r.provider !== r.decision.provider,
    why,
    cost_usd: r.cost_usd,
    ms: r.timings.total_ms,
    output_tokens: r.usage.output_tokens,
    warning: recordWarning(r.served),
  };
}
