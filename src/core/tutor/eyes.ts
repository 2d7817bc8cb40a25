// The Tutor's eyes (still local, still a coach): the agent's read-only tools (read_file, list_files, search), so
// that its questions are about the learner's real code. The model may call them for a few rounds before it answers;
// nothing it can call writes, runs or leaves the workspace (the agent's workspace guard refuses paths outside it,
// .git and binaries).
import { runAgentTool, type ToolEnv } from '../agent/tools.js';
import { AGENT_TOOLS, READ_ONLY_TOOLS } from '../agent/toolSpecs.js';
import type { CallResult } from '../providers/call.js';
import type { ChatMessage, ToolSpec } from '../providers/types.js';

export const TUTOR_TOOLS: ToolSpec[] = AGENT_TOOLS.filter((t) => READ_ONLY_TOOLS.has(t.name as never));

/** Rounds of tool calls before the Tutor must answer (keep sessions short). */
export const MAX_LOOKS = 4;
const RESULT_MAX_CHARS = 12_000;

export const EYES_HINT =
  "You can look at the learner's workspace with read_file, list_files and search (read-only). Look before you " +
  'ask about their code; quote the lines you mean (path:line). Never claim to have changed anything.';

/**
 * One Tutor answer with its looks at the workspace: each round's tool calls are run read-only and their results
 * sent back; the last round offers no tools, so the model answers in words. `onLook` tells the view what it read.
 */
export async function answerWithEyes(
  call: (messages: ChatMessage[], tools: ToolSpec[] | undefined) => Promise<CallResult>,
  messages: ChatMessage[],
  env: ToolEnv,
  onLook?: (what: string) => void,
): Promise<CallResult> {
  const convo = [...messages];
  for (let round = 0; ; round++) {
    const r = await call(convo, round < MAX_LOOKS ? TUTOR_TOOLS : undefined);
    if (r.tool_calls.length === 0 || round >= MAX_LOOKS) return r;
    convo.push({ role: 'assistant', content: r.text, tool_calls: r.tool_calls });
    for (const c of r.tool_calls) {
      let content: string;
      if (!READ_ONLY_TOOLS.has(c.name as never))
        content = `${c.name}: the Tutor may only read (read_file, list_files, search); it never edits or runs anything`;
      else {
        const out = await runAgentTool(env, c.name, c.arguments);
        content = out.kind === 'answer' ? out.content : `${c.name}: not available to the Tutor`;
      }
      if (content.length > RESULT_MAX_CHARS)
        content = `${content.slice(0, RESULT_MAX_CHARS)}\n[cut at ${RESULT_MAX_CHARS} characters: read a smaller range]`;
      onLook?.(`${c.name} ${c.arguments.slice(0, 120)}`);
      convo.push({ role: 'tool', tool_call_id: c.id, name: c.name, content });
    }
  }
}
