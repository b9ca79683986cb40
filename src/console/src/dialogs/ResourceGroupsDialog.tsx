/**
 * Manage the account's resource groups: create, rename, delete. The default group is neither renamed nor deleted; a
 * group that still holds key pairs or instances is not deleted, and the server's answer says how many it holds.
 * The top bar's selector is read again after each change.
 */
import { type FormEvent, useState } from 'react';
import { tagsApi } from '../api/tags';
import { useScope } from '../app/scope';
import { Dialog } from '../ui/Dialog';
import { InlineError } from '../ui/States';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/;

export function ResourceGroupsDialog({ onClose }: { onClose: () => void }) {
  const scope = useScope();
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [hint, setHint] = useState<string | null>(null);

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await scope.reloadGroups();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const check = (n: string) => {
    const broken = NAME.test(n) ? null : "Use 1-50 letters, digits, '.', '_' or '-', starting with a letter or digit.";
    setHint(broken);
    return !broken;
  };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!check(name.trim())) return;
    if (await run(() => tagsApi.createGroup(name.trim()))) setName('');
  };
  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (!renaming || !check(renaming.name.trim())) return;
    if (await run(() => tagsApi.renameGroup(renaming.id, renaming.name.trim()))) setRenaming(null);
  };

  return (
    <Dialog
      title="Resource groups"
      onClose={onClose}
      busy={busy}
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      }
    >
      <table className="table" aria-label="Resource groups">
        <thead>
          <tr>
            <th>Name</th>
            <th>ID</th>
            <th>
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {scope.groups.map((g) => (
            <tr key={g.id} data-group={g.name}>
              <td>
                {renaming?.id === g.id ? (
                  <form onSubmit={(e) => void rename(e)} className="inline-form">
                    <input
                      aria-label={`New name for ${g.name}`}
                      value={renaming.name}
                      maxLength={50}
                      onChange={(e) => setRenaming({ id: g.id, name: e.target.value })}
                    />
                    <button type="submit" className="button" disabled={busy}>
                      Save
                    </button>
                  </form>
                ) : (
                  g.name
                )}
              </td>
              <td className="mono small">{g.id}</td>
              <td>
                <div className="row-actions">
                  {g.name === 'default' ? (
                    <span className="muted small">default</span>
                  ) : (
                    <>
                      <button
                        type="button"
                        className="link-button"
                        aria-label={`Rename ${g.name}`}
                        onClick={() => setRenaming({ id: g.id, name: g.name })}
                      >
                        Rename
                      </button>
                      <button
                        type="button"
                        className="link-button danger"
                        aria-label={`Delete ${g.name}`}
                        disabled={busy}
                        onClick={() => void run(() => tagsApi.deleteGroup(g.id))}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="tag-add" onSubmit={(e) => void create(e)}>
        <label>
          <span>New group</span>
          <input
            aria-label="New resource group name"
            value={name}
            maxLength={50}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <button type="submit" className="button" disabled={busy}>
          Create group
        </button>
      </form>
      {hint ? (
        <p className="field-error" role="alert">
          {hint}
        </p>
      ) : null}
      <InlineError error={error} />
    </Dialog>
  );
}
