/**
 * One instance (/console/instances/<id>): its binding and whether a fresh login proved it, when the binding ends,
 * how to reach it over SSH, its password state, the actions the Instances list offers (bind or replace, unbind,
 * extend the expiry, move to another resource group, reset the password, start, stop, restart; a registered host
 * offers the live key changes and the move only),
 * and the history of what was asked of it, from the audit trail.
 */
import { useState } from 'react';
import { api } from '../../api/client';
import type { Instance } from '../../api/types';
import { Link } from '../../app/router';
import { ExtendExpiryDialog } from '../../dialogs/ExtendExpiryDialog';
import { GroupName } from '../../ui/GroupName';
import { formatTime } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { passwordState } from '../../lib/loginState';
import { IconChevronLeft } from '../../ui/Icons';
import { InstanceStatusPill, RestartNeeded } from '../../ui/Pills';
import { ProofLine, proofPending } from '../../ui/Proof';
import { ErrorState, LoadingState } from '../../ui/States';
import { Fact } from '../../ui/Summary';
import { TagsEditor } from '../../ui/TagsEditor';
import { useToasts } from '../../ui/Toasts';
import { InstanceDialogs } from '../instances/InstanceDialogs';
import { type InstanceDialogState, TRANSITIONAL } from '../instances/InstanceRow';
import { AuditHistory } from './AuditHistory';

