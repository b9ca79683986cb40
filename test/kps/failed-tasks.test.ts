/**
 * Live binds that cannot be done fail as tasks, listed by ListFailedTask with a code and a message that say why —
 * wrong credential, unreachable SSH port, Windows, an instance that is neither Running nor Stopped — and nothing
 * changes on the instance: same authorized_keys, same logins. A task in flight shows in ListRunningTask. Failed
 * tasks can be deleted one by one or all at once.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import { type Api, freePort, LINUX_IMAGE, sleep, startInProcess, WINDOWS_IMAGE } from '../support/keyfleet.js';
import { type Kps, kpsWithAkSk, pollTask, sdkError } from './support/huawei.js';
import { appendAuthorizedKey, loginCode, readAuthorizedKeys } from './support/instance-files.js';

const ROOT_PASSWORD = 'Root-Pass-0003';

describe('KPS failed and running tasks', () => {
  let kf: Keyfleet;
  let api: Api;
  let kps: Kps;
  let linux: any;
  let windowsId: string;
  let keyFile: string;
  let privateKey: string;
  let authorizedKeysBefore: string | null;
  const failedTaskIds: string[] = [];

  before(async () => {
    // Boots take a second, so that a restarting instance can be caught in Starting; SSH gives up after 3 s.
    ({ kf, api } = await startInProcess({ bootMs: 1000, extra: { KEYFLEET_LIVE_TIMEOUT_MS: '3000' } }));
    kps = kpsWithAkSk(kf.url);
    privateKey = (
      await kps.call({ method: 'POST', url: '/v3/{project_id}/keypairs', data: { keypair: { name: 'ft-key' } } })
    ).keypair.private_key;
    keyFile = await writePrivateKey(privateKey);
    const [linuxId] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    [windowsId] = (await api.run({ imageId: WINDOWS_IMAGE, password: 'Win-Pass-0003' })) as [string];
    await api.waitStatus([linuxId!, windowsId], 'Running');
    linux = await api.instance(linuxId!);
    // A line of the user's own, so that "unchanged" compares real content.
    await appendAuthorizedKey(linux, { password: ROOT_PASSWORD }, (await sshKeygen('ed25519', 'users-own')).publicKey);
    authorizedKeysBefore = await readAuthorizedKeys(linux, { password: ROOT_PASSWORD });
    assert.match(authorizedKeysBefore ?? '', /users-own/);
  });
  after(async () => {
    await kf?.close();
  });

  async function associateAndFail(server: Record<string, unknown>): Promise<any> {
    const { task_id } = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'ft-key', server },
    });
    const done = await pollTask(kps, task_id);
    assert.equal(done.task_status, 'FAILED_RESET', JSON.stringify(done));
    failedTaskIds.push(task_id);
    return task_id;
  }

  async function failedRow(taskId: string): Promise<any> {
    const list = await kps.call({
      method: 'GET',
      url: '/v3/{project_id}/failed-tasks',
      queryParams: { limit: 100, offset: 0 },
    });
    const row = list.tasks.find((t: any) => t.task_id === taskId);
    assert.ok(row, `task ${taskId} is listed by failed-tasks`);
    return row;
  }

  async function assertUnchanged(): Promise<void> {
    assert.equal((await api.instance(linux.id)).keyPairName, null, 'no key pair is recorded');
    assert.equal(
      await readAuthorizedKeys(linux, { password: ROOT_PASSWORD }),
      authorizedKeysBefore,
      'authorized_keys is unchanged',
    );
    assert.equal(await loginCode(linux, { password: ROOT_PASSWORD }), 0, 'the password still logs in');
    assert.equal(await loginCode(linux, { identityFile: keyFile }), 255, 'the key pair does not');
  }

  test('wrong root password → Live.CredentialRejected, nothing changed', async () => {
    const id = await associateAndFail({ id: linux.id, auth: { type: 'password', key: 'Wrong-Pass-0003' } });
    const row = await failedRow(id);
    assert.equal(row.operate_type, 'FAILED_RESET');
    assert.equal(row.task_error_code, 'Live.CredentialRejected');
    assert.match(row.task_error_msg, /rejected the credential for user 'root'/);
    assert.ok(!row.task_error_msg.includes('Wrong-Pass-0003'), 'the message never quotes the credential');
    assert.equal(row.server_id, linux.id);
    assert.equal(row.keypair_name, 'ft-key');
    assert.match(row.task_time, /^\d{13}$/);
    await assertUnchanged();
  });

  test('unreachable SSH port (server.port) → Live.Unreachable naming the address, nothing changed', async () => {
    const id = await associateAndFail({ id: linux.id, auth: { type: 'password', key: ROOT_PASSWORD }, port: 1 });
    const row = await failedRow(id);
    assert.equal(row.task_error_code, 'Live.Unreachable');
    assert.match(row.task_error_msg, new RegExp(`Cannot reach ${linux.address.replace(/\./g, '\\.')}:1 over SSH`));
    await assertUnchanged();
  });

  test('Windows instance → Instance.WindowsNotSupported', async () => {
    const id = await associateAndFail({ id: windowsId, auth: { type: 'password', key: 'Win-Pass-0003' } });
    const row = await failedRow(id);
    assert.equal(row.task_error_code, 'Instance.WindowsNotSupported');
    assert.match(row.task_error_msg, /Windows, which cannot use an SSH key pair/);
    assert.equal((await api.instance(windowsId)).keyPairName, null);
  });

  test('instance restarting (Starting) → Instance.IncorrectStatus; no credential on a Running instance → Live.CredentialRequired', async () => {
    await api.call('POST', `/api/v1/instances/${linux.id}/restart`);
    assert.equal((await api.instance(linux.id)).status, 'Starting');
    const starting = await associateAndFail({ id: linux.id, auth: { type: 'password', key: ROOT_PASSWORD } });
    const row = await failedRow(starting);
    assert.equal(row.task_error_code, 'Instance.IncorrectStatus');
    assert.match(row.task_error_msg, /is Starting; a live change needs it Running/);
    await api.waitStatus([linux.id], 'Running');

    const reset = await associateAndFail({ id: linux.id });
    assert.equal((await failedRow(reset)).task_error_code, 'Live.CredentialRequired');
    await assertUnchanged();
  });

  test('disassociate with a private key the server does not trust → FAILED_UNBIND, Live.CredentialRejected', async () => {
    const { task_id } = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/disassociate',
      data: { server: { id: linux.id, auth: { type: 'keypair', key: privateKey } } },
    });
    assert.equal((await pollTask(kps, task_id)).task_status, 'FAILED_UNBIND');
    const row = await failedRow(task_id);
    assert.equal(row.operate_type, 'FAILED_UNBIND');
    assert.equal(row.task_error_code, 'Live.CredentialRejected');
    failedTaskIds.push(task_id);
    await assertUnchanged();
  });

  test('a task in flight is listed by running-tasks', async () => {
    // A listener on the instance's address that accepts and never speaks SSH: the task waits on it.
    const port = await freePort();
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(port, linux.address, r));
    try {
      const { task_id } = await kps.call({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/associate',
        data: {
          keypair_name: 'ft-key',
          server: { id: linux.id, auth: { type: 'password', key: ROOT_PASSWORD }, port },
        },
      });
      let row: any;
      for (let n = 0; n < 100 && !row; n++) {
        const running = await kps.call({
          method: 'GET',
          url: '/v3/{project_id}/running-tasks',
          queryParams: { limit: 10, offset: 0 },
        });
        row = running.tasks.find((t: any) => t.task_id === task_id);
        if (!row) await sleep(20);
      }
      assert.ok(row, 'listed while it runs');
      assert.equal(row.operate_type, 'RUNNING_RESET');
      assert.equal(row.server_id, linux.id);
      assert.equal(row.server_name, linux.name);
      assert.ok(!('task_error_code' in row));
      assert.equal(
        (await kps.call({ method: 'GET', url: '/v3/{project_id}/tasks/{task_id}', pathParams: { task_id } }))
          .task_status,
        'RUNNING_RESET',
      );
      for (const s of sockets) s.destroy();
      assert.equal((await pollTask(kps, task_id)).task_status, 'FAILED_RESET');
      failedTaskIds.push(task_id);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
    await assertUnchanged();
  });

  test('failed tasks are deleted one by one (unknown: KPS.0005) or all at once', async () => {
    const [first, ...rest] = failedTaskIds;
    const deleted = await kps.call({
      method: 'DELETE',
      url: '/v3/{project_id}/failed-tasks/{task_id}',
      pathParams: { task_id: first! },
    });
    assert.equal(deleted.httpStatusCode, 200);
    // A second DELETE is a new request only with a later X-Sdk-Date (one-second resolution): the same bytes again
    // are a replay, refused before the operation (docs/api/huawei-kps.md, "Deviations").
    await sleep(1000 - (Date.now() % 1000) + 10);
    const again = await sdkError(
      kps.call({ method: 'DELETE', url: '/v3/{project_id}/failed-tasks/{task_id}', pathParams: { task_id: first! } }),
    );
    assert.deepEqual([again.httpStatusCode, again.errorCode], [400, 'KPS.0005']);
    const gone = await sdkError(
      kps.call({ method: 'GET', url: '/v3/{project_id}/tasks/{task_id}', pathParams: { task_id: first! } }),
    );
    assert.deepEqual([gone.httpStatusCode, gone.errorCode], [400, 'KPS.0001']);

    let list = await kps.call({ method: 'GET', url: '/v3/{project_id}/failed-tasks' });
    assert.equal(list.total, rest.length);
    await kps.call({ method: 'DELETE', url: '/v3/{project_id}/failed-tasks' });
    list = await kps.call({ method: 'GET', url: '/v3/{project_id}/failed-tasks' });
    assert.deepEqual([list.total, list.tasks.length], [0, 0]);
  });
});
