/** The policies attached to a user or a group, each with its Detach button. */
import type { Policy } from '../../api/types';
import { Description, NamedTable } from './IdentityShell';

export function AttachedPolicies({
  label,
  policies,
  onDetach,
  detachLabel,
}: {
  label: string;
  policies: readonly Policy[];
  onDetach: (p: Policy) => void;
  /** The Detach button's accessible name. */
  detachLabel: (p: Policy) => string;
}) {
  return (
    <NamedTable
      label={label}
      columns={
        <>
          <th scope="col">Policy</th>
          <th scope="col">Description</th>
          <th scope="col" className="col-actions">
            Actions
          </th>
        </>
      }
    >
      {policies.map((p) => (
        <tr key={p.id} data-policy={p.name}>
          <td data-label="Policy">
            <span className="cell-main">{p.name}</span>
          </td>
          <td data-label="Description">
            <Description text={p.description} />
          </td>
          <td data-label="Actions" className="col-actions">
            <button
              type="button"
              className="link-button danger"
              onClick={() => onDetach(p)}
              aria-label={detachLabel(p)}
            >
              Detach
            </button>
          </td>
        </tr>
      ))}
    </NamedTable>
  );
}
