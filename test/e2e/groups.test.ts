/**
 * User groups (issue 6): a user with no policy of its own gets a permission through a group — a real call through
 * the native API (an open session, no new sign-in) and through the ECS face (signed with its access key) — and loses
 * it on its next request when it leaves the group, when the policy is detached from the group, when the policy or
 * the group is deleted. A Deny attached to a group beats an Allow attached to the user. Every group call is audited
 * (one entry per mutating call, denials recorded), reserved to administrators, and invisible to another tenant. On
 * PostgreSQL, a change made through one keyfleet process is seen by the next request served by another. The CLI's
 * `keyfleet groups …` commands drive the same calls.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { ecsCall } from '../ecs/support/raw-ecs.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { cliEnvFor } from '../cli/support/run-cli.js';

const REGION = 'cn-hangzhou';
const KP = 'team-key';

interface Member {
  name: string;
  ak: string;
  sk: string;
  /** A native session opened once, before any group change: later changes must reach it without a new sign-in. */
  native: Api;
}

async function makeUser(admin: Api, url: string, name: string): Promise<Member> {
  await admin.call('POST', '/api/v1/users', { name, password: 'Member-Pass-01' });
  const key = await admin.call('POST', `/api/v1/users/${name}/access-keys`);
  const native = new Api(url);
  await native.signIn({ accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret });
  return { name, ak: key.accessKeyId, sk: key.accessKeySecret, native };
}

/** What the member gets for listing key pairs on both faces: 'allowed' (and the list shows the key pair) or 'refused'. */
async function canList(url: string, m: Member): Promise<{ native: string; ecs: string }> {
  const n = await m.native.raw('GET', `/api/v1/regions/${REGION}/key-pairs`);
  const e = await ecsCall(url, {
    action: 'DescribeKeyPairs',
    params: { RegionId: REGION },
    accessKeyId: m.ak,
    secret: m.sk,
  });
  const nativeSays =
    n.status === 200 && n.body.keyPairs.some((k: any) => k.name === KP)
      ? 'allowed'
      : n.status === 403 && n.body.code === 'Auth.Forbidden'
        ? 'refused'
        : `unexpected ${n.status} ${JSON.stringify(n.body)}`;
  const ecsSays =
    e.status === 200 && e.body.KeyPairs.KeyPair.some((k: any) => k.KeyPairName === KP)
      ? 'allowed'
      : e.status === 403 && e.body.Code === 'Forbidden.RAM'
        ? 'refused'
        : `unexpected ${e.status} ${e.text}`;
  return { native: nativeSays, ecs: ecsSays };
}
const ALLOWED = { native: 'allowed', ecs: 'allowed' };
const REFUSED = { native: 'refused', ecs: 'refused' };

