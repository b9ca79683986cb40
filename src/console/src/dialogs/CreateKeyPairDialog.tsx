/** Creates a key pair; its private key is downloaded once and never kept. */
import { type FormEvent, useId, useState } from 'react';
import { DEFAULT_KEY_TYPE, type KeyType } from '../../../common/key-types.js';
import { api } from '../api/client';
import type { KeyPair } from '../api/types';
import { useScope } from '../app/scope';
import { saveTextFile } from '../lib/download';
import { keyPairNameProblem } from '../lib/rules';
import { KeyPairNameField } from './KeyPairNameField';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { IconDownload, IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';
import { Notice } from '../ui/Notice';
import { Fact } from '../ui/Summary';

export function CreateKeyPairDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (kp: KeyPair) => void }) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [name, setName] = useState('');
  const [type, setType] = useState<KeyType>(DEFAULT_KEY_TYPE);
  const [description, setDescription] = useState('');
  const [escrow, setEscrow] = useState(false);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ keyPair: KeyPair; fileName: string } | null>(null);
  const problem = keyPairNameProblem(name.trim());

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.createKeyPair(regionId, {
        name: name.trim(),
        type,
        ...(groupId ? { resourceGroupId: groupId } : {}),
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(escrow ? { escrow: true } : {}),
      });
      const fileName = `${res.keyPair.name}.pem`;
      // The private key exists only in this response: it goes straight to a file and is not kept.
      if (res.privateKey) saveTextFile(fileName, res.privateKey, 'application/x-pem-file');
      setCreated({ keyPair: res.keyPair, fileName });
      onCreated(res.keyPair);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Dialog
        title="Key pair created"
        onClose={onClose}
        footer={
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        }
        testId="key-pair-created"
      >
        <Notice
          tone="success"
          title={
            <>
              {created.keyPair.name} is ready. Its private key was downloaded as{' '}
              <span className="mono">{created.fileName}</span>.
            </>
          }
        >
          <p>
            {created.keyPair.privateKeyEscrowed
              ? 'keyfleet also keeps the private key, sealed (see Escrow on the key pair).'
              : 'keyfleet did not keep the private key and cannot show it again.'}{' '}
            Store the file safely (for OpenSSH: <code>chmod 600 {created.fileName}</code>). If it is lost, create a new
            key pair and bind that one instead.
          </p>
        </Notice>
        <dl className="summary">
          <Fact term="Fingerprint" className="mono break">
            {created.keyPair.fingerprintSha256}
          </Fact>
          <Fact term="Type">
            {created.keyPair.algorithm} ({created.keyPair.bits} bits)
          </Fact>
        </dl>
      </Dialog>
    );
  }

  return (
    <Dialog
      title="Create Key Pair"
      onClose={onClose}
      busy={busy}
      testId="create-key-pair"
      footer={
        <FormFooter
          formId={`${id}-f`}
          busy={busy}
          onCancel={onClose}
          submitLabel={
            <>
              <IconDownload /> Create and download
            </>
          }
          busyLabel={
            <>
              <IconDownload /> Creating…
            </>
          }
        />
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <div className="notice notice-warning">
          <IconWarning />
          <div>
            <strong>The private key is downloaded once, now.</strong>
            <p>
              keyfleet generates the key pair, sends you the private key as a <span className="mono">.pem</span> file
              and keeps only the public key. It cannot be downloaded again.
            </p>
          </div>
        </div>
        <KeyPairNameField
          id={id}
          name={name}
          setName={setName}
          problem={problem}
          show={show}
          hint={`Unique in ${regionName(regionId)}: letters, digits, ':', '_', '.' or '-'.`}
        />
        <fieldset className="choice">
          <legend>Type</legend>
          <label className="radio-card">
            <input type="radio" name={`${id}-type`} checked={type === 'ed25519'} onChange={() => setType('ed25519')} />
            <span>
              <strong>ED25519</strong> (recommended)
              <span className="hint">Short, fast and strong; OpenSSH 6.5 or newer.</span>
            </span>
          </label>
          <label className="radio-card">
            <input type="radio" name={`${id}-type`} checked={type === 'rsa'} onChange={() => setType('rsa')} />
            <span>
              <strong>RSA</strong>
              <span className="hint">For old clients and tools that only know RSA.</span>
            </span>
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-desc`}>
            Description <span className="muted">(optional)</span>
          </label>
          <input
            id={`${id}-desc`}
            value={description}
            maxLength={1024}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={escrow} onChange={(e) => setEscrow(e.target.checked)} />
          <span>
            Also keep the private key in keyfleet (escrow, sealed at rest)
            <span className="hint">
              Live unbinds and replaces can then log in with it; downloading it later needs its own permission.
            </span>
          </span>
        </label>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
