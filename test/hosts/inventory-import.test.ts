/**
 * Inventory import as one server task (ADR 9), against real Debian OpenSSH hosts from the harness: a malformed
 * inventory is refused up front with every bad line listed and changes nothing; a good one becomes one import task
 * with a result per host (registered with its host key pinned, or the unreachable one failed with its code); the
 * registered hosts are usable (a live bind with the held management key, proven by `ssh -i`); the management key
 * is never in the task tables or the database files in plaintext, and is released when the task ends; a task
 * resumed after a restart registers from its stored rows, and the key, held in memory only, is gone on purpose.
 *
 * The hosts are imported with passwordLogin 'unmanaged' (keyfleet never touches sshd), so the harness's per-host
 * sshd drop-in and reload settings, which one shared set of import defaults cannot give, are not needed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/store/open-store.js';
import { IMPORT_KIND, pendingItem, queuedTask } from '../../src/core/task/task.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, startInProcess, tempDir } from '../support/keyfleet.js';
import { writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import { cli, login, REGION, type RegisteredFleet, startRegisteredFleet } from './support/registered-hosts.js';

const UNREACHABLE = { address: '127.31.250.250', port: 1 };

describe('inventory import: one task, a result per host', () => {
  let fleet: RegisteredFleet;
  let hosts: TestHost[];

  const iniLine = (h: TestHost, name: string) =>
    `${name} ansible_host=${h.address} ansible_port=${h.port} ansible_user=${h.user} keyfleet_home=${h.home}`;
  const importBody = (inventory: string) => ({
    regionId: REGION,
    inventory,
    managementPrivateKey: fleet.mgmt.privateKey,
    defaults: { passwordLogin: 'unmanaged' },
  });
  const instancesAt = async (address: string) =>
    (
      await fleet.api.call('GET', `/api/v1/regions/${REGION}/instances?search=${encodeURIComponent(address)}&limit=100`)
    ).instances.filter((i: any) => i.address === address);
  /** The audit entries of one request (the import's submission): one, whatever the task then did. */
  const auditOf = async (requestId: string) =>
    (await fleet.api.call('GET', '/api/v1/audit?action=instance:Create&limit=1000')).entries.filter(
      (e: any) => e.requestId === requestId,
    );
  async function finished(taskId: string, api = fleet.api): Promise<any> {
    for (;;) {
      const { task } = await api.call('GET', `/api/v1/tasks/${taskId}`);
      if (task.finishedAt) return task;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    fleet = await startRegisteredFleet(3);
    hosts = fleet.hosts;
  });

  after(async () => {
    await fleet?.close();
  });

  test('a malformed inventory is refused up front, listing every bad line, and changes nothing', async () => {
    const tasksBefore = (await fleet.api.call('GET', '/api/v1/tasks?limit=1')).total;
    const inventory = [
      '[web]',
      iniLine(hosts[0]!, 'imp-a'),
      iniLine(hosts[1]!, 'imp-b'),
      `imp-port ansible_host=${hosts[2]!.address} ansible_port=99999`,
      `imp-user ansible_host=${hosts[2]!.address} ansible_port=${hosts[2]!.port} ansible_user=-bad`,
      iniLine(hosts[0]!, 'imp-twice'),
    ].join('\n');
    const r = await fleet.api.raw('POST', '/api/v1/hosts/imports', importBody(inventory));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.code, 'Input.Invalid');
    assert.equal(r.body.details.badLines, 3);
    const lines: string[] = r.body.details.lines;
    assert.match(lines[0]!, /^line 4: '99999' is not a valid port/);
    assert.match(lines[1]!, /^line 5 \(imp-user\): .*user name/);
    assert.match(
      lines[2]!,
      new RegExp(`^line 6 \\(imp-twice\\): ${hosts[0]!.address}:${hosts[0]!.port} is already on line 2`),
    );
    assert.ok(
      !JSON.stringify(r.body).includes(fleet.mgmt.privateKey.split('\n')[1]!),
      'the refusal does not carry the key',
    );
    assert.equal((await fleet.api.call('GET', '/api/v1/tasks?limit=1')).total, tasksBefore, 'no task was made');
    for (const h of hosts) assert.deepEqual(await instancesAt(h.address), [], 'no host was registered');
    assert.deepEqual(
      (await auditOf(r.body.requestId)).map((e: any) => [e.result, e.errorCode]),
      [['failure', 'Input.Invalid']],
    );

    // The CLI says the same and exits 1 with nothing registered.
    const dir = tempDir();
    const csv = path.join(dir, 'bad.csv');
    await fs.writeFile(
      csv,
      `name,address,port,user\nok,${hosts[0]!.address},${hosts[0]!.port},${hosts[0]!.user}\nbad,${hosts[1]!.address},70000,${hosts[1]!.user}\n`,
    );
    const out = await cli(['hosts', 'import', csv, '--management-key', fleet.mgmt.privateKeyPath], {
      KEYFLEET_ENDPOINT: fleet.kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    });
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /Input\.Invalid.*line 3: '70000' is not a valid port/s);
    assert.deepEqual(await instancesAt(hosts[0]!.address), []);
  });

  test('an import of the harness hosts and an unreachable one: one task, each host registered or failed on its own, the key released at the end', async () => {
    const inventory = [
      '[web]',
      ...hosts.map((h, n) => iniLine(h, `imp-${n}`)),
      `imp-ghost ansible_host=${UNREACHABLE.address} ansible_port=${UNREACHABLE.port}`,
    ].join('\n');
    const r = await fleet.api.raw('POST', '/api/v1/hosts/imports', importBody(inventory));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.format, 'ini');
    const taskId: string = r.body.task.id;
    assert.equal(r.body.task.kind, 'import');
    assert.equal(r.body.task.total, 4);
    // Held while the task runs: a release is only ever seen after the task has finished.
    const held = fleet.kf.core.holdsLiveCredential(taskId);
    const meanwhile = (await fleet.api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    assert.ok(held || meanwhile.finishedAt, 'the management key is held until the task ends');

    const task = await finished(taskId);
    const entries = await auditOf(task.requestId);
    assert.deepEqual(
      entries.filter((e: any) => e.stage === 'request').map((e: any) => e.result),
      ['success'],
      'the submission audited once',
    );
    // The outcome has entries of its own: the unreachable host's failure with its code, and the registrations.
    const outcome = entries.filter((e: any) => e.stage === 'outcome');
    assert.ok(
      outcome.some((e: any) => e.result === 'failure' && e.errorCode === 'Live.Unreachable'),
      JSON.stringify(outcome),
    );
    assert.ok(outcome.some((e: any) => e.result === 'success' && e.taskId === taskId));
    assert.equal(task.status, 'partial');
    assert.equal(task.succeeded, 3);
    assert.equal(task.failed, 1);
    assert.equal(fleet.kf.core.holdsLiveCredential(taskId), false, 'the management key is released when the task ends');

    const { items } = await fleet.api.call('GET', `/api/v1/tasks/${taskId}/items`);
    assert.deepEqual(
      items.map((i: any) => [i.host.name, i.host.line, i.status]),
      [
        ['imp-0', 2, 'succeeded'],
        ['imp-1', 3, 'succeeded'],
        ['imp-2', 4, 'succeeded'],
        ['imp-ghost', 5, 'failed'],
      ],
    );
    for (const [n, h] of hosts.entries()) {
      const item = items[n];
      assert.equal(item.host.hostKeySha256, h.hostKeySha256, 'each host pinned with its own key');
      assert.equal(item.host.pinnedOnFirstUse, true);
      const inst = await fleet.api.instance(item.instanceId);
      assert.equal(inst.name, `imp-${n}`);
      assert.equal(inst.backend, 'host');
      assert.equal(inst.hostKeySha256, h.hostKeySha256);
      assert.equal(inst.host.homeDir, h.home);
      assert.equal(inst.host.hasManagementKey, true, 'each registered host sealed its own copy of the key');
      assert.equal(inst.host.passwordLogin, 'unmanaged');
    }
    const ghost = items[3];
    assert.equal(ghost.errorCode, 'Live.Unreachable');
    assert.equal(ghost.instanceId, '', 'a failed host has no instance');
    assert.deepEqual(await instancesAt(UNREACHABLE.address), []);

    // The registered hosts are usable: a live bind with no credential uses each one's sealed management key.
    const ids = items.slice(0, 3).map((i: any) => i.instanceId);
    const { privateKey } = await fleet.api.createKeyPair('imported-kp', 'ed25519');
    const bound = await fleet.api.bind({ action: 'bind', mode: 'live', keyPairName: 'imported-kp', instanceIds: ids });
    assert.deepEqual(
      bound.items.map((i: any) => [i.status, i.errorCode]),
      ids.map(() => ['succeeded', null]),
    );
    const kpFile = await writePrivateKey(privateKey);
    for (const h of hosts)
      assert.equal(
        (await login(h, { identityFile: kpFile })).code,
        0,
        `ssh -i with the bound key logs in to ${h.name}`,
      );

    // The management key is in no task row, and nowhere in the database files in plaintext (only sealed).
    const keyBody = fleet.mgmt.privateKey
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
    const db = fleet.kf.store.db;
    const rows = JSON.stringify([
      await db.selectFrom('tasks').selectAll().execute(),
      await db.selectFrom('task_items').selectAll().execute(),
    ]);
    assert.ok(rows.includes('imp-ghost'), 'the task rows were read');
    for (const line of fleet.mgmt.privateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')))
      assert.ok(!rows.includes(line), 'no line of the key in the task tables');
    const dir = fleet.kf.config.dataDir;
    for (const file of (await fs.readdir(dir)).filter((f) => f.startsWith('keyfleet.db'))) {
      const bytes = await fs.readFile(path.join(dir, file), 'latin1');
      assert.ok(!bytes.includes(keyBody.slice(0, 40)), `the key is not in ${file} in plaintext`);
    }
  });

  test('a task resumed after a restart still knows its hosts (the item payload): one that needs no key is registered, one that needed the key fails with Live.CredentialLost', async () => {
    const dataDir = tempDir();
    const first = await startInProcess({ dataDir });
    const who = await first.api.call('GET', '/api/v1/whoami');
    await first.kf.close();
    // What a process that died mid-import leaves behind: the task and its pending items, and no key anywhere.
    const store = await openStore({ dataDir });
    const caller = {
      accountId: who.accountId,
      face: 'native' as const,
      requestId: 'req-resume',
      userId: who.userId,
      userName: 'admin',
      accessKeyId: null,
      sessionId: null,
      sourceIp: '127.0.0.1',
    };
    const task = queuedTask(
      caller,
      {
        id: 'import-resume',
        regionId: REGION,
        kind: IMPORT_KIND,
        mode: 'live',
        keyPairId: null,
        keyPairName: null,
        total: 2,
        options: {},
      },
      new Date(),
    );
    const row = (h: TestHost, name: string, withManagementKey: boolean) => ({
      line: 1,
      name,
      address: h.address,
      port: h.port,
      loginUser: h.user,
      homeDir: h.home,
      withManagementKey,
    });
    await store.transaction((tx) =>
      tx.tasks.insert(task, [
        pendingItem(task.id, 0, '', row(hosts[0]!, 'resumed-probe', false)),
        pendingItem(task.id, 1, '', row(hosts[1]!, 'resumed-key', true)),
      ]),
    );
    await store.close();

    const second = await startInProcess({ dataDir });
    try {
      assert.equal((await finished(task.id, second.api)).status, 'partial');
      const { items } = await second.api.call('GET', `/api/v1/tasks/${task.id}/items`);
      assert.deepEqual(
        items.map((i: any) => [i.host.name, i.status, i.errorCode]),
        [
          ['resumed-probe', 'succeeded', null],
          ['resumed-key', 'failed', 'Live.CredentialLost'],
        ],
      );
      assert.equal(items[0].host.hostKeySha256, hosts[0]!.hostKeySha256);
      const inst = await second.api.instance(items[0].instanceId);
      assert.equal(inst.host.hasManagementKey, false);
    } finally {
      await second.kf.close();
    }
  });
});