export function InstanceDetailPage({ id }: { id: string }) {
  const toasts = useToasts();
  const inst = useResource(() => api.instance(id), [id], {
    pollMs: (i) => (i && (TRANSITIONAL.includes(i.status) || proofPending(i)) ? 1000 : 10_000),
  });
  const [dialog, setDialog] = useState<InstanceDialogState>(null);
  const [extending, setExtending] = useState(false);
  /** Bumped after an action so the history is read again. */
  const [version, setVersion] = useState(0);
  const reload = () => {
    inst.reload();
    setVersion((v) => v + 1);
  };

  const act = async (i: Instance, op: 'start' | 'stop' | 'restart') => {
    await api.instanceAction(i.id, op);
    toasts.push({
      kind: 'info',
      title: `${op === 'start' ? 'Starting' : op === 'stop' ? 'Stopping' : 'Restarting'} ${i.name}`,
    });
    reload();
  };

  if (inst.error && !inst.data)
    return (
      <div className="page">
        <BackLink />
        <ErrorState title="Cannot load this instance" error={inst.error} onRetry={inst.reload} />
      </div>
    );
  if (!inst.data)
    return (
      <div className="page">
        <BackLink />
        <LoadingState label="Loading instance…" />
      </div>
    );
  const i = inst.data;
  const isHost = i.backend === 'host';
  const busy = TRANSITIONAL.includes(i.status);
  const linux = i.osType === 'linux';

  return (
    <div className="page" data-testid="instance-detail" data-instance-id={i.id}>
      <BackLink />
      <header className="page-header">
        <div>
          <h1>{i.name}</h1>
          <p className="muted mono">{i.id}</p>
        </div>
        <InstanceStatusPill status={i.status} />
      </header>

      <div className="button-row detail-actions" role="toolbar" aria-label="Instance actions">
        <button
          type="button"
          className="button button-primary"
          onClick={() => setDialog({ type: 'bind', instance: i })}
          disabled={!i.canBindKeyPair || busy}
          title={i.keyPairRefusal ?? undefined}
        >
          {i.keyPairName ? 'Replace key pair' : 'Bind key pair'}
        </button>
        <button
          type="button"
          className="button"
          onClick={() => setDialog({ type: 'unbind', instance: i })}
          disabled={!i.keyPairName || busy}
        >
          Unbind
        </button>
        <button
          type="button"
          className="button"
          onClick={() => setExtending(true)}
          disabled={!i.keyPairName || busy}
          title={i.keyPairName ? undefined : 'No key pair is bound.'}
        >
          Extend expiry
        </button>
        <button type="button" className="button" onClick={() => setDialog({ type: 'move', instance: i })}>
          Move to group
        </button>
        {isHost ? null : (
          <>
            <button
              type="button"
              className="button"
              onClick={() => setDialog({ type: 'reset', instance: i })}
              disabled={busy}
            >
              Reset password
            </button>
            <button
              type="button"
              className="button"
              onClick={() =>
                void act(i, 'start').catch((err) =>
                  toasts.push({ kind: 'error', title: `Cannot start ${i.name}`, body: String((err as Error).message) }),
                )
              }
              disabled={i.status !== 'Stopped'}
            >
              Start
            </button>
            <button
              type="button"
              className="button"
              onClick={() => setDialog({ type: 'stop', instance: i })}
              disabled={i.status !== 'Running'}
            >
              Stop
            </button>
            <button
              type="button"
              className="button"
              onClick={() => setDialog({ type: 'restart', instance: i })}
              disabled={i.status !== 'Running'}
            >
              Restart
            </button>
          </>
        )}
      </div>

      <section className="card" aria-labelledby="binding-title">
        <h2 id="binding-title" className="card-title">
          Binding
        </h2>
        <dl className="facts">
          <Fact term="Key pair" testId="fact-key-pair">
            {!i.canBindKeyPair ? (
              <span className="muted">Not supported: {i.keyPairRefusal}</span>
            ) : i.keyPairName ? (
              <>
                <Link to={`/key-pairs/${encodeURIComponent(i.keyPairName)}`}>{i.keyPairName}</Link>
                {i.pendingRestart && i.pendingChanges.keyPair ? (
                  <span className="effect effect-pending">
                    {' '}
                    · bound, takes effect at the next {i.status === 'Stopped' ? 'start' : 'restart'}
                  </span>
                ) : (
                  <span className="effect effect-applied"> · applied</span>
                )}
              </>
            ) : (
              <span className="muted">{i.pendingChanges.keyPair ? 'None (unbind waits for a restart)' : 'None'}</span>
            )}
            {i.pendingRestart ? (
              <div>
                <RestartNeeded instance={i} />
              </div>
            ) : null}
          </Fact>
          <Fact term="Bound" testId="fact-binding-mode">
            {i.keyPairName ? (i.bindingMode === 'live' ? 'Live over SSH' : 'For the next restart') : '—'}
          </Fact>
          <Fact term="Expires" testId="fact-expiry">
            {i.keyPairName ? (i.keyExpiresAt ? formatTime(i.keyExpiresAt) : 'Never (until unbound)') : '—'}
            {i.keyPairName && i.appliedKeyExpiresAt !== i.keyExpiresAt && i.appliedKeyExpiresAt ? (
              <div className="muted small">
                The machine's line still says {formatTime(i.appliedKeyExpiresAt)} until the next start.
              </div>
            ) : null}
          </Fact>
          <Fact term="Verification" testId="fact-verification">
            {linux ? <ProofLine instance={i} detail /> : <span className="muted">— no SSH</span>}
          </Fact>
          <Fact term="SSH address" className="mono" testId="fact-ssh">
            {linux ? `${i.loginUser}@${i.address}:${i.sshPort}` : '— no SSH (Windows)'}
          </Fact>
          <Fact term="Password" testId="fact-password">
            {isHost ? `Host policy: ${i.host?.passwordLogin ?? '—'}` : passwordState(i)}
          </Fact>
          {isHost ? (
            <Fact term="Host key" className="mono small break">
              {i.hostKeySha256 ?? 'not pinned'}
            </Fact>
          ) : null}
        </dl>
      </section>

      <section className="card" aria-labelledby="machine-title">
        <h2 id="machine-title" className="card-title">
          Machine
        </h2>
        <dl className="facts">
          <Fact term="Kind">{isHost ? 'Registered host (keyfleet never powers it)' : 'Simulated instance'}</Fact>
          <Fact term="OS">{i.osName}</Fact>
          <Fact term="Image" className="mono small break">
            {i.imageId}
          </Fact>
          <Fact term="Instance type">{i.instanceType}</Fact>
          <Fact term="Region · zone">
            {i.regionId} · {i.zoneId}
          </Fact>
          <Fact term="Resource group" testId="fact-resource-group">
            <GroupName id={i.resourceGroupId} />
          </Fact>
          <Fact term="Created">{formatTime(i.createdAt)}</Fact>
        </dl>
      </section>

      <section className="card" data-slot="instance-tags" aria-labelledby="instance-tags-title">
        <h2 id="instance-tags-title" className="card-title">
          Tags
        </h2>
        <TagsEditor regionId={i.regionId} resourceType="instance" resourceId={i.id} tags={i.tags} onChanged={reload} />
      </section>

      <h2 className="section-title" id="history-title">
        History
      </h2>
      <p className="muted small">
        What was asked of this instance, who asked, through which face and what it came to. All entries:{' '}
        <Link to="/audit">Audit</Link>, resource <code>instance/{i.id}</code>.
      </p>
      <AuditHistory key={version} resource={`instance/${i.id}`} label="instance" />

      <InstanceDialogs dialog={dialog} setDialog={setDialog} reload={reload} act={act} />
      {extending ? <ExtendExpiryDialog instance={i} onClose={() => setExtending(false)} onChanged={reload} /> : null}
    </div>
  );
}

function BackLink() {
  return (
    <Link to="/instances" className="back-link">
      <IconChevronLeft /> Instances
    </Link>
  );
}
