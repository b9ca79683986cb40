/** The accounts and groups of a simulated instance, read from its /etc/passwd and /etc/group at each login (never cached),
 * each up to ACCOUNT_FILE_MAX_BYTES. */
import { ACCOUNT_FILE_MAX_BYTES, readCapped } from './guest-file-limits.js';
import { hostPath } from './rootfs.js';

/** The file's text; '' (no accounts, so no login) when it is missing, unreadable or over ACCOUNT_FILE_MAX_BYTES. */
function readAccountFile(rootDir: string, guestFile: string): Promise<string> {
  return Promise.resolve()
    .then(() => readCapped(hostPath(rootDir, guestFile), ACCOUNT_FILE_MAX_BYTES))
    .catch(() => '');
}

export interface GuestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export async function lookupUser(rootDir: string, name: string): Promise<GuestUser | null> {
  const content = await readAccountFile(rootDir, '/etc/passwd');
  for (const line of content.split('\n')) {
    const fields = line.replace(/\r$/, '').split(':');
    if (fields.length < 7 || fields[0] !== name) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    return { name, uid, gid, home: fields[5] || '/', shell: fields[6] || '/bin/sh' };
  }
  return null;
}

export interface GuestGroup {
  name: string;
  gid: number;
  members: string[];
}

export async function readGroups(rootDir: string): Promise<GuestGroup[]> {
  const content = await readAccountFile(rootDir, '/etc/group');
  const groups: GuestGroup[] = [];
  for (const line of content.split('\n')) {
    const fields = line.replace(/\r$/, '').split(':');
    const gid = Number(fields[2]);
    if (fields.length < 4 || fields[2] === '' || !Number.isInteger(gid)) continue;
    groups.push({ name: fields[0]!, gid, members: fields[3]!.split(',').filter((m) => m !== '') });
  }
  return groups;
}

/** Every account's uid and primary gid, for questions about who else is in a group. */
export async function readAccounts(rootDir: string): Promise<{ uid: number; gid: number }[]> {
  const content = await readAccountFile(rootDir, '/etc/passwd');
  return content
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ uid: Number(f[2]), gid: Number(f[3]) }));
}
