/** The result of saving a host's settings: what changed, the host key now (and before a re-pin), the management key
 * and the password-login policy kept. */
import type { Instance, UpdatedHost } from '../../api/types';
import { Notice } from '../../ui/Notice';
import { DoneDialog, Fact } from '../../ui/Summary';

export const HOST_KEY_CHECK = 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub';

export function HostSettingsSaved({
  instance,
  res,
  changed,
  repinned,
  contacts,
  onClose,
}: {
  instance: Instance;
  res: UpdatedHost;
  changed: string[];
  repinned: boolean;
  /** Whether the change had keyfleet contact the host. */
  contacts: boolean;
  onClose: () => void;
}) {
  return (
    <DoneDialog title="Host settings saved" onClose={onClose} testId="host-settings-saved">
      <Notice
        tone="success"
        title={
          <>
            {instance.name}: {changed.join(', ')}.
          </>
        }
      >
        {contacts ? <p>keyfleet contacted the host to check the change before keeping it.</p> : null}
      </Notice>
      <dl className="summary">
        <Fact term={repinned ? 'New host key' : 'Host key'} className="mono break" testId="new-host-key">
          {res.hostKeySha256}
        </Fact>
        {repinned ? (
          <Fact term="Previously" className="mono break" testId="previous-host-key">
            {res.previousHostKeySha256 ?? '—'}
          </Fact>
        ) : null}
        <Fact term="Management key">
          {res.instance.host?.hasManagementKey ? 'held by keyfleet (sealed)' : 'none held'}
        </Fact>
        <Fact term="Password login">
          {res.instance.host?.passwordLogin === 'unmanaged' ? 'left to the host' : 'managed by keyfleet'}
          {res.instance.host?.sudo ? ' · through sudo' : ''}
        </Fact>
      </dl>
      {res.pinnedOnFirstUse ? (
        <Notice tone="warning" role="note" title="Pinned as the host presented it: compare it with the host.">
          <p>
            On the host, run <code>{HOST_KEY_CHECK}</code> (or the <code>.pub</code> of the key type it serves) and
            check that it prints the fingerprint above. If it does not, someone may be in between: re-pin with the right
            fingerprint.
          </p>
        </Notice>
      ) : null}
    </DoneDialog>
  );
}
