// What the agent is told: its role and tools, the policy's limits, the project's own conventions (AGENTS.md and
// .switchyard/rules.md, bounded), and the task.
import type { Policy } from '../policy/schema.js';
import { PATCH_FORMAT } from '../implement/patch.js';
import type { Workspace } from './workspace.js';

/** How much of each project instruction file the agent is given. */
export const RULES_MAX_CHARS = 16_000;
export const RULE_FILES = ['AGENTS.md', '.switchyard/rules.md'];

export interface ProjectRules {
  path: string;
  text: string;
  cut: boolean;
}

/** The project's instruction files, read through the workspace guard (a symlink out of it is not followed). */
export function projectRules(ws: Workspace): ProjectRules[] {
  return RULE_FILES.flatMap((p) => {
    let all: string;
    try {
      all = ws.read(ws.rel(p));
    } catch {
      return []; // absent, binary, too large, or outside the workspace
    }
    return [{ path: p, text: all.slice(0, RULES_MAX_CHARS), cut: all.length > RULES_MAX_CHARS }];
  });
}

export function systemPrompt(policy: Policy, rules: ProjectRules[]): string {
  const t = policy.escalation.implementer;
  const parts = [
    "You are the Implementer of Switchyard, a coding agent in the user's workspace. Make the change asked for, " +
      'nothing more, in the style of the surrounding code.',
    'Work with the tools: read_file and search before you edit; edit_file with old_text copied exactly from the ' +
      'file; run_checks after your edits; when the checks pass, call finish with a summary and your confidence.',
    `Changes over ${t.direct_cloud_over_lines} lines, or touching unsafe code, public API, concurrency, security, ` +
      'persistence formats or build files are reviewed more strictly.',
    'If you cannot call tools, answer with search/replace blocks instead:',
    PATCH_FORMAT,
  ];
  for (const r of rules)
    parts.push(
      `The project's conventions (${r.path}${r.cut ? `, first ${RULES_MAX_CHARS} characters` : ''}):\n${r.text}`,
    );
  return parts.join('\n\n');
}

export interface TaskText {
  instruction: string;
  focus?: { path: string; selection?: { startLine: number; endLine: number; text: string } };
  related?: string;
}

export function taskPrompt(t: TaskText): string {
  const fence = '```';
  const parts = [`Task: ${t.instruction}`];
  if (t.focus) {
    const s = t.focus.selection;
    parts.push(
      s
        ? `The user is in ${t.focus.path} and selected lines ${s.startLine}-${s.endLine}:\n${fence}\n${s.text}\n${fence}`
        : `The user is in ${t.focus.path}.`,
    );
  }
  if (t.related) parts.push(t.related);
  return parts.join('\n\n');
}
