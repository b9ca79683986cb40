/** Group dialogs for account administrators: create a group, add a user to a group. */
import { useId, useState } from 'react';
import { api } from '../api/client';
import type { Group } from '../api/types';
import { useResource } from '../lib/hooks';
import { userNameProblem } from '../lib/rules';
import { TextField } from '../ui/Field';
import { DescriptionField, FormDialog, useFormAction } from '../ui/FormDialog';
import { ChooseDialog } from './ChooseDialog';

export function CreateGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (g: Group) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const form = useFormAction(onClose);
  const problem = userNameProblem(name.trim(), 'Enter a group name.');

  const submit = form.submit(problem, async () => {
    onCreated(
      await api.createGroup({ name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) }),
    );
  });

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Create Group"
      onClose={onClose}
      testId="create-group"
      submitLabel="Create group"
    >
      <TextField
        id={`${id}-name`}
        label="Group name"
        value={name}
        onChange={setName}
        problem={problem}
        show={form.show}
        hint={'Unique in this account.'}
      />
      <DescriptionField id={`${id}-desc`} value={description} onChange={setDescription} />
    </FormDialog>
  );
}

export function AddGroupMemberDialog({
  groupName,
  members,
  onClose,
  onAdded,
}: {
  groupName: string;
  members: string[];
  onClose: () => void;
  onAdded: (userName: string) => void;
}) {
  const list = useResource(() => api.users(), []);
  return (
    <ChooseDialog
      title={`Add a user to ${groupName}`}
      onClose={onClose}
      loadError={list.error}
      options={
        list.data
          ? list.data
              .filter((u) => !members.includes(u.name))
              .map((u) => ({
                key: u.id,
                value: u.name,
                label: `${u.name}${u.isAccountAdmin ? ' (administrator)' : ''}`,
              }))
          : null
      }
      loadingText="Loading users…"
      noneText="Every user of this account is already a member. Create users on the Users page."
      label="User"
      placeholder="Choose a user…"
      hint="The user gets the group's policies on their next request."
      submitLabel="Add"
      busyLabel="Adding…"
      choose={async (user) => {
        await api.addGroupMember(groupName, user);
        onAdded(user);
      }}
    />
  );
}
