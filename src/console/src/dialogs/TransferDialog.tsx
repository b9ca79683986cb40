/**
 * Bind or unbind a key pair on many instances with a transfer list (the Alibaba console's Bind / Unbind dialog):
 * search the region's instances on the server, tick them, move them to Selected with ›, back with ‹. Instances
 * that cannot take a key pair (Windows, non-I/O-optimized types) are greyed with the reason and cannot be moved.
 * The change runs as a task; the dialog follows it and shows the result of every instance.
 */
import { type FormEvent, useEffect, useId, useState } from 'react';
import { api } from '../api/client';
import type { KeyPair, Task, TaskItem } from '../api/types';
import { useScope } from '../app/scope';
import { plural } from '../lib/format';
import { privateKeyMismatch } from '../lib/privateKey';
import { followTask } from '../lib/tasks';
import { useTransferList } from '../lib/useTransferList';
import { Dialog } from '../ui/Dialog';
import { InlineError } from '../ui/States';
import { emptyLive, liveCredential, LiveFields, liveProblem, type LiveValue } from './LiveFields';
import { TransferLists } from './TransferLists';
import { TransferResult } from './TransferResult';
import { DryRunPreview } from './DryRunDiff';
import { FormFooter } from '../ui/Field';
import { escrowedKeyPairsLabel, replaceKeyMismatch, useCurrentKeyEscrow } from '../lib/currentKeyEscrow';
import { CurrentKeyEscrowNote } from './CurrentKeyEscrowNote';

type Mode = 'on-restart' | 'live';

