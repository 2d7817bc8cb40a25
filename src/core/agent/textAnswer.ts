// A model that answers in text instead of tool calls: search/replace blocks (or a diff) are applied as edits and
// checked; prose is nudged once towards the tools, then taken as a finish.
import { applyAnswer, PatchError, type FileChange } from './edits/answer.js';
import { reviewChanges } from './tools.js';
import { isRefusal } from './workspace.js';
import { AgentTask, Done } from './task.js';
import { edit } from './editing.js';
import { checks } from './checking.js';
import { finishCall, outcome } from './outcome.js';

/** A model that answers in text: search/replace blocks are edits; prose is nudged once, then taken as a finish. */
export async function textAnswer(t: AgentTask, text: string): Promise<Done | null> {
  let changes: FileChange[] = [];
  const editLike = /^<{7} SEARCH$|^(---|\+\+\+) \S|^@@ /m.test(text);
  if (editLike)
    try {
      changes = await applyAnswer(text, async (path) => t.p.ws.current(t.p.ws.rel(path)));
    } catch (e) {
      if (!(e instanceof PatchError) && !isRefusal(e)) throw e;
      t.push({ role: 'user', content: `Your edit could not be applied: ${e.message}. Send it again.` });
      return null;
    }
  if (changes.length) {
    const reviewed = reviewChanges(
      changes.map((c) => ({ ...c, how: 'search/replace block' })),
      t.maxWriteBytes,
    );
    if (!reviewed.ok) {
      t.push({ role: 'user', content: `Your edit could not be applied: ${reviewed.message}` });
      return null;
    }
    const r = await edit(t, reviewed.changes, `text edit of ${changes.map((c) => c.path).join(', ')}`);
    const checked = r.ok ? await checks(t) : r;
    if (checked.ok) return outcome(t, 'the text edits applied');
    t.push({ role: 'user', content: `${r.content}\n${checked.content}` });
    return null;
  }
  t.attempt('no_patch', `answered without an edit: ${text.slice(0, 200)}`);
  if (!t.nudged) {
    t.nudged = true;
    t.push({
      role: 'user',
      content: 'Make the change with the tools (or search/replace blocks), then call finish.',
    });
    return null;
  }
  const r = await finishCall(t, text.slice(0, 500) || 'no summary', 1);
  if (r instanceof Done) return r;
  t.push({ role: 'user', content: r.content });
  return null;
}
