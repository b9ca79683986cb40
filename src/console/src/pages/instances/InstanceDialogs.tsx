/** The dialogs the Instances page opens: key pair bind/unbind, host registration and import, drift, host settings,
 * password reset, tags, the move to another resource group, and the stop/restart confirmation. */
import type { Instance } from '../../api/types';
import { ConfirmDialog } from '../../dialogs/ConfirmDialog';
import { DriftDialog } from '../../dialogs/DriftDialog';
import { HostSettingsDialog } from '../../dialogs/HostSettingsDialog';
import { ImportInventoryDialog } from '../../dialogs/ImportInventoryDialog';
import { InstanceKeyDialog } from '../../dialogs/InstanceKeyDialog';
import { MoveToGroupDialog } from '../../dialogs/MoveToGroupDialog';
import { RegisterHostDialog } from '../../dialogs/RegisterHostDialog';
import { ResetPasswordDialog } from '../../dialogs/ResetPasswordDialog';
import { TagsDialog } from '../../dialogs/TagsDialog';
import { useToasts } from '../../ui/Toasts';
import type { InstanceDialogState } from './InstanceRow';

export function InstanceDialogs({
  dialog,
  setDialog,
  reload,
  act,
}: {
  dialog: InstanceDialogState;
  setDialog: (d: InstanceDialogState) => void;
  reload: () => void;
  act: (instance: Instance, op: 'stop' | 'restart') => Promise<void>;
}) {
  const toasts = useToasts();
  return (
    <>
      {dialog && (dialog.type === 'bind' || dialog.type === 'unbind') ? (
        <InstanceKeyDialog
          instance={dialog.instance}
          action={dialog.type}
          onClose={() => setDialog(null)}
          onChanged={reload}
        />
      ) : null}
      {dialog?.type === 'register-host' ? (
        <RegisterHostDialog
          onClose={() => setDialog(null)}
          onRegistered={(r) => {
            toasts.push({
              kind: 'success',
              title: `Host ${r.instance.name} registered`,
              body: `Host key ${r.hostKeySha256}`,
            });
            reload();
          }}
        />
      ) : null}
      {dialog?.type === 'drift' ? (
        <DriftDialog hosts={dialog.hosts} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'host-settings' ? (
        <HostSettingsDialog instance={dialog.instance} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'import-inventory' ? (
        <ImportInventoryDialog onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'reset' ? (
        <ResetPasswordDialog instance={dialog.instance} onClose={() => setDialog(null)} onChanged={reload} />
      ) : null}
      {dialog?.type === 'tags' ? (
        <TagsDialog
          regionId={dialog.instance.regionId}
          resourceType="instance"
          resourceId={dialog.instance.id}
          label={dialog.instance.name}
          tags={dialog.instance.tags}
          onClose={() => setDialog(null)}
          onChanged={reload}
        />
      ) : null}
      {dialog?.type === 'move' ? (
        <MoveToGroupDialog
          resources={[
            {
              resourceType: 'instance',
              regionId: dialog.instance.regionId,
              resourceId: dialog.instance.id,
              label: dialog.instance.name,
              resourceGroupId: dialog.instance.resourceGroupId,
            },
          ]}
          onClose={() => setDialog(null)}
          onMoved={reload}
        />
      ) : null}
      {dialog && (dialog.type === 'stop' || dialog.type === 'restart') ? (
        <ConfirmDialog
          title={dialog.type === 'stop' ? 'Stop instance' : 'Restart instance'}
          confirmLabel={dialog.type === 'stop' ? 'Stop' : 'Restart'}
          danger={dialog.type === 'stop'}
          onConfirm={() => act(dialog.instance, dialog.type as 'stop' | 'restart')}
          onClose={() => setDialog(null)}
        >
          <p>
            {dialog.type === 'stop' ? 'Stop' : 'Restart'} <strong>{dialog.instance.name}</strong>{' '}
            <span className="mono muted">{dialog.instance.id}</span>?
            {dialog.type === 'stop'
              ? ' Its SSH sessions end and it stops answering.'
              : ' Open SSH sessions are dropped.'}
          </p>
          {dialog.instance.pendingRestart && dialog.type === 'restart' ? (
            <p className="hint">The waiting key pair change takes effect during this restart.</p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </>
  );
}
