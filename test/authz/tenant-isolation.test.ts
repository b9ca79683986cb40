/**
 * Tenant isolation across the three faces (issue 6): account B's administrator guesses account A's instance IDs,
 * key pair names and task IDs through ECS, KPS/Nova and the native API. Every answer must be the answer for an
 * ID or name that does not exist (same status and code), A's state must not change, and B's lists never show A's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { ecsCall } from '../ecs/support/raw-ecs.js';
import { kpsWithAkSk, projectIdOf } from '../kps/support/huawei.js';
import { type Answer, nativeAnswer } from './support/principals.js';

const REGION = 'cn-hangzhou';
const PW = 'Root-Pass-0001!';

let kf: Keyfleet;
let a: Api; // account A's administrator (the system account)
let b: Api; // account B's administrator
let bKeys: { ak: string; sk: string };
let bProject: string;
let aProject: string;
const A = { kp: '', kpUnbound: '', kpSecret: '', inst: '', instStopped: '', task: '' };
const B = { kp: '', inst: '' };
const MADE_UP = {
  kp: 'kp-nobody-has-this-name',
  inst: 'i-zz0000nobody0000000',
  task: randomUUID(),
  project: '0123456789abcdef0123456789abcdef',
};

async function ecs(action: string, params: Record<string, string>): Promise<Answer> {
  const r = await ecsCall(kf.url, { action, params, accessKeyId: bKeys.ak, secret: bKeys.sk });
  const items = r.body?.Results?.Result;
  return {
    status: r.status,
    code: r.body?.Code,
    itemCodes: Array.isArray(items) ? items.map((i: any) => String(i.Code)) : undefined,
    body: r.body,
  };
}
async function kps(op: Parameters<ReturnType<typeof kpsWithAkSk>['call']>[0], project = bProject): Promise<Answer> {
  try {
    return {
      status: 200,
      body: await kpsWithAkSk(kf.url, { projectId: project, ak: bKeys.ak, sk: bKeys.sk }).call(op),
    };
  } catch (err) {
    const e = err as { httpStatusCode?: number; errorCode?: string };
    if (e.httpStatusCode === undefined) throw err;
    return { status: e.httpStatusCode, code: e.errorCode };
  }
}
/** What a guess may compare: status, code, per-item codes and the counts a list reports (never the echoed name). */
function shape(x: Answer): unknown {
  const body = x.body ?? {};
  return {
    status: x.status,
    code: x.code,
    items: x.itemCodes,
    total: body.TotalCount ?? body.total ?? (Array.isArray(body.keypairs) ? body.keypairs.length : undefined),
    taskItems: Array.isArray(body.tasks) ? body.tasks.map((t: any) => [t.status, t.error_code]) : undefined,
    taskId: typeof body.task_id === 'string' ? 'task' : undefined,
  };
}

async function stateOfA(): Promise<string> {
  const parts = [];
  for (const k of [A.kp, A.kpUnbound, A.kpSecret])
    parts.push((await a.call('GET', `/api/v1/regions/${REGION}/key-pairs/${k}`)).keyPair);
  for (const i of [A.inst, A.instStopped]) {
    const { lastSeenAt: _l, ...inst } = (await a.call('GET', `/api/v1/instances/${i}`)).instance;
    parts.push(inst);
  }
  parts.push((await a.call('GET', `/api/v1/tasks/${A.task}`)).task);
  parts.push((await a.call('GET', '/api/v1/tasks?limit=1')).total);
  return JSON.stringify(parts);
}

