/** The accounts of a simulated instance, read from its /etc/passwd at each login (never cached). */
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
