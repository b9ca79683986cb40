/** Create (private key downloaded once), import (public key checked in the browser, then by the server), delete
 * (refused while bound, naming the instances). */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { api, ApiError } from '../api/client';
import type { KeyPair } from '../api/types';
import { useScope } from '../app/scope';
import { saveTextFile } from '../lib/download';
import { plural } from '../lib/format';
import { keyPairNameProblem } from '../lib/rules';
import { checkPublicKey, sha256Fingerprint } from '../lib/publicKey';
import { useTextFile } from '../lib/useTextFile';
import { Dialog } from '../ui/Dialog';
import { IconCheck, IconDownload, IconUpload, IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';

export function CreateKeyPairDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (kp: KeyPair) => void }) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [name, setName] = useState('');
  const [type, setType] = useState<'ed25519' | 'rsa'>('ed25519');
  const [description, setDescription] = useState('');
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
        <div className="notice notice-success" role="status">
          <IconCheck />
          <div>
            <strong>
              {created.keyPair.name} is ready. Its private key was downloaded as{' '}
              <span className="mono">{created.fileName}</span>.
            </strong>
            <p>
              keyfleet did not keep the private key and cannot show it again. Store the file safely (for OpenSSH:{' '}
              <code>chmod 600 {created.fileName}</code>). If it is lost, create a new key pair and bind that one
              instead.
            </p>
          </div>
        </div>
        <dl className="summary">
          <div>
            <dt>Fingerprint</dt>
            <dd className="mono break">{created.keyPair.fingerprintSha256}</dd>
          </div>
          <div>
            <dt>Type</dt>
            <dd>
              {created.keyPair.algorithm} ({created.keyPair.bits} bits)
            </dd>
          </div>
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
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={busy}>
            <IconDownload /> {busy ? 'Creating…' : 'Create and download'}
          </button>
        </>
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
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="off"
            aria-invalid={show && problem ? true : undefined}
            aria-describedby={`${id}-name-hint`}
          />
          <p id={`${id}-name-hint`} className={show && problem ? 'field-error' : 'hint'}>
            {show && problem ? problem : `Unique in ${regionName(regionId)}: letters, digits, ':', '_', '.' or '-'.`}
          </p>
        </div>
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
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

