/** Policy dialogs for account administrators: create a policy (JSON checked in the browser, then by the server), and
 * attach one to a user or a group. */
import { useId, useState } from 'react';
import { POLICY_NAME, POLICY_NAME_RULE } from '../../../common/names.js';
import { api } from '../api/client';
import type { Policy } from '../api/types';
import { useResource } from '../lib/hooks';
import { TextField } from '../ui/Field';
import { DescriptionField, FormDialog, useFormAction } from '../ui/FormDialog';
import { ChooseDialog } from './ChooseDialog';

export const POLICY_TEMPLATE = `{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ecs:DescribeRegions", "ecs:DescribeKeyPairs"],
      "Resource": "*"
    }
  ]
}`;

/** Checks the text in the browser: JSON, an object, a non-empty Statement list; the server checks the rest. */
export function policyJsonProblem(text: string): string | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `Not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'The document must be a JSON object.';
  const st = (doc as { Statement?: unknown }).Statement;
  if (!Array.isArray(st) || st.length === 0) return 'The document needs a non-empty "Statement" list.';
  for (const [i, s] of st.entries()) {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return `Statement ${i + 1} must be an object.`;
    const eff = (s as { Effect?: unknown }).Effect;
    if (eff !== 'Allow' && eff !== 'Deny') return `Statement ${i + 1}: "Effect" must be "Allow" or "Deny".`;
    if ((s as { Action?: unknown }).Action === undefined) return `Statement ${i + 1} needs an "Action".`;
  }
  return null;
}

export function CreatePolicyDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (p: Policy) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [text, setText] = useState(POLICY_TEMPLATE);
  const form = useFormAction(onClose);
  const show = form.show;
  const nameProblem = !name.trim()
    ? 'Enter a policy name.'
    : !POLICY_NAME.test(name.trim())
      ? `${POLICY_NAME_RULE}, starting with a letter or digit.`
      : null;
  const jsonProblem = policyJsonProblem(text);

  const submit = form.submit(nameProblem || jsonProblem, async () => {
    onCreated(
      await api.createPolicy({
        name: name.trim(),
        document: JSON.parse(text) as Record<string, unknown>,
        ...(description.trim() ? { description: description.trim() } : {}),
      }),
    );
  });

  return (
    <FormDialog
      id={id}
      form={form}
      onSubmit={submit}
      title="Create Policy"
      onClose={onClose}
      size="large"
      testId="create-policy"
      submitLabel="Create policy"
    >
      <TextField
        id={`${id}-name`}
        label="Policy name"
        value={name}
        onChange={setName}
        problem={nameProblem}
        show={show}
        hint={"Letters, digits, '.', '_' or '-'."}
      />
      <DescriptionField id={`${id}-desc`} value={description} onChange={setDescription} />
      <div className="field">
        <label htmlFor={`${id}-doc`}>Policy document (JSON)</label>
        <textarea
          id={`${id}-doc`}
          className="mono code-editor"
          rows={14}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={show && jsonProblem ? true : undefined}
          aria-describedby={`${id}-doc-hint`}
        />
        <p id={`${id}-doc-hint`} className={show && jsonProblem ? 'field-error' : 'hint'} aria-live="polite">
          {show && jsonProblem
            ? jsonProblem
            : 'Statements with Effect (Allow or Deny), Action (e.g. ecs:DescribeKeyPairs, ecs:AttachKeyPair, instance:*), Resource and optional Condition. Console users need ecs:DescribeRegions to open the console at all.'}
        </p>
        <button type="button" className="link-button" onClick={() => setText(POLICY_TEMPLATE)}>
          Reset to the template
        </button>
      </div>
    </FormDialog>
  );
}

/** Attaches a policy to a user (`userName`), or, with `attach`, to whatever that names (a group). */
export function AttachPolicyDialog({
  userName,
  attached,
  onClose,
  onAttached,
  attach,
}: {
  userName: string;
  attached: string[];
  onClose: () => void;
  onAttached: (name: string) => void;
  attach?: (policy: string) => Promise<void>;
}) {
  const list = useResource(() => api.policies(), []);
  return (
    <ChooseDialog
      title={`Attach a policy to ${userName}`}
      onClose={onClose}
      loadError={list.error}
      options={
        list.data
          ? list.data
              .filter((p) => !attached.includes(p.name))
              .map((p) => ({
                key: p.id,
                value: p.name,
                label: `${p.name}${p.description ? ` — ${p.description}` : ''}`,
              }))
          : null
      }
      loadingText="Loading policies…"
      noneText="Every policy of this account is already attached, or there are none yet. Create policies on the Policies page."
      label="Policy"
      placeholder="Choose a policy…"
      submitLabel="Attach"
      busyLabel="Attaching…"
      choose={async (policy) => {
        await (attach ? attach(policy) : api.attachPolicy(userName, policy));
        onAttached(policy);
      }}
    />
  );
}
