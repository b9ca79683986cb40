/** One row of the Instances table: status, the key pair with its effect state, the SSH address and the Actions menu
 * (a registered host offers live key changes only). */
import { formatTime } from '../../lib/format';
import { passwordState } from '../../lib/loginState';
import { Link } from '../../app/router';
import type { Instance, InstanceStatus } from '../../api/types';
import { shortRefusal } from '../../lib/format';
import { type MenuItem, MenuButton } from '../../ui/Menu';
import { InstanceStatusPill, RestartNeeded } from '../../ui/Pills';
import { Tooltip } from '../../ui/Tooltip';
import { ProofLine } from '../../ui/Proof';
import { TagPills } from '../../ui/TagFilter';

/** States an instance passes through on its own: the list polls fast while one is shown, and Actions wait. */
export const TRANSITIONAL: InstanceStatus[] = ['Pending', 'Starting', 'Stopping'];

/** The dialog the Instances page shows, if any. */
export type InstanceDialogState =
  | { type: 'bind' | 'unbind' | 'reset'; instance: Instance }
  | { type: 'stop' | 'restart'; instance: Instance }
  | { type: 'register-host' | 'import-inventory' }
  /** Drift of every registered host of the region ('all'), or of one host from its Actions menu. */
  | { type: 'drift'; hosts: 'all' | Instance[] }
  | { type: 'host-settings'; instance: Instance }
  /** Its tags, and moving it to another resource group (issue 20). */
  | { type: 'tags' | 'move'; instance: Instance }
  | null;

export function InstanceRow({
  instance: i,
  onDialog,
  onStart,
}: {
  instance: Instance;
  onDialog: (d: InstanceDialogState) => void;
  onStart: () => void;
}) {
  const busy = TRANSITIONAL.includes(i.status);
  const busyReason = busy ? `Wait until it is Running or Stopped (now ${i.status}).` : undefined;
  const isHost = i.backend === 'host';
  const items: MenuItem[] = [
    {
      label: 'Bind Key Pair',
      onSelect: () => onDialog({ type: 'bind', instance: i }),
      disabled: !i.canBindKeyPair || busy,
      reason: !i.canBindKeyPair ? shortRefusal(i.keyPairRefusal) : busyReason,
    },
    {
      label: 'Unbind Key Pair',
      onSelect: () => onDialog({ type: 'unbind', instance: i }),
      disabled: !i.keyPairName || busy,
      reason: !i.keyPairName
        ? i.canBindKeyPair
          ? 'No key pair is bound.'
          : shortRefusal(i.keyPairRefusal)
        : busyReason,
    },
    // Its tags and its resource group: the same for a simulated instance and a registered host.
    { label: 'Tags', onSelect: () => onDialog({ type: 'tags', instance: i }), separatorBefore: true },
    { label: 'Move to group', onSelect: () => onDialog({ type: 'move', instance: i }) },
  ];
  // A registered host is not keyfleet's machine to power or to reset: the server refuses these, so they are not offered.
  if (isHost) {
    items.push(
      {
        label: 'Check drift',
        onSelect: () => onDialog({ type: 'drift', hosts: [i] }),
        separatorBefore: true,
        disabled: !i.host?.hasManagementKey,
        reason: i.host?.hasManagementKey
          ? undefined
          : 'keyfleet holds no management key to log in with; give one in Host settings.',
      },
      { label: 'Host settings', onSelect: () => onDialog({ type: 'host-settings', instance: i }) },
    );
  } else {
    items.push(
      { label: 'Start', onSelect: onStart, disabled: i.status !== 'Stopped', separatorBefore: true },
      { label: 'Stop', onSelect: () => onDialog({ type: 'stop', instance: i }), disabled: i.status !== 'Running' },
      {
        label: 'Restart',
        onSelect: () => onDialog({ type: 'restart', instance: i }),
        disabled: i.status !== 'Running',
      },
      {
        label: 'Check drift',
        onSelect: () => onDialog({ type: 'drift', hosts: [i] }),
        disabled: i.osType !== 'linux',
        reason: i.osType !== 'linux' ? 'A Windows instance has no authorized_keys to compare.' : undefined,
        separatorBefore: true,
      },
      {
        label: 'Reset Password',
        onSelect: () => onDialog({ type: 'reset', instance: i }),
        disabled: busy,
        separatorBefore: true,
      },
    );
  }
  return (
    <tr data-instance-id={i.id} data-backend={i.backend} className={i.pendingRestart ? 'row-pending' : undefined}>
      <td data-label="Instance">
        <Link to={`/instances/${encodeURIComponent(i.id)}`} className="cell-main">
          {i.name}
        </Link>
        <div className="mono muted small id">{i.id}</div>
        <TagPills tags={i.tags} />
        {isHost ? (
          <div className="host-line">
            <Tooltip
              content={`A registered host: keyfleet manages its SSH keys live over SSH and never powers it. Host key ${i.hostKeySha256 ?? 'not pinned'}.`}
              className="badge badge-host"
            >
              host
            </Tooltip>{' '}
            <span className="mono small">
              {i.address}:{i.sshPort}
            </span>
          </div>
        ) : null}
      </td>
      <td data-label="Status">
        <InstanceStatusPill status={i.status} />
      </td>
      <td data-label="OS">
        <span className={`os os-${i.osType}`}>{i.osType === 'windows' ? 'Windows' : 'Linux'}</span>
        <div className="muted small">{i.osName.replace(/\s+/g, ' ')}</div>
      </td>
      <td data-label="Key pair">
        <KeyCell instance={i} />
      </td>
      <td data-label="SSH address">
        {i.osType === 'windows' ? (
          <span className="muted">— no SSH</span>
        ) : (
          <span className="mono">
            {i.loginUser}@{i.address}:{i.sshPort}
          </span>
        )}
      </td>
      <td data-label="Actions" className="col-actions">
        <MenuButton label="Actions" ariaLabel={`Actions for ${i.name}`} items={items} />
      </td>
    </tr>
  );
}

function KeyCell({ instance: i }: { instance: Instance }) {
  if (!i.canBindKeyPair) {
    return (
      <Tooltip content={shortRefusal(i.keyPairRefusal)} className="muted not-supported">
        Not supported
      </Tooltip>
    );
  }
  return (
    <div className="key-cell">
      <div>
        {i.keyPairName ? (
          <span className="key-name">{i.keyPairName}</span>
        ) : (
          <span className="muted">{i.pendingRestart ? 'none (unbind pending)' : '—'}</span>
        )}
        {i.pendingRestart ? null : i.keyPairName ? <span className="effect effect-applied"> · applied</span> : null}
      </div>
      {i.pendingRestart ? (
        <div className="key-state">
          {i.keyPairName ? <span className="effect effect-pending">bound · pending restart</span> : null}
          <RestartNeeded instance={i} />
        </div>
      ) : null}
      {i.keyPairName && i.keyExpiresAt ? (
        <div className="small key-expiry" title={formatTime(i.keyExpiresAt)}>
          Expires {formatTime(i.keyExpiresAt)}
        </div>
      ) : null}
      <div className="muted small" data-testid="password-state">
        {passwordState(i)}
      </div>
      <ProofLine instance={i} />
    </div>
  );
}
