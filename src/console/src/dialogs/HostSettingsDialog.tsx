/**
 * Host settings of a registered host (its Actions menu → Host settings; PATCH /api/v1/instances/:id/host).
 *
 * - The pinned host key, and the two ways to re-pin after a deliberate change (a re-installed host, a rotated key):
 *   give the new fingerprint (keyfleet checks that the host presents it, else nothing changes), or trust the key
 *   the host presents now, after confirming the risk; the new fingerprint (and the previous one) is shown after.
 * - Replace the management key (tried by a real login before it is kept; sent once and never shown) or forget it.
 * - The password-login policy, sudo, and the sshd drop-in / reload / validate commands.
 *
 * Only the fields that differ from the host's current settings are sent.
 */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import type { Instance, UpdatedHost, UpdateHostRequest } from '../api/types';
import { Dialog } from '../ui/Dialog';
import { FormFooter, TextField } from '../ui/Field';
import { InlineError } from '../ui/States';
import { Fact } from '../ui/Summary';
import { commandProblem, hostKeyProblem, pathProblem } from '../lib/rules';
import { type HostPolicy, PolicyFields } from './HostFields';
import { emptyKey, type KeyValue, ManagementKeyField } from './ManagementKeyField';
import { privateKeyProblem } from './LiveFields';
import { HOST_KEY_CHECK, HostSettingsSaved } from './host/HostSettingsSaved';

type PinChoice = 'keep' | 'given' | 'presented';
type KeyChoice = 'keep' | 'replace' | 'forget';

