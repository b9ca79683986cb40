/**
 * Registered real hosts (ADR 9) from the Instances page: register one existing Linux machine, or import an
 * Ansible-style INI / CSV inventory and register every host in it. keyfleet contacts each host once: the host key
 * is checked against the one given or pinned as seen (trust on first use, shown so the user can compare it), and
 * the management private key is tried by a real login before it is kept sealed. The key is sent once with the
 * request, lives only in the dialog's state until the answer arrives, and is never shown again.
 *
 * The inventory is parsed in the browser by the same pure module the CLI uses (`parseInventory`), so the preview
 * shows exactly what `keyfleet hosts import` would register.
 */
import { type FormEvent, useId, useMemo, useRef, useState } from 'react';
import { type InventoryFormat, type InventoryHost, parseInventory } from '../../../api/native/inventory.js';
import { api, ApiError, errorText } from '../api/client';
import type { RegisteredHost, RegisterHostRequest } from '../api/types';
import { useScope } from '../app/scope';
import { readSmallTextFile } from '../lib/download';
import { formatCount, plural } from '../lib/format';
import { mapLimit } from '../../../common/concurrency.js';
import { addressProblem, commandProblem, hostKeyProblem, instanceNameProblem, linuxUserProblem, pathProblem, portProblem } from '../lib/rules';
import { Dialog } from '../ui/Dialog';
import { TextField } from '../ui/Field';
import { IconCheck, IconError, IconUpload, IconWarning } from '../ui/Icons';
import { InlineError } from '../ui/States';
import { privateKeyProblem } from './LiveFields';

/** Registrations in flight at once during an import. */
export const IMPORT_CONCURRENCY = 4;
/** Hosts per imported inventory (each is one request that logs in to the host). */
const MAX_IMPORT = 1000;
const MAX_INVENTORY_BYTES = 1024 * 1024;
const HOST_KEY_CHECK = 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub';

/** Where keyfleet writes and how it reloads sshd; empty fields take the server's defaults. */
interface Advanced {
  managementUser: string;
  dropInPath: string;
  reloadCommand: string;
  validateCommand: string;
}
const emptyAdvanced: Advanced = { managementUser: '', dropInPath: '', reloadCommand: '', validateCommand: '' };

function advancedProblems(a: Advanced) {
  return {
    managementUser: linuxUserProblem(a.managementUser.trim(), true),
    dropInPath: pathProblem(a.dropInPath.trim()),
    reloadCommand: commandProblem(a.reloadCommand.trim()),
    validateCommand: commandProblem(a.validateCommand.trim()),
  };
}

function advancedBody(a: Advanced): Partial<RegisterHostRequest> {
  return {
    ...(a.managementUser.trim() ? { managementUser: a.managementUser.trim() } : {}),
    ...(a.dropInPath.trim() ? { dropInPath: a.dropInPath.trim() } : {}),
    ...(a.reloadCommand.trim() ? { reloadCommand: a.reloadCommand.trim() } : {}),
    ...(a.validateCommand.trim() ? { validateCommand: a.validateCommand.trim() } : {}),
  };
}

