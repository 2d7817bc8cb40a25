// The agent's tools as the model sees them (CONTRACTS.md "Agent tools": names and arguments are a public contract).
import type { ToolSpec } from '../providers/types.js';

const str = (description: string) => ({ type: 'string', description });
const int = (description: string, minimum = 1) => ({ type: 'integer', minimum, description });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

export const AGENT_TOOLS: ToolSpec[] = [
  {
    name: 'read_file',
    description: 'Read a text file of the workspace (or a range of its lines), with line numbers.',
    parameters: obj(
      {
        path: str('workspace-relative path, / separated'),
        start_line: int('first line to read (1-based)'),
        end_line: int('last line to read (inclusive)'),
      },
      ['path'],
    ),
  },
  {
    name: 'list_files',
    description: 'List the files under a folder of the workspace (.gitignore respected).',
    parameters: obj({
      path: str('folder, default "."'),
      glob: str('only paths matching this glob, e.g. "**/*.rs"'),
      max: int('at most this many entries (default 200)'),
    }),
  },
  {
    name: 'search',
    description:
      'Search the workspace. mode "text" (default): lines containing the query; "regex": lines matching a ' +
      'JavaScript regular expression; "context": the files most related to the query (ranked retrieval).',
    parameters: obj(
      {
        query: str('what to look for'),
        mode: { type: 'string', enum: ['text', 'regex', 'context'] },
        glob: str('only files matching this glob'),
        max: int('at most this many results (default 50)'),
      },
      ['query'],
    ),
  },
  {
    name: 'edit_file',
    description:
      'Replace old_text with new_text in a file. old_text must match the file exactly and once (a unique ' +
      'whitespace-tolerant match is accepted); include enough lines to make it unique.',
    parameters: obj(
      {
        path: str('workspace-relative path'),
        old_text: str('the text to replace, copied from the file'),
        new_text: str('the replacement'),
        replace_all: { type: 'boolean', description: 'replace every occurrence' },
      },
      ['path', 'old_text', 'new_text'],
    ),
  },
  {
    name: 'write_file',
    description: 'Create a file, or replace a file whole.',
    parameters: obj({ path: str('workspace-relative path'), content: str('the whole file') }, ['path', 'content']),
  },
  {
    name: 'apply_patch',
    description: 'Apply a unified diff (---/+++ headers, @@ hunks) over one or more files.',
    parameters: obj({ patch: str('the unified diff') }, ['patch']),
  },
  {
    name: 'run_checks',
    description: "Run the workspace's checks (build, then tests) for what the task changed.",
    parameters: obj({}),
  },
  {
    name: 'run_command',
    description:
      'Run one program with arguments (never a shell line), in the workspace. Runs when the policy allows it ' +
      'or the user approves.',
    parameters: obj(
      {
        argv: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'program and arguments' },
        cwd: str('workspace-relative folder'),
        timeout_s: int('seconds before it is stopped (default 120)'),
      },
      ['argv'],
    ),
  },
  {
    name: 'ask_user',
    description: 'Ask the user a question when the requirements are unclear.',
    parameters: obj({ question: str('the question') }, ['question']),
  },
  {
    name: 'finish',
    description: 'End the task: what was done, and how confident you are that it is right and complete (0..1).',
    parameters: obj({ summary: str('what changed and why'), confidence: { type: 'number', minimum: 0, maximum: 1 } }, [
      'summary',
      'confidence',
    ]),
  },
];

/** The tools that only read: the Tutor may use these, and they run without asking. */
export const READ_ONLY_TOOLS = new Set(['read_file', 'list_files', 'search']);
