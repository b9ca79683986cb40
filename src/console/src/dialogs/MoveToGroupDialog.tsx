/**
 * Move key pairs or instances to another resource group of the account (POST /resource-groups/{id}/members, one call
 * per resource). The groups offered are the top bar selector's, read again when the dialog opens so a group made in
 * another tab is there. Each move is one transaction on the server: a resource is either moved or left where it was.
 * One resource refused: the server's answer is shown and the dialog stays open to try another group. Several: each
 * resource's outcome is listed, and the list behind is read again if any moved.
 */
import { useEffect, useId, useState } from 'react';
import { errorText } from '../api/client';
import { type TaggableType, tagsApi } from '../api/tags';
import { useScope } from '../app/scope';
import { plural } from '../lib/format';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';
import { useToasts } from '../ui/Toasts';

/** A resource to move: a key pair is named by its name, an instance by its id (as the API names them). */
export interface Movable {
  resourceType: TaggableType;
  regionId: string;
  resourceId: string;
  /** What the dialog calls it: the key pair's or the instance's name. */
  label: string;
  /** The group it is in now. */
  resourceGroupId: string;
}

type Outcome = { resource: Movable; moved: true } | { resource: Movable; moved: false; error: unknown };

export function MoveToGroupDialog({
  resources,
  onClose,
  onMoved,
}: {
  resources: readonly Movable[];
  onClose: () => void;
  /** At least one resource moved: the caller reads its list or page again. */
  onMoved: () => void;
}) {
  const id = useId();
  const scope = useScope();
  const toasts = useToasts();
  const single = resources.length === 1 ? resources[0]! : null;
  const [target, setTarget] = useState(() => scope.groups.find((g) => g.id !== single?.resourceGroupId)?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcomes, setOutcomes] = useState<Outcome[] | null>(null);

  // The selector's list may be older than this dialog (a group created in another tab): read it again.
  useEffect(() => {
    scope.reloadGroups().catch(() => undefined);
  }, [scope.reloadGroups]);

  const toMove = resources.filter((r) => r.resourceGroupId !== target);
  const kind = (r: Movable) => (r.resourceType === 'keypair' ? 'Key pair' : 'Instance');

  const move = async () => {
    setBusy(true);
    setError(null);
    const done: Outcome[] = [];
    // One at a time: each move locks the destination group's row; in parallel they would only queue on it.
    for (const r of toMove) {
      try {
        await tagsApi.move(target, r.regionId, r.resourceType, r.resourceId);
        done.push({ resource: r, moved: true });
      } catch (err) {
        done.push({ resource: r, moved: false, error: err });
      }
    }
    setBusy(false);
    const moved = done.filter((o) => o.moved).length;
    if (moved > 0) onMoved();
    if (moved === done.length) {
      toasts.push({
        kind: 'success',
        title: `${single ? single.label : plural(moved, 'resource')} moved to ${scope.groupName(target)}`,
      });
      onClose();
    } else if (single) {
      const failed = done[0];
      setError(failed && !failed.moved ? failed.error : null);
    } else setOutcomes(done);
  };

  const title = single ? `Move ${single.label} to a resource group` : `Move ${plural(resources.length, 'resource')}`;

  if (outcomes)
    return (
      <Dialog
        title={title}
        onClose={onClose}
        size="small"
        testId="move-to-group"
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <p>
          {plural(outcomes.filter((o) => o.moved).length, 'resource')} moved to{' '}
          <strong>{scope.groupName(target)}</strong>; the others stay where they were.
        </p>
        <ul className="resource-list" aria-label="What happened to each resource">
          {outcomes.map((o) => (
            <li
              key={`${o.resource.resourceType}/${o.resource.resourceId}`}
              data-outcome={o.moved ? 'moved' : 'refused'}
            >
              {kind(o.resource)} <strong>{o.resource.label}</strong>:{' '}
              {o.moved ? 'moved' : <span className="error-text">not moved: {errorText(o.error)}</span>}
            </li>
          ))}
        </ul>
      </Dialog>
    );

  return (
    <Dialog
      title={title}
      onClose={onClose}
      busy={busy}
      size="small"
      testId="move-to-group"
      description="A policy conditioned on the resource group then governs it as a member of its new group."
      footer={
        <FormFooter
          formId={`${id}-f`}
          busy={busy}
          blocked={!target || toMove.length === 0}
          onCancel={onClose}
          submitLabel="Move"
          busyLabel="Moving…"
        />
      }
    >
      <form
        id={`${id}-f`}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (target && toMove.length > 0 && !busy) void move();
        }}
      >
        {single ? (
          <p data-testid="current-group">
            {kind(single)} <strong>{single.label}</strong> is in{' '}
            <strong>{scope.groupName(single.resourceGroupId)}</strong>.
          </p>
        ) : (
          <ul className="resource-list" data-testid="current-group">
            {resources.map((r) => (
              <li key={`${r.resourceType}/${r.resourceId}`}>
                {kind(r)} <strong>{r.label}</strong> is in {scope.groupName(r.resourceGroupId)}
              </li>
            ))}
          </ul>
        )}
        <div className="field">
          <label htmlFor={`${id}-g`}>Move to</label>
          <select id={`${id}-g`} value={target} onChange={(e) => setTarget(e.target.value)} disabled={busy}>
            {scope.groups.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
                {single && g.id === single.resourceGroupId ? ' (current)' : ''}
              </option>
            ))}
          </select>
          {target && toMove.length === 0 ? (
            <p className="hint">
              {single ? 'It is already in this group.' : 'They are all in this group already.'} Choose another.
            </p>
          ) : scope.groups.length < 2 ? (
            <p className="hint">This account has one resource group. Create another with Manage groups.</p>
          ) : null}
        </div>
      </form>
      <InlineError error={error} />
    </Dialog>
  );
}
