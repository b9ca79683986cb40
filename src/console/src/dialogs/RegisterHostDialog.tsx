/**
 * Register one existing Linux machine as an instance (ADR 9). keyfleet contacts the host once: the host key is checked
 * against the one given or pinned as seen (trust on first use, shown so the user can compare it), and the management
 * private key is tried by a real login before it is kept sealed. The key is sent once with the request, lives only in
 * the dialog's state until the answer arrives, and is never shown again.
 */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import type { RegisteredHost } from '../api/types';
import { useScope } from '../app/scope';
import {
  addressProblem,
  hostKeyProblem,
  instanceNameProblem,
  linuxUserProblem,
  pathProblem,
  portProblem,
} from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { FormFooter, TextField } from '../ui/Field';
import { InlineError } from '../ui/States';
import {
  type Advanced,
  AdvancedFields,
  advancedBody,
  advancedProblems,
  defaultPolicy,
  emptyAdvanced,
  type HostPolicy,
  PolicyFields,
} from './HostFields';
import { privateKeyProblem } from './LiveFields';
import { emptyKey, type KeyValue, ManagementKeyField } from './ManagementKeyField';
import { Notice } from '../ui/Notice';
import { DoneDialog, Fact } from '../ui/Summary';

const HOST_KEY_CHECK = 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub';

export function PinnedNotice({
  pinnedOnFirstUse,
  hostKeySha256,
}: {
  pinnedOnFirstUse: boolean;
  hostKeySha256?: string;
}) {
  return pinnedOnFirstUse ? (
    <Notice tone="warning" role="note" title="Pinned on first use: compare it with the host.">
      <p>
        No fingerprint was given, so keyfleet pinned the host key it saw now{hostKeySha256 ? '' : ' for each host'}. On
        the host, run <code>{HOST_KEY_CHECK}</code> (or the
        <code>.pub</code> of the key type it serves) and check that it prints the same fingerprint. If it does not,
        someone may be in between: delete the registration. Every later connection must present this key, or keyfleet
        stops before sending anything.
      </p>
    </Notice>
  ) : (
    <p className="hint">The host presented the fingerprint you gave; it is pinned for every later connection.</p>
  );
}