function AdvancedFields({ value, onChange, show, idPrefix }: { value: Advanced; onChange: (v: Advanced) => void; show: boolean; idPrefix: string }) {
  const p = advancedProblems(value);
  const set = (patch: Partial<Advanced>) => onChange({ ...value, ...patch });
  const open = show && Object.values(p).some(Boolean);
  return (
    <details className="advanced" open={open || undefined}>
      <summary>Advanced: sshd drop-in, reload and validate commands</summary>
      <TextField id={`${idPrefix}-mu`} label={<>Management user <span className="muted">(optional)</span></>} value={value.managementUser} onChange={(v) => set({ managementUser: v })} problem={p.managementUser} show={show} hint="The user keyfleet logs in as to make changes. Default: the login user." />
      <TextField id={`${idPrefix}-dropin`} label={<>sshd drop-in path <span className="muted">(optional)</span></>} value={value.dropInPath} onChange={(v) => set({ dropInPath: v })} problem={p.dropInPath} show={show} hint="Where keyfleet writes its sshd settings (password login on/off). Default: /etc/ssh/sshd_config.d/10-keyfleet.conf." placeholder="/etc/ssh/sshd_config.d/10-keyfleet.conf" />
      <TextField id={`${idPrefix}-reload`} label={<>Reload command <span className="muted">(optional)</span></>} value={value.reloadCommand} onChange={(v) => set({ reloadCommand: v })} problem={p.reloadCommand} show={show} hint="How sshd re-reads its configuration. Default: systemctl reload ssh." placeholder="systemctl reload ssh" />
      <TextField id={`${idPrefix}-validate`} label={<>Validate command <span className="muted">(optional)</span></>} value={value.validateCommand} onChange={(v) => set({ validateCommand: v })} problem={p.validateCommand} show={show} hint="Run before every reload; if it fails the change is rolled back. Default: sshd -t (use sshd -t -f <path> for a non-default sshd_config)." placeholder="sshd -t" />
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
  managed: 'keyfleet turns SSH password login off when a key pair is bound and back on at an unbind (its sshd drop-in, checked with sshd -t, then a reload).',
  unmanaged: "keyfleet edits authorized_keys only and never touches sshd: the host's own password-login setting stays as it is.",
};

export const SUDO_HELP = 'For a management user that is not root: every read, write, sshd -t and reload runs through sudo -n (passwordless sudo is needed).';

/** Password-login policy and sudo, as registration and the host settings take them. */
export function PolicyFields({ value, onChange, idPrefix }: { value: HostPolicy; onChange: (v: HostPolicy) => void; idPrefix: string }) {
  return (
    <div className="form-grid">
      <div className="field">
        <label htmlFor={`${idPrefix}-pwlogin`}>Password login</label>
        <select id={`${idPrefix}-pwlogin`} value={value.passwordLogin} onChange={(e) => onChange({ ...value, passwordLogin: e.target.value as HostPolicy['passwordLogin'] })} aria-describedby={`${idPrefix}-pwlogin-hint`}>
          <option value="managed">Managed by keyfleet (default)</option>
          <option value="unmanaged">Left to the host (unmanaged)</option>
        </select>
        <p id={`${idPrefix}-pwlogin-hint`} className="hint">{PASSWORD_LOGIN_HELP[value.passwordLogin]}</p>
      </div>
      <div className="field">
        <span className="field-label">Privileges</span>
        <label className="checkbox">
          <input type="checkbox" checked={value.sudo} onChange={(e) => onChange({ ...value, sudo: e.target.checked })} aria-describedby={`${idPrefix}-sudo-hint`} />
          <span>Use sudo</span>
        </label>
        <p id={`${idPrefix}-sudo-hint`} className="hint">{SUDO_HELP}</p>
      </div>
    </div>
  );
}

export interface KeyValue {
  text: string;
  /** Name of the uploaded file (its text is not shown). */
  fileName: string | null;
}
export const emptyKey: KeyValue = { text: '', fileName: null };

/** The management private key: upload a file or paste it. Sent once; keyfleet keeps it sealed and never shows it. */
export function ManagementKeyField({ value, onChange, show, shared = false, label = 'Management private key' }: { value: KeyValue; onChange: (v: KeyValue) => void; show: boolean; shared?: boolean; label?: string }) {
  const id = useId();
  const fileRef = useRef<HTMLInputElement>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const problem = show ? privateKeyProblem(value.text) : null;
  const onFile = async (f: File | undefined) => {
    if (!f) return;
    try {
      const text = await readSmallTextFile(f);
      setFileError(null);
      onChange({ text, fileName: f.name });
    } catch (e) {
      onChange(emptyKey);
      setFileError(e instanceof Error ? e.message : String(e));
    } finally {
      if (fileRef.current) fileRef.current.value = '';
    }
  };
  return (
    <div className="field">
      <span className="field-label" id={`${id}-label`}>{label}{shared ? ' (the same for every host)' : ''}</span>
      <div className="file-row">
        <input ref={fileRef} type="file" className="visually-hidden" accept=".pem,.key,.txt,application/x-pem-file,text/plain" onChange={(e) => void onFile(e.target.files?.[0])} aria-label={`${label} file`} />
        <button type="button" className="button" onClick={() => fileRef.current?.click()}><IconUpload /> Select file</button>
        {value.fileName ? (
          <span className="file-chip">
            {value.fileName} loaded
            <button type="button" className="link-button" onClick={() => onChange(emptyKey)}>Remove</button>
          </span>
        ) : (
          <span className="muted small">or paste it below</span>
        )}
      </div>
      {value.fileName ? null : (
        <textarea
          aria-labelledby={`${id}-label`}
          className="mono"
          rows={4}
          spellCheck={false}
          autoComplete="off"
          placeholder={'-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----'}
          value={value.text}
          onChange={(e) => onChange({ text: e.target.value, fileName: null })}
          aria-invalid={problem ? true : undefined}
          aria-describedby={`${id}-hint`}
        />
      )}
      {fileError ? <p className="field-error">{fileError}</p> : null}
      {problem ? <p className="field-error">{problem}</p> : null}
      <p id={`${id}-hint`} className="hint">
        An unencrypted private key that {shared ? 'every host' : 'the host'} accepts for the login (or management) user. keyfleet tries it with a real login,
        then keeps it sealed (encrypted) to make key changes. It is sent once with this request and <strong>never shown again</strong>: not here, not by the API.
      </p>
    </div>
  );
}

function PinnedNotice({ pinnedOnFirstUse, hostKeySha256 }: { pinnedOnFirstUse: boolean; hostKeySha256?: string }) {
  return pinnedOnFirstUse ? (
    <div className="notice notice-warning" role="note">
      <IconWarning />
      <div>
        <strong>Pinned on first use: compare it with the host.</strong>
        <p>
          No fingerprint was given, so keyfleet pinned the host key it saw now{hostKeySha256 ? '' : ' for each host'}. On the host, run <code>{HOST_KEY_CHECK}</code> (or the
          <code>.pub</code> of the key type it serves) and check that it prints the same fingerprint. If it does not, someone may be in between: delete the registration.
          Every later connection must present this key, or keyfleet stops before sending anything.
        </p>
      </div>
    </div>
  ) : (
    <p className="hint">The host presented the fingerprint you gave; it is pinned for every later connection.</p>
  );
}

export function RegisterHostDialog({ onClose, onRegistered }: { onClose: () => void; onRegistered: (r: RegisteredHost) => void }) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [name, setName] = useState('');
  const [address, setAddress] = useState('');
  const [port, setPort] = useState('22');
  const [loginUser, setLoginUser] = useState('root');
  const [homeDir, setHomeDir] = useState('');
  const [key, setKey] = useState<KeyValue>(emptyKey);
  const [hostKey, setHostKey] = useState('');
  const [advanced, setAdvanced] = useState<Advanced>(emptyAdvanced);
  const [policy, setPolicy] = useState<HostPolicy>(defaultPolicy);
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<RegisteredHost | null>(null);

  const problems = {
    name: instanceNameProblem(name.trim()),
    address: addressProblem(address.trim()),
    port: portProblem(port.trim()),
    loginUser: linuxUserProblem(loginUser.trim()),
    homeDir: pathProblem(homeDir.trim()),
    key: privateKeyProblem(key.text),
    hostKey: hostKeyProblem(hostKey.trim()),
    ...advancedProblems(advanced),
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api.registerHost(regionId, {
        name: name.trim(),
        address: address.trim(),
        port: Number(port.trim()),
        loginUser: loginUser.trim(),
        ...(homeDir.trim() ? { homeDir: homeDir.trim() } : {}),
        managementPrivateKey: key.text.trim() + '\n',
        ...(hostKey.trim() ? { hostKeySha256: hostKey.trim() } : {}),
        ...advancedBody(advanced),
        passwordLogin: policy.passwordLogin,
        sudo: policy.sudo,
        ...(groupId ? { resourceGroupId: groupId } : {}),
      });
      // Registered: the key is kept (sealed) by keyfleet only; drop it from this page now.
      setKey(emptyKey);
      setDone(res);
      onRegistered(res);
    } catch (err) {
      // Nothing was registered; the key stays in this dialog only so the user can correct another field.
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    const i = done.instance;
    return (
      <Dialog title="Host registered" onClose={onClose} step="result" testId="host-registered" footer={<button type="button" className="button button-primary" onClick={onClose}>Done</button>}>
        <div className="notice notice-success" role="status">
          <IconCheck />
          <div>
            <strong>{i.name} is registered as instance <span className="mono">{i.id}</span>.</strong>
            <p>keyfleet logged in with the management key and keeps it sealed. Key pairs are bound to this host live only: keyfleet never restarts it.</p>
          </div>
        </div>
        <dl className="summary">
          <div><dt>SSH</dt><dd className="mono">{i.loginUser}@{i.address}:{i.sshPort}</dd></div>
          <div><dt>Host key</dt><dd className="mono break" data-testid="pinned-host-key">{done.hostKeySha256}</dd></div>
          <div><dt>Pinned</dt><dd>{done.pinnedOnFirstUse ? 'on first use (as seen now)' : 'as given'}</dd></div>
          {i.host ? <div><dt>Password login</dt><dd>{i.host.passwordLogin === 'unmanaged' ? 'left to the host' : 'managed by keyfleet'}{i.host.sudo ? ' · through sudo' : ''}</dd></div> : null}
        </dl>
        <PinnedNotice pinnedOnFirstUse={done.pinnedOnFirstUse} hostKeySha256={done.hostKeySha256} />
      </Dialog>
    );
  }

  const formId = `${id}-f`;
  return (
    <Dialog
      title="Register host"
      onClose={onClose}
      busy={busy}
      size="large"
      testId="register-host"
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>Cancel</button>
          <button type="submit" form={formId} className="button button-primary" disabled={busy}>{busy ? 'Contacting the host…' : 'Register'}</button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          Add an existing Linux machine to {regionName(regionId)} as an instance. keyfleet connects once now: it checks or pins the host key and logs in with the
          management key. Nothing is changed on the host.
        </p>
        <div className="form-grid">
          <TextField id={`${id}-name`} label="Name" value={name} onChange={setName} problem={problems.name} show={show} hint="2-128 characters, starting with a letter or digit." />
          <TextField id={`${id}-address`} label="Address" value={address} onChange={setAddress} problem={problems.address} show={show} hint="Host name or IP address keyfleet can reach." placeholder="10.0.0.5" />
          <TextField id={`${id}-port`} label="SSH port" value={port} onChange={setPort} problem={problems.port} show={show} hint="Default 22." />
          <TextField id={`${id}-user`} label="Login user" value={loginUser} onChange={setLoginUser} problem={problems.loginUser} show={show} hint="Whose authorized_keys keyfleet manages. Default root." />
          <TextField id={`${id}-home`} label={<>Home directory <span className="muted">(optional)</span></>} value={homeDir} onChange={setHomeDir} problem={problems.homeDir} show={show} hint="Default /root for root, else /home/<user>." />
          <TextField id={`${id}-hostkey`} label={<>Host key fingerprint <span className="muted">(optional)</span></>} value={hostKey} onChange={setHostKey} problem={problems.hostKey} show={show} hint="SHA256:… from ssh-keygen -lf on the host. If given and the host presents another key, nothing is registered; if empty, the key seen now is pinned." placeholder="SHA256:…" />
        </div>
        <ManagementKeyField value={key} onChange={setKey} show={show} />
        <PolicyFields value={policy} onChange={setPolicy} idPrefix={id} />
        <AdvancedFields value={advanced} onChange={setAdvanced} show={show} idPrefix={id} />
        <InlineError error={error} />
      </form>
    </Dialog>
  );
}

