/**
 * Import an Ansible-style INI / CSV inventory: the text goes to the server as one request (POST /hosts/imports),
 * which checks every line, makes one task that registers each host, and answers with it; the dialog follows that
 * task and shows each host's result from the task's items. The preview reads the inventory with the same pure
 * module the server reads it with, so it shows the rows the server will register; a line the server refuses (the
 * same address twice, a bad user name, …) is listed in the dialog and nothing is registered.
 */
import { type FormEvent, useId, useMemo, useState } from 'react';
import {
  detectInventoryFormat,
  type InventoryFormat,
  type InventoryHost,
  parseInventory,
} from '../../../api/native/inventory.js';
import { api, errorText } from '../api/client';
import type { Task, TaskItem } from '../api/types';
import { useScope } from '../app/scope';
import { followTask } from '../lib/tasks';
import { useTextFile } from '../lib/useTextFile';
import { formatCount, plural } from '../lib/format';
import { Dialog } from '../ui/Dialog';
import { FileRow } from '../ui/FileRow';
import { IconCheck } from '../ui/Icons';
import {
  type Advanced,
  AdvancedFields,
  advancedBody,
  advancedProblems,
  defaultPolicy,
  emptyAdvanced,
  type HostPolicy,
  PolicyFields,
} from './HostFields';
import { privateKeyProblem } from './LiveFields';
import { ImportProgress } from './host/ImportProgress';
import { emptyKey, type KeyValue, ManagementKeyField } from './ManagementKeyField';
import { DataTable } from '../ui/Table';
import { FormFooter } from '../ui/Field';

/** Hosts per imported inventory (the server's limit too). */
const MAX_IMPORT = 1000;
const MAX_INVENTORY_BYTES = 512 * 1024;

