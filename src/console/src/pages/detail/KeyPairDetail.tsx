/**
 * One key pair (/console/key-pairs/<name or id>): its fingerprints (SHA256 as ssh-keygen prints it, MD5 as the
 * clouds' consoles do), whether keyfleet holds its private key in escrow, the instances it is bound to (the native
 * API's exact keyPairName filter, not a text search), its resource group (and the move to another), its tags and its
 * history from the audit trail.
 */
import { useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { KeyPair } from '../../api/types';
import { Link, navigate } from '../../app/router';
import { useScope } from '../../app/scope';
import { useWho } from '../../app/session';
import { DeleteKeyPairDialog } from '../../dialogs/DeleteKeyPairDialog';
import { EscrowDialog } from '../../dialogs/EscrowPanel';
import { MoveToGroupDialog } from '../../dialogs/MoveToGroupDialog';
import { TransferDialog } from '../../dialogs/TransferDialog';
import { formatTime, plural } from '../../lib/format';
import { useResource } from '../../lib/hooks';
import { passwordState } from '../../lib/loginState';
import { usePaging } from '../../lib/usePaging';
import { IconChevronLeft } from '../../ui/Icons';
import { Pager } from '../../ui/Pager';
import { InstanceStatusPill } from '../../ui/Pills';
import { EmptyState, ErrorState, LoadingState } from '../../ui/States';
import { GroupName } from '../../ui/GroupName';
import { Fact } from '../../ui/Summary';
import { TagsEditor } from '../../ui/TagsEditor';
import { DataTable } from '../../ui/Table';
import { useToasts } from '../../ui/Toasts';
import { AuditHistory } from './AuditHistory';

/** The key pair named, or (a link by id) the one of the region with that id. */
async function loadKeyPair(regionId: string, nameOrId: string): Promise<KeyPair> {
  try {
    return (await api.keyPair(regionId, nameOrId)).keyPair;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
    const all = await api.keyPairs(regionId, { limit: 1000 });
    const byId = all.items.find((k) => k.id === nameOrId);
    if (!byId) throw err;
    return byId;
  }
}

export const keyTypeLabel = (k: Pick<KeyPair, 'algorithm' | 'bits'>) =>
  k.algorithm === 'ssh-rsa' ? `RSA ${k.bits}` : k.algorithm === 'ssh-ed25519' ? 'ED25519' : `ECDSA ${k.bits}`;

export function KeyPairDetailPage({ nameOrId }: { nameOrId: string }) {
  const { regionId, regionName } = useScope();
  const who = useWho();
  const toasts = useToasts();
  const [version, setVersion] = useState(0);
  const [dialog, setDialog] = useState<'bind' | 'unbind' | 'delete' | 'escrow' | 'move' | null>(null);
  const kp = useResource(() => loadKeyPair(regionId, nameOrId), [regionId, nameOrId, version]);

  if (kp.error && !kp.data)
    return (
      <div className="page">
        <BackLink />
        <ErrorState
          title={`Cannot load key pair ${nameOrId} in ${regionName(regionId)}`}
          error={kp.error}
          onRetry={kp.reload}
        />
      </div>
    );
  if (!kp.data)
    return (
      <div className="page">
        <BackLink />
        <LoadingState label="Loading key pair…" />
      </div>
    );
  const k = kp.data;
  return (
    <div className="page" data-testid="key-pair-detail" data-key-pair={k.name}>
      <BackLink />
      <header className="page-header">
        <div>
          <h1>{k.name}</h1>
          <p className="muted mono">{k.id}</p>
        </div>
      </header>
      <div className="button-row detail-actions" role="toolbar" aria-label="Key pair actions">
        <button type="button" className="button button-primary" onClick={() => setDialog('bind')}>
          Bind
        </button>
        <button type="button" className="button" onClick={() => setDialog('unbind')}>
          Unbind
        </button>
        <button type="button" className="button" onClick={() => setDialog('move')}>
          Move to group
        </button>
        <button type="button" className="button danger" onClick={() => setDialog('delete')}>
          Delete
        </button>
      </div>

      <section className="card" aria-labelledby="kp-key-title">
        <h2 id="kp-key-title" className="card-title">
          Key
        </h2>
        <dl className="facts">
          <Fact term="Type">{keyTypeLabel(k)}</Fact>
          <Fact term="SHA256 fingerprint" className="mono small break" testId="fp-sha256">
            {k.fingerprintSha256}
          </Fact>
          <Fact term="MD5 fingerprint" className="mono small break" testId="fp-md5">
            {k.fingerprintMd5}
          </Fact>
          <Fact term="Private key escrow" testId="escrow-state">
            {k.privateKeyEscrowed
              ? 'Escrowed: keyfleet keeps the private key sealed'
              : 'Not escrowed: keyfleet does not hold the private key'}{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => setDialog('escrow')}
              aria-label={`Escrow of ${k.name}`}
            >
              Manage
            </button>
          </Fact>
          <Fact term="Region">{regionName(k.regionId)}</Fact>
          <Fact term="Resource group" testId="fact-resource-group">
            <GroupName id={k.resourceGroupId} />
          </Fact>
          <Fact term="Created">{formatTime(k.createdAt)}</Fact>
          {k.description ? <Fact term="Description">{k.description}</Fact> : null}
        </dl>
        <details className="public-key">
          <summary>Public key</summary>
          <pre className="mono small break">{k.publicKey}</pre>
        </details>
      </section>

      <section className="card detail-slot-tags" data-slot="key-pair-tags" aria-labelledby="kp-tags-title">
        <h2 id="kp-tags-title" className="card-title">
          Tags
        </h2>
        <TagsEditor
          regionId={k.regionId}
          resourceType="keypair"
          resourceId={k.name}
          tags={k.tags}
          onChanged={() => setVersion((v) => v + 1)}
        />
      </section>

      <h2 className="section-title">Bound instances</h2>
      <BoundInstances regionId={regionId} name={k.name} version={version} />

      <h2 className="section-title">History</h2>
      <AuditHistory
        key={version}
        resource={`acs:ecs:${k.regionId}:${who.accountId}:keypair/${k.name}`}
        label="key pair"
      />

      {dialog === 'bind' || dialog === 'unbind' ? (
        <TransferDialog
          keyPair={k}
          action={dialog}
          onClose={() => setDialog(null)}
          onChanged={() => setVersion((v) => v + 1)}
        />
      ) : null}
      {dialog === 'move' ? (
        <MoveToGroupDialog
          resources={[
            {
              resourceType: 'keypair',
              regionId: k.regionId,
              resourceId: k.name,
              label: k.name,
              resourceGroupId: k.resourceGroupId,
            },
          ]}
          onClose={() => setDialog(null)}
          onMoved={() => setVersion((v) => v + 1)}
        />
      ) : null}
      {dialog === 'escrow' ? (
        <EscrowDialog keyPair={k} onClose={() => setDialog(null)} onChanged={() => setVersion((v) => v + 1)} />
      ) : null}
      {dialog === 'delete' ? (
        <DeleteKeyPairDialog
          keyPair={k}
          onClose={() => setDialog(null)}
          onDeleted={() => {
            toasts.push({ kind: 'success', title: `Key pair ${k.name} deleted` });
            navigate('/key-pairs');
          }}
          onUnbind={() => setDialog('unbind')}
        />
      ) : null}
    </div>
  );
}

/** The instances the key pair is bound to, by the API's exact keyPairName filter, a page at a time. */
function BoundInstances({ regionId, name, version }: { regionId: string; name: string; version: number }) {
  const { offset, limit, pager } = usePaging(20, [regionId, name]);
  const list = useResource(
    () => api.instances(regionId, { keyPairName: name, offset, limit }),
    [regionId, name, offset, limit, version],
    { keepPrevious: true },
  );
  if (list.error && !list.data)
    return <ErrorState title="Cannot load the bound instances" error={list.error} onRetry={list.reload} />;
  if (!list.data) return <LoadingState label="Loading bound instances…" />;
  if (list.data.total === 0)
    return <EmptyState title="Not bound to any instance">Bind it to instances with Bind.</EmptyState>;
  return (
    <div data-testid="bound-instances">
      <p className="muted small">
        {plural(list.data.total, 'instance')} ·{' '}
        <Link to={`/instances?keyPair=${encodeURIComponent(name)}`}>Show them on the Instances page</Link>
      </p>
      <DataTable
        label={`Instances bound to ${name}`}
        columns={['Instance', 'Status', 'State', 'Expires', 'SSH address']}
      >
        {list.data.items.map((i) => (
          <tr key={i.id} data-instance-id={i.id}>
            <td data-label="Instance">
              <Link to={`/instances/${encodeURIComponent(i.id)}`} className="cell-main">
                {i.name}
              </Link>
              <div className="mono muted small id">{i.id}</div>
            </td>
            <td data-label="Status">
              <InstanceStatusPill status={i.status} />
            </td>
            <td data-label="State">
              {i.pendingRestart && i.pendingChanges.keyPair ? 'Bound · takes effect at the next restart' : 'Applied'}
              <div className="muted small">{passwordState(i)}</div>
            </td>
            <td data-label="Expires" className="nowrap">
              {i.keyExpiresAt ? formatTime(i.keyExpiresAt) : 'Never'}
            </td>
            <td data-label="SSH address" className="mono">
              {i.loginUser}@{i.address}:{i.sshPort}
            </td>
          </tr>
        ))}
      </DataTable>
      <Pager {...pager} total={list.data.total} label="instances" />
    </div>
  );
}

function BackLink() {
  return (
    <Link to="/key-pairs" className="back-link">
      <IconChevronLeft /> Key Pairs
    </Link>
  );
}
