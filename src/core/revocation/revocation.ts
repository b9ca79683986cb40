/**
 * A revocation (issue 19): one key taken away from every managed machine of an account's region, with a report
 * that proves it. It is a stored object from the start: planned (where the key is bound, where copies of it were
 * found), then applied (unbind through the ordinary task path, copies outside keyfleet's block removed only when
 * asked, each machine asked by a publickey query whether it still accepts the key), retried for the machines that
 * could not be reached until a deadline the user set. Its rows are the report.
 */

export type RevocationStatus = 'planned' | 'applying' | 'finished';

/** How the key was named: the report says it, since a pasted key or a fingerprint names no key pair. */
export type RevocationTarget =
  | { kind: 'keyPair'; keyPairName: string }
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'publicKey' };

export interface RevokedKey {
  /** 'ssh-ed25519', 'ssh-rsa', … (a fingerprint names a key once a key pair or a machine's line gives it). */
  type: string;
  /** The key's base64 body: what a line must carry to be a copy, and what the publickey query offers. */
  base64: string;
  fingerprintSha256: string;
  fingerprintMd5: string;
}

export interface Revocation {
  id: string;
  accountId: string;
  regionId: string;
  status: RevocationStatus;
  target: RevocationTarget;
  key: RevokedKey;
  /** The account's key pairs with this public key (what the store binds). */
  keyPairNames: string[];
  /** Remove copies outside keyfleet's block (set when applied). */
  includeUnmanaged: boolean;
  /** Unreachable machines are retried until then (set when applied). */
  retryUntil: Date | null;
  /** Who planned it (the worker acts as this user, as a resumed task does). */
  createdBy: string;
  submitter: { userName: string; accessKeyId: string | null; sessionId: string | null; sourceIp: string };
  face: string;
  requestId: string;
  createdAt: Date;
  appliedAt: Date | null;
  finishedAt: Date | null;
  /** When the worker should look at it again (null: nothing to do). */
  nextRunAt: Date | null;
  machineCount: number;
  /** Counts by state, kept with the revocation for lists. */
  counts: Record<MachineState, number>;
}

/** Where a copy was found: the managed user's file or root's. */
export interface KeyCopy {
  account: 'user' | 'root';
  user: string;
  path: string;
  /** 1-based line at the scan (the file may change: apply reads it again). */
  line: number;
  /** Inside keyfleet's block (a keyfleet line, or a line keyfleet did not write there). */
  inBlock: boolean;
  /** A line keyfleet wrote (parseAuthorizedKeys says so); removed by the unbind, never by the copy removal. */
  managed: boolean;
  /** The line carries options (from=, command=, expiry-time=…). */
  hasOptions: boolean;
}

/**
 * planned: scanned, nothing done yet; pending: applying, not tried yet (or waiting for its unbind task);
 * refused: proven to refuse the key; unreachable: could not be reached, retried until the deadline;
 * failed: will not be retried (why says so); skipped: the machine cannot be read or probed (Windows, no SSH).
 */
export type MachineState = 'planned' | 'pending' | 'refused' | 'unreachable' | 'failed' | 'skipped';

export const MACHINE_STATES: readonly MachineState[] = [
  'planned',
  'pending',
  'refused',
  'unreachable',
  'failed',
  'skipped',
];

export interface RevocationMachine {
  revocationId: string;
  seq: number;
  instanceId: string;
  backend: 'sim' | 'host';
  name: string;
  address: string;
  sshPort: number;
  /** The key pair the store binds here with this key (null: not bound by keyfleet). */
  boundKeyPairName: string | null;
  copies: KeyCopy[];
  /** The users asked whether they would accept the key (the managed user, and root when it differs). */
  users: string[];
  /** Files read by the scan (the managed user's and root's authorized_keys). */
  files: Array<{ account: 'user' | 'root'; user: string; path: string }>;
  /** The scan could not read this machine (null: it did); the plan still lists it and apply tries again. */
  scanError: string | null;
  state: MachineState;
  /** Why: a failure's cause, a skip's reason, what a refusal was proven with. */
  detail: string | null;
  verifiedAt: Date | null;
  attempts: number;
  nextAttemptAt: Date | null;
  /** The live unbind task of this machine, while one is under way or after it finished. */
  unbindTaskId: string | null;
  /** Copies outside the block removed by this revocation (count of lines). */
  removedLines: number;
  updatedAt: Date;
}

