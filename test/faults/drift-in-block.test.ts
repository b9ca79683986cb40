/**
 * Issue 16: a key keyfleet did not write, planted INSIDE keyfleet's marked block, is drift. A scan reports it with
 * the fingerprint `ssh-keygen -lf` prints, a repair removes it (it used to be moved below the block and kept
 * working, and the next scan said "in sync"), and the real OpenSSH client is refused with it afterwards while the
 * bound key still logs in. Shown on a registered Debian OpenSSH host and on a simulated instance (real SSH on
 * 127.x, files on its disk); scans of "all machines" cover both.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { MANAGED_END } from '../../src/core/binding/authorized-keys.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  type Api,
  LINUX_IMAGE,
  startInProcess,
  WINDOWS_IMAGE,
} from '../support/keyfleet.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import {
  akPath,
  cli,
  login,
  REGION,
  type RegisteredFleet,
  startRegisteredFleet,
} from '../hosts/support/registered-hosts.js';

const run = promisify(execFile);

describe("drift inside keyfleet's block: found, removed by repair, refused by OpenSSH (host and simulated instance)", () => {
  let fleet: RegisteredFleet;
  let api: Api;
  let host: TestHost;
  let hostId: string;
  let simId: string;
  let sim: { address: string; sshPort: number };
  let simAk: string;
  let bound: { keyPair: any; privateKey: string };
  let boundKeyFile: string;
  let intruder: { privateKeyPath: string; publicKey: string };
  let intruderFingerprint: string;

  const scan = async (instanceIds?: string[]) =>
    (await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, instanceIds ? { instanceIds } : {})).results;
  const scanOne = async (id: string) => {
    const [r] = await scan([id]);
    assert.equal(r.instanceId, id);
    return r;
  };
  const simLogin = (identityFile: string) =>
    sshRun({ host: sim.address, port: sim.sshPort, user: 'root', identityFile, command: 'echo in' });

  /** Repairs and waits for every task made; returns the tasks as finished and their items. */
  async function repair(instanceIds: string[], extra: Record<string, unknown> = {}) {
    const r = await api.call('POST', `/api/v1/regions/${REGION}/drift-repairs`, { instanceIds, ...extra });
    const tasks: any[] = [];
    const items: any[] = [];
    for (const t of r.tasks) {
      let cur = t;
      while (!cur.finishedAt) {
        await new Promise((res) => setTimeout(res, 50));
        cur = (await api.call('GET', `/api/v1/tasks/${t.id}`)).task;
      }
      tasks.push(cur);
      items.push(...(await api.call('GET', `/api/v1/tasks/${t.id}/items`)).items);
    }
    return { tasks, items, results: r.results };
  }

  /** Writes the intruder's key as a plain line inside keyfleet's block, as someone with write access would. */
  async function plantInsideBlock(file: string): Promise<string> {
    const before = await fs.readFile(file, 'utf8');
    assert.ok(before.includes(MANAGED_END), before);
    const planted = before.replace(MANAGED_END, `${intruder.publicKey}\n${MANAGED_END}`);
    await fs.writeFile(file, planted);
    return planted;
  }

  function expectPlantedFinding(r: any) {
    assert.equal(r.status, 'drifted', JSON.stringify(r));
    assert.deepEqual(
      r.findings.map((f: any) => f.code),
      ['foreign-key-in-block'],
    );
    const [finding] = r.findings;
    assert.equal(finding.key.fingerprintSha256, intruderFingerprint, 'the fingerprint ssh-keygen -lf prints');
    assert.equal(finding.key.location, 'block');
    assert.equal(finding.key.keyPairName, null);
    assert.equal(finding.key.comment, 'intruder');
    assert.match(finding.message, /a repair removes it/);
    assert.ok(
      r.unmanagedKeys.some((k: any) => k.fingerprintSha256 === intruderFingerprint && k.location === 'block'),
      'until the repair it can log in, so it is listed among the keys keyfleet did not write',
    );
  }

  /** After a repair: keyfleet's block holds the bound key alone, and the intruder's key is nowhere in the file. */
  async function expectBlockClean(file: string) {
    const ak = await fs.readFile(file, 'utf8');
    const body = intruder.publicKey.split(' ')[1]!;
    assert.ok(!ak.includes(body), `the planted key is gone, not moved below the block:\n${ak}`);
    assert.match(
      ak,
      /# >>> keyfleet managed keys[^\n]*\nssh-ed25519 \S+ keyfleet:drift-in-block\n# <<< keyfleet managed keys <<<\n/,
    );
  }

  before(async () => {
    fleet = await startRegisteredFleet(1);
    ({ api } = fleet);
    [host] = fleet.hosts as [TestHost];
    hostId = (await fleet.register(host, 'in-block-host')).instance.id;
    bound = await api.createKeyPair('drift-in-block', 'ed25519');
    boundKeyFile = await writePrivateKey(bound.privateKey);
    intruder = await sshKeygen('ed25519', 'intruder');
    const pub = path.join(path.dirname(intruder.privateKeyPath), 'id.pub');
    intruderFingerprint = (await run('ssh-keygen', ['-lf', pub])).stdout.split(' ')[1]!;
    assert.match(intruderFingerprint, /^SHA256:/);

    const r = await api.bind({ action: 'bind', keyPairName: 'drift-in-block', instanceIds: [hostId], mode: 'live' });
    assert.equal(r.items[0].status, 'succeeded', JSON.stringify(r.items[0]));

    [simId] = (await api.run({ imageId: LINUX_IMAGE, keyPairName: 'drift-in-block', name: 'in-block-sim' })) as [
      string,
    ];
    await api.waitStatus([simId], 'Running');
    sim = await api.instance(simId);
    simAk = path.join(fleet.kf.config.dataDir, 'sim', 'instances', simId, 'root', '.ssh', 'authorized_keys');
  });

  after(async () => {
    await fleet?.close();
  });

  test('before any tampering: the host and the simulated instance are in sync, and a scan of all machines covers both', async () => {
    const all = await scan();
    assert.deepEqual(all.map((r: any) => r.instanceId).sort(), [hostId, simId].sort());
    assert.deepEqual(
      all.map((r: any) => [r.instanceId === simId ? 'sim' : 'host', r.status, r.findings]),
      all.map((r: any) => [r.instanceId === simId ? 'sim' : 'host', 'in-sync', []]),
    );
    assert.equal((await simLogin(boundKeyFile)).code, 0, 'the bound key logs in to the simulated instance');
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 255);
  });

  test('registered host: a key planted inside the block is reported with its fingerprint; the repair removes it and OpenSSH refuses it', async () => {
    await plantInsideBlock(akPath(host));
    assert.equal(
      (await login(host, { identityFile: intruder.privateKeyPath })).code,
      0,
      'the tampering is real: the intruder logs in',
    );
    expectPlantedFinding(await scanOne(hostId));

    const { tasks, items } = await repair([hostId]);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].status, 'succeeded', JSON.stringify(items));
    await expectBlockClean(akPath(host));
    const ak = await fs.readFile(akPath(host), 'utf8');
    assert.ok(ak.includes('# added by hand') && ak.includes(fleet.hand.publicKey), 'lines outside the block kept');

    const after = await scanOne(hostId);
    assert.equal(after.status, 'in-sync', JSON.stringify(after));
    assert.ok(!after.unmanagedKeys.some((k: any) => k.fingerprintSha256 === intruderFingerprint));
    assert.equal((await login(host, { identityFile: intruder.privateKeyPath })).code, 255, 'OpenSSH refuses it');
    assert.equal((await login(host, { identityFile: boundKeyFile })).code, 0, 'the bound key still logs in');
  });

  test('simulated instance: the same, read from its disk; the repair logs in with the credential given', async () => {
    await plantInsideBlock(simAk);
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 0, 'the tampering is real: the intruder logs in');
    expectPlantedFinding(await scanOne(simId));
    const all = await scan();
    assert.deepEqual(
      all.map((r: any) => [r.instanceId, r.status]).sort(),
      [
        [hostId, 'in-sync'],
        [simId, 'drifted'],
      ].sort(),
    );

    // A simulated instance has no management key: without a credential nothing is submitted.
    const refused = await api.raw('POST', `/api/v1/regions/${REGION}/drift-repairs`, { instanceIds: [simId] });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'Live.CredentialRequired');
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 0, 'nothing was changed');

    const { tasks, items } = await repair([simId, hostId], {
      credential: { kind: 'privateKey', privateKey: bound.privateKey },
    });
    assert.equal(tasks.length, 1, 'the host is in sync: only the simulated instance is repaired');
    assert.equal(tasks[0].mode, 'live');
    assert.equal(tasks[0].keyPairName, 'drift-in-block');
    assert.equal(tasks[0].status, 'succeeded', JSON.stringify(items));
    assert.deepEqual(
      items.map((i: any) => i.instanceId),
      [simId],
    );
    await expectBlockClean(simAk);

    const after = await scanOne(simId);
    assert.equal(after.status, 'in-sync', JSON.stringify(after));
    assert.deepEqual(after.unmanagedKeys, []);
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 255, 'OpenSSH refuses it');
    assert.equal((await simLogin(boundKeyFile)).code, 0, 'the bound key still logs in');
  });

  test('CLI: drift scan exits 1 with the fingerprint in its table; drift repair --private-key --wait removes the key', async () => {
    const env = {
      KEYFLEET_ENDPOINT: fleet.kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    await plantInsideBlock(simAk);
    const table = await cli(['drift', 'scan', simId], env);
    assert.equal(table.code, 1, table.stderr);
    assert.ok(
      table.stdout.includes(intruderFingerprint) && table.stdout.includes('foreign-key-in-block'),
      table.stdout,
    );

    const repaired = await cli(['--json', 'drift', 'repair', simId, '--private-key', boundKeyFile, '--wait'], env);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.equal(JSON.parse(repaired.stdout).tasks[0].status, 'succeeded', repaired.stdout);
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 255);
    assert.equal((await cli(['drift', 'scan', simId], env)).code, 0);
  });
});