describe('user groups', () => {
  let kf: Keyfleet;
  let admin: Api;
  let url: string;
  let carol: Member;

  before(async () => {
    ({ kf, api: admin } = await startInProcess());
    url = kf.url;
    await admin.createKeyPair(KP, 'ed25519');
    await admin.call('POST', '/api/v1/policies', {
      name: 'list-key-pairs',
      document: { Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeKeyPairs'], Resource: '*' }] },
    });
    await admin.call('POST', '/api/v1/policies', {
      name: 'no-key-pairs',
      document: { Statement: [{ Effect: 'Deny', Action: 'keypair:Describe', Resource: 'acs:ecs:*:*:keypair/*' }] },
    });
    carol = await makeUser(admin, url, 'carol');
  });
  after(async () => kf?.close());

  test('a user with no policy of its own gets a permission through a group, on both faces, on its next request', async () => {
    assert.deepEqual(await canList(url, carol), REFUSED, 'nothing is allowed by default');
    const made = await admin.call('POST', '/api/v1/groups', { name: 'readers', description: 'may list key pairs' });
    assert.deepEqual([made.group.name, made.group.description], ['readers', 'may list key pairs']);
    await admin.call('PUT', '/api/v1/groups/readers/policies/list-key-pairs');
    assert.deepEqual(await canList(url, carol), REFUSED, 'not a member yet');
    await admin.call('PUT', '/api/v1/groups/readers/members/carol');
    assert.deepEqual(await canList(url, carol), ALLOWED, 'the same session and access key, no new sign-in');

    assert.deepEqual((await admin.call('GET', '/api/v1/users/carol/policies')).policies, [], 'no policy of its own');
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/users/carol/groups')).groups.map((g: any) => g.name),
      ['readers'],
    );
    assert.deepEqual(
      (await carol.native.call('GET', '/api/v1/users/carol/groups')).groups.map((g: any) => g.name),
      ['readers'],
      'a user may read its own groups, as its own policies',
    );
    const detail = await admin.call('GET', '/api/v1/groups/readers');
    assert.deepEqual(detail.group.name, 'readers');
    assert.deepEqual(
      detail.members.map((u: any) => u.name),
      ['carol'],
    );
    assert.deepEqual(
      detail.policies.map((p: any) => p.name),
      ['list-key-pairs'],
    );
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/groups')).groups.map((g: any) => [g.name, g.memberCount, g.policyCount]),
      [['readers', 1, 1]],
      'the listing counts members and policies',
    );
    assert.equal(
      (await admin.call('GET', '/api/v1/users/carol/groups')).groups[0].memberCount,
      undefined,
      "a user's groups come without counts",
    );
  });

  test('leaving the group or detaching the policy from it takes the permission away at once; joining again gives it back', async () => {
    await admin.call('DELETE', '/api/v1/groups/readers/members/carol');
    assert.deepEqual(await canList(url, carol), REFUSED, 'removed from the group');
    assert.deepEqual((await admin.call('GET', '/api/v1/users/carol/groups')).groups, []);
    await admin.call('PUT', '/api/v1/groups/readers/members/carol');
    assert.deepEqual(await canList(url, carol), ALLOWED, 'added again');
    await admin.call('DELETE', '/api/v1/groups/readers/policies/list-key-pairs');
    assert.deepEqual(await canList(url, carol), REFUSED, 'the policy detached from the group');
    await admin.call('PUT', '/api/v1/groups/readers/policies/list-key-pairs');
    assert.deepEqual(await canList(url, carol), ALLOWED, 'attached again');
  });

  test("a Deny attached to a group beats an Allow attached to the user; a second group's Allow does not undo it", async () => {
    const dave = await makeUser(admin, url, 'dave');
    await admin.call('PUT', '/api/v1/users/dave/policies/list-key-pairs');
    assert.deepEqual(await canList(url, dave), ALLOWED, 'its own Allow');
    await admin.call('POST', '/api/v1/groups', { name: 'blocked' });
    await admin.call('PUT', '/api/v1/groups/blocked/policies/no-key-pairs');
    await admin.call('PUT', '/api/v1/groups/blocked/members/dave');
    await admin.call('PUT', '/api/v1/groups/readers/members/dave');
    assert.deepEqual(await canList(url, dave), REFUSED, "the group Deny wins over its own Allow and the other group's");
    const r = await dave.native.raw('GET', `/api/v1/regions/${REGION}/key-pairs`);
    assert.match(r.body.message, /explicitly denied 'keypair:Describe'/);
    await admin.call('DELETE', '/api/v1/groups/blocked/members/dave');
    assert.deepEqual(await canList(url, dave), ALLOWED, 'out of the denying group');
    // and a Deny attached to the user beats an Allow from a group
    await admin.call('DELETE', '/api/v1/users/dave/policies/list-key-pairs');
    await admin.call('PUT', '/api/v1/users/dave/policies/no-key-pairs');
    assert.deepEqual(await canList(url, dave), REFUSED, "its own Deny wins over the group's Allow");
  });

  test('deleting a policy still attached is refused, naming users and groups (like RAM); with force it is detached from all; deleting a user or a group removes the memberships', async () => {
    await admin.call('POST', '/api/v1/policies', {
      name: 'list-too',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
    await admin.call('POST', '/api/v1/groups', { name: 'temporary' });
    await admin.call('PUT', '/api/v1/groups/temporary/policies/list-too');
    await admin.call('PUT', '/api/v1/groups/temporary/members/carol');
    await admin.call('DELETE', '/api/v1/groups/readers/members/carol');
    assert.deepEqual(await canList(url, carol), ALLOWED, 'through the temporary group');
    await admin.call('PUT', '/api/v1/users/dave/policies/list-too');
    const refused = await admin.raw('DELETE', '/api/v1/policies/list-too');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'Policy.InUse');
    assert.match(refused.body.message, /attached to 1 user \(dave\) and 1 group \(temporary\)/);
    assert.deepEqual(await canList(url, carol), ALLOWED, 'refused: nothing changed');
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/groups/temporary')).policies.map((p: { name: string }) => p.name),
      ['list-too'],
    );
    await admin.call('DELETE', '/api/v1/policies/list-too?force=true');
    assert.deepEqual(await canList(url, carol), REFUSED, 'the deleted policy no longer applies');
    assert.deepEqual((await admin.call('GET', '/api/v1/groups/temporary')).policies, []);

    await admin.call('PUT', '/api/v1/groups/temporary/policies/list-key-pairs');
    assert.deepEqual(await canList(url, carol), ALLOWED);
    await admin.call('DELETE', '/api/v1/groups/temporary');
    assert.deepEqual(await canList(url, carol), REFUSED, 'the deleted group no longer applies');
    assert.deepEqual((await admin.call('GET', '/api/v1/users/carol/groups')).groups, []);
    const gone = await admin.raw('GET', '/api/v1/groups/temporary');
    assert.deepEqual([gone.status, gone.body.code], [404, 'Group.NotFound']);
    await admin.call('POST', '/api/v1/groups', { name: 'temporary' });
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/groups/temporary')).members,
      [],
      'a new group of the same name starts empty',
    );

    await makeUser(admin, url, 'erin');
    await admin.call('PUT', '/api/v1/groups/readers/members/erin');
    await admin.call('DELETE', '/api/v1/users/erin');
    assert.ok(
      !(await admin.call('GET', '/api/v1/groups/readers')).members.some((u: any) => u.name === 'erin'),
      'a deleted user is no member',
    );
    await makeUser(admin, url, 'erin');
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/users/erin/groups')).groups,
      [],
      'a new user of the same name is in no group',
    );
  });

  test('names, unknown names and duplicates answer with their codes', async () => {
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/api/v1/groups', { name: 'readers' }, 409, 'Group.AlreadyExists'],
      ['POST', '/api/v1/groups', { name: '-bad name' }, 400, 'Input.Invalid'],
      ['GET', '/api/v1/groups/nobody-has-this', undefined, 404, 'Group.NotFound'],
      ['DELETE', '/api/v1/groups/nobody-has-this', undefined, 404, 'Group.NotFound'],
      ['PUT', '/api/v1/groups/readers/members/nobody-has-this', undefined, 404, 'User.NotFound'],
      ['PUT', '/api/v1/groups/readers/policies/nobody-has-this', undefined, 404, 'Policy.NotFound'],
      ['PUT', '/api/v1/groups/nobody-has-this/members/carol', undefined, 404, 'Group.NotFound'],
      ['GET', '/api/v1/users/nobody-has-this/groups', undefined, 404, 'User.NotFound'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await admin.raw(method, path, body);
      assert.deepEqual([r.status, r.body?.code], [status, code], `${method} ${path}`);
    }
  });

  test('administrators only: a member allowed everything by policy is still refused, and the refusal is audited', async () => {
    await admin.call('POST', '/api/v1/policies', {
      name: 'everything',
      document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    });
    const frank = await makeUser(admin, url, 'frank');
    await admin.call('POST', '/api/v1/groups', { name: 'all-powerful' });
    await admin.call('PUT', '/api/v1/groups/all-powerful/policies/everything');
    await admin.call('PUT', '/api/v1/groups/all-powerful/members/frank');
    assert.deepEqual(await canList(url, frank), ALLOWED, 'the group gives frank everything policies can give');
    for (const [method, path, body] of [
      ['POST', '/api/v1/groups', { name: 'mine' }],
      ['PUT', '/api/v1/groups/readers/members/frank'],
      ['PUT', '/api/v1/groups/readers/policies/everything'],
      ['DELETE', '/api/v1/groups/readers'],
      ['GET', '/api/v1/groups'],
      ['GET', '/api/v1/groups/readers'],
      ['GET', '/api/v1/users/carol/groups'],
    ] as Array<[string, string, unknown?]>) {
      const r = await frank.native.raw(method, path, body);
      assert.deepEqual([r.status, r.body.code], [403, 'Auth.Forbidden'], `${method} ${path}`);
    }
    const denied = (await admin.call('GET', '/api/v1/audit?userName=frank&result=denied&limit=100')).entries;
    assert.deepEqual(
      denied.map((e: any) => e.action).sort(),
      [
        'iam:AddUserToGroup',
        'iam:AttachPolicyToGroup',
        'iam:CreateGroup',
        'iam:DeleteGroup',
        'iam:GetGroup',
        'iam:ListGroups',
        'iam:ListGroupsForUser',
      ].sort(),
    );
    assert.ok(denied.every((e: any) => e.errorCode === 'Auth.Forbidden'));
    assert.deepEqual(
      (await admin.call('GET', '/api/v1/groups/readers')).policies.map((p: any) => p.name),
      ['list-key-pairs'],
      'nothing changed',
    );
  });

  test('every mutating group call writes exactly one entry naming the group, user or policy; reads write none', async () => {
    const before = (await admin.call('GET', '/api/v1/audit?limit=1')).total;
    await admin.call('POST', '/api/v1/groups', { name: 'audited' });
    await admin.call('PUT', '/api/v1/groups/audited/members/carol');
    await admin.call('PUT', '/api/v1/groups/audited/policies/list-key-pairs');
    await admin.call('GET', '/api/v1/groups/audited');
    await admin.call('GET', '/api/v1/groups');
    await admin.call('GET', '/api/v1/users/carol/groups');
    await admin.call('DELETE', '/api/v1/groups/audited/policies/list-key-pairs');
    await admin.call('DELETE', '/api/v1/groups/audited/members/carol');
    assert.equal((await admin.raw('POST', '/api/v1/groups', { name: 'audited' })).status, 409);
    await admin.call('DELETE', '/api/v1/groups/audited');
    const after = await admin.call('GET', `/api/v1/audit?limit=${100}`);
    assert.equal(after.total - before, 7, 'seven mutating calls, seven entries; three reads, none');
    const fresh = after.entries.slice(0, 7).reverse();
    const acc = fresh[0].accountId;
    assert.deepEqual(
      fresh.map((e: any) => [e.action, e.result, e.errorCode, e.resources]),
      [
        ['iam:CreateGroup', 'success', null, [`acs:ecs:*:${acc}:*/group/audited`]],
        ['iam:AddUserToGroup', 'success', null, [`acs:ecs:*:${acc}:*/group/audited`, `acs:ecs:*:${acc}:*/user/carol`]],
        [
          'iam:AttachPolicyToGroup',
          'success',
          null,
          [`acs:ecs:*:${acc}:*/group/audited`, `acs:ecs:*:${acc}:*/policy/list-key-pairs`],
        ],
        [
          'iam:DetachPolicyFromGroup',
          'success',
          null,
          [`acs:ecs:*:${acc}:*/group/audited`, `acs:ecs:*:${acc}:*/policy/list-key-pairs`],
        ],
        [
          'iam:RemoveUserFromGroup',
          'success',
          null,
          [`acs:ecs:*:${acc}:*/group/audited`, `acs:ecs:*:${acc}:*/user/carol`],
        ],
        ['iam:CreateGroup', 'failure', 'Group.AlreadyExists', [`acs:ecs:*:${acc}:*/group/audited`]],
        ['iam:DeleteGroup', 'success', null, [`acs:ecs:*:${acc}:*/group/audited`]],
      ],
    );
    assert.ok(fresh.every((e: any) => e.userName === 'admin' && e.face === 'native' && e.requestId));
    // identity resources are named like users' (`…:*/group/<name>`): searchable by that end of the name
    const byResource = await admin.call('GET', `/api/v1/audit?resource=${encodeURIComponent('*/group/audited')}`);
    assert.equal(byResource.total, 7, 'searchable by the group');
  });

  test("another tenant sees the account's groups exactly like groups that do not exist, and changes nothing", async () => {
    const acct = await admin.call('POST', '/api/v1/accounts', { name: 'tenant-g', adminPassword: 'TenantG-Pass-01' });
    const b = new Api(url);
    await b.signIn({ accessKeyId: acct.accessKeyId, accessKeySecret: acct.accessKeySecret });
    await admin.call('PUT', '/api/v1/groups/readers/members/carol');
    const stateOfA = async () =>
      JSON.stringify([
        await admin.call('GET', '/api/v1/groups'),
        await admin.call('GET', '/api/v1/groups/readers'),
        await admin.call('GET', '/api/v1/users/carol/groups'),
      ]);
    const before = await stateOfA();
    const shape = (r: { status: number; body: any }) => [r.status, r.body?.code];
    for (const [method, path] of [
      ['GET', '/api/v1/groups/{g}'],
      ['DELETE', '/api/v1/groups/{g}'],
      ['PUT', '/api/v1/groups/{g}/members/admin'],
      ['DELETE', '/api/v1/groups/{g}/members/admin'],
      ['PUT', '/api/v1/groups/{g}/policies/list-key-pairs'],
      ['DELETE', '/api/v1/groups/{g}/policies/list-key-pairs'],
    ] as const) {
      const theirs = await b.raw(method, path.replace('{g}', 'readers'));
      const madeUp = await b.raw(method, path.replace('{g}', 'zz-made-up'));
      assert.deepEqual(shape(theirs), shape(madeUp), `${method} ${path}`);
      assert.equal(theirs.status, 404, `${method} ${path}`);
    }
    assert.deepEqual(
      shape(await b.raw('GET', '/api/v1/users/carol/groups')),
      shape(await b.raw('GET', '/api/v1/users/zz-made-up/groups')),
    );
    assert.deepEqual((await b.call('GET', '/api/v1/groups')).groups, [], "B's list shows none of A's groups");
    // B may use the same name for a group of its own; A's group is untouched
    await b.call('POST', '/api/v1/groups', { name: 'readers' });
    await b.call('PUT', '/api/v1/groups/readers/members/admin');
    assert.equal(await stateOfA(), before);
    assert.deepEqual(await canList(url, carol), ALLOWED, "carol still gets A's group's policy");
  });
});

