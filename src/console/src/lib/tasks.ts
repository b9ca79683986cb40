/** Following a task to its end, and restarting instances so a recorded change takes effect. */
import { api } from '../api/client';
import type { Task, TaskItem } from '../api/types';

/** What a task did, as its title: 'Bind web', 'Unbind web', 'Import hosts'. */
export function taskTitle(t: Pick<Task, 'kind' | 'keyPairName'>): string {
  if (t.kind === 'import') return 'Import hosts';
  return `${t.kind === 'bind' ? 'Bind' : 'Unbind'} ${t.keyPairName ?? 'key pair'}`;
}

export const isFinished = (t: Pick<Task, 'status'>) => t.status !== 'queued' && t.status !== 'running';

/**
 * Follows the task until it finishes, reporting progress; then returns it with all its items. Progress comes from
 * the server's event stream (a change is shown when it happens, one request for the whole task); if the stream is
 * unavailable or breaks, the task is polled every `everyMs` instead.
 */
export async function followTask(
  taskId: string,
  onProgress: (t: Task) => void,
  opts: { everyMs?: number; cancelled?: () => boolean } = {},
): Promise<{ task: Task; items: TaskItem[] }> {
  const stop = new AbortController();
  const watchCancel = window.setInterval(() => opts.cancelled?.() && stop.abort(), 500);
  let streamed: Task | null;
  try {
    streamed = await api.taskProgress(taskId, onProgress, stop.signal);
  } finally {
    window.clearInterval(watchCancel);
  }
  let task = streamed ?? (await api.task(taskId));
  if (!streamed) onProgress(task);
  while (!isFinished(task)) {
    if (opts.cancelled?.()) break;
    await new Promise((r) => window.setTimeout(r, opts.everyMs ?? 500));
    task = await api.task(taskId);
    onProgress(task);
  }
  const items: TaskItem[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await api.taskItems(taskId, { offset, limit: 1000 });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) break;
  }
  return { task, items };
}
