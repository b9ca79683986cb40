/**
 * Looking at and editing a simulated instance's authorized_keys by hand, as a person with access would: with the
 * OpenSSH sftp client (the simulated instance answers SFTP and a few commands, not a full shell).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sftpBatch, sshRun, type SshLogin } from '../../support/openssh.js';
import { tempDir } from '../../support/keyfleet.js';

export interface InstanceAddress {
  address: string;
  sshPort: number;
}

export type Login = { password: string } | { identityFile: string };

const AUTHORIZED_KEYS = '/root/.ssh/authorized_keys';

function login(inst: InstanceAddress, auth: Login): SshLogin {
  return { host: inst.address, port: inst.sshPort, user: 'root', ...auth };
}

/** The file's content, or null when it does not exist (sftp `get` fails). */
export async function readAuthorizedKeys(inst: InstanceAddress, auth: Login): Promise<string | null> {
  const dir = tempDir('kf-kps-sftp-');
  const local = path.join(dir, 'authorized_keys');
  const r = await sftpBatch({ ...login(inst, auth), commands: [`get ${AUTHORIZED_KEYS} ${local}`] });
  if (r.code !== 0) {
    if (/not found|No such file/i.test(r.stderr)) return null;
    throw new Error(`sftp get failed (${r.code}): ${r.stderr}`);
  }
  return fs.readFileSync(local, 'utf8');
}

/** Appends a line to root's authorized_keys: get, append locally, put. */
export async function appendAuthorizedKey(inst: InstanceAddress, auth: Login, line: string): Promise<void> {
  const dir = tempDir('kf-kps-sftp-');
  const local = path.join(dir, 'authorized_keys');
  const current = (await readAuthorizedKeys(inst, auth)) ?? '';
  fs.writeFileSync(local, `${current}${current === '' || current.endsWith('\n') ? '' : '\n'}${line}\n`);
  const r = await sftpBatch({ ...login(inst, auth), commands: [`put ${local} ${AUTHORIZED_KEYS}`] });
  if (r.code !== 0) throw new Error(`sftp put failed (${r.code}): ${r.stderr}`);
}

/** Exit code of a one-command login (0: logged in; 255: refused). */
export async function loginCode(inst: InstanceAddress, auth: Login): Promise<number> {
  const r = await sshRun({ ...login(inst, auth), command: 'echo logged-in' });
  return r.code === 0 && r.stdout.trim() === 'logged-in' ? 0 : r.code;
}
