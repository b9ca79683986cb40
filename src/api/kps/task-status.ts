/**
 * KPS task states from core tasks (API.md §4.5). KPS names three operations — RESET, REPLACE, UNBIND — and four
 * phases — READY, RUNNING, SUCCESS, FAILED:
 * - an associate without a credential is a reset; with the root password it is a bind, which KPS runs as a RESET
 *   task (there is no BIND state, API.md §4.4); with the current private key it is a REPLACE;
 * - a disassociate is an UNBIND.
 * Documented quirk: the task_status enum has no SUCCESS_REPLACE / FAILED_REPLACE — a finished replace reports
 * SUCCESS_RESET / FAILED_RESET ("替换成功/替换失败" are documented under the RESET names). The running- and
 * failed-task lists name the operation in `operate_type`, whose enum does include RUNNING_REPLACE / FAILED_REPLACE.
 */
import type { Task, TaskStatus } from '../../core/task/task.js';

export type KpsOperation = 'RESET' | 'REPLACE' | 'UNBIND';
export type KpsPhase = 'READY' | 'RUNNING' | 'SUCCESS' | 'FAILED';

export function kpsOperation(task: Pick<Task, 'kind' | 'options'>): KpsOperation {
  if (task.kind === 'unbind') return 'UNBIND';
  return task.options.flavour === 'replace' ? 'REPLACE' : 'RESET';
}

const PHASE: Record<TaskStatus, KpsPhase> = {
  queued: 'READY',
  running: 'RUNNING',
  succeeded: 'SUCCESS',
  failed: 'FAILED',
  // A KPS task has one server; a multi-instance task of another face that partly failed is a failed task here.
  partial: 'FAILED',
};

export function kpsPhase(task: Pick<Task, 'status'>): KpsPhase {
  return PHASE[task.status];
}

/** `task_status` of ListKeypairTask, with the replace quirk. */
export function kpsTaskStatus(task: Pick<Task, 'kind' | 'options' | 'status'>): string {
  const phase = kpsPhase(task);
  const op = kpsOperation(task);
  const shown = op === 'REPLACE' && (phase === 'SUCCESS' || phase === 'FAILED') ? 'RESET' : op;
  return `${phase}_${shown}`;
}

/** `operate_type` of ListRunningTask / ListFailedTask (capture 19: RUNNING_REPLACE; GO enum: FAILED_REPLACE). */
export function kpsOperateType(task: Pick<Task, 'kind' | 'options' | 'status'>): string {
  return `${kpsPhase(task)}_${kpsOperation(task)}`;
}

/** The core statuses behind each KPS list. */
export const RUNNING_STATUSES: TaskStatus[] = ['queued', 'running'];
export const FAILED_STATUSES: TaskStatus[] = ['failed', 'partial'];

export function isFailed(task: Pick<Task, 'status'>): boolean {
  return FAILED_STATUSES.includes(task.status);
}
