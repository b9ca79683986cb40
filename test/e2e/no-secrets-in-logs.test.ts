/**
 * Secrets never reach a log or the audit trail: keyfleet runs as a child process at debug level while a key pair is
 * created (private key returned once), another imported, bound live with the root password, unbound live with the
 * private key, and a password reset; then its whole output, the audit table and every audit export are searched for
 * private key bodies, public key bodies, passwords and access-key secrets. Since issue 21 every request also has a
 * structured line (request id, account, face, action): signed ECS and KPS requests (a password in an ECS query
 * string), the session's bearer token and scrapes of /metrics with its token (and a wrong one) are logged too, and
 * their signatures and tokens are searched for as well.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { signRpcV1 } from '../support/ecs-signer.js';
import { signRequest } from '../support/kps-signer.js';
import {
  ACCESS_KEY_ID,
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
  const METRICS_TOKEN = 'Metrics-Token-For-Log-Check-0001';
  const WRONG_METRICS_TOKEN = 'Wrong-Metrics-Token-For-Log-Check';
  const env = await testEnv({ extra: { KEYFLEET_LOG_LEVEL: 'debug', KEYFLEET_METRICS_TOKEN: METRICS_TOKEN } });
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

  // Signed requests of the cloud faces; a password in an ECS query string (ModifyInstanceAttribute over GET).
  const ECS_PW = 'Ecs-Query-Pass-99';
  const ecsSigned = signRpcV1({
    accessKeyId: ACCESS_KEY_ID,
    secret: ACCESS_KEY_SECRET,
    action: 'ModifyInstanceAttribute',
    params: { RegionId: 'cn-hangzhou', InstanceId: id!, Password: ECS_PW },
  });
  const { host: _ecsHost, ...ecsHeaders } = ecsSigned.headers;
  const ecsAnswer = await fetch(run.url + ecsSigned.url, { method: ecsSigned.method, headers: ecsHeaders });
  const ecsRequestId = ((await ecsAnswer.json()) as { RequestId: string }).RequestId;
  const kpsSigned = signRequest({
    method: 'GET',
    rawPath: '/v3/projects',
    rawQuery: 'name=cn-hangzhou',
    headers: { 'content-type': 'application/json' },
    accessKeyId: ACCESS_KEY_ID,
    secretKey: ACCESS_KEY_SECRET,
    signedHeaders: ['content-type', 'x-sdk-date'],
  });
  const { host: _kpsHost, ...kpsHeaders } = kpsSigned.request.headers;
  const kpsAnswer = await fetch(`${run.url}/v3/projects?name=cn-hangzhou`, { headers: kpsHeaders });
  assert.equal(kpsAnswer.status, 200);
  await kpsAnswer.text();
  for (const token of [METRICS_TOKEN, WRONG_METRICS_TOKEN]) {
    const scrape = await fetch(`${run.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(scrape.status, token === METRICS_TOKEN ? 200 : 401);
    await scrape.text();
  }

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
  const requestLines = run
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"request completed"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ecsLine = requestLines.find((l) => l.requestId === ecsRequestId);
  assert.equal(ecsLine?.face, 'ecs', 'the signed ECS request has its structured line');
  assert.equal(ecsLine?.action, 'ModifyInstanceAttribute');
  assert.equal(typeof ecsLine?.account, 'string');
  assert.ok(
    requestLines.some((l) => l.face === 'kps' && l.requestId === kpsAnswer.headers.get('x-request-id')),
    'the KPS request has its structured line',
  );
  assert.equal(requestLines.filter((l) => l.action === 'GET /metrics').length, 2, 'both scrapes are logged');
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
    'session bearer token': api.token!,
    'root password in an ECS query string': ECS_PW,
    'ECS signature': ecsSigned.signature,
    'KPS signature': kpsSigned.signature,
    'metrics token': METRICS_TOKEN,
    'wrong metrics token': WRONG_METRICS_TOKEN,
  };
  for (const [where, text] of Object.entries(places)) {
    for (const [what, secret] of Object.entries(secrets)) {
      assert.equal(text.includes(secret), false, `${what} found in ${where}`);
    }
  }
});
