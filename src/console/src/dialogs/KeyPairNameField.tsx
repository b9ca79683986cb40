/** The Name field of the create and import key pair dialogs: the name, its rule or its problem. */
export function KeyPairNameField({
  id,
  name,
  setName,
  problem,
  show,
  hint,
}: {
  id: string;
  name: string;
  setName: (name: string) => void;
  /** What is wrong with the name, if anything (shown once the user tried to submit). */
  problem: string | null;
  show: boolean;
  hint: string;
}) {
  const invalid = show && problem !== null;
  return (
    <div className="field">
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        value={name}
        onChange={(e) => setName(e.target.value)}
        autoComplete="off"
        aria-invalid={invalid ? true : undefined}
        aria-describedby={`${id}-name-hint`}
      />
      <p id={`${id}-name-hint`} className={invalid ? 'field-error' : 'hint'}>
        {invalid ? problem : hint}
      </p>
    </div>
  );
}
