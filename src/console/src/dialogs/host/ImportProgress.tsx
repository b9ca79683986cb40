/** An inventory import as it runs and when it is done: a progress bar, the outcome, and a result row per host. */
import type { InventoryHost } from '../../../../api/native/inventory.js';
import type { Task, TaskItem } from '../../api/types';
import { useScope } from '../../app/scope';
import { formatCount, plural } from '../../lib/format';
import { Dialog } from '../../ui/Dialog';
import { PinnedNotice } from '../RegisterHostDialog';
import { DataTable } from '../../ui/Table';
import { Notice, ProgressBar } from '../../ui/Notice';

type RowResult =
  | { state: 'waiting' | 'running' }
  | { state: 'ok'; instanceId: string; hostKeySha256: string }
  | { state: 'failed'; code: string; message: string };

/** A task item as a result row: registered with the host key pinned, failed with its code, or not done yet. */
function resultOf(item: TaskItem | undefined): RowResult {
  if (!item) return { state: 'waiting' };
  if (item.status === 'succeeded')
    return { state: 'ok', instanceId: item.instanceId, hostKeySha256: item.host?.hostKeySha256 ?? '' };
  if (item.status === 'failed')
    return { state: 'failed', code: item.errorCode ?? 'Error', message: item.errorMessage ?? '' };
  return { state: item.status === 'running' ? 'running' : 'waiting' };
}

export function ImportProgress({
  hosts,
  task,
  items,
  running,
  refused,
  onClose,
}: {
  hosts: InventoryHost[];
  /** null until the server accepted the import. */
  task: Task | null;
  items: TaskItem[];
  running: boolean;
  /** Why the server refused the import, if it did. */
  refused: string | null;
  onClose: () => void;
}) {
  const { regionId, regionName } = useScope();
  const results = hosts.map((_, index) => resultOf(items[index]));
  const finished = task ? task.succeeded + task.failed : 0;
  const ok = task?.succeeded ?? 0;
  const failed = task?.failed ?? 0;
  const step = running ? 'running' : 'result';

  return (
    <Dialog
      title={running ? 'Registering hosts…' : 'Import finished'}
      onClose={onClose}
      busy={running}
      size="large"
      step={step}
      testId="import-inventory-result"
      footer={
        <button type="button" className="button button-primary" onClick={onClose} disabled={running}>
          {running ? 'Working…' : 'Close'}
        </button>
      }
    >
      <div className="task-progress">
        <ProgressBar label="Import progress" total={hosts.length} done={finished} failed={failed} />
        <p className="muted" aria-live="polite">
          {formatCount(finished)} of {formatCount(hosts.length)} done · {formatCount(ok)} registered ·{' '}
          {formatCount(failed)} failed
        </p>
      </div>
      {!running ? (
        failed === 0 ? (
          <Notice
            tone="success"
            title={
              <>
                {plural(ok, 'host')} registered in {regionName(regionId)}.
              </>
            }
          />
        ) : (
          <Notice
            tone="error"
            role="status"
            title={
              <>
                {plural(ok, 'host')} registered, {formatCount(failed)} failed.
              </>
            }
          >
            <p>
              A failed host was not registered; fix it and import it again (hosts already registered answer
              Instance.AlreadyRegistered).
            </p>
          </Notice>
        )
      ) : null}
      {!running && refused ? (
        <p className="field-error" role="alert">
          {refused}
        </p>
      ) : null}
      {!running && ok > 0 ? <PinnedNotice pinnedOnFirstUse /> : null}
      <DataTable
        label="Result per host"
        columns={['Host', 'Address', 'Result']}
        className="table table-compact"
        wrapClassName="table-wrap table-wrap-short"
      >
        {hosts.map((h, index) => {
          const r = results[index] ?? { state: 'waiting' };
          return (
            <tr key={index} data-host={h.name} data-result={r.state}>
              <td data-label="Host">
                <span className="cell-main">{h.name}</span>
              </td>
              <td data-label="Address" className="mono">
                {h.user}@{h.address}:{h.port}
              </td>
              <td data-label="Result">
                {r.state === 'ok' ? (
                  <>
                    <span className="pill pill-green">
                      <span className="dot" aria-hidden />
                      Registered
                    </span>{' '}
                    <span className="mono muted small">{r.instanceId}</span>
                    <div className="small">
                      Host key <span className="mono break">{r.hostKeySha256}</span>
                    </div>
                  </>
                ) : r.state === 'failed' ? (
                  <>
                    <span className="pill pill-red">
                      <span className="dot" aria-hidden />
                      Failed
                    </span>{' '}
                    <span className="mono small">{r.code}</span>
                    <div className="small">{r.message}</div>
                  </>
                ) : (
                  <span className={`pill ${r.state === 'running' ? 'pill-blue busy' : 'pill-grey'}`}>
                    <span className="dot" aria-hidden />
                    {r.state === 'running' ? 'Contacting…' : 'Waiting'}
                  </span>
                )}
              </td>
            </tr>
          );
        })}
      </DataTable>
    </Dialog>
  );
}