export interface RevocationRepo {
  insert(r: Revocation, machines: RevocationMachine[]): Promise<void>;
  get(accountId: string, id: string): Promise<Revocation | null>;
  list(
    accountId: string,
    regionId: string,
    offset: number,
    limit: number,
  ): Promise<{ items: Revocation[]; total: number }>;
  machines(
    revocationId: string,
    filter: { state?: MachineState; offset: number; limit: number },
  ): Promise<{ items: RevocationMachine[]; total: number }>;
  /** Applying revocations due now whose lease is free: leased to `owner` until `leaseUntil` (exactly one process). */
  claimDue(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<Revocation[]>;
  /** Whether `owner` still holds the revocation's lease; extends it when so. */
  holds(id: string, owner: string, leaseUntil: Date): Promise<boolean>;
  /**
   * Stores a machine's row, only while `owner` holds the lease; false: the lease was lost. owner null: the apply
   * step, inside the transaction that moved the revocation out of 'planned'.
   */
  updateMachine(m: RevocationMachine, owner: string | null): Promise<boolean>;
  /**
   * Stores the revocation's status, counts, nextRunAt and finishedAt and gives the lease up (owner null: the
   * plan-to-apply step, made under no lease, which only a 'planned' revocation takes). False: not applied.
   */
  update(r: Revocation, owner: string | null, expectStatus: RevocationStatus): Promise<boolean>;
  /**
   * The credential given with apply, sealed (simulated instances where the key is bound log in with it, also when
   * an unbind is submitted again after the machine was unreachable); wiped when the revocation finishes.
   */
  putCredential(id: string, sealed: string): Promise<void>;
  credential(id: string): Promise<string | null>;
  /** How many of its machines are in each state. */
  countStates(revocationId: string): Promise<Record<MachineState, number>>;
}

/** Bounds of every tenant-controlled input (issue 19). */
export const REVOCATION_LIMITS = {
  /** A pasted public key: an 8192-bit RSA key line is about 1.4 KB; 16 KiB is the line length sshd reads. */
  publicKeyChars: 16_384,
  fingerprintChars: 128,
  /** Machines one revocation covers (a region larger than this is refused: revoke per region or split it). */
  machines: 10_000,
  /** Rows of the report per page. */
  pageSize: 1_000,
  /** The retry deadline: at least this far ahead, at most this far. */
  minRetryMs: 10_000,
  maxRetryMs: 30 * 24 * 3_600_000,
  defaultRetryMs: 24 * 3_600_000,
} as const;

export function emptyCounts(): Record<MachineState, number> {
  return { planned: 0, pending: 0, refused: 0, unreachable: 0, failed: 0, skipped: 0 };
}

/** The report's words for a machine, as the issue states them. */
export function machineOutcome(m: RevocationMachine, retryUntil: Date | null): string {
  switch (m.state) {
    case 'refused':
      return `refused (verified at ${m.verifiedAt?.toISOString() ?? '?'})`;
    case 'unreachable':
      return `unreachable (retrying until ${retryUntil?.toISOString() ?? '?'})`;
    case 'failed':
      return `failed (${m.detail ?? 'unknown'})`;
    case 'skipped':
      return `skipped (${m.detail ?? ''})`;
    case 'pending':
      return 'pending';
    default:
      return m.copies.length > 0 || m.boundKeyPairName ? 'planned: has the key' : 'planned: no copy found';
  }
}
