/** Whether a fresh login proved what the machine does now: "Verified at <time>" or "Not verified: <why>". */
import type { Instance } from '../api/types';
import { formatTime } from '../lib/format';

/** Reasons that are a wait (a change not applied yet, a boot being proven), not a proof that failed. */
const WAITING = /^(waiting for|not proven yet|no SSH on this machine)/;

/** A machine that has just booted and whose proof is still running: the list asks again soon. */
export function proofPending(i: Pick<Instance, 'status' | 'verifiedAt' | 'verification'>): boolean {
  return i.status === 'Running' && !i.verifiedAt && i.verification === 'waiting for the boot to be proven';
}

export function proofFailed(i: Pick<Instance, 'verifiedAt' | 'verification'>): boolean {
  return !i.verifiedAt && !WAITING.test(i.verification ?? '');
}

/**
 * One line of text, read out as it is shown (the time also given as a machine-readable `<time>`). What the proof
 * showed ("key 'k' accepted; password login off") is written out with `detail` (the instance's facts); in the
 * crowded list it is the line's title.
 */
export function ProofLine({
  instance: i,
  detail = false,
}: {
  instance: Pick<Instance, 'verifiedAt' | 'verification'>;
  detail?: boolean;
}) {
  if (i.verifiedAt) {
    const showed = i.verification ?? undefined;
    return (
      <div className="proof effect effect-applied" data-proof="verified" title={detail ? undefined : showed}>
        Verified at <time dateTime={i.verifiedAt}>{formatTime(i.verifiedAt)}</time>
        {detail && showed ? <span className="muted"> · {showed}</span> : null}
      </div>
    );
  }
  const failed = proofFailed(i);
  return (
    <div
      className={`proof effect ${failed ? 'field-error' : 'effect-pending'}`}
      data-proof={failed ? 'failed' : 'waiting'}
    >
      Not verified: {i.verification ?? 'not proven yet'}
    </div>
  );
}