describe('drift scans of simulated instances: what is compared, what is skipped, what cannot be read', () => {
  let kf: Keyfleet;
  let api: Api;
  const scanOne = async (id: string) => {
    const r = await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [id] });
    return r.results[0];
  };
  const rootOf = (id: string) => path.join(kf.config.dataDir, 'sim', 'instances', id);

  before(async () => {
    ({ kf, api } = await startInProcess());
    await api.createKeyPair('sim-a', 'ed25519');
    await api.createKeyPair('sim-b', 'ed25519');
  });

  after(async () => {
    await kf?.close();
  });

  test('a Stopped instance is read from its disk; a bind waiting for the next start is not drift; a planted key is repaired without a credential, at the next start; a never-started one needs no drop-in', async () => {
    const [id] = (await api.run({ imageId: LINUX_IMAGE, keyPairName: 'sim-a', name: 'stopped' })) as [string];
    await api.waitStatus([id], 'Running');
    await api.call('POST', `/api/v1/instances/${id}/stop`);
    await api.waitStatus([id], 'Stopped');
    const stopped = await scanOne(id);
    assert.deepEqual([stopped.backend, stopped.status, stopped.findings], ['sim', 'in-sync', []]);

    // Another key pair, on restart: the disk still has sim-a, which is what keyfleet wrote there.
    const r = await api.bind({ action: 'bind', keyPairName: 'sim-b', instanceIds: [id], mode: 'on-restart' });
    assert.equal(r.items[0].status, 'succeeded', JSON.stringify(r.items[0]));
    assert.equal((await scanOne(id)).status, 'in-sync', 'a pending change is not drift');
    await fs.writeFile(
      path.join(rootOf(id), 'root/.ssh/authorized_keys'),
      (await fs.readFile(path.join(rootOf(id), 'root/.ssh/authorized_keys'), 'utf8')).replace(
        MANAGED_END,
        `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh planted\n${MANAGED_END}`,
      ),
    );
    assert.deepEqual(
      (await scanOne(id)).findings.map((f: any) => f.code),
      ['foreign-key-in-block'],
      'a key planted while Stopped is drift all the same',
    );
    // A Stopped instance is repaired without a credential: the live task records the change for its next start.
    const repaired = await api.call('POST', `/api/v1/regions/${REGION}/drift-repairs`, { instanceIds: [id] });
    assert.equal(repaired.tasks.length, 1);
    let task = repaired.tasks[0];
    while (!task.finishedAt) {
      await new Promise((res) => setTimeout(res, 50));
      task = (await api.call('GET', `/api/v1/tasks/${task.id}`)).task;
    }
    const [item] = (await api.call('GET', `/api/v1/tasks/${task.id}/items`)).items;
    assert.deepEqual([task.mode, item.status], ['live', 'succeeded'], JSON.stringify(item));
    assert.match(item.note, /next start/);
    // The start applies sim-b and rewrites the block whole: the planted key does not survive it.
    await api.call('POST', `/api/v1/instances/${id}/start`);
    await api.waitStatus([id], 'Running');
    const booted = await scanOne(id);
    assert.deepEqual([booted.status, booted.keyPairName], ['in-sync', 'sim-b']);
    assert.ok(!(await fs.readFile(path.join(rootOf(id), 'root/.ssh/authorized_keys'), 'utf8')).includes('planted'));

    const [never] = (await api.run({ imageId: LINUX_IMAGE, name: 'never-started', start: false })) as [string];
    await api.waitStatus([never], 'Stopped');
    assert.equal((await scanOne(never)).status, 'in-sync', 'no drop-in was ever written, none is expected');
  });

  test('a Windows instance is skipped with the reason', async () => {
    const [win] = (await api.run({ imageId: WINDOWS_IMAGE, name: 'win', password: 'Initial-Pass-01' })) as [string];
    await api.waitStatus([win], 'Running');
    const r = await scanOne(win);
    assert.equal(r.status, 'skipped');
    assert.match(r.reason, /Windows/);
  });

  test("authorized_keys planted as a symlink to a file of keyfleet's own host: an error, the file is not read", async () => {
    const [id] = (await api.run({ imageId: LINUX_IMAGE, keyPairName: 'sim-a', name: 'symlinked' })) as [string];
    await api.waitStatus([id], 'Running');
    const outside = path.join(kf.config.dataDir, 'outside-secret');
    await fs.writeFile(
      outside,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh secret\n',
    );
    const ak = path.join(rootOf(id), 'root/.ssh/authorized_keys');
    await fs.rm(ak);
    await fs.symlink(outside, ak);
    const r = await scanOne(id);
    assert.equal(r.status, 'error', JSON.stringify(r));
    assert.equal(r.errorCode, 'Input.Invalid');
    assert.ok(!JSON.stringify(r).includes('secret'));
  });
});
