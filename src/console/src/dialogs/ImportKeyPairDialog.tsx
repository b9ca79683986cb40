/** Imports a public key as a key pair: checked in the browser (type, fingerprint), then by the server. */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { api } from '../api/client';
import type { KeyPair } from '../api/types';
import { useScope } from '../app/scope';
import { keyPairNameProblem } from '../lib/rules';
import { KeyPairNameField } from './KeyPairNameField';
import { checkPublicKey, sha256Fingerprint } from '../lib/publicKey';
import { useTextFile } from '../lib/useTextFile';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { FileRow } from '../ui/FileRow';
import { IconCheck } from '../ui/Icons';
import { InlineError } from '../ui/States';

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
        <FormFooter formId={`${id}-f`} busy={busy} onCancel={onClose} submitLabel="Import" busyLabel="Importing…" />
      }
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <p className="muted">
          Bring your own key: keyfleet stores only the public key; your private key never leaves your machine.
        </p>
        <KeyPairNameField
          id={id}
          name={name}
          setName={setName}
          problem={nameProblem}
          show={show}
          hint={`Unique in ${regionName(regionId)}.`}
        />
        <div className="field">
          <label htmlFor={`${id}-key`}>Public key</label>
          <FileRow
            fileRef={fileRef}
            onFile={onFile}
            accept=".pub,text/plain"
            label="Public key file"
            buttonText="Upload .pub file"
            pasteHint="or paste the line below"
          />
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