type RowResult =
  | { state: 'waiting' | 'running' }
  | { state: 'ok'; instanceId: string; hostKeySha256: string }
  | { state: 'failed'; code: string; message: string };

export function detectFormat(text: string, fileName: string | null): InventoryFormat {
  if (fileName) {
    if (/\.csv$/i.test(fileName)) return 'csv';
    if (/\.(ini|cfg|hosts|inventory)$/i.test(fileName)) return 'ini';
  }
  const first = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l && !l.startsWith('#') && !l.startsWith(';'));
  return first && first.includes(',') && !first.includes('=') && !first.startsWith('[') ? 'csv' : 'ini';
}

export function ImportInventoryDialog({ onClose, onChanged }: { onClose: () => void; onChanged: () => void }) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const fileRef = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [format, setFormat] = useState<'auto' | InventoryFormat>('auto');
  const [key, setKey] = useState<KeyValue>(emptyKey);
  const [advanced, setAdvanced] = useState<Advanced>(emptyAdvanced);
  const [policy, setPolicy] = useState<HostPolicy>(defaultPolicy);
  const [show, setShow] = useState(false);
  const [step, setStep] = useState<'form' | 'running' | 'result'>('form');
  const [hosts, setHosts] = useState<InventoryHost[]>([]);
  const [results, setResults] = useState<RowResult[]>([]);

  const effFormat: InventoryFormat = format === 'auto' ? detectFormat(text, fileName) : format;
  const parsed = useMemo((): { hosts: InventoryHost[]; problem: string | null } => {
    if (text.trim() === '') return { hosts: [], problem: null };
    try {
      const list = parseInventory(text, effFormat);
      if (list.length > MAX_IMPORT) return { hosts: list, problem: `The inventory has ${formatCount(list.length)} hosts; import at most ${formatCount(MAX_IMPORT)} at a time.` };
      return { hosts: list, problem: list.length === 0 ? 'No hosts found in this inventory.' : null };
    } catch (err) {
      return { hosts: [], problem: err instanceof Error ? err.message : String(err) };
    }
  }, [text, effFormat]);
  const keyProblem = privateKeyProblem(key.text);
  const advProblem = Object.values(advancedProblems(advanced)).some(Boolean);

  const onFile = async (f: File | undefined) => {
    if (!f) return;
    try {
      const t = await readSmallTextFile(f, MAX_INVENTORY_BYTES);
      setText(t);
      setFileName(f.name);
      setFileError(null);
    } catch (e) {
      setFileError(e instanceof Error ? e.message : String(e));
    } finally {
      if (fileRef.current) fileRef.current.value = '';
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    if (text.trim() === '' || parsed.problem || keyProblem || advProblem) return;
    const list = parsed.hosts;
    const shared = { managementPrivateKey: key.text.trim() + '\n', ...advancedBody(advanced), passwordLogin: policy.passwordLogin, sudo: policy.sudo, ...(groupId ? { resourceGroupId: groupId } : {}) };
    // The key is in `shared` for the duration of the import only; the dialog's field forgets it now.
    setKey(emptyKey);
    setHosts(list);
    setResults(list.map(() => ({ state: 'waiting' })));
    setStep('running');
    const setRow = (index: number, r: RowResult) => setResults((rs) => rs.map((x, j) => (j === index ? r : x)));
    await mapLimit(list, IMPORT_CONCURRENCY, async (h, index) => {
      setRow(index, { state: 'running' });
      try {
        const r = await api.registerHost(regionId, { name: h.name, address: h.address, port: h.port, loginUser: h.user, ...shared });
        setRow(index, { state: 'ok', instanceId: r.instance.id, hostKeySha256: r.hostKeySha256 });
      } catch (err) {
        setRow(index, err instanceof ApiError ? { state: 'failed', code: err.code, message: err.message } : { state: 'failed', code: 'Error', message: errorText(err) });
      }
    });
    setStep('result');
    onChanged();
  };

  const finished = results.filter((r) => r.state === 'ok' || r.state === 'failed').length;
  const ok = results.filter((r) => r.state === 'ok').length;
  const failed = results.filter((r) => r.state === 'failed').length;

  if (step !== 'form') {
    const running = step === 'running';
    return (
      <Dialog
        title={running ? 'Registering hosts…' : 'Import finished'}
        onClose={onClose}
        busy={running}
        size="large"
        step={step}
        testId="import-inventory-result"
        footer={<button type="button" className="button button-primary" onClick={onClose} disabled={running}>{running ? 'Working…' : 'Close'}</button>}
      >
        <div className="task-progress">
          <div className="progress" role="progressbar" aria-label="Import progress" aria-valuemin={0} aria-valuemax={hosts.length} aria-valuenow={finished}>
            <span className={`progress-bar${failed ? ' has-failed' : ''}`} style={{ width: `${hosts.length ? (finished / hosts.length) * 100 : 0}%` }} />
          </div>
          <p className="muted" aria-live="polite">
            {formatCount(finished)} of {formatCount(hosts.length)} done · {formatCount(ok)} registered · {formatCount(failed)} failed
            {running ? ` · ${IMPORT_CONCURRENCY} at a time` : ''}
          </p>
        </div>
        {!running ? (
          failed === 0 ? (
            <div className="notice notice-success" role="status"><IconCheck /><div><strong>{plural(ok, 'host')} registered in {regionName(regionId)}.</strong></div></div>
          ) : (
            <div className="notice notice-error" role="status"><IconError /><div><strong>{plural(ok, 'host')} registered, {formatCount(failed)} failed.</strong><p>A failed host was not registered; fix it and import it again (hosts already registered answer Instance.AlreadyRegistered).</p></div></div>
          )
        ) : null}
        {!running && ok > 0 ? <PinnedNotice pinnedOnFirstUse /> : null}
        <div className="table-wrap table-wrap-short">
          <table className="table table-compact" aria-label="Result per host">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Address</th>
                <th scope="col">Result</th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h, index) => {
                const r = results[index] ?? { state: 'waiting' };
                return (
                  <tr key={index} data-host={h.name} data-result={r.state}>
                    <td data-label="Host"><span className="cell-main">{h.name}</span></td>
                    <td data-label="Address" className="mono">{h.user}@{h.address}:{h.port}</td>
                    <td data-label="Result">
                      {r.state === 'ok' ? (
                        <>
                          <span className="pill pill-green"><span className="dot" aria-hidden />Registered</span> <span className="mono muted small">{r.instanceId}</span>
                          <div className="small">Host key <span className="mono break">{r.hostKeySha256}</span></div>
                        </>
                      ) : r.state === 'failed' ? (
                        <>
                          <span className="pill pill-red"><span className="dot" aria-hidden />Failed</span> <span className="mono small">{r.code}</span>
                          <div className="small">{r.message}</div>
                        </>
                      ) : (
                        <span className={`pill ${r.state === 'running' ? 'pill-blue busy' : 'pill-grey'}`}><span className="dot" aria-hidden />{r.state === 'running' ? 'Contacting…' : 'Waiting'}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </Dialog>
    );
  }

  const formId = `${id}-f`;
  const inventoryProblem = text.trim() === '' ? (show ? 'Paste or upload an inventory.' : null) : parsed.problem;
  return (
    <Dialog
      title="Import inventory"
      onClose={onClose}
      size="large"
      testId="import-inventory"
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>Cancel</button>
          <button type="submit" form={formId} className="button button-primary" disabled={parsed.hosts.length === 0 || !!parsed.problem}>
            {parsed.hosts.length > 0 && !parsed.problem ? `Register ${plural(parsed.hosts.length, 'host')}` : 'Register hosts'}
          </button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          Register every host of an Ansible-style INI inventory (<code>name ansible_host=… ansible_port=… ansible_user=…</code>) or a CSV (<code>name,address,port,user</code>)
          in {regionName(regionId)}. Each host is contacted once; its host key is pinned on first use.
        </p>
        <div className="field">
          <label htmlFor={`${id}-inv`}>Inventory</label>
          <div className="file-row">
            <input ref={fileRef} type="file" className="visually-hidden" accept=".ini,.csv,.txt,.cfg,text/plain,text/csv" onChange={(e) => void onFile(e.target.files?.[0])} aria-label="Inventory file" />
            <button type="button" className="button" onClick={() => fileRef.current?.click()}><IconUpload /> Upload file</button>
            {fileName ? <span className="file-chip">{fileName} loaded</span> : <span className="muted small">or paste it below</span>}
            <label className="inline-field">
              <span>Format</span>
              <select value={format} onChange={(e) => setFormat(e.target.value as 'auto' | InventoryFormat)} aria-label="Inventory format">
                <option value="auto">Detect ({effFormat.toUpperCase()})</option>
                <option value="ini">INI (Ansible)</option>
                <option value="csv">CSV</option>
              </select>
            </label>
          </div>
          <textarea
            id={`${id}-inv`}
            className="mono"
            rows={6}
            spellCheck={false}
            autoComplete="off"
            placeholder={'[web]\nweb1 ansible_host=10.0.0.5 ansible_port=22 ansible_user=root\nweb2 ansible_host=10.0.0.6'}
            value={text}
            onChange={(e) => { setText(e.target.value); setFileName(null); }}
            aria-invalid={inventoryProblem ? true : undefined}
            aria-describedby={`${id}-inv-state`}
          />
          <div id={`${id}-inv-state`} aria-live="polite">
            {fileError ? <p className="field-error">{fileError}</p> : null}
            {inventoryProblem ? <p className="field-error">{inventoryProblem}</p> : parsed.hosts.length > 0 ? <p className="field-ok"><IconCheck /> {plural(parsed.hosts.length, 'host')} read as {effFormat.toUpperCase()}</p> : null}
          </div>
        </div>
        {parsed.hosts.length > 0 ? (
          <div className="table-wrap table-wrap-short">
            <table className="table table-compact" aria-label="Hosts to register">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Address</th>
                  <th scope="col">Port</th>
                  <th scope="col">User</th>
                </tr>
              </thead>
              <tbody>
                {parsed.hosts.slice(0, MAX_IMPORT).map((h, index) => (
                  <tr key={index}>
                    <td data-label="Name">{h.name}</td>
                    <td data-label="Address" className="mono">{h.address}</td>
                    <td data-label="Port" className="mono">{h.port}</td>
                    <td data-label="User" className="mono">{h.user}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        <div className="spacer" />
        <ManagementKeyField value={key} onChange={setKey} show={show} shared />
        <PolicyFields value={policy} onChange={setPolicy} idPrefix={id} />
        <AdvancedFields value={advanced} onChange={setAdvanced} show={show} idPrefix={id} />
        <p className="hint">Home directories take the default (/root for root, else /home/&lt;user&gt;); register a host on its own to give another.</p>
      </form>
    </Dialog>
  );
}
