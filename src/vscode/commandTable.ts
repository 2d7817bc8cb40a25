// Every command of the extension in one table: its id (CONTRACTS.md), what it needs before it may run, and the
// service that runs it. A command that cannot run says why and offers the fix (rust-analyzer's disabled form),
// instead of starting and failing halfway.
import * as vscode from 'vscode';
import type { ClassifyChanges } from './commands/classifyChanges.js';
import { setApiKey } from './commands/keysSet.js';
import { openEffectivePolicy } from './commands/policyOpen.js';
import { lazyModules, type Services } from './services.js';
import { OPEN_FOLDER } from './fixes.js';
import { WALKTHROUGH_ID } from './walkthrough.js';

/** A condition a command needs; `message` says what to do when it does not hold. */
interface Need {
  holds(): boolean;
  message: string;
  level: 'error' | 'warning';
  /** A button that fixes it: its label and the command it runs. */
  fix?: { label: string; command: string };
}

const folderOnDisk = () => vscode.workspace.workspaceFolders?.[0]?.uri.scheme === 'file';
const trusted = () => vscode.workspace.isTrusted;
const TRUST = { label: 'Manage Workspace Trust', command: 'workbench.trust.manage' };

const NEEDS = {
  implementFolder: {
    holds: folderOnDisk,
    level: 'error',
    message: 'Switchyard: open a folder first: the Implementer patches, builds and tests a workspace.',
    fix: OPEN_FOLDER,
  },
  implementTrust: {
    holds: trusted,
    level: 'error',
    message:
      "Switchyard: the Implementer runs the project's build and tests, and nothing runs in an untrusted " +
      'workspace (GR-010). Trust the workspace to use it.',
    fix: TRUST,
  },
  classifyFolder: {
    holds: folderOnDisk,
    level: 'warning',
    message: 'Switchyard: Classify Current Changes needs a folder on disk that is a git repository.',
    fix: OPEN_FOLDER,
  },
  // git reads the repository's own config, which can name programs to run: not in an untrusted folder (GR-010).
  classifyTrust: {
    holds: trusted,
    level: 'warning',
    message:
      'Switchyard: Classify Current Changes runs git, which is not done in an untrusted workspace ' +
      '(GR-010). Trust the folder to use it.',
    fix: TRUST,
  },
} satisfies Record<string, Need>;

export interface CommandSpec {
  id: string;
  /** Checked in order before the command runs; the first that does not hold is shown instead. */
  needs?: Need[];
  // Command arguments come from menus, keybindings and scripts: each service validates what it is given.
  run(s: Services, ...args: any[]): unknown;
}

type TutorArg = { ask?: string; attach?: { uri: string; start: number; end: number } };

export const commandTable = (classify: ClassifyChanges): CommandSpec[] => [
  { id: 'switchyard.tutor.open', run: (s, arg?: TutorArg) => openTutor(s, arg) },
  { id: 'switchyard.plan.create', run: (s, args?: { goal?: string; fastDraft?: boolean }) => s.plans().create(args) },
  { id: 'switchyard.plan.open', run: (s, arg?: string | vscode.Uri) => s.plans().open(arg) },
  {
    id: 'switchyard.implement.reflex',
    needs: [NEEDS.implementFolder, NEEDS.implementTrust],
    run: (s, arg) => s.agent().run(arg),
  },
  { id: 'switchyard.task.show', needs: [NEEDS.implementFolder], run: (s) => s.agent().open() },
  { id: 'switchyard.judge.audit', run: (s, arg) => s.judge().run(arg) },
  {
    id: 'switchyard.task.start',
    needs: [NEEDS.implementFolder],
    run: (s, arg) => lazyModules().startTask(s.deps, arg),
  },
  {
    id: 'switchyard.classify.changes',
    needs: [NEEDS.classifyFolder, NEEDS.classifyTrust],
    run: () => classify.run(),
  },
  { id: 'switchyard.budget.show', run: (s) => s.budget().show() },
  { id: 'switchyard.runtime.start', run: (s) => s.runtime().start() },
  { id: 'switchyard.runtime.stop', run: (s) => s.runtime().stop() },
  { id: 'switchyard.runtime.switchModel', run: (s) => s.runtime().switchModel() },
  { id: 'switchyard.route.explain', run: (s) => s.explain().show() },
  {
    id: 'switchyard.walkthrough.open',
    run: () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
  },
  { id: 'switchyard.keys.set', run: (s, provider?: string) => setApiKey(s.secrets, s.log, provider) },
  { id: 'switchyard.policy.open', run: () => openEffectivePolicy() },
  {
    id: 'switchyard.librarian.run',
    run: (s, clicked, selected?: vscode.Uri[]) => s.librarian().run(clicked, selected),
  },
  {
    id: 'switchyard.context.search',
    run: (s, q?: unknown) => s.stage0().search(typeof q === 'string' ? q : undefined),
  },
  { id: 'switchyard.context.rebuild', run: (s) => s.stage0().rebuild() },
  { id: 'switchyard.context.ask', run: (s, q?: unknown) => s.stage0().ask(typeof q === 'string' ? q : undefined) },
];

function openTutor(s: Services, arg?: TutorArg) {
  return typeof arg?.ask === 'string' ? s.tutor().ask(arg.ask, arg.attach) : s.tutor().show(vscode.ViewColumn.Beside);
}

/** Registers every command of the table; a command whose needs do not hold shows why and returns undefined. */
export function registerCommands(s: Services, table: CommandSpec[]): vscode.Disposable[] {
  return table.map((c) =>
    vscode.commands.registerCommand(c.id, (...args: unknown[]) => {
      const missing = c.needs?.find((n) => !n.holds());
      if (!missing) return c.run(s, ...args);
      const show = missing.level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const fix = missing.fix;
      void (fix ? show(missing.message, fix.label) : show(missing.message)).then((pick) => {
        if (fix && pick === fix.label) void vscode.commands.executeCommand(fix.command);
      });
      return undefined;
    }),
  );
}