export function ImportKeyPairDialog({
  onClose,
  onImported,
}: {
  onClose: () => void;
  onImported: (kp: KeyPair) => void;
}) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [name, setName] = useState('');
  const [text, setText] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fingerprint, setFingerprint] = useState<string | null>(null);
  const nameProblem = keyPairNameProblem(name.trim());
  const checked = checkPublicKey(text);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `checked` is derived from `text` on every render; the text is what changes the fingerprint
  useEffect(() => {
    let live = true;
    setFingerprint(null);
    if (checked.ok) void sha256Fingerprint(checked.blob).then((f) => live && setFingerprint(f));
    return () => {
      live = false;
    };
  }, [text]);

  const { fileRef, fileError, onFile } = useTextFile((t, f) => {
    setText(t.trim());
    if (!name)
      setName(
        f.name
          .replace(/\.pub$/, '')
          .replace(/[^\p{L}\p{N}:_.-]/gu, '-')
          .replace(/^[^\p{L}\p{N}]+/u, ''),
      );
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (nameProblem || !checked.ok) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.createKeyPair(regionId, {
        name: name.trim(),
        publicKey: checked.line,
        ...(groupId ? { resourceGroupId: groupId } : {}),
      });
      onImported(res.keyPair);
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const keyHint = text.trim() === '' ? null : checked.ok ? null : checked.problem;
  return (
    <Dialog
      title="Import Key Pair"
      onClose={onClose}
      busy={busy}
      testId="import-key-pair"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" form={`${id}-f`} className="button button-primary" disabled={busy}>
            {busy ? 'Importing…' : 'Import'}
          </button>
        </>
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <p className="muted">
          Bring your own key: keyfleet stores only the public key; your private key never leaves your machine.
        </p>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="off"
            aria-invalid={show && nameProblem ? true : undefined}
          />
          <p className={show && nameProblem ? 'field-error' : 'hint'}>
            {show && nameProblem ? nameProblem : `Unique in ${regionName(regionId)}.`}
          </p>
        </div>
        <div className="field">
          <label htmlFor={`${id}-key`}>Public key</label>
          <div className="file-row">
            <input
              ref={fileRef}
              type="file"
              className="visually-hidden"
              accept=".pub,text/plain"
              onChange={(e) => void onFile(e.target.files?.[0])}
              aria-label="Public key file"
            />
            <button type="button" className="button" onClick={() => fileRef.current?.click()}>
              <IconUpload /> Upload .pub file
            </button>
            <span className="muted small">or paste the line below</span>
          </div>
          <textarea
            id={`${id}-key`}
            className="mono"
            rows={4}
            spellCheck={false}
            placeholder="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… you@laptop"
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={(show || text) && !checked.ok ? true : undefined}
            aria-describedby={`${id}-key-state`}
          />
          <div id={`${id}-key-state`} aria-live="polite">
            {fileError ? <p className="field-error">{fileError}</p> : null}
            {checked.ok ? (
              <p className="field-ok">
                <IconCheck /> Valid {checked.label} public key{checked.comment ? ` (${checked.comment})` : ''}
                {fingerprint ? (
                  <>
                    {' '}
                    · <span className="mono">{fingerprint}</span>
                  </>
                ) : null}
              </p>
            ) : keyHint ? (
              <p className="field-error">{keyHint}</p>
            ) : show ? (
              <p className="field-error">Paste or upload a public key.</p>
            ) : (
              <p className="hint">
                Accepted: ssh-ed25519, ssh-rsa (2048 bits or more), ecdsa-sha2-nistp256/384/521 — one line as in a .pub
                file.
              </p>
            )}
          </div>
        </div>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

export function DeleteKeyPairDialog({
  keyPair,
  onClose,
  onDeleted,
  onUnbind,
}: {
  keyPair: KeyPair;
  onClose: () => void;
  onDeleted: () => void;
  onUnbind: () => void;
}) {
  const { regionId } = useScope();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [bound, setBound] = useState<{ ids: string[]; count: number } | null | 'loading'>('loading');

  useEffect(() => {
    api.keyPair(regionId, keyPair.name).then(
      (d) => setBound(d.boundCount > 0 ? { ids: d.boundInstances, count: d.boundCount } : null),
      () => setBound(null),
    );
  }, [regionId, keyPair.name]);

  const del = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.deleteKeyPair(regionId, keyPair.name);
      onDeleted();
      onClose();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'KeyPair.InUse') {
        const ids = Array.isArray(err.details.instanceIds) ? (err.details.instanceIds as string[]) : [];
        setBound({ ids, count: typeof err.details.boundCount === 'number' ? err.details.boundCount : ids.length });
      }
      setError(err);
      setBusy(false);
    }
  };

  const inUse = bound !== null && bound !== 'loading';
  return (
    <Dialog
      title="Delete Key Pair"
      onClose={onClose}
      busy={busy}
      size="small"
      testId="delete-key-pair"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          {inUse ? (
            <button type="button" className="button button-primary" onClick={onUnbind}>
              Unbind instances…
            </button>
          ) : null}
          <button
            type="button"
            className="button button-danger"
            onClick={() => void del()}
            disabled={busy || bound === 'loading' || inUse}
          >
            {busy ? 'Deleting…' : 'Delete'}
          </button>
        </>
      }
    >
      <p>
        Delete key pair <strong>{keyPair.name}</strong>{' '}
        <span className="mono muted small break">{keyPair.fingerprintSha256}</span>?
      </p>
      {inUse ? (
        <div className="notice notice-error" role="alert">
          <IconWarning />
          <div>
            <strong>
              {keyPair.name} is bound to {plural(bound.count, 'instance')}; unbind it first.
            </strong>
            <p>
              Bound to:{' '}
              <span className="mono">
                {bound.ids.slice(0, 10).join(', ')}
                {bound.count > 10 ? `, … (${bound.count - 10} more)` : ''}
              </span>
            </p>
          </div>
        </div>
      ) : (
        <p className="muted">Instances keep working; only the record of the public key goes. This cannot be undone.</p>
      )}
      {error && !(error instanceof ApiError && error.code === 'KeyPair.InUse') ? <InlineError error={error} /> : null}
    </Dialog>
  );
}
