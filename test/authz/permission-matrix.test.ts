/**
 * The permission matrix (issue 6): ONE table with a row for every operation every face serves. For each row
 * that policies govern, four cases: (a) a user whose only policy allows exactly that action on the right
 * resources succeeds; (b) without a policy, (c) with the allow plus an explicit Deny, (d) with an allow on a
 * resource that does not match, it is refused with the face's own code and nothing changes. Operations that are
 * open to every authenticated user, or reserved to administrators, have rows of their own kind. The test fails
 * when a face serves an operation that has no row (read from the ECS action list and Fastify's route tree).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ECS_ACTION_NAMES } from '../../src/api/ecs/action-names.js';
import { findAction } from '../../src/api/ecs/actions/registry.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import type { Action } from '../../src/core/authz/actions.js';
import { actionNameTable } from '../../src/core/authz/action-names.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { projectIdOf } from '../kps/support/huawei.js';
import { type Answer, nativeAnswer, type Principal, principal, type Statement, unique } from './support/principals.js';
import { registeredRoutes } from './support/routes.js';
import { startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const PW = 'Root-Pass-0001!';
const arn = (type: string, id: string) => `acs:ecs:*:*:${type}/${id}`;

interface World {
  admin: Api;
  url: string;
  pid: string;
  image: string;
  instanceType: string;
}
/** What a case's setup created: the resources a call names, and what to observe for "nothing changed". */
interface State {
  kp?: string;
  kp2?: string;
  inst?: string;
  task?: string;
  /** A resource group (issue 20). */
  group?: string;
  publicKey?: string;
  privateKey?: string;
  observe: {
    keyPairs?: string[];
    instances?: string[];
    tasks?: string[];
    instanceCount?: boolean;
    taskCount?: boolean;
    /** The account's resource groups (issue 20). */
    groups?: boolean;
  };
}

type Face = 'ecs' | 'kps' | 'native';
interface PolicyRow {
  kind: 'policy';
  face: Face;
  /** ECS action name, or `METHOD /route` as the face registers it. */
  op: string;
  variant?: string;
  /** The policy actions the user is granted, in the face's vocabulary (more than one only where the face composes). */
  actions: string[];
  /**
   * The core action recorded when the call is MUTATING (src/core/facade.ts passes `mutating: true` to the auditor);
   * absent for reads, which the auditor records only when denied.
   */
  audits?: Action;
  setup: (w: World) => Promise<State>;
  /** Resources of the allow in case (a); (d) allows `wrong` instead. */
  allow: (s: State) => string[];
  wrong: (s: State) => string[];
  call: (p: Principal, s: State, w: World) => Promise<Answer>;
}
/** Served to every authenticated caller (catalog, identity discovery): a user with no policy gets a 2xx. */
interface OpenRow {
  kind: 'open';
  face: Face;
  op: string;
  why: string;
  call?: (p: Principal, w: World) => Promise<Answer>;
}
/** Reserved to account administrators: a user allowed everything by policy is still refused. */
interface AdminRow {
  kind: 'admin';
  face: Face;
  op: string;
  call: (p: Principal, w: World) => Promise<Answer>;
}
type Row = PolicyRow | OpenRow | AdminRow;

// -- setups ------------------------------------------------------------------------------------------------------

async function newKeyPair(w: World): Promise<{ name: string; publicKey: string; privateKey: string }> {
  const name = unique('kp');
  const r = await w.admin.createKeyPair(name, 'ed25519');
  return { name, publicKey: r.keyPair.publicKey, privateKey: r.privateKey };
}
async function newInstance(w: World): Promise<string> {
  const [id] = await w.admin.run({
    imageId: w.image,
    instanceType: w.instanceType,
    amount: 1,
    password: PW,
    name: unique('vm'),
  });
  await w.admin.waitStatus([id!], 'Running');
  return id!;
}
async function failedTask(w: World, kp: string): Promise<string> {
  const r = await w.admin.bind({ action: 'bind', keyPairName: kp, instanceIds: ['i-doesnotexist0000000'] });
  return r.task.id;
}
const sKp = async (w: World): Promise<State> => {
  const k = await newKeyPair(w);
  return { kp: k.name, publicKey: k.publicKey, privateKey: k.privateKey, observe: { keyPairs: [k.name] } };
};
const sNewName = async (w: World): Promise<State> => {
  const k = await newKeyPair(w); // only for its public key; the call names a fresh key pair
  const kp = unique('new');
  return { kp, publicKey: k.publicKey, privateKey: k.privateKey, observe: { keyPairs: [kp] } };
};
const sInst = async (w: World): Promise<State> => {
  const inst = await newInstance(w);
  return { inst, observe: { instances: [inst] } };
};
const sKpInst = async (w: World): Promise<State> => {
  const [k, inst] = await Promise.all([newKeyPair(w), newInstance(w)]);
  return { kp: k.name, inst, observe: { keyPairs: [k.name], instances: [inst] } };
};
const sBound = async (w: World): Promise<State> => {
  const s = await sKpInst(w);
  await w.admin.bind({ action: 'bind', keyPairName: s.kp, instanceIds: [s.inst] });
  return s;
};
const sEscrowed = async (w: World): Promise<State> => {
  const s = await sKp(w);
  await w.admin.call('PUT', `/api/v1/regions/${REGION}/key-pairs/${s.kp}/escrow`, { privateKey: s.privateKey });
  return s;
};
const sTask = async (w: World): Promise<State> => {
  const k = await newKeyPair(w);
  const task = await failedTask(w, k.name);
  return { kp: k.name, task, observe: { tasks: [task], taskCount: true } };
};
const sTasks = async (w: World): Promise<State> => ({ ...(await sTask(w)), observe: { taskCount: true } });
const sNothing = async (): Promise<State> => ({ observe: {} });
/**
 * Key pair A bound to an instance, and key pair B: what a rotation names. Open rotations of earlier cases are
 * cancelled first (an account may have 20 open at once).
 */
const sRotatable = async (w: World): Promise<State> => {
  const open = await w.admin.call('GET', '/api/v1/rotations?limit=100');
  for (const r of open.rotations)
    if (['running', 'paused', 'stopped'].includes(r.status))
      await w.admin.call('POST', `/api/v1/rotations/${r.id}/cancel`).catch(() => undefined);
  const s = await sBound(w);
  const b = await newKeyPair(w);
  return { ...s, kp2: b.name, observe: { ...s.observe, keyPairs: [s.kp!, b.name] } };
};
/** A rotation (its id in `task`) of two instances, waiting an hour after its canary; paused if asked. */
const sRotation =
  (status: 'running' | 'paused') =>
  async (w: World): Promise<State> => {
    const s = await sRotatable(w);
    const second = await newInstance(w);
    await w.admin.bind({ action: 'bind', keyPairName: s.kp, instanceIds: [second] });
    const r = await w.admin.call('POST', `/api/v1/regions/${REGION}/rotations`, {
      fromKeyPairName: s.kp,
      toKeyPairName: s.kp2,
      mode: 'on-restart',
      waveSize: 1,
      pauseSeconds: 3600,
    });
    if (status === 'paused') await w.admin.call('POST', `/api/v1/rotations/${r.rotation.id}/pause`, {});
    return { ...s, task: r.rotation.id, observe: { keyPairs: [s.kp!, s.kp2!] } };
  };
