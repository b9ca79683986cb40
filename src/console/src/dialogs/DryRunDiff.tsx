/**
 * A dry run's answer, per machine: the risks first (removes the last key, turns password login off before the key
 * is proven), then the unified diffs of authorized_keys and of the sshd drop-in: what would be written against what
 * is there (live: read from the machine over SSH; at the next restart: what the instance's boot would write, read
 * from its disk). An instance that could not be read shows the item's note, which says why. DryRunPreview runs the
 * dry run from a dialog (the bind/unbind dialog) and shows it; nothing on any machine changes.
 */
import { useState } from 'react';
import type { BindingResult, TaskItem } from '../api/types';
import { followTask } from '../lib/tasks';
import { Notice } from '../ui/Notice';
import { InlineError, Spinner } from '../ui/States';

const LINE_COLOURS: Array<[prefix: string, colour: string]> = [
  ['+++', 'inherit'],
  ['---', 'inherit'],
  ['@@', '#0b6e99'],
  ['+', '#1a7f37'],
  ['-', '#b42318'],
];

function DiffBlock({ diff, label }: { diff: string; label: string }) {
  const lines = diff.replace(/\n$/, '').split('\n');
  return (
    <pre className="mono small dry-run-diff" title={label} style={{ overflowX: 'auto', whiteSpace: 'pre' }}>
      {lines.map((line, n) => {
        const colour = LINE_COLOURS.find(([p]) => line.startsWith(p))?.[1] ?? 'inherit';
        const kind =
          line.startsWith('+') && !line.startsWith('+++')
            ? 'add'
            : line.startsWith('-') && !line.startsWith('---')
              ? 'del'
              : 'ctx';
        return (
          <div key={n} data-line={kind} style={{ color: colour }}>
            {line || ' '}
          </div>
        );
      })}
    </pre>
  );
}

export function DryRunDiff({ items, names = {} }: { items: TaskItem[]; names?: Readonly<Record<string, string>> }) {
  return (
    <div className="dry-run" data-testid="dry-run-diff">
      {items.map((item) => {
        const d = item.dryRun;
        return (
          <section key={item.seq} data-instance={item.instanceId} aria-label={`Dry run of ${item.instanceId}`}>
            <h4>
              {names[item.instanceId] ? `${names[item.instanceId]} ` : ''}
              <span className="mono">{item.instanceId}</span>
            </h4>
            {item.status === 'failed' ? (
              <Notice tone="error" title={`${item.errorCode}: ${item.errorMessage}`} />
            ) : !d ? (
              <p className="muted">{item.note}</p>
            ) : (
              <>
                {d.risks.map((r) => (
                  <div key={r.code} data-risk={r.code}>
                    <Notice
                      tone="warning"
                      title={
                        r.code === 'RemovesLastKey' ? 'Removes the last key' : 'Password off before the key is proven'
                      }
                    >
                      <p>{r.message}</p>
                    </Notice>
                  </div>
                ))}
                {!d.authorizedKeysDiff && !d.dropInDiff ? (
                  <p className="muted">No change: the machine is already as wanted.</p>
                ) : null}
                {d.authorizedKeysDiff ? (
                  <DiffBlock diff={d.authorizedKeysDiff} label={`Changes to ${d.authorizedKeysPath}`} />
                ) : null}
                {d.dropInDiff ? <DiffBlock diff={d.dropInDiff} label={`Changes to ${d.dropInPath}`} /> : null}
              </>
            )}
          </section>
        );
      })}
    </div>
  );
}

/** A "Preview changes" button that runs the request as a dry run and shows what it found. */
export function DryRunPreview({
  run,
  disabled,
  names,
}: {
  run: () => Promise<BindingResult>;
  disabled: boolean;
  /** Instance names by id, for each machine's heading. */
  names?: Readonly<Record<string, string>>;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [items, setItems] = useState<TaskItem[] | null>(null);
  const preview = async () => {
    setBusy(true);
    setError(null);
    setItems(null);
    try {
      const res = await run();
      setItems((await followTask(res.task.id, () => {})).items);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="dry-run-preview">
      <button type="button" className="button" disabled={disabled || busy} onClick={() => void preview()}>
        {busy ? <Spinner label="Reading the machines…" /> : 'Preview changes (dry run)'}
      </button>
      <InlineError error={error} />
      {items ? <DryRunDiff items={items} names={names} /> : null}
    </div>
  );
}
