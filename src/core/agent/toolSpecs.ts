// The agent's tools (CONTRACTS.md "Agent tools": names and arguments are a public contract). Each tool's arguments
// are one zod schema: it validates the model's call (tools.ts) and, as JSON Schema, is what the model is shown.
import { z } from 'zod';
import type { ToolSpec } from '../providers/types.js';

const path = z.string().min(1).describe('workspace-relative path, / separated');
const glob = z.string().min(1).describe('only paths matching this glob, e.g. "**/*.rs"');

export const TOOL_ARGS = {
  read_file: z.strictObject({
    path,
    start_line: z.int().min(1).optional().describe('first line to read (1-based)'),
    end_line: z.int().min(1).optional().describe('last line to read (inclusive)'),
  }),
  list_files: z.strictObject({
    path: path.optional().describe('folder, default "."'),
    glob: glob.optional(),
    max: z.int().min(1).max(5000).optional().describe('at most this many entries (default 200)'),
  }),
  search: z.strictObject({
    query: z.string().min(1).describe('what to look for'),
    mode: z.enum(['text', 'regex', 'context']).optional(),
    glob: glob.optional(),
    max: z.int().min(1).max(1000).optional().describe('at most this many results (default 50)'),
  }),
  edit_file: z.strictObject({
    path,
    old_text: z.string().describe('the text to replace, copied from the file'),
    new_text: z.string().describe('the replacement'),
    replace_all: z.boolean().optional().describe('replace every occurrence'),
  }),
  write_file: z.strictObject({ path, content: z.string().describe('the whole file') }),
  apply_patch: z.strictObject({
    patch: z.string().min(1).describe('a unified diff, or a patch in the *** Begin Patch format'),
  }),
  run_checks: z.strictObject({}),
  run_command: z.strictObject({
    argv: z.array(z.string().min(1)).min(1).describe('program and arguments'),
    cwd: path.optional().describe('workspace-relative folder'),
    timeout_s: z.int().min(1).max(3600).optional().describe('seconds before it is stopped (default 120)'),
  }),
  ask_user: z.strictObject({ question: z.string().min(1).describe('the question') }),
  finish: z.strictObject({
    summary: z.string().describe('what changed and why'),
    confidence: z.number().min(0).max(1).describe('how sure you are it is right and complete, 0..1'),
  }),
};
export type ToolName = keyof typeof TOOL_ARGS;
export const TOOL_NAMES = Object.keys(TOOL_ARGS) as ToolName[];

const DESCRIPTIONS: Record<ToolName, string> = {
  read_file: 'Read a text file of the workspace (or a range of its lines), with line numbers.',
  list_files: 'List the files under a folder of the workspace (.gitignore respected).',
  search:
    'Search the workspace. mode "text" (default): lines containing the query; "regex": lines matching a ' +
    'JavaScript regular expression; "context": the files most related to the query (ranked retrieval).',
  edit_file:
    'Replace old_text with new_text in a file. old_text must match the file exactly and once (a unique ' +
    'whitespace-tolerant match is accepted); include enough lines to make it unique.',
  write_file: 'Create a file, or replace a file whole.',
  apply_patch:
    'Apply a patch over one or more files, whole or not at all: a unified diff (---/+++ headers, @@ hunks), or ' +
    'the *** Begin Patch format (*** Add File / Delete File / Update File, *** Move to, @@ anchor lines, ' +
    '*** End Patch). Each hunk is placed by its context and removed lines; where that text occurs more than once, ' +
    'the @@ -a,b +c,d @@ line numbers (or @@ anchor lines) pick the occurrence only when the choice is certain, ' +
    'else the patch is refused naming the lines. @@ ... @@ or a bare @@ (no numbers) needs a unique text.',
  run_checks: "Run the workspace's checks (build, then tests) for what the task changed.",
  run_command:
    'Run one program with arguments (never a shell line), in the workspace. Runs when the policy allows it ' +
    'or the user approves.',
  ask_user: 'Ask the user a question when the requirements are unclear.',
  finish: 'End the task: what was done, and how confident you are that it is right and complete (0..1).',
};

/** The tools as the model sees them: name, description, and the JSON Schema of the same zod arguments. */
export const AGENT_TOOLS: ToolSpec[] = TOOL_NAMES.map((name) => {
  const { $schema: _, ...parameters } = z.toJSONSchema(TOOL_ARGS[name], { target: 'draft-7' }) as Record<
    string,
    unknown
  >;
  return { name, description: DESCRIPTIONS[name], parameters };
});

/** The tools that only read: the Tutor may use these, and they run without asking. */
export const READ_ONLY_TOOLS = new Set<ToolName>(['read_file', 'list_files', 'search']);
