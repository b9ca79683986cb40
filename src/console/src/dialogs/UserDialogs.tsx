/** User dialogs for account administrators: create a user, set or turn off a user's console password. */
import { useId, useState } from 'react';
import { api } from '../api/client';
import type { User } from '../api/types';
import { consolePasswordProblem, userNameProblem } from '../lib/rules';
import { FormFooter, TextField } from '../ui/Field';
import { FormDialog, useFormAction } from '../ui/FormDialog';

export function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (u: User) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const form = useFormAction(onClose);
  const problem = userNameProblem(name.trim(), 'Enter a user name.');
  const pwProblem = consolePasswordProblem(password);

  const submit = form.submit(problem || pwProblem, async () => {
    const u = await api.createUser({
      name: name.trim(),
      ...(password ? { password } : {}),
      ...(admin ? { isAccountAdmin: true } : {}),
    });
    setPassword('');
    onCreated(u);
  });

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Create User"
      onClose={onClose}
      testId="create-user"
      submitLabel="Create user"
    >
      <TextField
        id={`${id}-name`}
        label="User name"
        value={name}
        onChange={setName}
        problem={problem}
        show={form.show}
        hint={'Unique in this account.'}
      />
      <TextField
        id={`${id}-pw`}
        label={
          <>
            Console password <span className="muted">(optional)</span>
          </>
        }
        value={password}
        onChange={setPassword}
        problem={pwProblem}
        show={form.show}
        hint={'Without a password the user cannot sign in to the console (access keys still work).'}
        type="password"
        autoComplete="new-password"
      />
      <label className="checkbox checkbox-top">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
        <span>
          Account administrator{' '}
          <span className="hint">May do everything in this account, including managing users and policies.</span>
        </span>
      </label>
    </FormDialog>
  );
}

export function PasswordDialog({
  user,
  onClose,
  onDone,
}: {
  user: User;
  onClose: () => void;
  onDone: (on: boolean) => void;
}) {
  const id = useId();
  const [password, setPassword] = useState('');
  const form = useFormAction(onClose);
  const problem = !password ? 'Enter a password.' : consolePasswordProblem(password);

  const change = (value: string | null) => async () => {
    await api.setUserPassword(user.name, value);
    setPassword('');
    onDone(value !== null);
  };

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={form.submit(problem, change(password))}
      title={`Console password of ${user.name}`}
      onClose={onClose}
      size="small"
      description="Setting or turning off the password signs the user out of every console session."
      footer={
        <>
          {user.consoleSignIn ? (
            <button
              type="button"
              className="button button-quiet-danger"
              onClick={() => void form.run(change(null))}
              disabled={form.busy}
            >
              Turn off console sign-in
            </button>
          ) : null}
          <FormFooter
            formId={`${id}-f`}
            busy={form.busy}
            onCancel={onClose}
            submitLabel="Set password"
            busyLabel="Saving…"
          />
        </>
      }
    >
      <TextField
        id={`${id}-pw`}
        label="New password"
        value={password}
        onChange={setPassword}
        problem={problem}
        show={form.show}
        hint={'Up to 128 characters.'}
        type="password"
        autoComplete="new-password"
      />
    </FormDialog>
  );
}
