/** Identity dialogs for account administrators: create a user, set a console password, show a new access key's
 * secret once, create a policy (JSON checked in the browser, then by the server), attach a policy (to a user or a
 * group), create a group, add a user to a group. */
import { useId, useState } from 'react';
import { POLICY_NAME, POLICY_NAME_RULE } from '../../../common/names.js';
import { api } from '../api/client';
import type { CreatedAccessKey, Group, Policy, User } from '../api/types';
import { useResource } from '../lib/hooks';
import { consolePasswordProblem, userNameProblem } from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';
import { FormFooter, TextField } from '../ui/Field';
import { DescriptionField, FormDialog, useFormAction } from '../ui/FormDialog';

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

/** The secret exists only in the create response: it lives in this dialog's props and is gone when it closes. */
export function AccessKeySecretDialog({
  created,
  userName,
  onClose,
}: {
  created: CreatedAccessKey;
  userName: string;
  onClose: () => void;
}) {
  const id = useId();
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.accessKeySecret);
      setCopied('ok');
    } catch {
      // clipboard refused (permissions, insecure origin): select the text so Ctrl+C works
      const el = document.getElementById(`${id}-secret`);
      if (el) window.getSelection()?.selectAllChildren(el);
      setCopied('failed');
    }
  };
  return (
    <Dialog
      title="Access key created"
      onClose={onClose}
      testId="access-key-secret"
      initialFocus=".copy-secret"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          I have stored the secret
        </button>
      }
    >
      <div className="notice notice-warning" role="status">
        <IconWarning />
        <div>
          <strong>This is the only time the secret is shown.</strong>
          <p>
            keyfleet keeps it only encrypted and will never show it again. Store it in a password manager or your tool's
            configuration now; if it is lost, create a new access key and delete this one.
          </p>
        </div>
      </div>
      <dl className="summary">
        <div>
          <dt>User</dt>
          <dd>{userName}</dd>
        </div>
        <div>
          <dt>AccessKey ID</dt>
          <dd className="mono break" data-testid="access-key-id">
            {created.accessKeyId}
          </dd>
        </div>
        <div>
          <dt>AccessKey secret</dt>
          <dd className="mono break" id={`${id}-secret`} data-testid="access-key-secret-value">
            {created.accessKeySecret}
          </dd>
        </div>
      </dl>
      <div className="button-row button-row-start">
        <button type="button" className="button copy-secret" onClick={() => void copy()}>
          {copied === 'ok' ? <IconCheck /> : null} {copied === 'ok' ? 'Copied' : 'Copy secret'}
        </button>
        <span className="muted small" aria-live="polite">
          {copied === 'failed'
            ? 'The browser refused the clipboard; the secret is selected, press Ctrl+C.'
            : copied === 'ok'
              ? 'The secret is on the clipboard.'
              : ''}
        </span>
      </div>
    </Dialog>
  );
}

export const POLICY_TEMPLATE = `{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ecs:DescribeRegions", "ecs:DescribeKeyPairs"],
      "Resource": "*"
    }
  ]
}`;