const KP_PAIR = (s: State) => [arn('keypair', s.kp!), arn('keypair', s.kp2!)];
/** A registered host (one real harness sshd; an address is registered once, so the previous case's goes first). */
let matrixHost: TestHost | undefined;
let lastHostId: string | undefined;
const sHost = async (w: World): Promise<State> => {
  matrixHost ??= (await startHosts(1, { user: 'kfm' }))[0]!;
  if (lastHostId) await w.admin.call('DELETE', `/api/v1/instances/${lastHostId}`);
  const r = await w.admin.call('POST', `/api/v1/regions/${REGION}/hosts`, {
    name: unique('host'),
    address: matrixHost.address,
    port: matrixHost.port,
    loginUser: matrixHost.user,
  });
  lastHostId = r.instance.id as string;
  return { inst: lastHostId, observe: { instances: [lastHostId] } };
};

/** A planned revocation of a fresh key pair (issue 19), by the administrator; `task` holds its id. */
const sRevocation = async (w: World): Promise<State> => {
  const s = await sKp(w);
  const r = await w.admin.call('POST', `/api/v1/regions/${REGION}/revocations`, { keyPairName: s.kp });
  return { ...s, task: r.revocation.id };
};

const KP = (s: State) => [arn('keypair', s.kp!)];
const KP_ANY = () => [arn('keypair', '*')];
const INST = (s: State) => [arn('instance', s.inst!)];
const INST_ANY = () => [arn('instance', '*')];
const KP_INST = (s: State) => [arn('keypair', s.kp!), arn('instance', s.inst!)];
const TASK = (s: State) => [arn('task', s.task!)];
const TASK_ANY = () => [arn('task', '*')];
const OTHER_KP = () => [arn('keypair', 'zz-not-this-one')];
const OTHER_INST = () => [arn('instance', 'i-zznotthisone0000000')];
const OTHER_TASK = () => [arn('task', '00000000-0000-0000-0000-000000000000')];
/** Region-scoped list calls name `{type}/*` in the region: an allow for another region does not match. */
const OTHER_REGION = (type: string) => () => [`acs:ecs:ap-southeast-1:*:${type}/*`];

const json = (v: unknown) => JSON.stringify(v);
const nv = (method: string, path: (s: State) => string, body?: (s: State) => unknown) => (p: Principal, s: State) =>
  nativeAnswer(p.native, method, path(s), body?.(s));
const kpsOp =
  (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    extra: (s: State) => { pathParams?: Record<string, string>; data?: unknown } = () => ({}),
  ) =>
  (p: Principal, s: State) =>
    p.kps({ method, url, ...extra(s) });

/**
 * KPS binding calls answer with a task id; the core authorizes each instance when it makes the task, so a refused
 * instance shows as a task item failed with Auth.Forbidden: wait for the task and report that as the face's refusal.
 */
const withTaskOutcome =
  (call: (p: Principal, s: State) => Promise<Answer>) =>
  async (p: Principal, s: State): Promise<Answer> => {
    const a = await call(p, s);
    const id = a.body?.task_id;
    if (a.status >= 300 || !id) return a;
    const done = await world.admin.call('GET', `/api/v1/tasks/${id}`).then(async (t) => {
      for (let n = 0; !t.task.finishedAt && n < 400; n++)
        t = await new Promise((r) => setTimeout(r, 25)).then(() => world.admin.call('GET', `/api/v1/tasks/${id}`));
      return world.admin.call('GET', `/api/v1/tasks/${id}/items`);
    });
    return { ...a, itemCodes: done.items.map((i: any) => (i.errorCode === 'Auth.Forbidden' ? 'KPS.9003' : '200')) };
  };

// Tags and resource groups (issue 20).
const tagBody = (s: State) => ({ resourceType: 'keypair', resourceIds: [s.kp], tags: [{ key: 'k', value: 'v' }] });
const sKpTagged = async (w: World): Promise<State> => {
  const s = await sKp(w);
  await w.admin.call('POST', `/api/v1/regions/${REGION}/tags`, tagBody(s));
  return s;
};
const sGroup = async (w: World): Promise<State> => {
  const g = await w.admin.call('POST', '/api/v1/resource-groups', { name: unique('rg') });
  return { group: g.id, observe: { groups: true } };
};
const sKpGroup = async (w: World): Promise<State> => {
  const s = await sKp(w);
  const g = await sGroup(w);
  return { ...s, group: g.group, observe: { keyPairs: [s.kp!], groups: true } };
};
const GROUP = (s: State) => [arn('resourcegroup', s.group!)];
const GROUP_ANY = () => [arn('resourcegroup', '*')];
const OTHER_GROUP = () => [arn('resourcegroup', 'rg-zznotthisone')];
const KP_GROUP = (s: State) => [arn('keypair', s.kp!), arn('resourcegroup', s.group!)];

