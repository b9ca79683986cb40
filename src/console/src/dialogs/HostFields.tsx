/**
 * The settings a host is registered with, shared by registration, inventory import and the host settings dialog:
 * how keyfleet treats sshd's password login, sudo, and (advanced) where it writes and how it reloads sshd.
 */
import type { RegisterHostRequest } from '../api/types';
import { commandProblem, linuxUserProblem, pathProblem } from '../lib/rules';
import { TextField } from '../ui/Field';

/** Where keyfleet writes and how it reloads sshd; empty fields take the server's defaults. */
export interface Advanced {
  managementUser: string;
  dropInPath: string;
  reloadCommand: string;
  validateCommand: string;
}
export const emptyAdvanced: Advanced = { managementUser: '', dropInPath: '', reloadCommand: '', validateCommand: '' };

export function advancedProblems(a: Advanced) {
  return {
    managementUser: linuxUserProblem(a.managementUser.trim(), true),
    dropInPath: pathProblem(a.dropInPath.trim()),
    reloadCommand: commandProblem(a.reloadCommand.trim()),
    validateCommand: commandProblem(a.validateCommand.trim()),
  };
}

export function advancedBody(a: Advanced): Partial<RegisterHostRequest> {
  return {
    ...(a.managementUser.trim() ? { managementUser: a.managementUser.trim() } : {}),
    ...(a.dropInPath.trim() ? { dropInPath: a.dropInPath.trim() } : {}),
    ...(a.reloadCommand.trim() ? { reloadCommand: a.reloadCommand.trim() } : {}),
    ...(a.validateCommand.trim() ? { validateCommand: a.validateCommand.trim() } : {}),
  };
}

export function AdvancedFields({
  value,
  onChange,
  show,
  idPrefix,
}: {
  value: Advanced;
  onChange: (v: Advanced) => void;
  show: boolean;
  idPrefix: string;
}) {
  const p = advancedProblems(value);
  const set = (patch: Partial<Advanced>) => onChange({ ...value, ...patch });
  const open = show && Object.values(p).some(Boolean);
  return (
    <details className="advanced" open={open || undefined}>
      <summary>Advanced: sshd drop-in, reload and validate commands</summary>
      <TextField
        id={`${idPrefix}-mu`}
        label={
          <>
            Management user <span className="muted">(optional)</span>
          </>
        }
        value={value.managementUser}
        onChange={(v) => set({ managementUser: v })}
        problem={p.managementUser}
        show={show}
        hint="The user keyfleet logs in as to make changes. Default: the login user."
      />
      <TextField
        id={`${idPrefix}-dropin`}
        label={
          <>
            sshd drop-in path <span className="muted">(optional)</span>
          </>
        }
        value={value.dropInPath}
        onChange={(v) => set({ dropInPath: v })}
        problem={p.dropInPath}
        show={show}
        hint="Where keyfleet writes its sshd settings (password login on/off). Default: /etc/ssh/sshd_config.d/10-keyfleet.conf."
        placeholder="/etc/ssh/sshd_config.d/10-keyfleet.conf"
      />
      <TextField
        id={`${idPrefix}-reload`}
        label={
          <>
            Reload command <span className="muted">(optional)</span>
          </>
        }
        value={value.reloadCommand}
        onChange={(v) => set({ reloadCommand: v })}
        problem={p.reloadCommand}
        show={show}
        hint="How sshd re-reads its configuration. Default: systemctl reload ssh."
        placeholder="systemctl reload ssh"
      />
      <TextField
        id={`${idPrefix}-validate`}
        label={
          <>
            Validate command <span className="muted">(optional)</span>
          </>
        }
        value={value.validateCommand}
        onChange={(v) => set({ validateCommand: v })}
        problem={p.validateCommand}
        show={show}
        hint="Run before every reload; if it fails the change is rolled back. Default: sshd -t (use sshd -t -f <path> for a non-default sshd_config)."
        placeholder="sshd -t"
      />
    </details>
  );
}

/** How keyfleet treats sshd's password login on a host, and whether it works through sudo. */
export interface HostPolicy {
  passwordLogin: 'managed' | 'unmanaged';
  sudo: boolean;
}
export const defaultPolicy: HostPolicy = { passwordLogin: 'managed', sudo: false };

/** One line per password-login policy, shown under the choice. */
export const PASSWORD_LOGIN_HELP: Record<HostPolicy['passwordLogin'], string> = {
  managed:
    'keyfleet turns SSH password login off when a key pair is bound and back on at an unbind (its sshd drop-in, checked with sshd -t, then a reload).',
  unmanaged:
    "keyfleet edits authorized_keys only and never touches sshd: the host's own password-login setting stays as it is.",
};

export const SUDO_HELP =
  'For a management user that is not root: every read, write, sshd -t and reload runs through sudo -n (passwordless sudo is needed).';

/** Password-login policy and sudo, as registration and the host settings take them. */
export function PolicyFields({
  value,
  onChange,
  idPrefix,
}: {
  value: HostPolicy;
  onChange: (v: HostPolicy) => void;
  idPrefix: string;
}) {
  return (
    <div className="form-grid">
      <div className="field">
        <label htmlFor={`${idPrefix}-pwlogin`}>Password login</label>
        <select
          id={`${idPrefix}-pwlogin`}
          value={value.passwordLogin}
          onChange={(e) => onChange({ ...value, passwordLogin: e.target.value as HostPolicy['passwordLogin'] })}
          aria-describedby={`${idPrefix}-pwlogin-hint`}
        >
          <option value="managed">Managed by keyfleet (default)</option>
          <option value="unmanaged">Left to the host (unmanaged)</option>
        </select>
        <p id={`${idPrefix}-pwlogin-hint`} className="hint">
          {PASSWORD_LOGIN_HELP[value.passwordLogin]}
        </p>
      </div>
      <div className="field">
        <span className="field-label">Privileges</span>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={value.sudo}
            onChange={(e) => onChange({ ...value, sudo: e.target.checked })}
            aria-describedby={`${idPrefix}-sudo-hint`}
          />
          <span>Use sudo</span>
        </label>
        <p id={`${idPrefix}-sudo-hint`} className="hint">
          {SUDO_HELP}
        </p>
      </div>
    </div>
  );
}