/** Checks the text in the browser: JSON, an object, a non-empty Statement list; the server checks the rest. */
export function policyJsonProblem(text: string): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `Not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'The document must be a JSON object.';
  const st = (doc as { Statement?: unknown }).Statement;
  if (!Array.isArray(st) || st.length === 0) return 'The document needs a non-empty "Statement" list.';
  for (const [i, s] of st.entries()) {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return `Statement ${i + 1} must be an object.`;
    const eff = (s as { Effect?: unknown }).Effect;
    if (eff !== 'Allow' && eff !== 'Deny') return `Statement ${i + 1}: "Effect" must be "Allow" or "Deny".`;
    if ((s as { Action?: unknown }).Action === undefined) return `Statement ${i + 1} needs an "Action".`;
  }
  return null;
}

export function CreatePolicyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Policy) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [text, setText] = useState(POLICY_TEMPLATE);
  const form = useFormAction(onClose);
  const show = form.show;
  const nameProblem = !name.trim()
    ? 'Enter a policy name.'
    : !POLICY_NAME.test(name.trim())
      ? `${POLICY_NAME_RULE}, starting with a letter or digit.`
      : null;
  const jsonProblem = policyJsonProblem(text);

  const submit = form.submit(nameProblem || jsonProblem, async () => {
    onCreated(
      await api.createPolicy({
        name: name.trim(),
        document: JSON.parse(text) as Record<string, unknown>,
        ...(description.trim() ? { description: description.trim() } : {}),
      }),
    );
  });

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Create Policy"
      onClose={onClose}
      size="large"
      testId="create-policy"
      submitLabel="Create policy"
    >
      <TextField
        id={`${id}-name`}
        label="Policy name"
        value={name}
        onChange={setName}
        problem={nameProblem}
        show={show}
        hint={"Letters, digits, '.', '_' or '-'."}
      />
      <DescriptionField id={`${id}-desc`} value={description} onChange={setDescription} />
      <div className="field">
        <label htmlFor={`${id}-doc`}>Policy document (JSON)</label>
        <textarea
          id={`${id}-doc`}
          className="mono code-editor"
          rows={14}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={show && jsonProblem ? true : undefined}
          aria-describedby={`${id}-doc-hint`}
        />
        <p id={`${id}-doc-hint`} className={show && jsonProblem ? 'field-error' : 'hint'} aria-live="polite">
          {show && jsonProblem
            ? jsonProblem
            : 'Statements with Effect (Allow or Deny), Action (e.g. ecs:DescribeKeyPairs, ecs:AttachKeyPair, instance:*), Resource and optional Condition. Console users need ecs:DescribeRegions to open the console at all.'}
        </p>
        <button type="button" className="link-button" onClick={() => setText(POLICY_TEMPLATE)}>
          Reset to the template
        </button>
      </div>
    </FormDialog>
  );
}

/** Picks one name from a list (a policy to attach, a user to add) and runs `choose` with it. */
function ChooseDialog({
  title,
  onClose,
  loadError,
  options,
  loadingText,
  noneText,
  label,
  placeholder,
  hint,
  submitLabel,
  busyLabel,
  choose,
}: {
  title: string;
  onClose: () => void;
  loadError: unknown;
  /** null while the list loads. */
  options: { key: string; value: string; label: string }[] | null;
  loadingText: string;
  noneText: string;
  label: string;
  placeholder: string;
  hint?: string;
  submitLabel: string;
  busyLabel: string;
  choose: (value: string) => Promise<void>;
}) {
  const id = useId();
  const [chosen, setChosen] = useState('');
  const form = useFormAction(onClose);

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={form.submit(!chosen, () => choose(chosen))}
      title={title}
      onClose={onClose}
      size="small"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={form.busy}>
            Cancel
          </button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={form.busy || !chosen}>
            {form.busy ? busyLabel : submitLabel}
          </button>
        </>
      }
    >
      {loadError ? (
        <InlineError error={loadError} />
      ) : options === null ? (
        <p className="muted" role="status">
          {loadingText}
        </p>
      ) : options.length === 0 ? (
        <p className="muted">{noneText}</p>
      ) : (
        <div className="field">
          <label htmlFor={`${id}-c`}>{label}</label>
          <select id={`${id}-c`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
            <option value="">{placeholder}</option>
            {options.map((o) => (
              <option key={o.key} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          {hint ? <p className="hint">{hint}</p> : null}
        </div>
      )}
    </FormDialog>
  );
}

/** Attaches a policy to a user (`userName`), or, with `attach`, to whatever that names (a group). */
export function AttachPolicyDialog({
  userName,
  attached,
  onClose,
  onAttached,
  attach,
}: {
  userName: string;
  attached: string[];
  onClose: () => void;
  onAttached: (name: string) => void;
  attach?: (policy: string) => Promise<void>;
}) {
  const list = useResource(() => api.policies(), []);
  return (
    <ChooseDialog
      title={`Attach a policy to ${userName}`}
      onClose={onClose}
      loadError={list.error}
      options={
        list.data
          ? list.data
              .filter((p) => !attached.includes(p.name))
              .map((p) => ({
                key: p.id,
                value: p.name,
                label: `${p.name}${p.description ? ` — ${p.description}` : ''}`,
              }))
          : null
      }
      loadingText="Loading policies…"
      noneText="Every policy of this account is already attached, or there are none yet. Create policies on the Policies page."
      label="Policy"
      placeholder="Choose a policy…"
      submitLabel="Attach"
      busyLabel="Attaching…"
      choose={async (policy) => {
        await (attach ? attach(policy) : api.attachPolicy(userName, policy));
        onAttached(policy);
      }}
    />
  );
}

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