const TAG_ROWS: Row[] = [
  {
    kind: 'policy',
    face: 'ecs',
    op: 'TagResources',
    actions: ['ecs:TagResources'],
    audits: 'tag:Create',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: (p, s) =>
      p.ecs('TagResources', {
        RegionId: REGION,
        ResourceType: 'keypair',
        'ResourceId.1': s.kp!,
        'Tag.1.Key': 'k',
        'Tag.1.Value': 'v',
      }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'UntagResources',
    actions: ['ecs:UntagResources'],
    audits: 'tag:Delete',
    setup: sKpTagged,
    allow: KP,
    wrong: OTHER_KP,
    call: (p, s) =>
      p.ecs('UntagResources', { RegionId: REGION, ResourceType: 'keypair', 'ResourceId.1': s.kp!, All: 'true' }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'ListTagResources',
    actions: ['ecs:ListTagResources'],
    setup: sKpTagged,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: (p) => p.ecs('ListTagResources', { RegionId: REGION, ResourceType: 'keypair' }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'JoinResourceGroup',
    actions: ['ecs:JoinResourceGroup'],
    audits: 'resourcegroup:Join',
    setup: sKpGroup,
    allow: KP_GROUP,
    wrong: OTHER_KP,
    call: (p, s) =>
      p.ecs('JoinResourceGroup', {
        RegionId: REGION,
        ResourceType: 'keypair',
        ResourceId: s.kp!,
        ResourceGroupId: s.group!,
      }),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/tags',
    actions: ['tag:Create'],
    audits: 'tag:Create',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv('POST', () => `/api/v1/regions/${REGION}/tags`, tagBody),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/tags/remove',
    actions: ['tag:Delete'],
    audits: 'tag:Delete',
    setup: sKpTagged,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/tags/remove`,
      (s) => ({ resourceType: 'keypair', resourceIds: [s.kp], all: true }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions/:regionId/tags',
    actions: ['tag:Describe'],
    setup: sKpTagged,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: nv('GET', () => `/api/v1/regions/${REGION}/tags?resourceType=keypair`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/resource-groups',
    actions: ['resourcegroup:Create'],
    audits: 'resourcegroup:Create',
    setup: async () => ({ observe: { groups: true } }),
    allow: GROUP_ANY,
    wrong: OTHER_GROUP,
    call: nv(
      'POST',
      () => '/api/v1/resource-groups',
      () => ({ name: unique('rg') }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/resource-groups/:id',
    actions: ['resourcegroup:Describe'],
    setup: sGroup,
    allow: GROUP,
    wrong: OTHER_GROUP,
    call: nv('GET', (s) => `/api/v1/resource-groups/${s.group}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'PATCH /api/v1/resource-groups/:id',
    actions: ['resourcegroup:Update'],
    audits: 'resourcegroup:Update',
    setup: sGroup,
    allow: GROUP,
    wrong: OTHER_GROUP,
    call: nv(
      'PATCH',
      (s) => `/api/v1/resource-groups/${s.group}`,
      () => ({ name: unique('renamed') }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'DELETE /api/v1/resource-groups/:id',
    actions: ['resourcegroup:Delete'],
    audits: 'resourcegroup:Delete',
    setup: sGroup,
    allow: GROUP,
    wrong: OTHER_GROUP,
    call: nv('DELETE', (s) => `/api/v1/resource-groups/${s.group}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/resource-groups/:id/members',
    actions: ['resourcegroup:Join'],
    audits: 'resourcegroup:Join',
    setup: sKpGroup,
    allow: KP_GROUP,
    wrong: OTHER_KP,
    call: nv(
      'POST',
      (s) => `/api/v1/resource-groups/${s.group}/members`,
      (s) => ({ regionId: REGION, resourceType: 'keypair', resourceId: s.kp }),
    ),
  }, // Huawei KPS key pair tags: Huawei names no policy action for them, so policies use the core's names.
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/:keypair_name/tags',
    actions: ['tag:Create'],
    audits: 'tag:Create',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/{resource_id}/tags', (s) => ({
      pathParams: { resource_id: s.kp! },
      data: { tag: { key: 'k', value: 'v' } },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/:keypair_name/tags/create',
    actions: ['tag:Create'],
    audits: 'tag:Create',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/{resource_id}/tags/create', (s) => ({
      pathParams: { resource_id: s.kp! },
      data: { tags: [{ key: 'k', value: 'v' }] },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/:keypair_name/tags/delete',
    actions: ['tag:Delete'],
    audits: 'tag:Delete',
    setup: sKpTagged,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/{resource_id}/tags/delete', (s) => ({
      pathParams: { resource_id: s.kp! },
      data: { tags: [{ key: 'k', value: 'v' }] },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v3/:project_id/keypairs/:keypair_name/tags/:key',
    actions: ['tag:Delete'],
    audits: 'tag:Delete',
    setup: sKpTagged,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('DELETE', '/v3/{project_id}/keypairs/{resource_id}/tags/{key}', (s) => ({
      pathParams: { resource_id: s.kp!, key: 'k' },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/keypairs/:keypair_name/tags',
    actions: ['tag:Describe'],
    setup: sKpTagged,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: kpsOp('GET', '/v3/{project_id}/keypairs/{resource_id}/tags', (s) => ({ pathParams: { resource_id: s.kp! } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/keypairs/tags',
    actions: ['tag:Describe'],
    setup: sKpTagged,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: kpsOp('GET', '/v3/{project_id}/keypairs/tags'),
  },
  // Key pairs filtered by tags: a key pair listing, under keypair:Describe (Huawei's and the brief's spellings).
  ...(['resource-instances', 'resource_instances'] as const).flatMap((segment): Row[] =>
    (['filter', 'count'] as const).map((verb) => ({
      kind: 'policy',
      face: 'kps',
      op: `POST /v3/:project_id/keypairs/${segment}/${verb}`,
      actions: [verb === 'filter' ? 'kps:SSHKeyPair:list' : 'keypair:Describe'],
      setup: sKpTagged,
      allow: KP_ANY,
      wrong: OTHER_REGION('keypair'),
      call: kpsOp('POST', `/v3/{project_id}/keypairs/${segment}/${verb}`, () => ({
        data: { tags: [{ key: 'k', values: ['v'] }] },
      })),
    })),
  ),
];

// -- THE table ---------------------------------------------------------------------------------------------------

const TABLE: Row[] = [
  ...TAG_ROWS,
  // ECS (Alibaba RPC; RAM action names)
  {
    kind: 'policy',
    face: 'ecs',
    op: 'CreateKeyPair',
    actions: ['ecs:CreateKeyPair'],
    audits: 'keypair:Create',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: (p, s) => p.ecs('CreateKeyPair', { RegionId: REGION, KeyPairName: s.kp! }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'ImportKeyPair',
    actions: ['ecs:ImportKeyPair'],
    audits: 'keypair:Import',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: (p, s) => p.ecs('ImportKeyPair', { RegionId: REGION, KeyPairName: s.kp!, PublicKeyBody: s.publicKey! }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DescribeKeyPairs',
    actions: ['ecs:DescribeKeyPairs'],
    setup: sKp,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: (p) => p.ecs('DescribeKeyPairs', { RegionId: REGION }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DeleteKeyPairs',
    actions: ['ecs:DeleteKeyPairs'],
    audits: 'keypair:Delete',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: (p, s) => p.ecs('DeleteKeyPairs', { RegionId: REGION, KeyPairNames: json([s.kp]) }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'AttachKeyPair',
    actions: ['ecs:AttachKeyPair'],
    audits: 'keypair:Bind',
    setup: sKpInst,
    allow: KP_INST,
    wrong: (s) => [...OTHER_KP(), arn('instance', s.inst!)],
    call: (p, s) => p.ecs('AttachKeyPair', { RegionId: REGION, KeyPairName: s.kp!, InstanceIds: json([s.inst]) }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'AttachKeyPair',
    variant: 'instance not allowed',
    actions: ['ecs:AttachKeyPair'],
    audits: 'keypair:Bind',
    setup: sKpInst,
    allow: KP_INST,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_INST()],
    call: (p, s) => p.ecs('AttachKeyPair', { RegionId: REGION, KeyPairName: s.kp!, InstanceIds: json([s.inst]) }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DetachKeyPair',
    actions: ['ecs:DetachKeyPair'],
    audits: 'keypair:Unbind',
    setup: sBound,
    allow: KP_INST,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_INST()],
    call: (p, s) => p.ecs('DetachKeyPair', { RegionId: REGION, KeyPairName: s.kp!, InstanceIds: json([s.inst]) }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'RunInstances',
    actions: ['ecs:RunInstances'],
    audits: 'instance:Create',
    setup: async () => ({ observe: { instanceCount: true } }),
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    call: (p, _s, w) =>
      p.ecs('RunInstances', { RegionId: REGION, ImageId: w.image, InstanceType: w.instanceType, Amount: '1' }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DescribeInstances',
    actions: ['ecs:DescribeInstances'],
    setup: sInst,
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    call: (p) => p.ecs('DescribeInstances', { RegionId: REGION }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'StartInstance',
    actions: ['ecs:StartInstance'],
    audits: 'instance:Start',
    setup: async (w) => {
      const s = await sInst(w);
      await w.admin.call('POST', `/api/v1/instances/${s.inst}/stop`);
      await w.admin.waitStatus([s.inst!], 'Stopped');
      return s;
    },
    allow: INST,
    wrong: OTHER_INST,
    call: (p, s) => p.ecs('StartInstance', { InstanceId: s.inst! }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'StopInstance',
    actions: ['ecs:StopInstance'],
    audits: 'instance:Stop',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: (p, s) => p.ecs('StopInstance', { InstanceId: s.inst! }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'RebootInstance',
    actions: ['ecs:RebootInstance'],
    audits: 'instance:Reboot',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: (p, s) => p.ecs('RebootInstance', { InstanceId: s.inst! }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'ModifyInstanceAttribute',
    actions: ['ecs:ModifyInstanceAttribute'],
    audits: 'instance:ResetPassword',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: (p, s) => p.ecs('ModifyInstanceAttribute', { InstanceId: s.inst!, Password: 'New-Pass-0002!' }),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DeleteInstance',
    actions: ['ecs:DeleteInstance'],
    audits: 'instance:Delete',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: (p, s) => p.ecs('DeleteInstance', { InstanceId: s.inst!, Force: 'true' }),
  },
  // The catalog goes through the core's catalog use cases (region:Describe, image:Describe).
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DescribeRegions',
    actions: ['ecs:DescribeRegions'],
    setup: sNothing,
    allow: () => [arn('region', '*')],
    wrong: () => [arn('region', 'zz')],
    call: (p) => p.ecs('DescribeRegions'),
  },
  {
    kind: 'policy',
    face: 'ecs',
    op: 'DescribeImages',
    actions: ['ecs:DescribeImages'],
    setup: sNothing,
    allow: () => [arn('image', '*')],
    wrong: OTHER_REGION('image'),
    call: (p) => p.ecs('DescribeImages', { RegionId: REGION }),
  },

  // KPS v3 (Huawei identity-policy actions)
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs',
    actions: ['kps:SSHKeyPair:create'],
    audits: 'keypair:Create',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs', (s) => ({ data: { keypair: { name: s.kp } } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/batch-import',
    actions: ['kps:SSHKeyPair:create'],
    audits: 'keypair:Import',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: async (p, s) => {
      const a = await p.kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/batch-import',
        data: [{ keypair: { name: s.kp, public_key: s.publicKey } }],
      });
      // Huawei's per-item result carries a reason, no code: a refused item is reported as the face's code.
      const failed = a.body?.failed_keypairs;
      return Array.isArray(failed) && failed.length
        ? {
            status: a.status,
            itemCodes: failed.map((f: any) =>
              /not allowed to perform|explicitly denied/.test(f.failed_reason) ? 'KPS.9003' : f.failed_reason,
            ),
            body: a.body,
          }
        : a;
    },
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/keypairs',
    actions: ['kps:SSHKeyPair:list'],
    setup: sKp,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: kpsOp('GET', '/v3/{project_id}/keypairs'),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/keypairs/:keypair_name',
    actions: ['kps:SSHKeyPair:get'],
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('GET', '/v3/{project_id}/keypairs/{keypair_name}', (s) => ({ pathParams: { keypair_name: s.kp! } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'PUT /v3/:project_id/keypairs/:keypair_name',
    actions: ['kps:SSHKeyPair:update'],
    audits: 'keypair:Update',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('PUT', '/v3/{project_id}/keypairs/{keypair_name}', (s) => ({
      pathParams: { keypair_name: s.kp! },
      data: { keypair: { description: 'changed' } },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v3/:project_id/keypairs/:keypair_name',
    actions: ['kps:SSHKeyPair:delete'],
    audits: 'keypair:Delete',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('DELETE', '/v3/{project_id}/keypairs/{keypair_name}', (s) => ({ pathParams: { keypair_name: s.kp! } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/associate',
    actions: ['kps:SSHKeyPair:bind'],
    audits: 'keypair:Bind',
    setup: sKpInst,
    allow: KP_INST,
    wrong: (s) => [...OTHER_KP(), arn('instance', s.inst!)],
    call: withTaskOutcome(
      kpsOp('POST', '/v3/{project_id}/keypairs/associate', (s) => ({
        data: { keypair_name: s.kp, server: { id: s.inst, auth: { type: 'password', key: PW } } },
      })),
    ),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/batch-associate',
    actions: ['kps:SSHKeyPair:bind'],
    audits: 'keypair:Bind',
    setup: sKpInst,
    allow: KP_INST,
    wrong: (s) => [...OTHER_KP(), arn('instance', s.inst!)],
    call: async (p, s) => {
      const a = await p.kps({
        method: 'POST',
        url: '/v3/{project_id}/keypairs/batch-associate',
        data: { batch_keypairs: [{ keypair_name: s.kp, server: { id: s.inst, auth: { type: 'password', key: PW } } }] },
      });
      // One result per server; like task_error_code, a failed server carries the core's code (Auth.Forbidden).
      const tasks = a.body?.tasks;
      return Array.isArray(tasks)
        ? {
            ...a,
            itemCodes: tasks.map((t: any) =>
              t.status === 'SUCCESS' ? '200' : t.error_code === 'Auth.Forbidden' ? 'KPS.9003' : t.error_code,
            ),
          }
        : a;
    },
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/disassociate',
    actions: ['kps:SSHKeyPair:unbind'],
    audits: 'keypair:Unbind',
    setup: sBound,
    allow: KP_INST,
    wrong: (s) => [...OTHER_KP(), arn('instance', s.inst!)],
    call: withTaskOutcome(
      kpsOp('POST', '/v3/{project_id}/keypairs/disassociate', (s) => ({
        data: { server: { id: s.inst, auth: { type: 'password', key: PW } } },
      })),
    ),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/tasks/:task_id',
    actions: ['kps:SSHKeyPair:getTask'],
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: kpsOp('GET', '/v3/{project_id}/tasks/{task_id}', (s) => ({ pathParams: { task_id: s.task! } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/running-tasks',
    actions: ['kps:SSHKeyPair:getTask'],
    setup: sTasks,
    allow: TASK_ANY,
    wrong: OTHER_REGION('task'),
    call: kpsOp('GET', '/v3/{project_id}/running-tasks'),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v3/:project_id/failed-tasks',
    actions: ['kps:SSHKeyPair:getTask'],
    setup: sTasks,
    allow: TASK_ANY,
    wrong: OTHER_REGION('task'),
    call: kpsOp('GET', '/v3/{project_id}/failed-tasks'),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v3/:project_id/failed-tasks/:task_id',
    actions: ['kps:SSHKeyPair:deleteTask'],
    audits: 'task:Delete',
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: kpsOp('DELETE', '/v3/{project_id}/failed-tasks/{task_id}', (s) => ({ pathParams: { task_id: s.task! } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v3/:project_id/failed-tasks',
    actions: ['kps:SSHKeyPair:deleteTask'],
    audits: 'task:Delete',
    setup: sTasks,
    allow: TASK_ANY,
    wrong: OTHER_REGION('task'),
    call: kpsOp('DELETE', '/v3/{project_id}/failed-tasks'),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/private-key/export',
    actions: ['kps:SSHKeyPair:exportPrivateKey'],
    audits: 'keypair:ExportPrivateKey',
    setup: sEscrowed,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/private-key/export', (s) => ({ data: { keypair: { name: s.kp } } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/private-key/batch-export',
    actions: ['kps:SSHKeyPair:exportPrivateKey'],
    audits: 'keypair:ExportPrivateKey',
    setup: sEscrowed,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/private-key/batch-export', (s) => ({
      data: [{ keypair: { name: s.kp } }],
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v3/:project_id/keypairs/private-key/import',
    actions: ['kps:SSHKeyPair:importPrivateKey'],
    audits: 'keypair:ImportPrivateKey',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v3/{project_id}/keypairs/private-key/import', (s) => ({
      data: { keypair: { name: s.kp, key_protection: { private_key: s.privateKey } } },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v3/:project_id/keypairs/:keypair_name/private-key',
    actions: ['kps:SSHKeyPair:clearPrivateKey'],
    audits: 'keypair:ClearPrivateKey',
    setup: sEscrowed,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('DELETE', '/v3/{project_id}/keypairs/{keypair_name}/private-key', (s) => ({
      pathParams: { keypair_name: s.kp! },
    })),
  },
  {
    kind: 'open',
    face: 'kps',
    op: 'POST /v3/auth/tokens',
    why: 'IAM sign-in (password identity): authenticates, grants nothing',
  },
  {
    kind: 'open',
    face: 'kps',
    op: 'GET /v3/projects',
    why: 'IAM project discovery the SDK makes first',
    call: (p) => p.kps({ method: 'GET', url: '/v3/projects', queryParams: { name: REGION } }),
  },
  {
    kind: 'open',
    face: 'kps',
    op: 'GET /v3/auth/projects',
    why: 'IAM project discovery',
    call: (p) => p.kps({ method: 'GET', url: '/v3/auth/projects' }),
  },
  {
    kind: 'open',
    face: 'kps',
    op: 'GET /v3/auth/domains',
    why: 'IAM domain discovery',
    call: (p) => p.kps({ method: 'GET', url: '/v3/auth/domains' }),
  },
  // Nova os-keypairs (also served under /v2)
  {
    kind: 'policy',
    face: 'kps',
    op: 'POST /v2.1/:project_id/os-keypairs',
    actions: ['ecs:serverKeypairs:create'],
    audits: 'keypair:Create',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('POST', '/v2.1/{project_id}/os-keypairs', (s) => ({ data: { keypair: { name: s.kp } } })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v2.1/:project_id/os-keypairs',
    actions: ['ecs:serverKeypairs:list'],
    setup: sKp,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: kpsOp('GET', '/v2.1/{project_id}/os-keypairs'),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'GET /v2.1/:project_id/os-keypairs/:keypair_name',
    actions: ['ecs:serverKeypairs:get'],
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('GET', '/v2.1/{project_id}/os-keypairs/{keypair_name}', (s) => ({
      pathParams: { keypair_name: s.kp! },
    })),
  },
  {
    kind: 'policy',
    face: 'kps',
    op: 'DELETE /v2.1/:project_id/os-keypairs/:keypair_name',
    actions: ['ecs:serverKeypairs:delete'],
    audits: 'keypair:Delete',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: kpsOp('DELETE', '/v2.1/{project_id}/os-keypairs/{keypair_name}', (s) => ({
      pathParams: { keypair_name: s.kp! },
    })),
  },

  // native (core action names)
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions/:regionId/key-pairs',
    actions: ['keypair:Describe'],
    setup: sKp,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: nv('GET', () => `/api/v1/regions/${REGION}/key-pairs`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/key-pairs',
    actions: ['keypair:Create'],
    audits: 'keypair:Create',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/key-pairs`,
      (s) => ({ name: s.kp, type: 'ed25519' }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/key-pairs',
    variant: 'import',
    actions: ['keypair:Import'],
    audits: 'keypair:Import',
    setup: sNewName,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/key-pairs`,
      (s) => ({ name: s.kp, publicKey: s.publicKey }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'PUT /api/v1/regions/:regionId/key-pairs/:name/escrow',
    actions: ['keypair:ImportPrivateKey'],
    audits: 'keypair:ImportPrivateKey',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'PUT',
      (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}/escrow`,
      (s) => ({ privateKey: s.privateKey }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/key-pairs/:name/escrow/export',
    actions: ['keypair:ExportPrivateKey'],
    audits: 'keypair:ExportPrivateKey',
    setup: sEscrowed,
    allow: KP,
    wrong: OTHER_KP,
    call: nv('POST', (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}/escrow/export`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'DELETE /api/v1/regions/:regionId/key-pairs/:name/escrow',
    actions: ['keypair:ClearPrivateKey'],
    audits: 'keypair:ClearPrivateKey',
    setup: sEscrowed,
    allow: KP,
    wrong: OTHER_KP,
    call: nv('DELETE', (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}/escrow`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions/:regionId/key-pairs/:name',
    actions: ['keypair:Describe'],
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv('GET', (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'PATCH /api/v1/regions/:regionId/key-pairs/:name',
    actions: ['keypair:Update'],
    audits: 'keypair:Update',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'PATCH',
      (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}`,
      () => ({ description: 'changed' }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'DELETE /api/v1/regions/:regionId/key-pairs/:name',
    actions: ['keypair:Delete'],
    audits: 'keypair:Delete',
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv('DELETE', (s) => `/api/v1/regions/${REGION}/key-pairs/${s.kp}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions/:regionId/instances',
    actions: ['instance:Describe'],
    setup: sInst,
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    call: nv('GET', () => `/api/v1/regions/${REGION}/instances`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/instances',
    actions: ['instance:Create'],
    audits: 'instance:Create',
    setup: async () => ({ observe: { instanceCount: true } }),
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    call: (p, _s, w) =>
      nativeAnswer(p.native, 'POST', `/api/v1/regions/${REGION}/instances`, {
        imageId: w.image,
        instanceType: w.instanceType,
        amount: 1,
      }),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/instances/:id',
    actions: ['instance:Describe'],
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv('GET', (s) => `/api/v1/instances/${s.inst}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/instances/:id/history',
    actions: ['instance:Describe'],
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv('GET', (s) => `/api/v1/instances/${s.inst}/history`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/instances/:id/start',
    actions: ['instance:Start'],
    audits: 'instance:Start',
    setup: async (w) => {
      const s = await sInst(w);
      await w.admin.call('POST', `/api/v1/instances/${s.inst}/stop`);
      await w.admin.waitStatus([s.inst!], 'Stopped');
      return s;
    },
    allow: INST,
    wrong: OTHER_INST,
    call: nv('POST', (s) => `/api/v1/instances/${s.inst}/start`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/instances/:id/stop',
    actions: ['instance:Stop'],
    audits: 'instance:Stop',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv('POST', (s) => `/api/v1/instances/${s.inst}/stop`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/instances/:id/restart',
    actions: ['instance:Reboot'],
    audits: 'instance:Reboot',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv('POST', (s) => `/api/v1/instances/${s.inst}/restart`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/instances/:id/reset-password',
    actions: ['instance:ResetPassword'],
    audits: 'instance:ResetPassword',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv(
      'POST',
      (s) => `/api/v1/instances/${s.inst}/reset-password`,
      () => ({ password: 'New-Pass-0002!' }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'DELETE /api/v1/instances/:id',
    actions: ['instance:Delete'],
    audits: 'instance:Delete',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv('DELETE', (s) => `/api/v1/instances/${s.inst}?force=true`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/bindings',
    variant: 'bind',
    actions: ['keypair:Bind'],
    audits: 'keypair:Bind',
    setup: sKpInst,
    allow: KP_INST,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_INST()],
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/bindings`,
      (s) => ({ action: 'bind', keyPairName: s.kp, instanceIds: [s.inst], wait: true }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/bindings',
    variant: 'unbind',
    actions: ['keypair:Unbind'],
    audits: 'keypair:Unbind',
    setup: sBound,
    allow: KP_INST,
    wrong: (s) => [...OTHER_KP(), arn('instance', s.inst!)],
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/bindings`,
      (s) => ({ action: 'unbind', keyPairName: s.kp, instanceIds: [s.inst], wait: true }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    // Extending a binding's expiry (issue 19) is a bind of the key pair it has.
    op: 'POST /api/v1/instances/:id/expiry',
    actions: ['keypair:Bind'],
    audits: 'keypair:Bind',
    setup: sBound,
    allow: KP_INST,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_INST()],
    call: nv(
      'POST',
      (s) => `/api/v1/instances/${s.inst}/expiry`,
      () => ({ expiresIn: '1h', wait: true }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/rotations',
    actions: ['keypair:Rotate'],
    audits: 'keypair:Rotate',
    setup: sRotatable,
    allow: KP_PAIR,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_KP()],
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/rotations`,
      (s) => ({ fromKeyPairName: s.kp, toKeyPairName: s.kp2, mode: 'on-restart', waveSize: 1, pauseSeconds: 3600 }),
    ),
  },
  ...(
    [
      ['pause', 'running'],
      ['resume', 'paused'],
      ['cancel', 'running'],
    ] as const
  ).map(
    ([verb, status]): PolicyRow => ({
      kind: 'policy',
      face: 'native',
      op: `POST /api/v1/rotations/:id/${verb}`,
      actions: ['keypair:Rotate'],
      audits: 'keypair:Rotate',
      setup: sRotation(status),
      allow: KP_PAIR,
      wrong: (s) => [arn('keypair', s.kp2!), ...OTHER_KP()],
      call: nv(
        'POST',
        (s) => `/api/v1/rotations/${s.task}/${verb}`,
        () => ({}),
      ),
    }),
  ),
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/rotations',
    actions: ['task:Describe'],
    setup: sNothing,
    allow: TASK_ANY,
    wrong: OTHER_TASK,
    call: nv('GET', () => '/api/v1/rotations'),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/rotations/:id',
    actions: ['task:Describe'],
    setup: sRotation('running'),
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('GET', (s) => `/api/v1/rotations/${s.task}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/rotations/:id/machines',
    actions: ['task:Describe'],
    setup: sRotation('running'),
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('GET', (s) => `/api/v1/rotations/${s.task}/machines`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/tasks',
    actions: ['task:Describe'],
    setup: sTasks,
    allow: TASK_ANY,
    wrong: OTHER_TASK,
    call: nv('GET', () => '/api/v1/tasks'),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/tasks/:id',
    actions: ['task:Describe'],
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('GET', (s) => `/api/v1/tasks/${s.task}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/tasks/:id/items',
    actions: ['task:Describe'],
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('GET', (s) => `/api/v1/tasks/${s.task}/items`),
  },
  // The progress stream answers a refusal as JSON before any event (test/e2e/task-progress.test.ts reads the stream).
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/tasks/:id/progress',
    actions: ['task:Describe'],
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('GET', (s) => `/api/v1/tasks/${s.task}/progress`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'DELETE /api/v1/tasks/:id',
    actions: ['task:Delete'],
    audits: 'task:Delete',
    setup: sTask,
    allow: TASK,
    wrong: OTHER_TASK,
    call: nv('DELETE', (s) => `/api/v1/tasks/${s.task}`),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/audit',
    actions: ['audit:Describe'],
    setup: sNothing,
    allow: () => [arn('audit', '*')],
    wrong: () => [arn('audit', 'zz')],
    call: nv('GET', () => '/api/v1/audit'),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/audit/export',
    actions: ['audit:Describe'],
    setup: sNothing,
    allow: () => [arn('audit', '*')],
    wrong: () => [arn('audit', 'zz')],
    call: nv('GET', () => '/api/v1/audit/export'),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/hosts',
    actions: ['instance:Create'],
    audits: 'instance:Create',
    setup: async () => ({ observe: { instanceCount: true } }),
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    // Registering connects to the host: (a) only has to get past authorization (a closed port answers otherwise).
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/hosts`,
      () => ({ name: unique('host'), address: '127.0.0.1', port: 1, loginUser: 'root' }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/hosts/imports',
    actions: ['instance:Create'],
    audits: 'instance:Create',
    setup: async () => ({ observe: { instanceCount: true } }),
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    // The import is a task: (a) gets its task back at once; its hosts (a closed port) fail later, in the task.
    call: nv(
      'POST',
      () => '/api/v1/hosts/imports',
      () => ({
        regionId: REGION,
        inventory: `${unique('host')} ansible_host=127.0.0.1 ansible_port=1 ansible_user=root\n`,
      }),
    ),
  },
  // Drift of registered hosts. The matrix's instances are simulated (a scan skips them, a repair has nothing to do),
  // so these rows prove the authorization; test/hosts/drift.test.ts proves scans and repairs on real sshd hosts.
  {
    kind: 'policy',
    face: 'native',
    op: 'PATCH /api/v1/instances/:id/host',
    actions: ['instance:UpdateHost'],
    audits: 'instance:UpdateHost',
    setup: sHost,
    allow: INST,
    wrong: OTHER_INST,
    call: nv(
      'PATCH',
      (s) => `/api/v1/instances/${s.inst}/host`,
      () => ({ passwordLogin: 'unmanaged' }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/drift-scans',
    actions: ['instance:DescribeKeys'],
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/drift-scans`,
      (s) => ({ instanceIds: [s.inst] }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/drift-scans',
    variant: 'every host of the region',
    actions: ['instance:DescribeKeys'],
    setup: sInst,
    allow: INST_ANY,
    wrong: OTHER_REGION('instance'),
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/drift-scans`,
      () => ({}),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/drift-repairs',
    variant: 'host with a key pair',
    actions: ['keypair:Bind'],
    audits: 'keypair:Bind',
    setup: sBound,
    allow: KP_INST,
    wrong: (s) => [arn('keypair', s.kp!), ...OTHER_INST()],
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/drift-repairs`,
      (s) => ({ instanceIds: [s.inst] }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/drift-repairs',
    variant: 'host without a key pair',
    actions: ['keypair:Unbind'],
    audits: 'keypair:Unbind',
    setup: sInst,
    allow: INST,
    wrong: OTHER_INST,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/drift-repairs`,
      (s) => ({ instanceIds: [s.inst] }),
    ),
  },
  // Revocations (issue 19). A revocation is named by the key pairs it is about and by its id (as a task).
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/regions/:regionId/revocations',
    actions: ['keypair:Revoke'],
    setup: sKp,
    allow: KP,
    wrong: OTHER_KP,
    call: nv(
      'POST',
      () => `/api/v1/regions/${REGION}/revocations`,
      (s) => ({ keyPairName: s.kp }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions/:regionId/revocations',
    actions: ['keypair:Describe'],
    setup: sNothing,
    allow: KP_ANY,
    wrong: OTHER_REGION('keypair'),
    call: nv('GET', () => `/api/v1/regions/${REGION}/revocations`),
  },
  ...(['', '/machines', '/report'] as const).map(
    (tail): Row => ({
      kind: 'policy',
      face: 'native',
      op: `GET /api/v1/revocations/:id${tail}`,
      actions: ['keypair:Describe'],
      setup: sRevocation,
      allow: (s) => [arn('keypair', s.kp!), arn('task', s.task!)],
      wrong: () => [...OTHER_KP(), ...OTHER_TASK()],
      call: nv('GET', (s) => `/api/v1/revocations/${s.task}${tail}`),
    }),
  ),
  {
    kind: 'policy',
    face: 'native',
    op: 'POST /api/v1/revocations/:id/apply',
    actions: ['keypair:Revoke'],
    audits: 'keypair:Revoke',
    setup: sRevocation,
    allow: (s) => [arn('keypair', s.kp!), arn('task', s.task!)],
    wrong: () => [...OTHER_KP(), ...OTHER_TASK()],
    call: nv(
      'POST',
      (s) => `/api/v1/revocations/${s.task}/apply`,
      () => ({ retryForSeconds: 60 }),
    ),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/regions',
    actions: ['region:Describe'],
    setup: sNothing,
    allow: () => [arn('region', '*')],
    wrong: () => [arn('region', 'zz')],
    call: nv('GET', () => '/api/v1/regions'),
  },
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/images',
    actions: ['image:Describe'],
    setup: sNothing,
    allow: () => [arn('image', '*')],
    wrong: () => [arn('image', 'zz')],
    call: nv('GET', () => '/api/v1/images'),
  },
  // Instance types are the compute catalog, governed by image:Describe like the images.
  {
    kind: 'policy',
    face: 'native',
    op: 'GET /api/v1/instance-types',
    actions: ['image:Describe'],
    setup: sNothing,
    allow: () => [arn('image', '*')],
    wrong: () => [arn('image', 'zz')],
    call: nv('GET', () => '/api/v1/instance-types'),
  },
  {
    kind: 'open',
    face: 'native',
    op: 'GET /api/v1/resource-groups',
    why: 'catalog',
    call: (p) => nativeAnswer(p.native, 'GET', '/api/v1/resource-groups'),
  },
  { kind: 'open', face: 'native', op: 'POST /api/v1/sessions', why: 'sign-in' },
  { kind: 'open', face: 'native', op: 'DELETE /api/v1/sessions/current', why: "sign-out of one's own session" },
  {
    kind: 'open',
    face: 'native',
    op: 'GET /api/v1/whoami',
    why: "one's own identity",
    call: (p) => nativeAnswer(p.native, 'GET', '/api/v1/whoami'),
  },
  ...(
    [
      ['GET /api/v1/users', '/api/v1/users'],
      ['POST /api/v1/users', '/api/v1/users', { name: 'intruder', password: 'Intruder-0001!' }],
      ['DELETE /api/v1/users/:name', '/api/v1/users/admin'],
      ['PUT /api/v1/users/:name/password', '/api/v1/users/admin/password', { password: 'Hijack-0001!' }],
      ['GET /api/v1/users/:name/policies', '/api/v1/users/admin/policies'],
      ['PUT /api/v1/users/:name/policies/:policy', '/api/v1/users/admin/policies/zz'],
      ['DELETE /api/v1/users/:name/policies/:policy', '/api/v1/users/admin/policies/zz'],
      ['GET /api/v1/users/:name/access-keys', '/api/v1/users/admin/access-keys'],
      ['POST /api/v1/users/:name/access-keys', '/api/v1/users/admin/access-keys', {}],
      ['PATCH /api/v1/access-keys/:id', '/api/v1/access-keys/LTAItestAccessKey0001', { status: 'Inactive' }],
      ['DELETE /api/v1/access-keys/:id', '/api/v1/access-keys/LTAItestAccessKey0001'],
      ['GET /api/v1/policies', '/api/v1/policies'],
      [
        'POST /api/v1/policies',
        '/api/v1/policies',
        { name: 'intruder', document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } },
      ],
      ['DELETE /api/v1/policies/:policy', '/api/v1/policies/zz'],
      ['GET /api/v1/groups', '/api/v1/groups'],
      ['POST /api/v1/groups', '/api/v1/groups', { name: 'intruders' }],
      ['GET /api/v1/groups/:name', '/api/v1/groups/zz'],
      ['DELETE /api/v1/groups/:name', '/api/v1/groups/zz'],
      ['PUT /api/v1/groups/:name/members/:user', '/api/v1/groups/zz/members/admin'],
      ['DELETE /api/v1/groups/:name/members/:user', '/api/v1/groups/zz/members/admin'],
      ['PUT /api/v1/groups/:name/policies/:policy', '/api/v1/groups/zz/policies/zz'],
      ['DELETE /api/v1/groups/:name/policies/:policy', '/api/v1/groups/zz/policies/zz'],
      ['GET /api/v1/users/:name/groups', '/api/v1/users/admin/groups'],
      ['GET /api/v1/accounts', '/api/v1/accounts'],
      ['POST /api/v1/accounts', '/api/v1/accounts', { name: 'intruder', adminPassword: 'Intruder-0001!' }],
      // Webhook endpoints receive every event of the account: administrators only (issue 21).
      ['GET /api/v1/webhooks', '/api/v1/webhooks'],
      ['POST /api/v1/webhooks', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['task.finished'] }],
      ['GET /api/v1/webhooks/:id', '/api/v1/webhooks/wh-zz'],
      ['PATCH /api/v1/webhooks/:id', '/api/v1/webhooks/wh-zz', { enabled: false }],
      ['DELETE /api/v1/webhooks/:id', '/api/v1/webhooks/wh-zz'],
      ['POST /api/v1/webhooks/:id/rotate-secret', '/api/v1/webhooks/wh-zz/rotate-secret'],
      ['GET /api/v1/webhooks/:id/deliveries', '/api/v1/webhooks/wh-zz/deliveries'],
    ] as Array<[string, string, unknown?]>
  ).map(
    ([op, path, body]): AdminRow => ({
      kind: 'admin',
      face: 'native',
      op,
      call: (p) => nativeAnswer(p.native, op.split(' ')[0]!, path, body),
    }),
  ),
];

/**
 * Routes that are not operations of a face (health, the operator's metrics behind their own token, the OpenAPI
 * document, the console, the ECS RPC endpoint).
 */
const NOT_OPERATIONS = [
  /^[A-Z]+ \/$/,
  /^GET \/(healthz|readyz|metrics)$/,
  /^GET \/api\/v1\/openapi\.json$/,
  /^GET \/console/,
];

// -- the cases ---------------------------------------------------------------------------------------------------

const FORBIDDEN: Record<Face, { status: number; code: string }> = {
  ecs: { status: 403, code: 'Forbidden.RAM' },
  kps: { status: 403, code: 'KPS.9003' },
  native: { status: 403, code: 'Auth.Forbidden' },
};

function refused(face: Face, a: Answer): boolean {
  const f = FORBIDDEN[face];
  if (a.status === f.status && a.code === f.code) return true;
  // Batches (Attach/Detach, bindings, batch-import) answer 200 with the face's code on every refused item.
  return a.status < 300 && !!a.itemCodes?.length && a.itemCodes.every((c) => c === f.code || c === 'KPS.9003');
}
const succeeded = (a: Answer) =>
  a.status < 300 && (!a.itemCodes || a.itemCodes.every((c) => c === '200' || c === 'OK'));

let kf: Keyfleet;
let world: World;

async function snapshot(s: State): Promise<string> {
  const a = world.admin;
  // The proof of a boot (verifiedAt, verification) lands in the background after a start: keyfleet observing a
  // machine, not the refused call changing it.
  const strip = (v: any) =>
    JSON.stringify(v, (k, x) =>
      /^(updatedAt|lastSeenAt|bootedAt|progress|requestId|verifiedAt|verification)$/.test(k) ? undefined : x,
    );
  const parts: string[] = [];
  for (const k of s.observe.keyPairs ?? [])
    parts.push(strip(await a.raw('GET', `/api/v1/regions/${REGION}/key-pairs/${k}`)));
  for (const i of s.observe.instances ?? []) parts.push(strip(await a.raw('GET', `/api/v1/instances/${i}`)));
  for (const t of s.observe.tasks ?? []) parts.push(strip(await a.raw('GET', `/api/v1/tasks/${t}`)));
  if (s.observe.instanceCount)
    parts.push(String((await a.call('GET', `/api/v1/regions/${REGION}/instances?limit=1`)).total));
  if (s.observe.taskCount) parts.push(String((await a.call('GET', '/api/v1/tasks?limit=1')).total));
  if (s.observe.groups) parts.push(strip(await a.raw('GET', '/api/v1/resource-groups')));
  return parts.join('\n');
}

before(async () => {
  ({ kf } = await startInProcess());
  const admin = (await startInProcessAdmin()) as Api;
  const images = (await admin.call('GET', '/api/v1/images')).images;
  const types = (await admin.call('GET', '/api/v1/instance-types')).instanceTypes;
  world = {
    admin,
    url: kf.url,
    pid: await projectIdOf(kf.url),
    image: images.find((i: any) => i.osType === 'linux').id,
    instanceType: types[0].id ?? types[0].instanceTypeId ?? types[0],
  };
});
after(async () => {
  await kf?.close();
  if (matrixHost) await stopHosts([matrixHost]);
});

async function startInProcessAdmin(): Promise<Api> {
  const { Api: ApiClass } = await import('../support/keyfleet.js');
  const api = new ApiClass(kf.url);
  await api.signIn();
  return api;
}

// -- the audit trail (ADR 0008: one entry per mutating call and per denied call) -----------------------------------

interface AuditEntryView {
  userName: string;
  accessKeyId: string | null;
  face: Face;
  action: string;
  resources: string[];
  requestId: string;
  result: 'success' | 'failure' | 'denied';
  errorCode: string | null;
}
async function auditOf(userName: string): Promise<AuditEntryView[]> {
  // Request entries: a task's outcome entries (stage outcome) are written when it ends, for KPS after the call.
  const r = await world.admin.call(
    'GET',
    `/api/v1/audit?userName=${encodeURIComponent(userName)}&stage=request&limit=1000`,
  );
  return r.entries;
}
/** The resources a call names, as the `{type}/{id}` ends of RAM names (from the state; wildcards name nothing). */
function namedResources(row: PolicyRow, s: State): string[] {
  return row
    .allow(s)
    .filter((n) => !n.endsWith('/*'))
    .map((n) => n.slice(n.lastIndexOf(':') + 1));
}
/** The core actions a row's face actions stand for. */
const coreActionsOf = (row: PolicyRow): string[] =>
  row.actions.flatMap((a): readonly string[] => actionNameTable().get(a) ?? [a]);

/** Calls the face, and asserts the entries the call added to the audit trail. */
async function callAudited(row: PolicyRow, p: Principal, s: State, kind: 'allowed' | 'refused'): Promise<Answer> {
  const before = await auditOf(p.name);
  const a = await row.call(p, s, world);
  const after = await auditOf(p.name); // newest first
  const fresh = after.slice(0, after.length - before.length);
  const title = `${row.face} ${row.op}${row.variant ? ` (${row.variant})` : ''} ${kind}`;
  const show = () => JSON.stringify(fresh).slice(0, 800);
  const common = (e: AuditEntryView) => {
    assert.equal(e.face, row.face, `${title}: face`);
    assert.equal(e.userName, p.name, `${title}: user`);
    assert.match(e.requestId, /\S{6,}/, `${title}: request id`);
    if (row.face !== 'native') assert.equal(e.accessKeyId, p.accessKeyId, `${title}: access key`);
  };
  if (kind === 'allowed') {
    if (!row.audits) {
      assert.equal(fresh.length, 0, `${title}: a read writes no audit entry: ${show()}`);
      return a;
    }
    assert.equal(fresh.length, 1, `${title}: a mutating call writes exactly one entry: ${show()}`);
    const e = fresh[0]!;
    common(e);
    assert.equal(e.action, row.audits, `${title}: action`);
    // Registering a host gets past authorization, then fails to connect (closed port): recorded as a failure.
    if (row.op.endsWith('/hosts')) assert.notEqual(e.result, 'denied', `${title}: ${show()}`);
    else assert.equal(e.result, 'success', `${title}: ${show()}`);
    for (const n of namedResources(row, s))
      assert.ok(
        e.resources.some((r) => r.endsWith(`:${n}`)),
        `${title}: ${n} not among ${JSON.stringify(e.resources)}`,
      );
    return a;
  }
  assert.equal(fresh.length, 1, `${title}: a refused call writes exactly one entry: ${show()}`);
  const e = fresh[0]!;
  common(e);
  assert.ok(
    coreActionsOf(row).includes(e.action),
    `${title}: action ${e.action} not one of ${coreActionsOf(row).join(', ')}`,
  );
  const itemRefusal = a.status < 300 && !!a.itemCodes?.length;
  if (itemRefusal && e.result === 'success') {
    // The core accepted the bind/unbind (the key pair was allowed) and made its task; the instance was refused in
    // its task item (bindings authorize each instance per item): one 'success' entry for the call, no code.
    assert.ok(e.action === 'keypair:Bind' || e.action === 'keypair:Unbind', `${title}: ${show()}`);
    assert.equal(e.errorCode, null, `${title}: ${show()}`);
  } else {
    // Refused by the core itself; also where a batch face makes one core call per item (batch-import,
    // batch-associate) and reports that item's refusal in a 200: the refused core call is the one denied entry.
    assert.equal(e.result, 'denied', `${title}: ${show()}`);
    assert.equal(e.errorCode, 'Auth.Forbidden', `${title}: ${show()}`);
  }
  return a;
}

describe('every operation of every face has a row', () => {
  it('the ECS actions', () => {
    const rows = new Set(TABLE.filter((r) => r.face === 'ecs').map((r) => r.op));
    assert.deepEqual(
      [...ECS_ACTION_NAMES].filter((a) => !rows.has(a)),
      [],
      'ECS actions without a row',
    );
    for (const op of rows) assert.ok(findAction(op), `row for an ECS action the face does not serve: ${op}`);
  });
  it('each row grants exactly one permission (the face composes no second core call that needs another)', () => {
    const composed = TABLE.flatMap((r) =>
      r.kind === 'policy' && r.actions.length !== 1 ? [`${r.face} ${r.op}: ${r.actions.join(', ')}`] : [],
    );
    assert.deepEqual(composed, []);
  });
  it('the routes of the KPS, Nova and native faces', () => {
    const rows = new Set(TABLE.filter((r) => r.face !== 'ecs').map((r) => r.op));
    const served = registeredRoutes(kf.app)
      .filter((r) => !NOT_OPERATIONS.some((re) => re.test(r)))
      .map((r) => r.replace(/^([A-Z]+) \/v2\//, '$1 /v2.1/'));
    assert.ok(served.length > 40, `route tree not read: ${served.length}`);
    assert.deepEqual([...new Set(served)].filter((r) => !rows.has(r)).sort(), [], 'served operations without a row');
    assert.deepEqual([...rows].filter((r) => !served.includes(r)).sort(), [], 'rows for operations no face serves');
  });
});

for (const row of TABLE) {
  const title = `${row.face} ${row.op}${'variant' in row && row.variant ? ` (${row.variant})` : ''}`;
  if (row.kind === 'open') {
    if (!row.call) continue;
    it(`${title}: open to any authenticated user (${row.why})`, async () => {
      const p = await principal(world.admin, world.url, world.pid, []);
      const a = await row.call!(p, world);
      assert.ok(a.status < 300, `${title}: ${JSON.stringify(a)}`);
    });
    continue;
  }
  if (row.kind === 'admin') {
    it(`${title}: administrators only, even against Allow * on *`, async () => {
      const p = await principal(world.admin, world.url, world.pid, [[{ Effect: 'Allow', Action: '*', Resource: '*' }]]);
      const a = await row.call(p, world);
      assert.equal(a.status, 403, `${title}: ${JSON.stringify(a)}`);
      assert.equal(a.code, 'Auth.Forbidden');
    });
    continue;
  }
  describe(title, () => {
    const allowOf = (_s: State, resources: string[]): Statement => ({
      Effect: 'Allow',
      Action: row.actions,
      Resource: resources,
    });
    const refusedCase = (label: string, policies: (s: State) => Statement[][]) =>
      it(`${label}: refused with ${FORBIDDEN[row.face].code}, nothing changed`, async () => {
        const s = await row.setup(world);
        const p = await principal(world.admin, world.url, world.pid, policies(s));
        const before = await snapshot(s);
        const a = await callAudited(row, p, s, 'refused');
        assert.ok(
          refused(row.face, a),
          `${title} ${label}: expected a refusal, got ${JSON.stringify(a).slice(0, 400)}`,
        );
        assert.equal(await snapshot(s), before, `${title} ${label}: state changed`);
      });
    it('(a) allowed exactly this action on these resources: succeeds', async () => {
      const s = await row.setup(world);
      const p = await principal(world.admin, world.url, world.pid, [[allowOf(s, row.allow(s))]]);
      const a = await callAudited(row, p, s, 'allowed');
      if (row.op.endsWith('/hosts'))
        assert.ok(!refused(row.face, a) && a.status !== 403, `${title}: ${JSON.stringify(a)}`);
      else assert.ok(succeeded(a), `${title}: expected success, got ${JSON.stringify(a).slice(0, 400)}`);
    });
    refusedCase('(b) no policy', () => []);
    refusedCase('(c) allowed and explicitly denied', (s) => [
      [allowOf(s, row.allow(s))],
      [{ Effect: 'Deny', Action: row.actions[0]!, Resource: row.allow(s) }],
    ]);
    refusedCase('(d) allowed on another resource', (s) => [[allowOf(s, row.wrong(s))]]);
  });
}