before(async () => {
  ({ kf, api: a } = await startInProcess());
  const image = (await a.call('GET', '/api/v1/images')).images.find((i: any) => i.osType === 'linux').id;
  const made = await a.call('POST', '/api/v1/accounts', { name: 'tenant-b', adminPassword: 'TenantB-Pass-0001' });
  bKeys = { ak: made.accessKeyId, sk: made.accessKeySecret };
  b = new Api(kf.url);
  await b.signIn({ accessKeyId: bKeys.ak, accessKeySecret: bKeys.sk });
  aProject = await projectIdOf(kf.url);
  const projects = await kpsWithAkSk(kf.url, { projectId: 'unused', ak: bKeys.ak, sk: bKeys.sk }).call({
    method: 'GET',
    url: '/v3/projects',
    queryParams: { name: REGION },
  });
  bProject = projects.projects[0].id;
  assert.notEqual(aProject, bProject);

  A.kp = 'a-bound';
  A.kpUnbound = 'a-free';
  A.kpSecret = 'a-escrowed';
  const made3 = await Promise.all([
    a.createKeyPair(A.kp, 'ed25519'),
    a.createKeyPair(A.kpUnbound, 'ed25519'),
    a.createKeyPair(A.kpSecret, 'ed25519'),
  ]);
  await kpsWithAkSk(kf.url, { projectId: aProject }).call({
    method: 'POST',
    url: '/v3/{project_id}/keypairs/private-key/import',
    data: { keypair: { name: A.kpSecret, key_protection: { private_key: made3[2].privateKey } } },
  });
  const ids = await a.run({ imageId: image, amount: 2, password: PW, name: 'a-vm' });
  [A.inst, A.instStopped] = [ids[0]!, ids[1]!];
  await a.waitStatus([A.inst, A.instStopped], 'Running');
  await a.bind({ action: 'bind', keyPairName: A.kp, instanceIds: [A.inst] });
  await a.call('POST', `/api/v1/instances/${A.instStopped}/stop`);
  await a.waitStatus([A.instStopped], 'Stopped');
  A.task = (await a.bind({ action: 'bind', keyPairName: A.kpUnbound, instanceIds: ['i-doesnotexist0000000'] })).task.id;
  await a.call('PATCH', `/api/v1/regions/${REGION}/key-pairs/${A.kpUnbound}`, {
    description: 'a-private-description-7731',
  });

  // B has resources of its own, named like A's where the names are free per account.
  B.kp = 'b-own';
  await b.createKeyPair(B.kp, 'ed25519');
  B.inst = (await b.run({ imageId: image, amount: 1, password: PW, name: 'b-vm' }))[0]!;
  await b.waitStatus([B.inst], 'Running');
});
after(async () => kf?.close());

/** One guess: the same call with A's identifier and with a made-up one. */
interface Guess {
  name: string;
  call: (id: { kp: string; inst: string; task: string; project: string }) => Promise<Answer>;
}
const target = () => ({ kp: A.kp, inst: A.inst, task: A.task, project: aProject });
const madeUp = () => ({ kp: MADE_UP.kp, inst: MADE_UP.inst, task: MADE_UP.task, project: MADE_UP.project });
const j = (v: unknown) => JSON.stringify(v);

