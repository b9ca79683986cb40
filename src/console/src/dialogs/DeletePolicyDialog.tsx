/**
 * Deleting a policy: refused by the server while users or groups still have it (the refusal names them), unless
 * the administrator ticks "detach it from them", which deletes it with force.
 */
import { useState } from 'react';
import { api } from '../api/client';
import { ConfirmDialog } from './ConfirmDialog';

export function DeletePolicyDialog({
  name,
  onDeleted,
  onClose,
}: {
  name: string;
  onDeleted: () => void;
  onClose: () => void;
}) {
  const [force, setForce] = useState(false);
  return (
    <ConfirmDialog
      title={`Delete policy ${name}?`}
      confirmLabel="Delete policy"
      danger
      onClose={onClose}
      onConfirm={async () => {
        await api.deletePolicy(name, { force });
        onDeleted();
      }}
    >
      <p>A policy that users or groups still have is not deleted: they are named, so you can detach it first.</p>
      <label className="checkbox">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
        Detach it from every user and group that has it (they lose what it allows at once), then delete it
      </label>
    </ConfirmDialog>
  );
}
