/** The accounts and groups of a simulated instance, read from its /etc/passwd and /etc/group at each login (never cached). */
import fsp from 'node:fs/promises';
import { hostPath } from './rootfs.js';

export interface GuestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export async function lookupUser(rootDir: string, name: string): Promise<GuestUser | null> {
  const content = await fsp.readFile(hostPath(rootDir, '/etc/passwd'), 'utf8').catch(() => '');
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
  const content = await fsp.readFile(hostPath(rootDir, '/etc/group'), 'utf8').catch(() => '');
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
  const content = await fsp.readFile(hostPath(rootDir, '/etc/passwd'), 'utf8').catch(() => '');
  return content
    .split('\n')
    .map((line) => line.split(':'))
    .filter((f) => f.length >= 7)
    .map((f) => ({ uid: Number(f[2]), gid: Number(f[3]) }));
}
