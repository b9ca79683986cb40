/** Following a task the server runs: its progress stream, a progress bar on a terminal, polling as a fallback. */
import cliProgress from 'cli-progress';
import type { KeyfleetClient } from './client.js';

/**
 * Follows a task until it finishes, drawing a progress bar on a terminal: from the server's progress stream, or by
 * polling when the stream ends early (a proxy that buffers or cuts it).
 */
export async function followTask(c: KeyfleetClient, task: any, bar: boolean, unit = 'instances'): Promise<any> {
  const progress = bar
    ? new cliProgress.SingleBar(
        {
          format: ` {bar} {value}/{total} ${unit} | {failed} failed | {status}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  progress?.start(task.total, task.succeeded + task.failed, { failed: task.failed, status: task.status });
  let t = task;
  const show = (x: any) => progress?.update(x.succeeded + x.failed, { failed: x.failed, status: x.status });
  await c
    .stream(`/api/v1/tasks/${task.id}/progress`, (_event, data) => {
      if (data?.task) {
        t = data.task;
        show(t);
      }
    })
    .catch(() => undefined);
  while (!t.finishedAt) {
    await new Promise((r) => setTimeout(r, 250));
    t = (await c.request('GET', `/api/v1/tasks/${task.id}`)).task;
    show(t);
  }
  progress?.stop();
  return t;
}