describe('user groups across keyfleet processes sharing PostgreSQL', () => {
  const PG_URL = process.env.KEYFLEET_TEST_PG_URL;
  let one: Keyfleet | undefined;
  let two: Keyfleet | undefined;
  let dbName = '';

  after(async () => {
    await two?.close();
    await one?.close();
    if (dbName && PG_URL) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.end();
    }
  });

  test("a group change made through one process applies to the member's next request served by the other", async () => {
    assert.ok(PG_URL, 'KEYFLEET_TEST_PG_URL must be set (the test command starts a throwaway PostgreSQL)');
    dbName = 'kf_' + randomUUID().replace(/-/g, '').slice(0, 16);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`create database ${dbName}`);
    await c.end();
    const databaseUrl = PG_URL.replace(/\/[^/]*$/, '/' + dbName);
    const masterKey = randomBytes(32).toString('base64');
    let adminOne: Api;
    ({ kf: one, api: adminOne } = await startInProcess({ databaseUrl, extra: { KEYFLEET_MASTER_KEY: masterKey } }));
    ({ kf: two } = await startInProcess({
      databaseUrl,
      extra: { KEYFLEET_MASTER_KEY: masterKey, KEYFLEET_SIM_SERVE: '0' },
    }));
    await adminOne.createKeyPair(KP, 'ed25519');
    await adminOne.call('POST', '/api/v1/policies', {
      name: 'list-key-pairs',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
    await adminOne.call('POST', '/api/v1/groups', { name: 'readers' });
    await adminOne.call('PUT', '/api/v1/groups/readers/policies/list-key-pairs');
    // The member's session and signed calls go to process two; the administrator changes the group through one.
    const member = await makeUser(adminOne, two.url, 'gina');
    assert.deepEqual(await canList(two.url, member), REFUSED, "warms process two's compiled-permission cache");
    await adminOne.call('PUT', '/api/v1/groups/readers/members/gina');
    assert.deepEqual(await canList(two.url, member), ALLOWED, 'joined through process one');
    await adminOne.call('DELETE', '/api/v1/groups/readers/policies/list-key-pairs');
    assert.deepEqual(await canList(two.url, member), REFUSED, 'detached through process one');
    await adminOne.call('PUT', '/api/v1/groups/readers/policies/list-key-pairs');
    assert.deepEqual(await canList(two.url, member), ALLOWED);
    await adminOne.call('DELETE', '/api/v1/groups/readers');
    assert.deepEqual(await canList(two.url, member), REFUSED, 'group deleted through process one');
  });
});

