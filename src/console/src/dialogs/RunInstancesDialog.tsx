/**
 * Runs instances of the simulated fleet: image and type (each marked when its instances cannot take a key pair, by
 * the server's own rule), how many, a name, and a root password (optional: without one a live bind needs the
 * private key of a key pair already bound, and password login stays off).
 */
import { type FormEvent, useId, useState } from 'react';
import { api } from '../api/client';
import { useScope } from '../app/scope';
import { useResource } from '../lib/hooks';
import { passwordProblem } from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { FormFooter } from '../ui/Field';
import { InlineError } from '../ui/States';

const MAX_AMOUNT = 100;

export function RunInstancesDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (ids: string[]) => void;
}) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const catalog = useResource(async () => ({ images: await api.images(), types: await api.instanceTypes() }), []);
  const [imageId, setImageId] = useState('');
  const [instanceType, setInstanceType] = useState('');
  const [amount, setAmount] = useState('1');
  const [name, setName] = useState('');
  const [pw, setPw] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const images = catalog.data?.images ?? [];
  const types = catalog.data?.types ?? [];
  const image = imageId || images.find((i) => i.keyPairRefusal === null)?.id || '';
  const count = Number(amount);
  const amountProblem =
    Number.isInteger(count) && count >= 1 && count <= MAX_AMOUNT ? null : `A whole number from 1 to ${MAX_AMOUNT}.`;
  const pwProblem = pw === '' ? null : passwordProblem(pw);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (!image || amountProblem || pwProblem) return;
    setBusy(true);
    setError(null);
    try {
      const ids = await api.runInstances(regionId, {
        imageId: image,
        amount: count,
        ...(instanceType ? { instanceType } : {}),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(pw ? { password: pw } : {}),
        ...(groupId ? { resourceGroupId: groupId } : {}),
      });
      setPw('');
      onCreated(ids);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const refusalNote = (refusal: string | null) => (refusal ? ` — no key pairs: ${refusal}` : '');
  return (
    <Dialog
      title="Run instances"
      onClose={onClose}
      busy={busy}
      testId="run-instances"
      footer={<FormFooter formId={`${id}-f`} busy={busy} onCancel={onClose} submitLabel="Run" busyLabel="Creating…" />}
    >
      <form id={`${id}-f`} onSubmit={submit} noValidate>
        <p className="muted">
          Simulated instances in {regionName(regionId)}; each Linux instance serves SSH on its own address.
        </p>
        <div className="field">
          <label htmlFor={`${id}-image`}>Image</label>
          <select id={`${id}-image`} value={image} onChange={(e) => setImageId(e.target.value)}>
            {images.map((i) => (
              <option key={i.id} value={i.id}>
                {i.osName}
                {refusalNote(i.keyPairRefusal)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Instance type</label>
          <select id={`${id}-type`} value={instanceType} onChange={(e) => setInstanceType(e.target.value)}>
            <option value="">Default</option>
            {types.map((t) => (
              <option key={t.id} value={t.id}>
                {t.id} ({t.cpu} vCPU, {t.memoryGiB} GiB){refusalNote(t.keyPairRefusal)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-amount`}>How many</label>
          <input
            id={`${id}-amount`}
            inputMode="numeric"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            aria-invalid={show && amountProblem ? true : undefined}
          />
          {show && amountProblem ? <p className="field-error">{amountProblem}</p> : null}
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name (optional)</label>
          <input id={`${id}-name`} value={name} maxLength={128} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-pw`}>Root password (optional)</label>
          <input
            id={`${id}-pw`}
            type="password"
            autoComplete="new-password"
            value={pw}
            onChange={(e) => setPw(e.target.value)}
            aria-invalid={show && pwProblem ? true : undefined}
            aria-describedby={`${id}-pw-rule`}
          />
          <p id={`${id}-pw-rule`} className={show && pwProblem ? 'field-error' : 'hint'}>
            {show && pwProblem
              ? pwProblem
              : 'Lets root log in with a password until a key pair is bound, and lets a live bind log in. 8 to 30 characters with at least three of: upper case, lower case, digits, special characters.'}
          </p>
        </div>
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