export function ImportInventoryDialog({ onClose, onChanged }: { onClose: () => void; onChanged: () => void }) {
  const { regionId, groupId, regionName } = useScope();
  const id = useId();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [format, setFormat] = useState<'auto' | InventoryFormat>('auto');
  const [key, setKey] = useState<KeyValue>(emptyKey);
  const [advanced, setAdvanced] = useState<Advanced>(emptyAdvanced);
  const [policy, setPolicy] = useState<HostPolicy>(defaultPolicy);
  const [show, setShow] = useState(false);
  const [step, setStep] = useState<'form' | 'running' | 'result'>('form');
  const [hosts, setHosts] = useState<InventoryHost[]>([]);
  const [task, setTask] = useState<Task | null>(null);
  const [items, setItems] = useState<TaskItem[]>([]);
  const [refused, setRefused] = useState<string | null>(null);

  const effFormat: InventoryFormat = format === 'auto' ? detectInventoryFormat(text, fileName) : format;
  const parsed = useMemo((): { hosts: InventoryHost[]; problem: string | null } => {
    if (text.trim() === '') return { hosts: [], problem: null };
    try {
      const list = parseInventory(text, effFormat);
      if (list.length > MAX_IMPORT)
        return {
          hosts: list,
          problem: `The inventory has ${formatCount(list.length)} hosts; import at most ${formatCount(MAX_IMPORT)} at a time.`,
        };
      return { hosts: list, problem: list.length === 0 ? 'No hosts found in this inventory.' : null };
    } catch (err) {
      return { hosts: [], problem: err instanceof Error ? err.message : String(err) };
    }
  }, [text, effFormat]);
  const keyProblem = privateKeyProblem(key.text);
  const advProblem = Object.values(advancedProblems(advanced)).some(Boolean);

  const { fileRef, fileError, onFile } = useTextFile(
    (t, f) => {
      setText(t);
      setFileName(f.name);
    },
    { maxBytes: MAX_INVENTORY_BYTES },
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setShow(true);
    setRefused(null);
    if (text.trim() === '' || parsed.problem || keyProblem || advProblem) return;
    const body = {
      regionId,
      inventory: text,
      format: effFormat,
      managementPrivateKey: key.text.trim() + '\n',
      defaults: {
        ...advancedBody(advanced),
        passwordLogin: policy.passwordLogin,
        sudo: policy.sudo,
        ...(groupId ? { resourceGroupId: groupId } : {}),
      },
    };
    let submitted: Task;
    try {
      submitted = (await api.importHosts(body)).task;
    } catch (err) {
      // A refused inventory registers nothing; the server's message lists every bad line.
      setRefused(errorText(err));
      return;
    }
    // The key went with the request and is held by the server for this task only; the dialog's field forgets it now.
    setKey(emptyKey);
    setHosts(parsed.hosts);
    setTask(submitted);
    setItems([]);
    setStep('running');
    // Each progress update (a host done) re-reads the items, one read at a time, so rows fill in as hosts finish.
    let reading = false;
    let seen = 0;
    const readItems = async (t: Task) => {
      setTask(t);
      if (reading || t.succeeded + t.failed === seen) return;
      reading = true;
      seen = t.succeeded + t.failed;
      try {
        setItems((await api.taskItems(t.id, { offset: 0, limit: MAX_IMPORT })).items);
      } catch {
        // The final read below shows every result.
      } finally {
        reading = false;
      }
    };
    try {
      const done = await followTask(submitted.id, (t) => void readItems(t));
      setTask(done.task);
      setItems(done.items);
    } catch (err) {
      setRefused(errorText(err));
    }
    setStep('result');
    onChanged();
  };

  if (step !== 'form') {
    return (
      <ImportProgress
        hosts={hosts}
        task={task}
        items={items}
        running={step === 'running'}
        refused={refused}
        onClose={onClose}
      />
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
        <FormFooter
          formId={formId}
          busy={false}
          blocked={parsed.hosts.length === 0 || !!parsed.problem}
          onCancel={onClose}
          submitLabel={
            parsed.hosts.length > 0 && !parsed.problem
              ? `Register ${plural(parsed.hosts.length, 'host')}`
              : 'Register hosts'
          }
          busyLabel="Register hosts"
        />
      }
    >
      <form id={formId} onSubmit={submit} noValidate>
        <p className="muted">
          Register every host of an Ansible-style INI inventory (
          <code>name ansible_host=… ansible_port=… ansible_user=…</code>) or a CSV (<code>name,address,port,user</code>)
          in {regionName(regionId)}. Each host is contacted once; its host key is pinned on first use.
        </p>
        <div className="field">
          <label htmlFor={`${id}-inv`}>Inventory</label>
          <FileRow
            fileRef={fileRef}
            onFile={onFile}
            accept=".ini,.csv,.txt,.cfg,text/plain,text/csv"
            label="Inventory file"
            buttonText="Upload file"
            fileName={fileName}
            pasteHint="or paste it below"
          >
            <label className="inline-field">
              <span>Format</span>
              <select
                value={format}
                onChange={(e) => setFormat(e.target.value as 'auto' | InventoryFormat)}
                aria-label="Inventory format"
              >
                <option value="auto">Detect ({effFormat.toUpperCase()})</option>
                <option value="ini">INI (Ansible)</option>
                <option value="csv">CSV</option>
              </select>
            </label>
          </FileRow>
          <textarea
            id={`${id}-inv`}
            className="mono"
            rows={6}
            spellCheck={false}
            autoComplete="off"
            placeholder={
              '[web]\nweb1 ansible_host=10.0.0.5 ansible_port=22 ansible_user=root\nweb2 ansible_host=10.0.0.6'
            }
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setFileName(null);
              setRefused(null);
            }}
            aria-invalid={inventoryProblem ? true : undefined}
            aria-describedby={`${id}-inv-state`}
          />
          <div id={`${id}-inv-state`} aria-live="polite">
            {fileError ? <p className="field-error">{fileError}</p> : null}
            {refused ? (
              <p className="field-error" role="alert">
                {refused}
              </p>
            ) : null}
            {inventoryProblem ? (
              <p className="field-error">{inventoryProblem}</p>
            ) : parsed.hosts.length > 0 ? (
              <p className="field-ok">
                <IconCheck /> {plural(parsed.hosts.length, 'host')} read as {effFormat.toUpperCase()}
              </p>
            ) : null}
          </div>
        </div>
        {parsed.hosts.length > 0 ? (
          <DataTable
            label="Hosts to register"
            columns={['Name', 'Address', 'Port', 'User']}
            className="table table-compact"
            wrapClassName="table-wrap table-wrap-short"
          >
            {parsed.hosts.slice(0, MAX_IMPORT).map((h, index) => (
              <tr key={index}>
                <td data-label="Name">{h.name}</td>
                <td data-label="Address" className="mono">
                  {h.address}
                </td>
                <td data-label="Port" className="mono">
                  {h.port}
                </td>
                <td data-label="User" className="mono">
                  {h.user}
                </td>
              </tr>
            ))}
          </DataTable>
        ) : null}
        <div className="spacer" />
        <ManagementKeyField value={key} onChange={setKey} show={show} shared />
        <PolicyFields value={policy} onChange={setPolicy} idPrefix={id} />
        <AdvancedFields value={advanced} onChange={setAdvanced} show={show} idPrefix={id} />
        <p className="hint">
          Home directories take the default (/root for root, else /home/&lt;user&gt;); register a host on its own to
          give another.
        </p>
      </form>
    </Dialog>
  );
}