export function RegisterHostDialog({
  onClose,
  onRegistered,
}: {
  onClose: () => void;
  onRegistered: (r: RegisteredHost) => void;
}) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('22');
  const [loginUser, setLoginUser] = useState('root');
  const [homeDir, setHomeDir] = useState('');
  const [key, setKey] = useState<KeyValue>(emptyKey);
  const [hostKey, setHostKey] = useState('');
  const [advanced, setAdvanced] = useState<Advanced>(emptyAdvanced);
  const [policy, setPolicy] = useState<HostPolicy>(defaultPolicy);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<RegisteredHost | null>(null);

  const problems = {
    name: instanceNameProblem(name.trim()),
    address: addressProblem(address.trim()),
    port: portProblem(port.trim()),
    loginUser: linuxUserProblem(loginUser.trim()),
    homeDir: pathProblem(homeDir.trim()),
    key: privateKeyProblem(key.text),
    hostKey: hostKeyProblem(hostKey.trim()),
    ...advancedProblems(advanced),
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.registerHost(regionId, {
        name: name.trim(),
        address: address.trim(),
        port: Number(port.trim()),
        loginUser: loginUser.trim(),
        ...(homeDir.trim() ? { homeDir: homeDir.trim() } : {}),
        managementPrivateKey: key.text.trim() + '\n',
        ...(hostKey.trim() ? { hostKeySha256: hostKey.trim() } : {}),
        ...advancedBody(advanced),
        passwordLogin: policy.passwordLogin,
        sudo: policy.sudo,
        ...(groupId ? { resourceGroupId: groupId } : {}),
      });
      // Registered: the key is kept (sealed) by keyfleet only; drop it from this page now.
      setKey(emptyKey);
      setDone(res);
      onRegistered(res);
    } catch (err) {
      // Nothing was registered; the key stays in this dialog only so the user can correct another field.
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    const i = done.instance;
    return (
      <DoneDialog title="Host registered" onClose={onClose} testId="host-registered">
        <Notice
          tone="success"
          title={
            <>
              {i.name} is registered as instance <span className="mono">{i.id}</span>.
            </>
          }
        >
          <p>
            keyfleet logged in with the management key and keeps it sealed. Key pairs are bound to this host live only:
            keyfleet never restarts it.
          </p>
        </Notice>
        <dl className="summary">
          <Fact term="SSH" className="mono">
            {i.loginUser}@{i.address}:{i.sshPort}
          </Fact>
          <Fact term="Host key" className="mono break" testId="pinned-host-key">
            {done.hostKeySha256}
          </Fact>
          <Fact term="Pinned">{done.pinnedOnFirstUse ? 'on first use (as seen now)' : 'as given'}</Fact>
          {i.host ? (
            <Fact term="Password login">
              {i.host.passwordLogin === 'unmanaged' ? 'left to the host' : 'managed by keyfleet'}
              {i.host.sudo ? ' · through sudo' : ''}
            </Fact>
          ) : null}
        </dl>
        <PinnedNotice pinnedOnFirstUse={done.pinnedOnFirstUse} hostKeySha256={done.hostKeySha256} />
      </DoneDialog>
    );
  }

  const formId = `${id}-f`;
  return (
    <Dialog
      title="Register host"
      onClose={onClose}
      busy={busy}
      size="large"
      testId="register-host"
      footer={
        <FormFooter
          formId={formId}
          busy={busy}
          onCancel={onClose}
          submitLabel="Register"
          busyLabel="Contacting the host…"
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          Add an existing Linux machine to {regionName(regionId)} as an instance. keyfleet connects once now: it checks
          or pins the host key and logs in with the management key. Nothing is changed on the host.
        </p>
        <div className="form-grid">
          <TextField
            id={`${id}-name`}
            label="Name"
            value={name}
            onChange={setName}
            problem={problems.name}
            show={show}
            hint="2-128 characters, starting with a letter or digit."
          />
          <TextField
            id={`${id}-address`}
            label="Address"
            value={address}
            onChange={setAddress}
            problem={problems.address}
            show={show}
            hint="Host name or IP address keyfleet can reach."
            placeholder="10.0.0.5"
          />
          <TextField
            id={`${id}-port`}
            label="SSH port"
            value={port}
            onChange={setPort}
            problem={problems.port}
            show={show}
            hint="Default 22."
          />
          <TextField
            id={`${id}-user`}
            label="Login user"
            value={loginUser}
            onChange={setLoginUser}
            problem={problems.loginUser}
            show={show}
            hint="Whose authorized_keys keyfleet manages. Default root."
          />
          <TextField
            id={`${id}-home`}
            label={
              <>
                Home directory <span className="muted">(optional)</span>
              </>
            }
            value={homeDir}
            onChange={setHomeDir}
            problem={problems.homeDir}
            show={show}
            hint="Default /root for root, else /home/<user>."
          />
          <TextField
            id={`${id}-hostkey`}
            label={
              <>
                Host key fingerprint <span className="muted">(optional)</span>
              </>
            }
            value={hostKey}
            onChange={setHostKey}
            problem={problems.hostKey}
            show={show}
            hint="SHA256:… from ssh-keygen -lf on the host. If given and the host presents another key, nothing is registered; if empty, the key seen now is pinned."
            placeholder="SHA256:…"
          />
        </div>
        <ManagementKeyField value={key} onChange={setKey} show={show} />
        <PolicyFields value={policy} onChange={setPolicy} idPrefix={id} />
        <AdvancedFields value={advanced} onChange={setAdvanced} show={show} idPrefix={id} />
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
