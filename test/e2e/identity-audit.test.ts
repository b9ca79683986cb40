/**
 * Users, policies, tenants and the audit trail through the native API: nothing is allowed by default, policies
 * written with any face's action names govern the core's permission, an explicit Deny wins, batch results carry a
 * per-instance Forbidden, other tenants' IDs look like IDs that do not exist, and every change is recorded once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';

describe('identity, authorization and audit (native API)', () => {
  let kf: Keyfleet;
  let admin: Api;
  let env: Record<string, string>;
  let alice: Api;
  let ids: string[];
  let createdPrivateKey: string;

  before(async () => {
    ({ kf, api: admin, env } = await startInProcess());
    ids = await admin.run({ imageId: LINUX_IMAGE, amount: 3 });
    await admin.waitStatus(ids, 'Running');
    createdPrivateKey = (await admin.createKeyPair('team-key', 'ed25519')).privateKey;
    await admin.call('POST', '/api/v1/users', { name: 'alice', password: 'Alice-Pass-01' });
    alice = new Api(kf.url);
    await alice.signIn({ userName: 'alice', password: 'Alice-Pass-01' });
  });
  after(async () => kf?.close());

  test('nothing is allowed by default, and the refusal is audited as denied', async () => {
    const r = await alice.raw('GET', '/api/v1/regions/cn-hangzhou/key-pairs');
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'Auth.Forbidden');
    const audit = await admin.call('GET', '/api/v1/audit?userName=alice&result=denied');
    assert.ok(
      audit.entries.some(
        (e: any) => e.action === 'keypair:Describe' && e.errorCode === 'Auth.Forbidden' && e.face === 'native',
      ),
    );
  });

  test('a policy in ECS and KPS action names grants the core permission; resources and Deny are honoured per instance', async () => {
    await admin.call('POST', '/api/v1/policies', {
      name: 'ops-bind',
      document: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'ecs:DescribeKeyPairs', Resource: '*' },
          {
            Effect: 'Allow',
            Action: ['kps:SSHKeyPair:bind'],
            Resource: [
              'acs:ecs:*:*:keypair/team-key',
              `acs:ecs:cn-hangzhou:*:instance/${ids[0]}`,
              `acs:ecs:cn-hangzhou:*:instance/${ids[1]}`,
            ],
          },
          { Effect: 'Deny', Action: 'keypair:Bind', Resource: `acs:ecs:*:*:instance/${ids[1]}` },
        ],
      },
    });
    await admin.call('PUT', '/api/v1/users/alice/policies/ops-bind');
    const list = await alice.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs');
    assert.equal(list.keyPairs[0].name, 'team-key');
    const r = await alice.bind({ action: 'bind', keyPairName: 'team-key', instanceIds: ids });
    assert.deepEqual(
      r.items.map((i: any) => [i.status, i.errorCode]),
      [
        ['succeeded', null],
        ['failed', 'Auth.Forbidden'],
        ['failed', 'Auth.Forbidden'],
      ],
      'explicit Deny and no Allow are both refused, per instance',
    );
    assert.equal((await admin.instance(ids[0]!)).keyPairName, 'team-key');
    assert.equal((await admin.instance(ids[1]!)).keyPairName, null, 'nothing changed on the refused instances');
    const unbind = await alice.raw('POST', '/api/v1/regions/cn-hangzhou/bindings', {
      action: 'unbind',
      keyPairName: 'team-key',
      instanceIds: [ids[0]],
      wait: true,
    });
    assert.equal(unbind.status, 403, 'bind does not imply unbind');
  });

  test('conditions: a region condition limits where a permission applies', async () => {
    await admin.call('POST', '/api/v1/policies', {
      name: 'shanghai-only',
      document: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'instance:Describe',
            Resource: '*',
            Condition: { StringEquals: { 'acs:RegionId': 'cn-shanghai' } },
          },
        ],
      },
    });
    await admin.call('PUT', '/api/v1/users/alice/policies/shanghai-only');
    assert.equal((await alice.raw('GET', '/api/v1/regions/cn-shanghai/instances')).status, 200);
    assert.equal((await alice.raw('GET', '/api/v1/regions/cn-hangzhou/instances')).status, 403);
    const bad = await admin.raw('POST', '/api/v1/policies', {
      name: 'broken',
      document: { Statement: [{ Effect: 'Allow', Action: 'ecs:NoSuchThing' }] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'Policy.Malformed');
  });

  test('access keys: several per user, secret shown once, disabled keys refused; users cannot manage others', async () => {
    const made = await alice.call('POST', '/api/v1/users/alice/access-keys');
    assert.match(made.accessKeyId, /^LTAI/);
    const listed = await alice.call('GET', '/api/v1/users/alice/access-keys');
    assert.equal(JSON.stringify(listed).includes(made.accessKeySecret), false, 'the secret is never shown again');
    const viaKey = new Api(kf.url);
    await viaKey.signIn({ accessKeyId: made.accessKeyId, accessKeySecret: made.accessKeySecret });
    await alice.call('PATCH', `/api/v1/access-keys/${made.accessKeyId}`, { status: 'Inactive' });
    await assert.rejects(
      new Api(kf.url).signIn({ accessKeyId: made.accessKeyId, accessKeySecret: made.accessKeySecret }),
      /Auth\.Unauthenticated/,
    );
    assert.equal((await alice.raw('POST', '/api/v1/users', { name: 'mallory' })).status, 403);
    assert.equal((await alice.raw('GET', '/api/v1/users/admin/access-keys')).status, 403);
  });

  test('tenants are kept apart: another account sees our IDs and names exactly like ones that do not exist', async () => {
    const acct = await admin.call('POST', '/api/v1/accounts', { name: 'team-b', adminPassword: 'TeamB-Pass-01' });
    const b = new Api(kf.url);
    await b.signIn({ accessKeyId: acct.accessKeyId, accessKeySecret: acct.accessKeySecret });
    assert.equal((await b.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs')).total, 0);
    assert.equal((await b.call('GET', '/api/v1/regions/cn-hangzhou/instances')).total, 0);
    const theirs = await b.raw('GET', `/api/v1/instances/${ids[0]}`);
    const missing = await b.raw('GET', '/api/v1/instances/i-doesnotexist00000000');
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.code, missing.body.code);
    assert.equal((await b.raw('GET', '/api/v1/regions/cn-hangzhou/key-pairs/team-key')).body.code, 'KeyPair.NotFound');
    const bind = await b.bind({ action: 'bind', keyPairName: 'team-key', instanceIds: [ids[2]] }).catch((e) => e.body);
    assert.equal(bind.code, 'KeyPair.NotFound');
    await b.createKeyPair('team-key', 'ed25519');
    const cross = await b.bind({ action: 'bind', keyPairName: 'team-key', instanceIds: [ids[2]] });
    assert.equal(cross.items[0].errorCode, 'Instance.NotFound');
    assert.equal((await admin.instance(ids[2]!)).keyPairName, null);
    assert.equal(
      (await b.call('GET', '/api/v1/audit?limit=1000')).entries.every((e: any) => e.accountId === acct.account.id),
      true,
    );
    assert.equal((await b.raw('GET', `/api/v1/tasks/${cross.task.id}`)).status, 200);
    const ourTasks = await admin.call('GET', '/api/v1/tasks');
    assert.equal(
      ourTasks.tasks.some((t: any) => t.id === cross.task.id),
      false,
    );
  });

  test('every mutating call writes exactly one entry with who, where, what and how it ended; searchable and exportable', async () => {
    const before = (await admin.call('GET', '/api/v1/audit?limit=10000')).total;
    await admin.call('PATCH', '/api/v1/regions/cn-hangzhou/key-pairs/team-key', { description: 'for the team' });
    const failed = await admin.raw('DELETE', '/api/v1/regions/cn-hangzhou/key-pairs/team-key');
    assert.equal(failed.status, 409);
    await admin.call('POST', `/api/v1/instances/${ids[2]}/stop`);
    const after = await admin.call('GET', '/api/v1/audit?limit=10000');
    assert.equal(after.total - before, 3, 'three calls, three entries');
    const [stop, del, patch] = after.entries;
    assert.equal(patch.action, 'keypair:Update');
    assert.equal(patch.result, 'success');
    assert.deepEqual(patch.resources, [`acs:ecs:cn-hangzhou:${patch.accountId}:keypair/team-key`]);
    assert.equal(patch.userName, 'admin');
    assert.equal(patch.accessKeyId, null);
    assert.ok(patch.sessionId);
    assert.equal(patch.sourceIp, '127.0.0.1');
    assert.ok(patch.requestId);
    assert.equal(del.result, 'failure');
    assert.equal(del.errorCode, 'KeyPair.InUse');
    assert.equal(stop.action, 'instance:Stop');
    const byResource = await admin.call('GET', `/api/v1/audit?resource=${encodeURIComponent(`instance/${ids[2]}`)}`);
    assert.ok(byResource.entries.some((e: any) => e.action === 'instance:Stop'));
    const byAction = await admin.call('GET', '/api/v1/audit?action=keypair:Bind');
    assert.ok(byAction.entries.every((e: any) => e.action === 'keypair:Bind') && byAction.total >= 1);
    const exported = await admin.raw('GET', '/api/v1/audit/export?action=instance:Stop');
    // One line parses as one JSON document; several are newline-separated documents.
    const text = typeof exported.body === 'string' ? exported.body : JSON.stringify(exported.body);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].action, 'instance:Stop');
  });

  test('no audit entry and no log line holds key material', async () => {
    const dbFile = path.join(env.KEYFLEET_DATA_DIR!, 'keyfleet.db');
    const db = new BetterSqlite3(dbFile, { readonly: true });
    const rows = db.prepare('select * from audit_entries').all();
    db.close();
    const text = JSON.stringify(rows);
    const publicBody = (
      await admin.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs/team-key')
    ).keyPair.publicKey.split(' ')[1];
    const privateBody = createdPrivateKey.split('\n').slice(1, -2).join('');
    assert.ok(rows.length > 10);
    assert.equal(text.includes(publicBody), false, 'no public key body');
    assert.equal(text.includes(privateBody.slice(0, 40)), false, 'no private key body');
    assert.equal(text.includes('Alice-Pass-01'), false, 'no password');
    assert.equal(fs.existsSync(dbFile), true);
  });
});

describe('rate limits per access key', () => {
  test('past the configured rate, requests get 429 Auth.Throttled; other users are unaffected', async () => {
    const { kf, api } = await startInProcess({ extra: { KEYFLEET_RATE_LIMIT: '5' } });
    try {
      await api.call('POST', '/api/v1/users', { name: 'bob', password: 'Bob-Pass-0001', isAccountAdmin: true });
      await new Promise((r) => setTimeout(r, 1000)); // let the bucket refill after setup
      const results = [];
      for (let n = 0; n < 25; n++) results.push(await api.raw('GET', '/api/v1/regions/cn-hangzhou/key-pairs'));
      const throttled = results.filter((r) => r.status === 429);
      assert.ok(throttled.length >= 10, `${throttled.length} of 25 throttled`);
      assert.equal(throttled[0]!.body.code, 'Auth.Throttled');
      assert.ok(
        results.slice(0, 5).every((r) => r.status === 200),
        'the burst passes',
      );
      const other = new Api(kf.url);
      await other.signIn({ userName: 'bob', password: 'Bob-Pass-0001' });
      assert.equal(
        (await other.raw('GET', '/api/v1/regions/cn-hangzhou/key-pairs')).status,
        200,
        'limits are per access key / user',
      );
    } finally {
      await kf.close();
    }
  });
});