const GUESSES: Guess[] = [
  // ECS
  {
    name: 'ECS DescribeKeyPairs by name',
    call: (t) => ecs('DescribeKeyPairs', { RegionId: REGION, KeyPairName: t.kp }),
  },
  {
    name: 'ECS DescribeInstances by id',
    call: (t) => ecs('DescribeInstances', { RegionId: REGION, InstanceIds: j([t.inst]) }),
  },
  {
    name: 'ECS DescribeInstances by key pair name',
    call: (t) => ecs('DescribeInstances', { RegionId: REGION, KeyPairName: t.kp }),
  },
  {
    name: "ECS AttachKeyPair (A's key pair on A's instance)",
    call: (t) => ecs('AttachKeyPair', { RegionId: REGION, KeyPairName: t.kp, InstanceIds: j([t.inst]) }),
  },
  {
    name: "ECS AttachKeyPair (B's key pair on A's instance)",
    call: (t) => ecs('AttachKeyPair', { RegionId: REGION, KeyPairName: B.kp, InstanceIds: j([t.inst]) }),
  },
  {
    name: "ECS DetachKeyPair (A's key pair from A's instance)",
    call: (t) => ecs('DetachKeyPair', { RegionId: REGION, KeyPairName: t.kp, InstanceIds: j([t.inst]) }),
  },
  {
    name: "ECS DetachKeyPair (B's key pair from A's instance)",
    call: (t) => ecs('DetachKeyPair', { RegionId: REGION, KeyPairName: B.kp, InstanceIds: j([t.inst]) }),
  },
  { name: 'ECS DeleteKeyPairs', call: (t) => ecs('DeleteKeyPairs', { RegionId: REGION, KeyPairNames: j([t.kp]) }) },
  { name: 'ECS StartInstance', call: (t) => ecs('StartInstance', { InstanceId: t.inst }) },
  { name: 'ECS StopInstance', call: (t) => ecs('StopInstance', { InstanceId: t.inst }) },
  { name: 'ECS RebootInstance', call: (t) => ecs('RebootInstance', { InstanceId: t.inst }) },
  {
    name: 'ECS ModifyInstanceAttribute (password)',
    call: (t) => ecs('ModifyInstanceAttribute', { InstanceId: t.inst, Password: 'Hijack-Pass-0001!' }),
  },
  { name: 'ECS DeleteInstance (force)', call: (t) => ecs('DeleteInstance', { InstanceId: t.inst, Force: 'true' }) },
  // KPS v3 and Nova, in B's project
  {
    name: 'KPS ListKeypairDetail',
    call: (t) =>
      kps({ method: 'GET', url: '/v3/{project_id}/keypairs/{keypair_name}', pathParams: { keypair_name: t.kp } }),
  },
  {
    name: 'KPS UpdateKeypairDescription',
    call: (t) =>
      kps({
        method: 'PUT',
        url: '/v3/{project_id}/keypairs/{keypair_name}',
        pathParams: { keypair_name: t.kp },
        data: { keypair: { description: 'hijacked' } },
      }),
  },
  {
    name: 'KPS DeleteKeypair',
    call: (t) =>
      kps({ method: 'DELETE', url: '/v3/{project_id}/keypairs/{keypair_name}', pathParams: { keypair_name: t.kp } }),
  },
  {
    name: 'KPS ExportPrivateKey',
    call: (t) =>
      kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/private-key/export',
        data: { keypair: { name: t.kp === A.kp ? A.kpSecret : t.kp } },
      }),
  },
  {
    name: 'KPS ClearPrivateKey',
    call: (t) =>
      kps({
        method: 'DELETE',
        url: '/v3/{project_id}/keypairs/{keypair_name}/private-key',
        pathParams: { keypair_name: t.kp === A.kp ? A.kpSecret : t.kp },
      }),
  },
  {
    name: "KPS AssociateKeypair (A's key pair, A's server)",
    call: (t) =>
      kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/associate',
        data: { keypair_name: t.kp, server: { id: t.inst, auth: { type: 'password', key: PW } } },
      }),
  },
  {
    name: "KPS BatchAssociateKeypair (B's key pair, A's server)",
    call: (t) =>
      kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/batch-associate',
        data: { batch_keypairs: [{ keypair_name: B.kp, server: { id: t.inst, auth: { type: 'password', key: PW } } }] },
      }),
  },
  {
    name: "KPS DisassociateKeypair (A's server)",
    call: (t) =>
      kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/disassociate',
        data: { server: { id: t.inst, auth: { type: 'password', key: PW } } },
      }),
  },
  {
    name: 'KPS ListKeypairTask',
    call: (t) => kps({ method: 'GET', url: '/v3/{project_id}/tasks/{task_id}', pathParams: { task_id: t.task } }),
  },
  {
    name: 'KPS DeleteFailedTask',
    call: (t) =>
      kps({ method: 'DELETE', url: '/v3/{project_id}/failed-tasks/{task_id}', pathParams: { task_id: t.task } }),
  },
  {
    name: "KPS ListKeypairs in A's project",
    call: (t) => kps({ method: 'GET', url: '/v3/{project_id}/keypairs' }, t.project),
  },
  {
    name: "KPS ListKeypairDetail in A's project",
    call: (t) =>
      kps(
        { method: 'GET', url: '/v3/{project_id}/keypairs/{keypair_name}', pathParams: { keypair_name: A.kp } },
        t.project,
      ),
  },
  {
    name: 'Nova show os-keypair',
    call: (t) =>
      kps({ method: 'GET', url: '/v2.1/{project_id}/os-keypairs/{keypair_name}', pathParams: { keypair_name: t.kp } }),
  },
  {
    name: 'Nova delete os-keypair',
    call: (t) =>
      kps({
        method: 'DELETE',
        url: '/v2.1/{project_id}/os-keypairs/{keypair_name}',
        pathParams: { keypair_name: t.kp },
      }),
  },
  // native
  { name: 'native GET key pair', call: (t) => nativeAnswer(b, 'GET', `/api/v1/regions/${REGION}/key-pairs/${t.kp}`) },
  {
    name: 'native PATCH key pair',
    call: (t) => nativeAnswer(b, 'PATCH', `/api/v1/regions/${REGION}/key-pairs/${t.kp}`, { description: 'hijacked' }),
  },
  {
    name: 'native DELETE key pair',
    call: (t) => nativeAnswer(b, 'DELETE', `/api/v1/regions/${REGION}/key-pairs/${t.kp}`),
  },
  { name: 'native GET instance', call: (t) => nativeAnswer(b, 'GET', `/api/v1/instances/${t.inst}`) },
  { name: 'native GET instance history', call: (t) => nativeAnswer(b, 'GET', `/api/v1/instances/${t.inst}/history`) },
  { name: 'native start', call: (t) => nativeAnswer(b, 'POST', `/api/v1/instances/${t.inst}/start`) },
  { name: 'native stop', call: (t) => nativeAnswer(b, 'POST', `/api/v1/instances/${t.inst}/stop`) },
  { name: 'native restart', call: (t) => nativeAnswer(b, 'POST', `/api/v1/instances/${t.inst}/restart`) },
  {
    name: 'native reset-password',
    call: (t) =>
      nativeAnswer(b, 'POST', `/api/v1/instances/${t.inst}/reset-password`, { password: 'Hijack-Pass-0001!' }),
  },
  { name: 'native DELETE instance', call: (t) => nativeAnswer(b, 'DELETE', `/api/v1/instances/${t.inst}?force=true`) },
  {
    name: "native bind (A's key pair, A's instance)",
    call: (t) =>
      nativeAnswer(b, 'POST', `/api/v1/regions/${REGION}/bindings`, {
        action: 'bind',
        keyPairName: t.kp,
        instanceIds: [t.inst],
        wait: true,
      }),
  },
  {
    name: "native bind (B's key pair, A's instance)",
    call: (t) =>
      nativeAnswer(b, 'POST', `/api/v1/regions/${REGION}/bindings`, {
        action: 'bind',
        keyPairName: B.kp,
        instanceIds: [t.inst],
        wait: true,
      }),
  },
  {
    name: "native unbind (A's key pair, A's instance)",
    call: (t) =>
      nativeAnswer(b, 'POST', `/api/v1/regions/${REGION}/bindings`, {
        action: 'unbind',
        keyPairName: t.kp,
        instanceIds: [t.inst],
        wait: true,
      }),
  },
  { name: 'native GET task', call: (t) => nativeAnswer(b, 'GET', `/api/v1/tasks/${t.task}`) },
  { name: 'native GET task items', call: (t) => nativeAnswer(b, 'GET', `/api/v1/tasks/${t.task}/items`) },
  { name: 'native DELETE task', call: (t) => nativeAnswer(b, 'DELETE', `/api/v1/tasks/${t.task}`) },
];

