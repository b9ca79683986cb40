/**
 * What an instance's labels say about logging in, from what is true on the machine: sshd allowing passwords is
 * not "password login on" when root has no password, and a new root password waiting for a restart is not a key
 * pair change.
 */
import type { Instance } from '../api/types';

type LoginFacts = Pick<Instance, 'passwordLogin' | 'hasPassword' | 'pendingRestart' | 'pendingChanges' | 'status'>;

export function passwordState(i: LoginFacts): string {
  const when = i.status === 'Stopped' ? 'next start' : 'next restart';
  if (i.pendingChanges?.password) return `New root password set: takes effect at the ${when}`;
  if (!i.passwordLogin) return 'Password login off';
  if (!i.hasPassword) return 'No root password: no password login';
  return 'Password login on';
}

/** What waits for the next start, in words: 'key pair change', 'new root password', or both. */
export function pendingWhat(i: Pick<Instance, 'pendingChanges'>): string {
  const key = i.pendingChanges?.keyPair;
  const pw = i.pendingChanges?.password;
  if (key && pw) return 'a key pair change and a new root password';
  if (pw) return 'a new root password';
  if (key) return 'a key pair change';
  return 'a login change';
}
