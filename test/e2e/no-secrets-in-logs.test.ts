/**
 * Secrets never reach a log or the audit trail: keyfleet runs as a child process at debug level while a key pair is
 * created (private key returned once), another imported, bound live with the root password, unbound live with the
 * private key, and a password reset; then its whole output, the audit table and every audit export are searched for
 * private key bodies, public key bodies, passwords and access-key secrets.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import {
  ACCESS_KEY_SECRET,
  ADMIN_PASSWORD,
  Api,
  LINUX_IMAGE,
  startChild,
  tempDir,
  testEnv,
} from '../support/keyfleet.js';

const pexec = promisify(execFile);
const children: Array<{ kill(sig: NodeJS.Signals): boolean; exitCode: number | null }> = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** The distinctive middle of a key body: long enough never to occur by chance. */
const bodyOf = (text: string) =>
  text
    .replace(/-----[A-Z ]+-----/g, '')
    .replace(/\s+/g, '')
    .slice(20, 80);

test('no private key, public key body, password or secret in the logs or the audit trail', {
  timeout: 120_000,
}, async () => {
  const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'debug' } });
  const run = await startChild(env);
  children.push(run.child);
  const api = new Api(run.url);
  await api.signIn();

  const ROOT_PW = 'Secret-Root-Pass-77';
  const NEW_PW = 'Other-Root-Pass-88';
  const created = await api.createKeyPair('log-check', 'ed25519');
  const dir = tempDir();
  await pexec('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'imported', '-f', path.join(dir, 'imp')]);
  const importedPublic = fs.readFileSync(path.join(dir, 'imp.pub'), 'utf8').trim();
  const importedPrivate = fs.readFileSync(path.join(dir, 'imp'), 'utf8');
  await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', { name: 'imported', publicKey: importedPublic });

  const [id] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PW });
  await api.waitStatus([id!], 'Running');
  const bound = await api.bind({
    action: 'bind',
    keyPairName: 'log-check',
    instanceIds: [id],
    mode: 'live',
    credential: { kind: 'password', password: ROOT_PW },
  });
  assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
  const unbound = await api.bind({
    action: 'unbind',
    keyPairName: 'log-check',
    instanceIds: [id],
    mode: 'live',
    credential: { kind: 'privateKey', privateKey: created.privateKey },
  });
  assert.equal(unbound.task.status, 'succeeded', JSON.stringify(unbound.items));
  // A wrong credential fails; its text must not show up in the failure either.
  const wrong = await api.bind({
    action: 'bind',
    keyPairName: 'imported',
    instanceIds: [id],
    mode: 'live',
    credential: { kind: 'privateKey', privateKey: importedPrivate },
  });
  assert.equal(wrong.items[0].status, 'failed');
  await api.call('POST', `/api/v1/instances/${id}/reset-password`, { password: NEW_PW });
  const key = await api.call('POST', '/api/v1/users/admin/access-keys');
  const exported = await api.raw('GET', '/api/v1/audit/export?limit=10000');
  const failures = await api.call('GET', `/api/v1/tasks/${wrong.task.id}/items`);

  run.child.kill('SIGTERM');
  await new Promise((r) => run.child.once('exit', r));
  const db = new BetterSqlite3(path.join(env.KEYFLEET_DATA_DIR!, 'keyfleet.db'), { readonly: true });
  const auditRows = JSON.stringify(db.prepare('select * from audit_entries').all());
  const taskRows = JSON.stringify(db.prepare('select * from task_items').all());
  db.close();

  const places: Record<string, string> = {
    'keyfleet output (debug log)': run.output(),
    'audit table': auditRows,
    'audit export': typeof exported.body === 'string' ? exported.body : JSON.stringify(exported.body),
    'task item errors': taskRows + JSON.stringify(failures),
  };
  assert.ok(run.output().length > 1000, 'the debug log really logged');
  assert.ok(
    auditRows.includes('keypair:Bind') && auditRows.includes('instance:ResetPassword'),
    'the audit really recorded',
  );
  const secrets: Record<string, string> = {
    'generated private key': bodyOf(created.privateKey),
    'imported private key': bodyOf(importedPrivate),
    'generated public key body': created.keyPair.publicKey.split(' ')[1].slice(10, 60),
    'imported public key body': importedPublic.split(' ')[1]!.slice(10, 60),
    'root password': ROOT_PW,
    'new root password': NEW_PW,
    'admin console password': ADMIN_PASSWORD,
    'bootstrap access-key secret': ACCESS_KEY_SECRET,
    'new access-key secret': key.accessKeySecret,
  };
  for (const [where, text] of Object.entries(places)) {
    for (const [what, secret] of Object.entries(secrets)) {
      assert.equal(text.includes(secret), false, `${what} found in ${where}`);
    }
  }
});
