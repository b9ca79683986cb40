import type { DryRunPreview } from './dry-run-preview.js';
/** What a live change is given and gives back: the machine's profile, the key state wanted, the outcome. */
import type { Clock } from '../clock.js';
import type { HostKeyPolicy, LiveTarget } from '../ports.js';
import type { ManagedKey } from './authorized-keys.js';

export interface LiveKeyState {
  /** The key to have in keyfleet's block (null: no key pair bound). */
  key: ManagedKey | null;
  /** Password login on or off through keyfleet's sshd drop-in; null: sshd is left alone (host policy 'unmanaged'). */
  passwordLogin: boolean | null;
}

export interface LiveApplyOptions {
  /** Prove the change with a fresh login (default). Off: one connection per host, the write is trusted. */
  verify?: boolean;
  /** Read and plan only: report what would change, write nothing. */
  dryRun?: boolean;
  /** An earlier attempt may have written and been cut off before sshd's reload: reload even if nothing changes now. */
  reloadAfterInterruption?: boolean;
}

export interface LiveHostProfile {
  /** Where keyfleet logs in to make the change (as the management user). */
  target: LiveTarget;
  /** The user whose authorized_keys is managed: the proof logs in as this user (default: the target's user). */
  loginUser?: string;
  /** Run file operations and commands through `sudo -n` (a non-root management user). */
  sudo?: boolean;
  hostKey: HostKeyPolicy;
  homeDir: string;
  dropInPath?: string;
  reloadCommand?: string;
  /** Validates sshd's configuration before the reload (default `sshd -t`; a host whose sshd_config is elsewhere: `sshd -t -f <path>`). */
  validateCommand?: string;
  /**
   * The public key keyfleet itself logs in with, when that login is to the managed user: the lock-out guard refuses
   * a change that would take it out of keyfleet's block while no line outside the block still authorises it.
   */
  managementPublicKey?: string | null;
  /** The public key that must stop working (unbind/replace): checked to be refused afterwards. */
  removedPublicKey?: string | null;
  timeoutMs?: number;
}

export interface LiveOutcome {
  hostKeySha256: string;
  authorizedKeysChanged: boolean;
  dropInChanged: boolean;
  /** What the proof showed, what was written without a proof, or (dry run) what would change. */
  verified: string;
  /** Dry run only: the diffs and risks of the change on this machine. */
  preview?: DryRunPreview;
}

/** The time a live change reads: waits between proofs while a reload settles. */
export type LiveClock = Pick<Clock, 'now' | 'sleep'>;

/** What a live change found on the machine just before its first write (recorded as the item's intent). */
export interface FoundKeyState {
  /** The key lines in keyfleet's block. */
  publicKeys: string[];
  /** Password login as keyfleet's drop-in sets it (null: no drop-in, or sshd not managed). */
  passwordLogin: boolean | null;
}

/** Where the task layer steps into a live change: the lease is checked before the machine is touched. */
export interface LiveApplyHooks {
  /** After the read and the plan, before the first write, only when something will change; false: stop. */
  beforeWrite?(found: FoundKeyState): Promise<boolean>;
  /** Before a change that failed its proof is undone; false: leave the machine to whoever holds the item now. */
  mayRestore?(): Promise<boolean>;
  /** After each proof: 'proven', 'not-proven' or the error code that ended it, and when it started (epoch ms). */
  proved?(result: string, startedAt: number): void;
}

/**
 * The item's lease was lost (another runner holds it now): the change stops before it touches the machine, or
 * before it undoes anything, and nothing is recorded; the runner that holds the item records its outcome.
 */
export class LeaseLost extends Error {
  constructor() {
    super('The task item is held by another runner now.');
    this.name = 'LeaseLost';
  }
}