export function HostSettingsDialog({
  instance,
  onClose,
  onChanged,
}: {
  instance: Instance;
  onClose: () => void;
  onChanged: () => void;
}) {
  const id = useId();
  const h = instance.host;
  const [pin, setPin] = useState<PinChoice>('keep');
  const [newFingerprint, setNewFingerprint] = useState('');
  const [trustConfirmed, setTrustConfirmed] = useState(false);
  const [keyChoice, setKeyChoice] = useState<KeyChoice>('keep');
  const [key, setKey] = useState<KeyValue>(emptyKey);
  const [policy, setPolicy] = useState<HostPolicy>({
    passwordLogin: h?.passwordLogin ?? 'managed',
    sudo: h?.sudo ?? false,
  });
  const [dropInPath, setDropInPath] = useState(h?.dropInPath ?? '');
  const [reloadCommand, setReloadCommand] = useState(h?.reloadCommand ?? '');
  const [validateCommand, setValidateCommand] = useState(h?.validateCommand ?? '');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [nothing, setNothing] = useState(false);
  const [done, setDone] = useState<{ res: UpdatedHost; changed: string[] } | null>(null);

  if (!h) {
    return (
      <Dialog
        title="Host settings"
        onClose={onClose}
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Close
          </button>
        }
      >
        <p>{instance.name} is not a registered host.</p>
      </Dialog>
    );
  }

  const problems = {
    newFingerprint:
      pin === 'given'
        ? newFingerprint.trim() === ''
          ? 'Enter the new fingerprint.'
          : hostKeyProblem(newFingerprint.trim())
        : null,
    trust: pin === 'presented' && !trustConfirmed ? 'Confirm that you checked the host key on the host.' : null,
    key: keyChoice === 'replace' ? privateKeyProblem(key.text) : null,
    dropInPath: dropInPath.trim() === '' ? 'Enter an absolute path.' : pathProblem(dropInPath.trim()),
    reloadCommand: reloadCommand.trim() === '' ? 'Enter a command.' : commandProblem(reloadCommand.trim()),
    validateCommand: validateCommand.trim() === '' ? 'Enter a command.' : commandProblem(validateCommand.trim()),
  };

  /** The fields that differ from the host's settings now, and their names for the result. */
  const changes = (): { body: UpdateHostRequest; changed: string[] } => {
    const body: UpdateHostRequest = {};
    const changed: string[] = [];
    if (pin === 'given') {
      body.hostKeySha256 = newFingerprint.trim();
      changed.push('host key re-pinned (fingerprint given)');
    } else if (pin === 'presented') {
      body.repinHostKey = true;
      changed.push('host key re-pinned (as presented now)');
    }
    if (keyChoice === 'replace') {
      body.managementPrivateKey = key.text.trim() + '\n';
      changed.push('management key replaced');
    } else if (keyChoice === 'forget' && h.hasManagementKey) {
      body.managementPrivateKey = null;
      changed.push('management key forgotten');
    }
    if (policy.passwordLogin !== h.passwordLogin) {
      body.passwordLogin = policy.passwordLogin;
      changed.push(`password login ${policy.passwordLogin}`);
    }
    if (policy.sudo !== h.sudo) {
      body.sudo = policy.sudo;
      changed.push(policy.sudo ? 'sudo on' : 'sudo off');
    }
    if (dropInPath.trim() !== h.dropInPath) {
      body.dropInPath = dropInPath.trim();
      changed.push('drop-in path');
    }
    if (reloadCommand.trim() !== h.reloadCommand) {
      body.reloadCommand = reloadCommand.trim();
      changed.push('reload command');
    }
    if (validateCommand.trim() !== h.validateCommand) {
      body.validateCommand = validateCommand.trim();
      changed.push('validate command');
    }
    return { body, changed };
  };

  const contacts = pin !== 'keep' || keyChoice === 'replace';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    setNothing(false);
    if (Object.values(problems).some(Boolean)) return;
    const { body, changed } = changes();
    if (changed.length === 0) {
      setNothing(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await api.updateHost(instance.id, body);
      // Sent once: the key leaves this page now.
      setKey(emptyKey);
      setDone({ res, changed });
      onChanged();
    } catch (err) {
      // Nothing was changed on the server; the key stays in the dialog only so another field can be corrected.
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <HostSettingsSaved
        instance={instance}
        res={done.res}
        changed={done.changed}
        repinned={pin !== 'keep'}
        contacts={contacts}
        onClose={onClose}
      />
    );
  }

  const formId = `${id}-f`;
  return (
    <Dialog
      title="Host settings"
      onClose={onClose}
      busy={busy}
      size="large"
      testId="host-settings"
      footer={
        <FormFooter
          formId={formId}
          busy={busy}
          onCancel={onClose}
          submitLabel="Save"
          busyLabel={contacts ? 'Contacting the host…' : 'Saving…'}
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <dl className="summary">
          <Fact term="Host">
            {instance.name} <span className="mono muted">{instance.id}</span>
          </Fact>
          <Fact term="SSH" className="mono">
            {h.managementUser}@{instance.address}:{instance.sshPort}
            {h.managementUser !== instance.loginUser ? (
              <span className="muted"> (manages {instance.loginUser})</span>
            ) : null}
          </Fact>
          <Fact term="Pinned host key" className="mono break" testId="current-host-key">
            {instance.hostKeySha256 ?? 'not pinned'}
          </Fact>
        </dl>

        <fieldset className="choice settings-section">
          <legend>Host key</legend>
          <p className="hint">
            Every connection must present the pinned key, or keyfleet stops before sending anything. Re-pin only after a
            deliberate change on the host (re-installed, key rotated).
          </p>
          <label className="radio-card">
            <input type="radio" name={`${id}-pin`} checked={pin === 'keep'} onChange={() => setPin('keep')} />
            <span>
              <strong>Keep the pinned key</strong>
            </span>
          </label>
          <label className="radio-card">
            <input type="radio" name={`${id}-pin`} checked={pin === 'given'} onChange={() => setPin('given')} />
            <span>
              <strong>Re-pin: enter the new fingerprint</strong>
              <span className="hint">
                From <code>{HOST_KEY_CHECK}</code> on the host. keyfleet checks that the host presents it; if not,
                nothing changes.
              </span>
            </span>
          </label>
          {pin === 'given' ? (
            <TextField
              id={`${id}-fp`}
              label="New host key fingerprint"
              value={newFingerprint}
              onChange={setNewFingerprint}
              problem={problems.newFingerprint}
              show={show}
              hint="SHA256: and 43 base64 characters, as ssh-keygen -l prints it."
              placeholder="SHA256:…"
            />
          ) : null}
          <label className="radio-card">
            <input type="radio" name={`${id}-pin`} checked={pin === 'presented'} onChange={() => setPin('presented')} />
            <span>
              <strong>Trust the key the host presents now</strong>
              <span className="hint">
                keyfleet connects and pins whatever key it is shown, then shows you the fingerprint to compare.
              </span>
            </span>
          </label>
          {pin === 'presented' ? (
            <>
              <label className="checkbox checkbox-top">
                <input type="checkbox" checked={trustConfirmed} onChange={(e) => setTrustConfirmed(e.target.checked)} />
                <span>
                  I changed this host&apos;s key on purpose. I understand that if someone is between keyfleet and the
                  host now, their key gets pinned and they would receive the management login; I will compare the
                  fingerprint shown afterwards with the host.
                </span>
              </label>
              {show && problems.trust ? <p className="field-error">{problems.trust}</p> : null}
            </>
          ) : null}
        </fieldset>

        <fieldset className="choice settings-section">
          <legend>Management key</legend>
          <p className="hint">
            keyfleet logs in as <span className="mono">{h.managementUser}</span> with it to make key changes and check
            drift.{' '}
            {h.hasManagementKey
              ? 'keyfleet holds one (sealed); it is never shown.'
              : 'keyfleet holds none: every change needs a credential.'}
          </p>
          <label className="radio-card">
            <input
              type="radio"
              name={`${id}-mk`}
              checked={keyChoice === 'keep'}
              onChange={() => setKeyChoice('keep')}
            />
            <span>
              <strong>{h.hasManagementKey ? 'Keep the key keyfleet holds' : 'Keep it as it is (no key held)'}</strong>
            </span>
          </label>
          <label className="radio-card">
            <input
              type="radio"
              name={`${id}-mk`}
              checked={keyChoice === 'replace'}
              onChange={() => setKeyChoice('replace')}
            />
            <span>
              <strong>{h.hasManagementKey ? 'Replace it' : 'Give one'}</strong>
              <span className="hint">
                keyfleet tries the new key with a real login first; a key the host refuses is not kept and the old one
                stays.
              </span>
            </span>
          </label>
          {keyChoice === 'replace' ? (
            <ManagementKeyField value={key} onChange={setKey} show={show} label="New management private key" />
          ) : null}
          {h.hasManagementKey ? (
            <label className="radio-card">
              <input
                type="radio"
                name={`${id}-mk`}
                checked={keyChoice === 'forget'}
                onChange={() => setKeyChoice('forget')}
              />
              <span>
                <strong>Forget it</strong>
                <span className="hint">
                  keyfleet deletes the sealed key. Later changes need a private key given with each change, and drift
                  checks skip this host.
                </span>
              </span>
            </label>
          ) : null}
        </fieldset>

        <fieldset className="settings-section">
          <legend>Password login and privileges</legend>
          <PolicyFields value={policy} onChange={setPolicy} idPrefix={id} />
        </fieldset>

        <details
          className="advanced"
          open={
            (show &&
              (Boolean(problems.dropInPath) || Boolean(problems.reloadCommand) || Boolean(problems.validateCommand))) ||
            undefined
          }
        >
          <summary>Advanced: sshd drop-in, reload and validate commands</summary>
          <TextField
            id={`${id}-dropin`}
            label="sshd drop-in path"
            value={dropInPath}
            onChange={setDropInPath}
            problem={problems.dropInPath}
            show={show}
            hint="Where keyfleet writes its sshd settings (password login on/off)."
          />
          <TextField
            id={`${id}-reload`}
            label="Reload command"
            value={reloadCommand}
            onChange={setReloadCommand}
            problem={problems.reloadCommand}
            show={show}
            hint="How sshd re-reads its configuration."
          />
          <TextField
            id={`${id}-validate`}
            label="Validate command"
            value={validateCommand}
            onChange={setValidateCommand}
            problem={problems.validateCommand}
            show={show}
            hint="Run before every reload; if it fails the change is rolled back."
          />
        </details>

        {nothing ? (
          <p className="alert alert-info" role="status">
            Nothing changed: choose a re-pin, a key change or another setting first.
          </p>
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