describe("account B guessing account A's identifiers", () => {
  let before: string;
  it("A's state before", async () => {
    before = await stateOfA();
  });
  for (const g of GUESSES) {
    it(`${g.name}: answered exactly like a made-up identifier`, async () => {
      const guessed = shape(await g.call(target()));
      const nothing = shape(await g.call(madeUp()));
      assert.deepEqual(guessed, nothing);
      assert.ok((guessed as { status: number }).status !== 500, j(guessed));
    });
  }
  it("A's state is unchanged", async () => {
    // Give anything B may have started (a task, a boot) time to show.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await stateOfA(), before);
    const stillBound = (await a.call('GET', `/api/v1/instances/${A.inst}`)).instance;
    assert.equal(stillBound.keyPairName, A.kp);
    assert.equal(stillBound.status, 'Running');
  });
});

describe("B's lists never show A's resources", () => {
  const aNames = () => [
    A.kp,
    A.kpUnbound,
    A.kpSecret,
    A.inst,
    A.instStopped,
    A.task,
    'a-vm',
    'a-private-description-7731',
  ];
  const showsNoneOfA = (label: string, body: unknown) => {
    const text = JSON.stringify(body);
    for (const n of aNames()) assert.ok(!text.includes(n), `${label} shows A's ${n}`);
  };
  it('ECS DescribeKeyPairs / DescribeInstances', async () => {
    const kpsList = await ecs('DescribeKeyPairs', { RegionId: REGION, PageSize: '50' });
    assert.deepEqual(
      kpsList.body.KeyPairs.KeyPair.map((k: any) => k.KeyPairName),
      [B.kp],
    );
    showsNoneOfA('DescribeKeyPairs', kpsList.body);
    const inst = await ecs('DescribeInstances', { RegionId: REGION, PageSize: '50' });
    assert.deepEqual(
      inst.body.Instances.Instance.map((i: any) => i.InstanceId),
      [B.inst],
    );
    showsNoneOfA('DescribeInstances', inst.body);
  });
  it('KPS ListKeypairs, running/failed tasks and Nova list', async () => {
    const list = await kps({ method: 'GET', url: '/v3/{project_id}/keypairs' });
    assert.deepEqual(
      list.body.keypairs.map((k: any) => k.keypair.name),
      [B.kp],
    );
    for (const [label, url] of [
      ['KPS ListKeypairs', '/v3/{project_id}/keypairs'],
      ['running tasks', '/v3/{project_id}/running-tasks'],
      ['failed tasks', '/v3/{project_id}/failed-tasks'],
      ['Nova list', '/v2.1/{project_id}/os-keypairs'],
    ] as const) {
      const r = await kps({ method: 'GET', url });
      assert.equal(r.status, 200, `${label}: ${j(r)}`);
      // B's own failed tasks name the server B guessed (its own input, failed as unknown); nothing else of A's.
      const ownGuesses = JSON.stringify(r.body).replaceAll(A.inst, 'guessed');
      showsNoneOfA(label, JSON.parse(ownGuesses));
    }
  });
  it('native key pairs, instances, tasks and audit', async () => {
    const kpList = await b.call('GET', `/api/v1/regions/${REGION}/key-pairs`);
    assert.deepEqual(
      kpList.keyPairs.map((k: any) => k.name),
      [B.kp],
    );
    for (const p of [
      `/api/v1/regions/${REGION}/key-pairs`,
      `/api/v1/regions/${REGION}/instances`,
      '/api/v1/tasks',
      `/api/v1/regions/${REGION}/instances?search=a-vm`,
      `/api/v1/regions/${REGION}/key-pairs?name=a-*`,
    ]) {
      showsNoneOfA(p, await b.call('GET', p));
    }
    // B's audit holds B's own attempts (naming what B guessed), never A's actions: A's private description, A's
    // escrowed key pair and the stopped instance were only ever touched by A.
    const audit = await b.call('GET', '/api/v1/audit?limit=1000');
    const text = JSON.stringify(audit);
    for (const n of [A.instStopped, 'a-private-description-7731', 'a-vm'])
      assert.ok(!text.includes(n), `B's audit shows A's ${n}`);
    assert.ok(
      !text.includes(`key-pairs/${A.kpUnbound}`) && !text.includes(`keypair/${A.kpUnbound}`),
      "B's audit shows A's key pair",
    );
  });
});