export function TransferDialog({
  keyPair,
  action,
  onClose,
  onChanged,
}: {
  keyPair: KeyPair;
  action: 'bind' | 'unbind';
  onClose: () => void;
  onChanged: () => void;
}) {
  const { regionId, regionName } = useScope();
  const id = useId();
  const verb = action === 'bind' ? 'Bind' : 'Unbind';
  const [error, setError] = useState<unknown>(null);
  const list = useTransferList(keyPair, action, setError);
  const { selected } = list;

  // ---- mode and submit ----------------------------------------------------------------------------------------
  const [mode, setMode] = useState<Mode>('on-restart');
  const [live, setLive] = useState<LiveValue>(() => emptyLive(null));
  const [showErrors, setShowErrors] = useState(false);
  const [keyMismatch, setKeyMismatch] = useState<string | null>(null);
  const [step, setStep] = useState<'select' | 'running' | 'result'>('select');
  const [task, setTask] = useState<Task | null>(null);
  const [items, setItems] = useState<TaskItem[]>([]);
  const recordedPort =
    selected.length > 0 && selected.every((i) => i.sshPort === selected[0]!.sshPort) ? selected[0]!.sshPort : null;

  // A live bind replaces the key pairs the instances have now: keyfleet may log in with their escrowed private keys.
  const current = useCurrentKeyEscrow(regionId, selected, mode === 'live' && action === 'bind');
  const escrowedLabel =
    action === 'unbind'
      ? keyPair.privateKeyEscrowed
        ? keyPair.name
        : undefined
      : escrowedKeyPairsLabel(current.escrowedNames);
  // Registered hosts whose management key keyfleet holds: with only those selected, keyfleet logs in with their
  // own management keys (no credential sent), as the instance's own dialog does; a key pasted here would have to
  // be one the management user accepts, which the key pair being changed usually is not.
  const heldKeysOnly = selected.length > 0 && selected.every((i) => i.backend === 'host' && !!i.host?.hasManagementKey);
  const homes = [...new Set(selected.map((i) => i.host?.homeDir ?? '~'))];
  const authorizedKeys = heldKeysOnly
    ? homes.length === 1
      ? `${homes[0]}/.ssh/authorized_keys`
      : "each host's login user's ~/.ssh/authorized_keys"
    : undefined;
  // The escrow choice sends no credential: when the selection no longer has an escrowed key, it is not offered.
  useEffect(() => {
    if (heldKeysOnly) setLive((v) => (v.kind === 'management' || v.privateKey ? v : { ...v, kind: 'management' }));
    else if (escrowedLabel === undefined) setLive((v) => (v.kind === 'management' ? { ...v, kind: 'privateKey' } : v));
  }, [escrowedLabel, heldKeysOnly]);

  // Different ports on record: none is guessed; an empty port lets the server use each instance's own.
  const eachOwnPort = selected.length > 1 && recordedPort === null;
  useEffect(() => {
    if (mode === 'live' && recordedPort !== null)
      setLive((v) => (v.port === '22' || v.port === '' ? { ...v, port: String(recordedPort) } : v));
    else if (mode === 'live' && eachOwnPort) setLive((v) => (v.port === '22' ? { ...v, port: '' } : v));
  }, [mode, recordedPort, eachOwnPort]);

  const bindingRequest = (dryRun: boolean) => {
    const liveParts = mode === 'live' ? liveCredential(live, action === 'bind') : null;
    return {
      action,
      keyPairName: keyPair.name,
      instanceIds: selected.map((i) => i.id),
      mode,
      ...(liveParts ? { credential: liveParts.credential, ...(liveParts.port ? { port: liveParts.port } : {}) } : {}),
      ...(dryRun ? { dryRun: true } : {}),
    };
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShowErrors(true);
    if (selected.length === 0) return;
    if (mode === 'live' && liveProblem(live, action === 'bind', eachOwnPort)) return;
    setError(null);
    setKeyMismatch(null);
    // A live unbind logs in with this key pair's private key, a live replace with that of a key pair the instances
    // have now: a wrong file is named here, before it is sent.
    // On hosts with a held management key, a pasted key is one the management user accepts: not checked here.
    if (mode === 'live' && live.kind === 'privateKey' && !heldKeysOnly) {
      const mismatch =
        action === 'unbind'
          ? await privateKeyMismatch(live.privateKey, keyPair)
          : await replaceKeyMismatch(live.privateKey, current.loginKeyPairs);
      if (mismatch) {
        setKeyMismatch(mismatch);
        return;
      }
    }
    setStep('running');
    try {
      const res = await api.bindings(regionId, bindingRequest(false));
      // Sent once; forget the credential.
      setLive(emptyLive(null));
      setTask(res.task);
      const done = await followTask(res.task.id, setTask);
      setTask(done.task);
      setItems(done.items);
      setStep('result');
      onChanged();
    } catch (err) {
      setError(err);
      setStep('select');
    }
  };

  if (step !== 'select') {
    return (
      <TransferResult
        keyPair={keyPair}
        action={action}
        step={step}
        task={task}
        items={items}
        selected={selected}
        onClose={onClose}
        onChanged={onChanged}
      />
    );
  }

  // ---- select -------------------------------------------------------------------------------------------------
  const formId = `${id}-form`;
  return (
    <Dialog
      title={`${verb} Key Pair ${keyPair.name}`}
      onClose={onClose}
      size="large"
      fill
      step={step}
      testId="transfer-dialog"
      footer={
        <>
          <span className="footer-note muted">
            {selected.length
              ? `${plural(selected.length, 'instance')} selected`
              : 'Select instances, then move them to Selected'}
          </span>
          <FormFooter
            formId={formId}
            busy={false}
            blocked={selected.length === 0 || (mode === 'live' && !live.confirmed)}
            onCancel={onClose}
            submitLabel={
              <>
                {verb}
                {selected.length ? ` ${plural(selected.length, 'instance')}` : ''}
              </>
            }
            busyLabel={verb}
          />
        </>
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          {action === 'bind'
            ? `Choose the instances of ${regionName(regionId)} that get ${keyPair.name}. An instance has one key pair: a new one replaces the old. Greyed instances cannot use an SSH key pair.`
            : `Instances of ${regionName(regionId)} bound to ${keyPair.name}. Choose the ones to unbind; password login comes back on them.`}
        </p>
        <TransferLists id={id} list={list} keyPair={keyPair} action={action} showErrors={showErrors} />

        <fieldset className="choice choice-inline">
          <legend>When should it take effect?</legend>
          <label className="radio">
            <input
              type="radio"
              name={`${id}-mode`}
              checked={mode === 'on-restart'}
              onChange={() => setMode('on-restart')}
            />
            <span>At the next restart (default)</span>
          </label>
          <label className="radio">
            <input type="radio" name={`${id}-mode`} checked={mode === 'live'} onChange={() => setMode('live')} />
            <span>Now, live over SSH (running instances; stopped ones take it at their next start)</span>
          </label>
        </fieldset>
        {mode === 'live' ? (
          <LiveFields
            value={live}
            onChange={setLive}
            allowPassword={action === 'bind'}
            action={action}
            recordedPort={recordedPort}
            showErrors={showErrors}
            managementKey={heldKeysOnly}
            escrowedKeyPair={heldKeysOnly ? undefined : escrowedLabel}
            authorizedKeys={authorizedKeys}
            eachOwnPort={eachOwnPort}
            passwordLeftToHost={heldKeysOnly && selected.every((i) => i.host?.passwordLogin === 'unmanaged')}
          />
        ) : null}
        {mode === 'live' && action === 'bind' ? (
          <CurrentKeyEscrowNote state={current} usingEscrow={live.kind === 'management'} action={action} />
        ) : null}
        {/* Live: read from each machine over SSH; at the next restart: what each instance's boot would write. */}
        <DryRunPreview
          names={Object.fromEntries(selected.map((i) => [i.id, i.name]))}
          key={mode}
          disabled={
            selected.length === 0 || (mode === 'live' && liveProblem(live, action === 'bind', eachOwnPort) !== null)
          }
          run={() => api.bindings(regionId, bindingRequest(true))}
        />
        {keyMismatch ? (
          <p className="alert alert-error" role="alert" data-testid="key-mismatch">
            {keyMismatch}
          </p>
        ) : null}
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}
