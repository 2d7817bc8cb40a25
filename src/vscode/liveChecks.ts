// The checks' output while they run, in the editor: the task view's live log of each check step (the batch is sent
// alone, and the view applies it as the host does) and the "Switchyard Checks" output channel, with the same lines.
import * as vscode from 'vscode';
import { appendCheckOutput, endCheckLogs } from '../core/protocol/checkLog.js';
import type { TaskState, ToTaskView } from '../core/protocol/task.js';

export const CHECKS_CHANNEL = 'Switchyard Checks';

export class LiveChecks implements vscode.Disposable {
  private channel: vscode.OutputChannel | undefined;
  private channelTask: string | null = null;

  /** A batch of a step's output: into the task's log and the channel; the message that brings it to the view. */
  output(t: TaskState, e: { turn: number; step: string; text: string }): ToTaskView {
    appendCheckOutput((t.check_logs ??= []), e);
    const channel = (this.channel ??= vscode.window.createOutputChannel(CHECKS_CHANNEL));
    if (this.channelTask !== t.task_id) {
      this.channelTask = t.task_id;
      channel.appendLine(`# task ${t.task_id}: ${t.instruction.slice(0, 200)}`);
    }
    channel.append(e.text);
    return { type: 'checkOutput', turn: e.turn, step: e.step, text: e.text };
  }

  /** The checks of a turn ended (their `check` event), or the task did ('stopped': a log still running was cut). */
  ended(t: TaskState, end: { turn: number; ok: boolean } | 'stopped'): void {
    if (t.check_logs) endCheckLogs(t.check_logs, end);
  }

  dispose(): void {
    this.channel?.dispose();
  }
}