const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('keyfleet groups (CLI)', () => {
  let kf: Keyfleet;
  let admin: Api;
  let env: Record<string, string>;

  before(async () => {
    ({ kf, api: admin } = await startInProcess());
    env = cliEnvFor(kf.url);
    await admin.createKeyPair(KP, 'ed25519');
    await admin.call('POST', '/api/v1/policies', {
      name: 'list-key-pairs',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
  });
  after(async () => kf?.close());

  test('create, add-user, attach, show, ls, detach, remove-user, delete; errors exit 1 with the code', async () => {
    const hank = await makeUser(admin, kf.url, 'hank');
    const ok = async (args: string[]) => {
      const r = await cli(args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    assert.match(await ok(['groups', 'create', 'ops', '--description', 'operators']), /Created group ops/);
    assert.match(await ok(['groups', 'add-user', 'ops', 'hank']), /Added hank to ops/);
    assert.match(await ok(['groups', 'attach', 'ops', 'list-key-pairs']), /Attached list-key-pairs to ops/);
    assert.deepEqual(await canList(kf.url, hank), ALLOWED, 'the CLI made hank a member of a group with the policy');
    const shown = JSON.parse(await ok(['groups', 'show', 'ops', '--json']));
    assert.deepEqual(
      [shown.group.description, shown.members.map((u: any) => u.name), shown.policies.map((p: any) => p.name)],
      ['operators', ['hank'], ['list-key-pairs']],
    );
    assert.match(await ok(['groups', 'show', 'ops']), /hank[\s\S]*list-key-pairs/);
    assert.match(await ok(['groups', 'ls']), /ops.*operators/);
    assert.deepEqual(
      JSON.parse(await ok(['groups', 'ls', '--user-name', 'hank', '--json'])).groups.map((g: any) => g.name),
      ['ops'],
    );
    assert.match(await ok(['groups', 'detach', 'ops', 'list-key-pairs']), /Detached list-key-pairs from ops/);
    assert.deepEqual(await canList(kf.url, hank), REFUSED);
    assert.match(await ok(['groups', 'remove-user', 'ops', 'hank']), /Removed hank from ops/);
    assert.deepEqual(JSON.parse(await ok(['groups', 'ls', '--user-name', 'hank', '--json'])).groups, []);
    assert.match(await ok(['groups', 'delete', 'ops']), /Deleted group ops/);
    const missing = await cli(['groups', 'show', 'ops'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Group\.NotFound/);
    const usage = await cli(['groups', 'add-user', 'ops'], env);
    assert.equal(usage.code, 2, 'a missing argument is a usage error');
  });
});
