/**
 * How a drift scan reads a simulated instance (issue 16). A registered host is read over SSH with its sealed
 * management key; a simulated instance has no such key (keyfleet logs in to it with the credential of each
 * request), so a scan of "all machines" could not reach it that way. Its compute backend reads the machine's own
 * files instead, as a cloud's guest agent reads a disk: the files sshd reads at the next login, nothing cached.
 *
 * A port of its own (not in ports.ts): only the drift scan needs it, and a backend without it leaves its machines
 * out of scans with a reason ('skipped').
 */
import type { Instance } from '../instance/instance.js';

export interface GuestFiles {
  /** The text of a file, by its absolute path on the machine; null when it does not exist. */
  read(guestPath: string): Promise<string | null>;
  /** Replaces a file atomically (whole or not at all), keeping its mode; absent: the backend's files are read-only to keyfleet. */
  replace?(guestPath: string, content: string): Promise<void>;
}

export interface DriftSource {
  /** The backend whose machines this source reads ('sim'). */
  readonly backend: Instance['backend'];
  /**
   * The files of one machine; null when the machine has no disk to read (never provisioned, destroyed).
   * Never follows a path out of the machine's own file system.
   */
  filesOf(inst: Pick<Instance, 'id'>): Promise<GuestFiles | null>;
}
