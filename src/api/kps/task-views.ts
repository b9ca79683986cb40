/**
 * What the task calls return (API.md §4.5). A KPS task has one server: its first item (for a failed task, its
 * first failed item) supplies `server_id` and the error. Failure codes are keyfleet's own (`Live.CredentialRejected`,
 * `Live.Unreachable`, `Instance.WindowsNotSupported`, …): KPS documents no codes for these (API.md §6, last
 * paragraph), and the message says what happened and where.
 */
import type { Task, TaskItem } from '../../core/task/task.js';
import { isFailed, kpsOperateType, kpsTaskStatus } from './task-status.js';

export function taskStatusView(task: Task, item: TaskItem | null) {
  return { task_id: task.id, task_status: kpsTaskStatus(task), server_id: item?.instanceId ?? '' };
}

/** One row of ListRunningTask / ListFailedTask; `task_time` is a string of epoch milliseconds (capture 19). */
export function taskRowView(task: Task, item: TaskItem | null, serverName: string) {
  return {
    task_id: task.id,
    operate_type: kpsOperateType(task),
    task_time: String(task.createdAt.getTime()),
    ...(isFailed(task) ? { task_error_code: item?.errorCode ?? null, task_error_msg: item?.errorMessage ?? null } : {}),
    server_name: serverName,
    server_id: item?.instanceId ?? '',
    keypair_name: task.keyPairName ?? '',
  };
}
