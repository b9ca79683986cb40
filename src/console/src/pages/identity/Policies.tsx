/** The account's policies: the list with each document folded out on demand (create, delete). */
import { api } from '../../api/client';
import type { Policy } from '../../api/types';
import { CreatePolicyDialog } from '../../dialogs/PolicyDialogs';
import { DeletePolicyDialog } from '../../dialogs/DeletePolicyDialog';
import { formatTime } from '../../lib/format';
import { useToasts } from '../../ui/Toasts';
import { IdentityListPage } from './IdentityList';

export function PoliciesPage() {
  const toasts = useToasts();
  return (
    <IdentityListPage<Policy>
      title="Policies"
      noun={['policy', 'policies']}
      createLabel="Create Policy"
      emptyText="A policy lists what users may do (Effect, Action, Resource, Condition). Attach it to users or groups on their page."
      load={() => api.policies()}
      createDialog={(close, created) => (
        <CreatePolicyDialog
          onClose={close}
          onCreated={(p) => {
            created();
            toasts.push({
              kind: 'success',
              title: `Policy ${p.name} created`,
              body: 'Attach it to users on their page.',
            });
          }}
        />
      )}
      deleteDialog={(policy, close, deleted) => (
        <DeletePolicyDialog
          name={policy.name}
          onClose={close}
          onDeleted={() => {
            deleted();
            toasts.push({ kind: 'success', title: `Policy ${policy.name} deleted` });
          }}
        />
      )}
      columns={
        <>
          <th scope="col">Policy</th>
          <th scope="col">Document</th>
          <th scope="col">Created</th>
          <th scope="col" className="col-actions">
            Actions
          </th>
        </>
      }
      row={(p, askDelete) => (
        <tr key={p.id} data-policy={p.name}>
          <td data-label="Policy">
            <div className="cell-main">{p.name}</div>
            {p.description ? <div className="muted small">{p.description}</div> : null}
          </td>
          <td data-label="Document">
            <details>
              <summary>{summarize(p.document)}</summary>
              <pre className="policy-doc mono">{JSON.stringify(p.document, null, 2)}</pre>
            </details>
          </td>
          <td data-label="Created" className="nowrap">
            {formatTime(p.createdAt)}
          </td>
          <td data-label="Actions" className="col-actions">
            <button type="button" className="link-button danger" onClick={askDelete} aria-label={`Delete ${p.name}`}>
              Delete
            </button>
          </td>
        </tr>
      )}
    />
  );
}

/** "Allow ecs:DescribeKeyPairs · 1 statement" from a document. */
function summarize(doc: unknown): string {
  const st = (doc as { Statement?: unknown } | null)?.Statement;
  if (!Array.isArray(st)) return 'View document';
  const parts = st
    .slice(0, 2)
    .map(
      (s: { Effect?: unknown; Action?: unknown }) =>
        `${String(s?.Effect ?? '?')} ${[s?.Action].flat().slice(0, 3).map(String).join(', ')}`,
    );
  return `${parts.join('; ')}${st.length > 2 ? ` … (${st.length} statements)` : ''}`;
}
