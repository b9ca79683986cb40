/**
 * Drift scan and repair (issue 5) against real Debian OpenSSH hosts from the harness, registered with a
 * management key through the native API. The tampering is done as an attacker with root would: directly on disk.
 * Each repair is proven with the real `ssh` client: the bound key logs in, the intruder key is refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { compareDrift, type DriftInput } from '../../src/core/binding/drift.js';
import { planAuthorizedKeys } from '../../src/core/binding/authorized-keys.js';
import { renderSshdDropIn } from '../../src/core/binding/sshd-drop-in.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, Api } from '../support/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import {
  akPath,
  cli,
  dirOf,
  dropIn,
  login,
  REGION,
  type RegisteredFleet,
  startRegisteredFleet,
} from './support/registered-hosts.js';

const run = promisify(execFile);

describe('drift rule: what counts as drift (pure comparison, the cases the real hosts below do not reach)', () => {
  let bound: string, intruder: string, hand: string;
  const body = (line: string) => line.split(' ')[1]!;
  const input = (authorizedKeys: string | null, extra: Partial<DriftInput> = {}): DriftInput => ({
    authorizedKeys,
    bound: { keyPairName: 'kp', publicKey: bound },
    dropIn: renderSshdDropIn({ passwordAuthentication: false }),
    expectedDropIn: renderSshdDropIn({ passwordAuthentication: false }),
    keyPairNameOf: (b) => (b === body(bound) ? 'kp' : b === body(intruder) ? 'intruder-kp' : null),
    ...extra,
  });
  const synced = () => planAuthorizedKeys(`${hand}\n`, [{ keyPairName: 'kp', publicKey: bound }]).content;
  const codesOf = (i: DriftInput) => compareDrift(i).findings.map((f) => f.code);

  before(async () => {
    [bound, intruder, hand] = (
      await Promise.all([sshKeygen('ed25519', 'b'), sshKeygen('ecdsa', 'i'), sshKeygen('rsa', 'hand')])
    ).map((k) => k.publicKey) as [string, string, string];
  });

  test('what keyfleet wrote, plus hand-added keys outside the block: in sync, the hand-added key listed', () => {
    const r = compareDrift(input(synced()));
    assert.equal(r.status, 'in-sync');
    assert.deepEqual(
      r.unmanagedKeys.map((k) => [k.keyType, k.comment, k.location]),
      [['ssh-rsa', 'hand', 'outside']],
    );
  });

  test('a foreign line inside the block, a corrupt block, an edited keyfleet line, a block left after unbind: drifted', () => {
    const withForeign = synced().replace('# <<< keyfleet', `${intruder}\n# <<< keyfleet`);
    const r = compareDrift(input(withForeign));
    assert.deepEqual(
      r.findings.map((f) => f.code),
      ['foreign-key-in-block'],
    );
    assert.equal(r.findings[0]!.key!.keyPairName, 'intruder-kp');
    assert.equal(r.findings[0]!.key!.keyType, 'ecdsa-sha2-nistp256');
    assert.ok(
      r.unmanagedKeys.some((k) => k.location === 'block' && k.keyPairName === 'intruder-kp'),
      'it can log in, so it is listed too',
    );
    assert.deepEqual(codesOf(input(synced().replace(/# <<< keyfleet[^\n]*\n/, ''))), ['block-corrupt']);
    assert.deepEqual(codesOf(input(synced().replace('keyfleet:kp', 'keyfleet:renamed'))), ['block-altered']);
    assert.deepEqual(
      codesOf(
        input(synced(), {
          bound: null,
          expectedDropIn: renderSshdDropIn({ passwordAuthentication: true }),
          dropIn: renderSshdDropIn({ passwordAuthentication: true }),
        }),
      ),
      ['block-unexpected', 'foreign-key-in-block'],
      'and the key left in it is named',
    );
    assert.deepEqual(codesOf(input(null)), ['authorized-keys-missing']);
  });

  test('issue 16: any key inside the block that keyfleet did not put there is drift, however written; the plan removes it', () => {
    const cases = [
      intruder, // plain
      `from="10.0.0.0/8",no-pty ${intruder}`, // with options
      `${intruder.split(' ').slice(0, 2).join(' ')} keyfleet:kp`, // forged as keyfleet's line
    ];
    for (const line of cases) {
      const planted = synced().replace('# <<< keyfleet', `${line}\n# <<< keyfleet`);
      const r = compareDrift(input(planted));
      assert.equal(r.status, 'drifted', line);
      const finding = r.findings.find((f) => f.code === 'foreign-key-in-block');
      assert.ok(finding, `${line}: ${JSON.stringify(r.findings)}`);
      assert.equal(finding.key!.location, 'block');
      assert.equal(finding.key!.keyPairName, 'intruder-kp', 'named by its key, not by its comment');
      assert.match(finding.message, /a repair removes it/);
      const repaired = planAuthorizedKeys(planted, [{ keyPairName: 'kp', publicKey: bound }]);
      assert.equal(repaired.content, synced(), 'the repair plan gives back exactly what keyfleet wrote');
      assert.ok(repaired.removed.includes(body(intruder)));
      assert.equal(compareDrift(input(repaired.content)).status, 'in-sync');
    }
    // A line that is not a key (a note) inside the block is an edit of keyfleet's block, removed the same way.
    const noted = synced().replace('# <<< keyfleet', '# a note\n# <<< keyfleet');
    assert.deepEqual(codesOf(input(noted)), ['block-altered']);
    assert.equal(planAuthorizedKeys(noted, [{ keyPairName: 'kp', publicKey: bound }]).content, synced());
  });

  test('the drop-in: edited is drift (and says what it sets); never written by keyfleet is not', () => {
    const edited = compareDrift(input(synced(), { dropIn: 'PasswordAuthentication yes\n' }));
    assert.deepEqual(
      edited.findings.map((f) => f.code),
      ['drop-in-altered'],
    );
    assert.match(edited.findings[0]!.message, /sets PasswordAuthentication yes/);
    assert.equal(
      compareDrift(input(`${hand}\n`, { bound: null, dropIn: null, expectedDropIn: null })).status,
      'in-sync',
    );
  });
});

describe('drift: scan and repair registered real hosts', () => {
  let fleet: RegisteredFleet;
  let api: Api;
  let host1: TestHost, host2: TestHost, host3: TestHost;
  let id1: string, id2: string, id3: string;
  let boundKeyFile: string;
  let other: { keyPair: any; privateKey: string };
  let otherKeyFile: string;

  const scan = async (instanceIds?: string[], as: Api = api) =>
    (await as.call('POST', `/api/v1/regions/${REGION}/drift-scans`, instanceIds ? { instanceIds } : {})).results;
  const scanOne = async (id: string) => {
    const [r] = await scan([id]);
    assert.equal(r.instanceId, id);
    return r;
  };
  const codes = (r: any) => r.findings.map((f: any) => f.code).sort();

  /** Repairs and waits for every task made; returns the tasks as finished and their items. */
  async function repair(instanceIds: string[]) {
    const r = await api.call('POST', `/api/v1/regions/${REGION}/drift-repairs`, { instanceIds });
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
    return { made: r.tasks, tasks, items, results: r.results };
  }

  async function expectBoundKeyOnly(h: TestHost) {
    const bound = await login(h, { identityFile: boundKeyFile });
    assert.equal(bound.code, 0, `the bound key logs in: ${bound.stderr}`);
    assert.equal((await login(h, { identityFile: otherKeyFile })).code, 255, 'the intruder key is refused');
  }

  async function expectHandLinesKept(h: TestHost) {
    const ak = await fs.readFile(akPath(h), 'utf8');
    assert.ok(
      ak.includes('# added by hand') && ak.includes(fleet.hand.publicKey) && ak.includes(fleet.mgmt.publicKey),
      `hand-added lines kept:\n${ak}`,
    );
    const st = await fs.stat(akPath(h));
    assert.equal(st.uid, h.uid, 'owner kept');
    assert.equal(st.gid, h.gid, 'group kept');
    assert.equal(st.mode & 0o777, 0o600, 'mode kept');
  }

  /** `ssh-keygen -lf` of a public key line, as an operator would compute it. */
  async function keygenFingerprint(publicKey: string): Promise<string> {
    const file = path.join(path.dirname(boundKeyFile), `fp-${Math.random().toString(36).slice(2)}.pub`);
    await fs.writeFile(file, publicKey + '\n');
    const { stdout } = await run('ssh-keygen', ['-lf', file]);
    return stdout.split(' ')[1]!;
  }

  before(async () => {
    fleet = await startRegisteredFleet(3);
    ({ api } = fleet);
    [host1, host2, host3] = fleet.hosts as [TestHost, TestHost, TestHost];
    id1 = (await fleet.register(host1, 'drift-1')).instance.id;
    id2 = (await fleet.register(host2, 'drift-2')).instance.id;
    id3 = (await fleet.register(host3, 'drift-3')).instance.id;
    const bound = await api.createKeyPair('drift-kp', 'ed25519');
    boundKeyFile = await writePrivateKey(bound.privateKey);
    other = await api.createKeyPair('drift-other', 'ed25519');
    otherKeyFile = await writePrivateKey(other.privateKey);
    const r = await api.bind({ action: 'bind', keyPairName: 'drift-kp', instanceIds: [id1], mode: 'live' });
    assert.equal(r.items[0].status, 'succeeded', JSON.stringify(r.items[0]));
  });

  after(async () => {
    await fleet?.close();
  });

  test('a bound host is in sync; hand-added keys are listed as unmanaged with the fingerprint ssh-keygen prints', async () => {
    const r = await scanOne(id1);
    assert.equal(r.status, 'in-sync', JSON.stringify(r));
    assert.deepEqual(r.findings, []);
    assert.equal(r.keyPairName, 'drift-kp');
    assert.equal(r.address, host1.address);
    const hand = r.unmanagedKeys.find((k: any) => k.comment === 'hand-added');
    assert.ok(hand, JSON.stringify(r.unmanagedKeys));
    assert.equal(hand.fingerprintSha256, await keygenFingerprint(fleet.hand.publicKey));
    assert.equal(hand.keyType, 'ssh-ed25519');
    assert.equal(hand.location, 'outside');
    assert.equal(hand.keyPairName, null);
    assert.equal(hand.managementKey, false);
    const management = r.unmanagedKeys.find((k: any) => k.managementKey);
    assert.equal(
      management?.fingerprintSha256,
      await keygenFingerprint(fleet.mgmt.publicKey),
      "keyfleet's own management key is labelled",
    );
    assert.equal(r.unmanagedKeys.length, 2, 'the bound key in the block is not unmanaged');
    assert.ok(!JSON.stringify(r).includes(fleet.hand.publicKey.split(' ')[1]!), 'no key body in the answer');

    // A host keyfleet never changed has no drop-in of keyfleet's: not drift.
    assert.equal((await scanOne(id2)).status, 'in-sync');
    // Without ids: every registered host of the region.
    const all = await scan();
    assert.deepEqual(all.map((x: any) => x.instanceId).sort(), [id1, id2, id3].sort());
    assert.ok(
      all.every((x: any) => x.status === 'in-sync'),
      JSON.stringify(all.map((x: any) => [x.name, x.status, x.findings])),
    );
  });

  test('the managed block deleted on disk: drifted (block-missing); repair restores it, keeps hand-added lines, and the bound key logs in again', async () => {
    const before = await fs.readFile(akPath(host1), 'utf8');
    const lines = before.split('\n');
    const begin = lines.findIndex((l) => l.startsWith('# >>> keyfleet'));
    const end = lines.findIndex((l) => l.startsWith('# <<< keyfleet'));
    assert.ok(begin >= 0 && end > begin, before);
    await fs.writeFile(akPath(host1), [...lines.slice(0, begin), ...lines.slice(end + 1)].join('\n'));
    assert.equal(
      (await login(host1, { identityFile: boundKeyFile })).code,
      255,
      'the tampering is real: the bound key no longer logs in',
    );

    const r = await scanOne(id1);
    assert.equal(r.status, 'drifted');
    assert.deepEqual(codes(r), ['block-missing']);
    assert.match(r.findings[0].message, /drift-kp/);

    const { made, tasks, items } = await repair([id1]);
    assert.equal(made.length, 1);
    assert.equal(tasks[0].kind, 'bind');
    assert.equal(tasks[0].mode, 'live');
    assert.equal(tasks[0].keyPairName, 'drift-kp');
    assert.equal(tasks[0].status, 'succeeded', JSON.stringify(items));
    const after = await fs.readFile(akPath(host1), 'utf8');
    assert.match(
      after,
      /# >>> keyfleet managed keys[^\n]*\nssh-ed25519 \S+ keyfleet:drift-kp\n# <<< keyfleet managed keys <<</,
    );
    await expectHandLinesKept(host1);
    await expectBoundKeyOnly(host1);
    assert.equal((await scanOne(id1)).status, 'in-sync');
  });

  test("the key inside the block replaced by another key pair's: the finding names that key pair; repair refuses the intruder again", async () => {
    const boundBody = (await api.call('GET', `/api/v1/regions/${REGION}/key-pairs/drift-kp`)).keyPair.publicKey.split(
      ' ',
    )[1];
    const otherLine = other.keyPair.publicKey.split(' ').slice(0, 2).join(' ');
    const ak = await fs.readFile(akPath(host1), 'utf8');
    // Forged as a keyfleet line, so it looks like keyfleet's own at a glance.
    const forged = ak.replace(
      new RegExp(`ssh-ed25519 ${boundBody.replace(/[+/]/g, '\\$&')} keyfleet:drift-kp`),
      `${otherLine} keyfleet:drift-kp`,
    );
    assert.notEqual(forged, ak);
    await fs.writeFile(akPath(host1), forged);
    assert.equal(
      (await login(host1, { identityFile: otherKeyFile })).code,
      0,
      'the tampering is real: the intruder logs in',
    );

    const r = await scanOne(id1);
    assert.equal(r.status, 'drifted');
    assert.deepEqual(codes(r), ['bound-key-missing', 'foreign-key-in-block']);
    const foreign = r.findings.find((f: any) => f.code === 'foreign-key-in-block');
    assert.equal(foreign.key.keyPairName, 'drift-other', 'the key is named by its body, not by its forged comment');
    assert.equal(foreign.key.fingerprintSha256, other.keyPair.fingerprintSha256);
    assert.equal(foreign.key.fingerprintSha256, await keygenFingerprint(other.keyPair.publicKey));
    assert.equal(foreign.key.location, 'block');
    assert.match(foreign.message, /drift-other/);

    const { tasks, items } = await repair([id1]);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].status, 'succeeded', JSON.stringify(items));
    assert.ok(
      !(await fs.readFile(akPath(host1), 'utf8')).includes(other.keyPair.publicKey.split(' ')[1]),
      'the intruder key is gone from the file',
    );
    await expectHandLinesKept(host1);
    await expectBoundKeyOnly(host1);
    assert.equal((await scanOne(id1)).status, 'in-sync');
  });

  test('the sshd drop-in deleted: drifted (drop-in-missing); repair writes it again and password login stays off', async () => {
    const content = await fs.readFile(dropIn(host1), 'utf8');
    await fs.rm(dropIn(host1));
    await host1.reload();
    assert.equal(
      (await login(host1, { password: host1.password })).code,
      0,
      'the tampering is real: password login is back',
    );

    const r = await scanOne(id1);
    assert.equal(r.status, 'drifted');
    assert.deepEqual(codes(r), ['drop-in-missing']);
    assert.match(r.findings[0].message, /password login should be off/);

    const { tasks, items } = await repair([id1]);
    assert.equal(tasks[0]?.status, 'succeeded', JSON.stringify(items));
    assert.equal(await fs.readFile(dropIn(host1), 'utf8'), content, "keyfleet's drop-in is back, byte for byte");
    assert.equal((await login(host1, { password: host1.password })).code, 255, 'password login is off again');
    await expectBoundKeyOnly(host1);
    await expectHandLinesKept(host1);
    assert.equal((await scanOne(id1)).status, 'in-sync');
  });

  test('repair leaves in-sync hosts alone: no task', async () => {
    const { made, results } = await repair([id1, id2]);
    assert.deepEqual(made, []);
    assert.deepEqual(
      results.map((x: any) => x.status),
      ['in-sync', 'in-sync'],
    );
  });

  test('a host whose host key changed: the scan result is an error with the host-key code, and nothing is written', async () => {
    const keyFile = path.join(dirOf(host2), 'ssh_host_ed25519_key');
    await host2.stop();
    await fs.rm(keyFile);
    await fs.rm(`${keyFile}.pub`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    await fs.chown(keyFile, host2.uid, host2.gid);
    await host2.restart();
    const akBefore = await fs.readFile(akPath(host2), 'utf8');
    const statBefore = await fs.stat(akPath(host2));

    const r = await scanOne(id2);
    assert.equal(r.status, 'error');
    assert.equal(r.errorCode, 'Live.HostKeyChanged');
    assert.deepEqual(r.findings, []);
    const fixed = await repair([id2]);
    assert.deepEqual(fixed.made, [], 'a host that cannot be read is not repaired');
    assert.equal(fixed.results[0].errorCode, 'Live.HostKeyChanged');
    assert.equal(await fs.readFile(akPath(host2), 'utf8'), akBefore);
    assert.equal((await fs.stat(akPath(host2))).mtimeMs, statBefore.mtimeMs, 'authorized_keys untouched');
    assert.equal(existsSync(dropIn(host2)), false, 'no drop-in written');

    // One host's failure does not stop the others' results.
    const both = await scan([id1, id2]);
    assert.deepEqual(
      both.map((x: any) => x.status),
      ['in-sync', 'error'],
    );
  });

  test('a host that is down is unreachable; a host without a management key is skipped', async () => {
    await host3.stop();
    const down = await scanOne(id3);
    assert.equal(down.status, 'unreachable');
    assert.equal(down.errorCode, 'Live.Unreachable');
    await host3.restart();
    await api.call('DELETE', `/api/v1/instances/${id3}`);
    id3 = (await fleet.register(host3, 'drift-3-nokey', { managementPrivateKey: undefined })).instance.id;
    const skipped = await scanOne(id3);
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.reason, /management key/);
    assert.equal(skipped.errorCode, null);
  });

  test('authorization: instance:DescribeKeys is needed to scan (403 Auth.Forbidden otherwise); a repair needs keypair:Bind', async () => {
    const userApi = async (name: string, statements: unknown[]) => {
      await api.call('POST', '/api/v1/users', { name, password: 'User-Pass-0001!' });
      const key = await api.call('POST', `/api/v1/users/${name}/access-keys`, {});
      await api.call('POST', '/api/v1/policies', {
        name: `${name}-p`,
        document: { Version: '1', Statement: statements },
      });
      await api.call('PUT', `/api/v1/users/${name}/policies/${name}-p`);
      const u = new Api(fleet.kf.url);
      await u.signIn({
        accessKeyId: key.accessKeyId ?? key.accessKey?.accessKeyId,
        accessKeySecret: key.accessKeySecret ?? key.accessKey?.accessKeySecret,
      });
      return u;
    };
    const describer = await userApi('drift-describer', [
      { Effect: 'Allow', Action: ['instance:Describe', 'keypair:Describe'], Resource: '*' },
    ]);
    for (const body of [{ instanceIds: [id1] }, {}]) {
      const refused = await describer.raw('POST', `/api/v1/regions/${REGION}/drift-scans`, body);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'Auth.Forbidden');
    }
    const auditor = await userApi('drift-auditor', [
      { Effect: 'Allow', Action: 'instance:DescribeKeys', Resource: `acs:ecs:*:*:instance/${id1}` },
    ]);
    assert.equal((await scan([id1], auditor))[0].status, 'in-sync', 'allowed on exactly this host');
    assert.equal(
      (await auditor.raw('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [id1, id3] })).body.code,
      'Auth.Forbidden',
      'not on another',
    );
    const repairRefused = await auditor.raw('POST', `/api/v1/regions/${REGION}/drift-repairs`, { instanceIds: [id1] });
    assert.equal(repairRefused.status, 403);
    assert.equal(repairRefused.body.code, 'Auth.Forbidden');
    const audit = await api.call('GET', '/api/v1/audit?userName=drift-auditor&limit=10');
    assert.ok(
      audit.entries.some((e: any) => e.action === 'keypair:Bind' && e.result === 'denied'),
      'the refused repair is in the audit trail',
    );
  });

  test("another tenant's instance ids answer like unknown ids; its scan of all hosts sees none of ours", async () => {
    const made = await api.call('POST', '/api/v1/accounts', {
      name: 'drift-tenant-b',
      adminPassword: 'TenantB-Pass-0001',
    });
    const b = new Api(fleet.kf.url);
    await b.signIn({ accessKeyId: made.accessKeyId, accessKeySecret: made.accessKeySecret });
    for (const route of ['drift-scans', 'drift-repairs']) {
      const r = await b.raw('POST', `/api/v1/regions/${REGION}/${route}`, { instanceIds: [id1] });
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.code, 'Instance.NotFound');
      const unknown = await b.raw('POST', `/api/v1/regions/${REGION}/${route}`, {
        instanceIds: ['i-doesnotexist0000000'],
      });
      assert.deepEqual(
        { status: unknown.status, code: unknown.body.code },
        { status: r.status, code: r.body.code },
        'indistinguishable from an unknown id',
      );
    }
    assert.deepEqual(await scan(undefined, b), []);
  });

  test('CLI: drift scan exits 0 in sync, 1 on drift (for cron), 3 when a host cannot be read; drift repair --wait restores', async () => {
    const env = {
      KEYFLEET_ENDPOINT: fleet.kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    const clean = await cli(['--json', 'drift', 'scan', id1], env);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(JSON.parse(clean.stdout).results[0].status, 'in-sync');

    await fs.writeFile(
      akPath(host1),
      (await fs.readFile(akPath(host1), 'utf8')).replace(/# >>> keyfleet[\s\S]*# <<< keyfleet managed keys <<<\n/, ''),
    );
    const drifted = await cli(['drift', 'scan', id1, '--json'], env);
    assert.equal(drifted.code, 1, drifted.stderr);
    assert.deepEqual(
      JSON.parse(drifted.stdout).results[0].findings.map((f: any) => f.code),
      ['block-missing'],
    );
    const table = await cli(['drift', 'scan', id1], env);
    assert.equal(table.code, 1);
    assert.ok(
      table.stdout.includes('drifted') && table.stdout.includes(await keygenFingerprint(fleet.hand.publicKey)),
      table.stdout,
    );

    const repaired = await cli(['--json', 'drift', 'repair', id1, '--wait'], env);
    assert.equal(repaired.code, 0, repaired.stderr);
    const out = JSON.parse(repaired.stdout);
    assert.equal(out.tasks[0].status, 'succeeded', repaired.stdout);
    await expectBoundKeyOnly(host1);

    const unreadable = await cli(['--json', 'drift', 'scan', id1, id2], env);
    assert.equal(unreadable.code, 3, unreadable.stdout);
    const help = await cli(['drift', 'scan', '--help'], env);
    assert.match(help.stdout, /1 +drift found/);
  });
});
