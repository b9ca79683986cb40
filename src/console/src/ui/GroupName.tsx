/** A resource group as a detail page shows it: its name from the top bar's list, with its id. */
import { useScope } from '../app/scope';

export function GroupName({ id }: { id: string }) {
  const { groups } = useScope();
  const name = groups.find((g) => g.id === id)?.name;
  return name ? (
    <>
      {name} <span className="mono muted small">{id}</span>
    </>
  ) : (
    <span className="mono">{id}</span>
  );
}