describe("account B guessing account A's user groups (native API)", () => {
  const G = 'a-team';
  const stateOfGroups = async () =>
    JSON.stringify([
      await a.call('GET', '/api/v1/groups'),
      await a.call('GET', `/api/v1/groups/${G}`),
      await a.call('GET', '/api/v1/users/a-member/groups'),
    ]);
  let before = '';
  it('A has a group with a member and a policy', async () => {
    await a.call('POST', '/api/v1/users', { name: 'a-member' });
    await a.call('POST', '/api/v1/policies', {
      name: 'a-policy',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
    await a.call('POST', '/api/v1/groups', { name: G, description: 'a-private-group-description' });
    await a.call('PUT', `/api/v1/groups/${G}/members/a-member`);
    await a.call('PUT', `/api/v1/groups/${G}/policies/a-policy`);
    // B has a user and a policy named like A's, so only the group's name decides
    await b.call('POST', '/api/v1/users', { name: 'a-member' });
    await b.call('POST', '/api/v1/policies', {
      name: 'a-policy',
      document: { Statement: [{ Effect: 'Allow', Action: 'keypair:Describe', Resource: '*' }] },
    });
    before = await stateOfGroups();
  });
  const GROUP_GUESSES: Array<[string, string, unknown?]> = [
    ['GET', '/api/v1/groups/{g}'],
    ['DELETE', '/api/v1/groups/{g}'],
    ['PUT', '/api/v1/groups/{g}/members/a-member'],
    ['DELETE', '/api/v1/groups/{g}/members/a-member'],
    ['PUT', '/api/v1/groups/{g}/policies/a-policy'],
    ['DELETE', '/api/v1/groups/{g}/policies/a-policy'],
  ];
  for (const [method, path, body] of GROUP_GUESSES) {
    it(`native ${method} ${path}: answered exactly like a made-up group name`, async () => {
      const guessed = shape(await nativeAnswer(b, method, path.replace('{g}', G), body));
      const nothing = shape(await nativeAnswer(b, method, path.replace('{g}', 'zz-nobody-has-this-group'), body));
      assert.deepEqual(guessed, nothing);
      assert.deepEqual(guessed, shape({ status: 404, code: 'Group.NotFound' }));
    });
  }
  it("B's group list and its users' groups show nothing of A's; A's group is unchanged", async () => {
    const text = JSON.stringify([
      await b.call('GET', '/api/v1/groups'),
      await b.call('GET', '/api/v1/users/a-member/groups'),
    ]);
    assert.ok(!text.includes(G) && !text.includes('a-private-group-description'), text);
    // the same name is free in B's account, and B's group is B's own
    await b.call('POST', '/api/v1/groups', { name: G });
    assert.deepEqual((await b.call('GET', `/api/v1/groups/${G}`)).members, []);
    assert.equal(await stateOfGroups(), before);
  });
});
