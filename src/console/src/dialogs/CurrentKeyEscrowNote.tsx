/**
 * Before a live bind that replaces key pairs (or a live unbind) is sent: the key pairs the chosen instances have
 * now, whether keyfleet keeps each one's private key (escrow), and, when the escrowed keys are chosen (no
 * credential sent), which instances would fail and why. The server's per-instance result is still shown after.
 */
import type { CurrentKeyEscrow } from '../lib/currentKeyEscrow';
import { plural } from '../lib/format';

/** Instances named in the warning; the rest are counted. */
const NAMED = 10;

export function CurrentKeyEscrowNote({
  state,
  usingEscrow,
  action,
}: {
  state: CurrentKeyEscrow;
  /** The escrowed keys are chosen: no credential is sent. */
  usingEscrow: boolean;
  action: 'bind' | 'unbind';
}) {
  const { groups, wouldFail, uncertain, escrowedNames, loading } = state;
  if (groups.length === 0) return null;
  const noneKept = !loading && escrowedNames.length === 0;
  return (
    <section className="current-keys" data-testid="current-key-escrow" aria-label="Key pairs the instances have now">
      <p className="hint">
        {action === 'bind'
          ? 'To change a running instance live, keyfleet logs in with what it accepts now: the private key of its key pair, or the root password.'
          : 'To unbind live, keyfleet logs in with the private key of the key pair bound now.'}
      </p>
      <ul>
        {groups.map((g) => (
          <li
            key={g.keyPairName ?? ''}
            data-key-pair={g.keyPairName ?? ''}
            data-escrowed={g.escrowed === null ? 'unknown' : String(g.escrowed)}
          >
            <strong>{g.keyPairName ?? 'No key pair'}</strong> · {plural(g.instances.length, 'instance')} ·{' '}
            {g.keyPairName === null
              ? 'no key to log in with: the root password is needed'
              : g.escrowed === true
                ? 'private key kept by keyfleet (escrowed)'
                : g.escrowed === false
                  ? 'private key not kept by keyfleet: give it, or the root password'
                  : loading
                    ? 'checking whether keyfleet keeps its private key…'
                    : 'could not check whether keyfleet keeps its private key'}
          </li>
        ))}
      </ul>
      {noneKept && wouldFail.length > 0 && !usingEscrow ? (
        <p className="alert alert-info block" data-testid="credential-needed">
          keyfleet holds no key that logs in to {wouldFail.length === 1 ? 'this instance' : 'these instances'}: this
          live change needs a credential. Give the private key of the key pair bound now
          {action === 'bind' ? ' or the root password' : ''} below.
        </p>
      ) : null}
      {usingEscrow && wouldFail.length > 0 ? (
        <div className="alert alert-warning block" role="alert" data-testid="escrow-would-fail">
          <p>
            Sent without a credential, {plural(wouldFail.length, 'instance')} would fail (Live.CredentialRequired) and
            keep what {wouldFail.length === 1 ? 'it has' : 'they have'}:
          </p>
          <ul>
            {wouldFail.slice(0, NAMED).map(({ instance, why }) => (
              <li key={instance.id} data-instance={instance.id}>
                {instance.name} <span className="mono muted">{instance.id}</span>: {why}.
              </li>
            ))}
          </ul>
          {wouldFail.length > NAMED ? <p>…and {plural(wouldFail.length - NAMED, 'more instance')}.</p> : null}
          <p>
            To change them too, log in with the root password or a private key instead. Sent as it is, the others change
            and the result lists every instance.
          </p>
        </div>
      ) : null}
      {uncertain.length > 0 ? (
        <p className="hint" data-testid="escrow-uncertain">
          {plural(uncertain.length, 'instance')} {uncertain.length === 1 ? 'waits' : 'wait'} for a key pair change at
          the next restart and still {uncertain.length === 1 ? 'accepts' : 'accept'} the earlier key: keyfleet logs in
          with that key pair's escrowed private key if it keeps it, and otherwise needs a credential.
        </p>
      ) : null}
    </section>
  );
}
