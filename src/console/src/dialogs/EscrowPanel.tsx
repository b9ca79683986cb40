/**
 * Private-key escrow of one key pair: whether keyfleet keeps its private key (sealed), and the three things a user
 * can do about it. Download (export) needs its own permission, keypair:ExportPrivateKey, so a reader may see that a
 * key is kept without being able to read it; stop keeping it (clear); or have it kept (escrow), which the server
 * refuses unless the key matches the public key. With escrow, a live unbind or replace may leave the credential
 * empty: keyfleet logs in with the kept key, and the audit trail says so. The key text is held in this component's
 * state only while it is being sent or saved.
 */
import { useId, useState } from 'react';
import { request } from '../api/client';
import type { KeyPair } from '../api/types';
import { saveTextFile } from '../lib/download';
import { Dialog } from '../ui/Dialog';
import { Notice } from '../ui/Notice';
import { InlineError } from '../ui/States';
import { privateKeyProblem } from './LiveFields';
import { PrivateKeyInput, type PrivateKeyValue } from './PrivateKeyInput';

const enc = encodeURIComponent;
const path = (kp: KeyPair) => `/regions/${enc(kp.regionId)}/key-pairs/${enc(kp.name)}/escrow`;

export function EscrowPanel({ keyPair, onChanged }: { keyPair: KeyPair; onChanged: (kp: KeyPair) => void }) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  const [key, setKey] = useState<PrivateKeyValue>({ privateKey: '', fileName: null });
  const [showKeyError, setShowKeyError] = useState(false);
  const kept = keyPair.privateKeyEscrowed;

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await what());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const download = () =>
    run(async () => {
      const r = await request<{ privateKey: string }>('POST', `${path(keyPair)}/export`);
      saveTextFile(`${keyPair.name}.pem`, r.privateKey, 'application/x-pem-file');
      return `The private key was downloaded as ${keyPair.name}.pem.`;
    });
  const clear = () =>
    run(async () => {
      await request<void>('DELETE', path(keyPair));
      setConfirmClear(false);
      onChanged({ ...keyPair, privateKeyEscrowed: false });
      return 'keyfleet no longer keeps the private key.';
    });
  const keyProblem = privateKeyProblem(key.privateKey);
  const put = () => {
    setShowKeyError(true);
    if (keyProblem) return;
    void run(async () => {
      const r = await request<{ keyPair: KeyPair }>('PUT', path(keyPair), { privateKey: `${key.privateKey.trim()}\n` });
      setKey({ privateKey: '', fileName: null });
      setShowKeyError(false);
      onChanged(r.keyPair);
      return 'The private key is kept, sealed.';
    });
  };

  return (
    <section className="escrow-panel" data-testid="escrow-panel" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Private key escrow</h3>
      <p data-testid="escrow-state">
        {kept
          ? 'keyfleet keeps this key pair’s private key, sealed at rest. A live unbind or replace may then be sent without a credential: keyfleet logs in with the kept key, and the audit trail records it.'
          : 'keyfleet does not keep this key pair’s private key. A live unbind or replace needs the private key (or the root password to bind).'}
      </p>
      {kept ? (
        <div className="button-row button-row-start">
          <button type="button" className="button" disabled={busy} onClick={download}>
            Download private key
          </button>
          {confirmClear ? (
            <>
              <button type="button" className="button button-danger" disabled={busy} onClick={clear}>
                Stop keeping it
              </button>
              <button type="button" className="button" disabled={busy} onClick={() => setConfirmClear(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="button" disabled={busy} onClick={() => setConfirmClear(true)}>
              Stop keeping the private key…
            </button>
          )}
        </div>
      ) : (
        <div>
          <PrivateKeyInput
            id={`${id}-key`}
            label="Private key to keep"
            value={key}
            onChange={setKey}
            error={showKeyError ? keyProblem : null}
          />
          <button type="button" className="button" disabled={busy} onClick={put}>
            Keep this private key
          </button>
        </div>
      )}
      {confirmClear ? (
        <p className="muted">Without it, live changes to instances bound to {keyPair.name} need a credential again.</p>
      ) : null}
      {done ? <Notice tone="success" title={done} /> : null}
      <InlineError error={error} />
    </section>
  );
}

/** The panel in a dialog, for the key pair list's row action. */
export function EscrowDialog({
  keyPair,
  onClose,
  onChanged,
}: {
  keyPair: KeyPair;
  onClose: () => void;
  onChanged: (kp: KeyPair) => void;
}) {
  const [current, setCurrent] = useState(keyPair);
  return (
    <Dialog
      title={`Escrow of ${keyPair.name}`}
      onClose={onClose}
      testId="escrow-dialog"
      footer={
        <button type="button" className="button button-primary" onClick={onClose}>
          Done
        </button>
      }
    >
      <EscrowPanel
        keyPair={current}
        onChanged={(kp) => {
          setCurrent(kp);
          onChanged(kp);
        }}
      />
    </Dialog>
  );
}
