/** Identity dialogs for account administrators: create a user, set a console password, show a new access key's
 * secret once, create a policy (JSON checked in the browser, then by the server), attach a policy (to a user or a
 * group), create a group, add a user to a group. */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import type { CreatedAccessKey, Group, Policy, User } from '../api/types';
import { useResource } from '../lib/hooks';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';
import { FormFooter, TextField } from '../ui/Field';

const NAME_RE = /^[A-Za-z0-9._@-]{1,64}$/;

export function CreateUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (u: User) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = !name.trim() ? 'Enter a user name.' : !NAME_RE.test(name.trim()) ? "1-64 letters, digits, '.', '_', '@' or '-'." : null;
  const pwProblem = password && password.length > 128 ? 'At most 128 characters.' : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (problem || pwProblem) return;
    setBusy(true);
    setError(null);
    try {
      const u = await api.createUser({ name: name.trim(), ...(password ? { password } : {}), ...(admin ? { isAccountAdmin: true } : {}) });
      setPassword('');
      onCreated(u);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Create User"
      onClose={onClose}
      busy={busy}
      testId="create-user"
      footer={<FormFooter formId={`${id}-f`} busy={busy} onCancel={onClose} submitLabel="Create user" busyLabel="Creating…" />}
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <TextField id={`${id}-name`} label="User name" value={name} onChange={setName} problem={problem} show={show} hint={'Unique in this account.'} />
        <TextField id={`${id}-pw`} label={<>Console password <span className="muted">(optional)</span></>} value={password} onChange={setPassword} problem={pwProblem} show={show} hint={'Without a password the user cannot sign in to the console (access keys still work).'} type="password" autoComplete="new-password" />
        <label className="checkbox checkbox-top">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
          <span>Account administrator <span className="hint">May do everything in this account, including managing users and policies.</span></span>
        </label>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

export function PasswordDialog({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: (on: boolean) => void }) {
  const id = useId();
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = !password ? 'Enter a password.' : password.length > 128 ? 'At most 128 characters.' : null;

  const run = async (value: string | null) => {
    setBusy(true);
    setError(null);
    try {
      await api.setUserPassword(user.name, value);
      setPassword('');
      onDone(value !== null);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (!problem) void run(password);
  };

  return (
    <Dialog
      title={`Console password of ${user.name}`}
      onClose={onClose}
      busy={busy}
      size="small"
      description="Setting or turning off the password signs the user out of every console session."
      footer={
        <>
          {user.consoleSignIn ? <button type="button" className="button button-quiet-danger" onClick={() => void run(null)} disabled={busy}>Turn off console sign-in</button> : null}
          <button type="button" className="button" onClick={onClose} disabled={busy}>Cancel</button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={busy}>{busy ? 'Saving…' : 'Set password'}</button>
        </>
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <TextField id={`${id}-pw`} label="New password" value={password} onChange={setPassword} problem={problem} show={show} hint={'Up to 128 characters.'} type="password" autoComplete="new-password" />
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

/** The secret exists only in the create response: it lives in this dialog's props and is gone when it closes. */
export function AccessKeySecretDialog({ created, userName, onClose }: { created: CreatedAccessKey; userName: string; onClose: () => void }) {
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
      footer={<button type="button" className="button button-primary" onClick={onClose}>I have stored the secret</button>}
    >
      <div className="notice notice-warning" role="status">
        <IconWarning />
        <div>
          <strong>This is the only time the secret is shown.</strong>
          <p>keyfleet keeps it only encrypted and will never show it again. Store it in a password manager or your tool's configuration now; if it is lost, create a new access key and delete this one.</p>
        </div>
      </div>
      <dl className="summary">
        <div><dt>User</dt><dd>{userName}</dd></div>
        <div><dt>AccessKey ID</dt><dd className="mono break" data-testid="access-key-id">{created.accessKeyId}</dd></div>
        <div><dt>AccessKey secret</dt><dd className="mono break" id={`${id}-secret`} data-testid="access-key-secret-value">{created.accessKeySecret}</dd></div>
      </dl>
      <div className="button-row button-row-start">
        <button type="button" className="button copy-secret" onClick={() => void copy()}>
          {copied === 'ok' ? <IconCheck /> : null} {copied === 'ok' ? 'Copied' : 'Copy secret'}
        </button>
        <span className="muted small" aria-live="polite">{copied === 'failed' ? 'The browser refused the clipboard; the secret is selected, press Ctrl+C.' : copied === 'ok' ? 'The secret is on the clipboard.' : ''}</span>
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

const POLICY_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

export function CreatePolicyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Policy) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [text, setText] = useState(POLICY_TEMPLATE);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const nameProblem = !name.trim() ? 'Enter a policy name.' : !POLICY_NAME_RE.test(name.trim()) ? "1-128 letters, digits, '.', '_' or '-'." : null;
  const jsonProblem = policyJsonProblem(text);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (nameProblem || jsonProblem) return;
    setBusy(true);
    setError(null);
    try {
      const p = await api.createPolicy({ name: name.trim(), document: JSON.parse(text) as Record<string, unknown>, ...(description.trim() ? { description: description.trim() } : {}) });
      onCreated(p);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Create Policy"
      onClose={onClose}
      busy={busy}
      size="large"
      testId="create-policy"
      footer={<FormFooter formId={`${id}-f`} busy={busy} onCancel={onClose} submitLabel="Create policy" busyLabel="Creating…" />}
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <TextField id={`${id}-name`} label="Policy name" value={name} onChange={setName} problem={nameProblem} show={show} hint={"Letters, digits, '.', '_' or '-'."} />
        <div className="field">
          <label htmlFor={`${id}-desc`}>Description <span className="muted">(optional)</span></label>
          <input id={`${id}-desc`} value={description} maxLength={1024} onChange={(e) => setDescription(e.target.value)} />
        </div>
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
            {show && jsonProblem ? jsonProblem : 'Statements with Effect (Allow or Deny), Action (e.g. ecs:DescribeKeyPairs, ecs:AttachKeyPair, instance:*), Resource and optional Condition. Console users need ecs:DescribeRegions to open the console at all.'}
          </p>
          <button type="button" className="link-button" onClick={() => setText(POLICY_TEMPLATE)}>Reset to the template</button>
        </div>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

/** Attaches a policy to a user (`userName`), or, with `attach`, to whatever that names (a group). */
export function AttachPolicyDialog({ userName, attached, onClose, onAttached, attach }: { userName: string; attached: string[]; onClose: () => void; onAttached: (name: string) => void; attach?: (policy: string) => Promise<void> }) {
  const id = useId();
  const [chosen, setChosen] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const list = useResource(() => api.policies(), []);
  const loadError = list.error;
  const policies = list.data ?? null;
  const available = (policies ?? []).filter((p) => !attached.includes(p.name));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      await (attach ? attach(chosen) : api.attachPolicy(userName, chosen));
      onAttached(chosen);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Attach a policy to ${userName}`}
      onClose={onClose}
      busy={busy}
      size="small"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>Cancel</button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={busy || !chosen}>{busy ? 'Attaching…' : 'Attach'}</button>
        </>
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        {loadError ? <InlineError error={loadError} /> : policies === null ? (
          <p className="muted" role="status">Loading policies…</p>
        ) : available.length === 0 ? (
          <p className="muted">Every policy of this account is already attached, or there are none yet. Create policies on the Policies page.</p>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-p`}>Policy</label>
            <select id={`${id}-p`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
              <option value="">Choose a policy…</option>
              {available.map((p) => <option key={p.id} value={p.name}>{p.name}{p.description ? ` — ${p.description}` : ''}</option>)}
            </select>
          </div>
        )}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

const GROUP_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function CreateGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (g: Group) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const problem = !name.trim() ? 'Enter a group name.' : !GROUP_NAME_RE.test(name.trim()) ? "1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit." : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      const g = await api.createGroup({ name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) });
      onCreated(g);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Create Group"
      onClose={onClose}
      busy={busy}
      testId="create-group"
      footer={<FormFooter formId={`${id}-f`} busy={busy} onCancel={onClose} submitLabel="Create group" busyLabel="Creating…" />}
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <TextField id={`${id}-name`} label="Group name" value={name} onChange={setName} problem={problem} show={show} hint={'Unique in this account.'} />
        <div className="field">
          <label htmlFor={`${id}-desc`}>Description <span className="muted">(optional)</span></label>
          <input id={`${id}-desc`} value={description} maxLength={1024} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

export function AddGroupMemberDialog({ groupName, members, onClose, onAdded }: { groupName: string; members: string[]; onClose: () => void; onAdded: (userName: string) => void }) {
  const id = useId();
  const [chosen, setChosen] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const list = useResource(() => api.users(), []);
  const users = list.data ?? null;
  const available = (users ?? []).filter((u) => !members.includes(u.name));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      await api.addGroupMember(groupName, chosen);
      onAdded(chosen);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Add a user to ${groupName}`}
      onClose={onClose}
      busy={busy}
      size="small"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>Cancel</button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={busy || !chosen}>{busy ? 'Adding…' : 'Add'}</button>
        </>
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        {list.error ? <InlineError error={list.error} /> : users === null ? (
          <p className="muted" role="status">Loading users…</p>
        ) : available.length === 0 ? (
          <p className="muted">Every user of this account is already a member. Create users on the Users page.</p>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-u`}>User</label>
            <select id={`${id}-u`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
              <option value="">Choose a user…</option>
              {available.map((u) => <option key={u.id} value={u.name}>{u.name}{u.isAccountAdmin ? ' (administrator)' : ''}</option>)}
            </select>
            <p className="hint">The user gets the group's policies on their next request.</p>
          </div>
        )}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
