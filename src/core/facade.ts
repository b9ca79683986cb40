/**
 * The core as the faces see it: every use case, each passing through the auditor. This is the one place that
 * decides which calls are mutating (always recorded) and which resources each call names, so no face can forget.
 */
import type { AccountService } from './account/account-service.js';
import type { IdentityService } from './account/identity-service.js';
import type { ResourceRef } from './authz/actions.js';
import type { Auditor } from './audit/auditor.js';
import type { BindRequest } from './binding/binding-service.js';
import type { DriftRepairInput, DriftScanInput, DriftService } from './binding/drift-service.js';
import type { Caller } from './caller.js';
import type { HostService, RegisterHostInput, UpdateHostInput } from './instance/host-service.js';
import type { InstanceService, InstanceQuery, LifecycleOptions, RunInstancesInput } from './instance/instance-service.js';
import type { KeyPairInput, KeyPairQuery, KeyPairService } from './keypair/keypair-service.js';
import type { GeneratedKeyType } from './keypair/key-material.js';
import type { Store } from './ports.js';
import type { Task } from './task/task.js';
import type { TaskService } from './task/task-service.js';

const kp = (regionId: string, name: string): ResourceRef => ({ type: 'keypair', regionId: regionId || '*', id: String(name) });
const kps = (regionId: string, names: unknown): ResourceRef[] => (Array.isArray(names) ? names.map((n) => kp(regionId, String(n))) : []);
const task = (id: string): ResourceRef => ({ type: 'task', regionId: '*', id: String(id) });

export function auditedKeyPairs(svc: KeyPairService, audit: Auditor) {
  return {
    create: (c: Caller, input: KeyPairInput & { type?: GeneratedKeyType; escrow?: boolean }) => audit.run(c, 'keypair:Create', [kp(input.regionId, input.name)], true, () => svc.create(c, input)),
    import: (c: Caller, input: KeyPairInput & { publicKey: string; privateKey?: string }) => audit.run(c, 'keypair:Import', [kp(input.regionId, input.name)], true, () => svc.import(c, input)),
    list: (c: Caller, q: KeyPairQuery) => audit.run(c, 'keypair:Describe', [kp(q.regionId ?? '*', '*')], false, () => svc.list(c, q)),
    get: (c: Caller, regionId: string, name: string) => audit.run(c, 'keypair:Describe', [kp(regionId, name)], false, () => svc.get(c, regionId, name)),
    usage: svc.usage,
    updateDescription: (c: Caller, regionId: string, name: string, description: string) => audit.run(c, 'keypair:Update', [kp(regionId, name)], true, () => svc.updateDescription(c, regionId, name, description)),
    delete: (c: Caller, regionId: string, names: string[]) => audit.run(c, 'keypair:Delete', kps(regionId, names), true, () => svc.delete(c, regionId, names)),
    exportPrivateKey: (c: Caller, regionId: string, name: string) => audit.run(c, 'keypair:ExportPrivateKey', [kp(regionId, name)], true, () => svc.exportPrivateKey(c, regionId, name)),
    importPrivateKey: (c: Caller, regionId: string, name: string, privateKey: string) => audit.run(c, 'keypair:ImportPrivateKey', [kp(regionId, name)], true, () => svc.importPrivateKey(c, regionId, name, privateKey)),
    clearPrivateKey: (c: Caller, regionId: string, name: string) => audit.run(c, 'keypair:ClearPrivateKey', [kp(regionId, name)], true, () => svc.clearPrivateKey(c, regionId, name)),
  };
}

export function auditedInstances(svc: InstanceService, audit: Auditor, store: Store) {
  /** Instance IDs are global; the audit names the instance with its region when it exists in the caller's account. */
  const inst = (c: Caller, id: string) => async (): Promise<ResourceRef[]> => {
    const i = typeof id === 'string' ? await store.instances.get(c.accountId, id) : null;
    return [{ type: 'instance', regionId: i?.regionId ?? '*', id: String(id) }];
  };
  return {
    run: (c: Caller, input: RunInstancesInput) => audit.run(c, 'instance:Create', [{ type: 'instance', regionId: input.regionId, id: '*' }], true, () => svc.run(c, input)),
    list: (c: Caller, q: InstanceQuery) => audit.run(c, 'instance:Describe', [{ type: 'instance', regionId: q.regionId ?? '*', id: '*' }], false, () => svc.list(c, q)),
    get: (c: Caller, id: string) => audit.run(c, 'instance:Describe', inst(c, id), false, () => svc.get(c, id)),
    history: (c: Caller, id: string) => audit.run(c, 'instance:Describe', inst(c, id), false, () => svc.history(c, id)),
    start: (c: Caller, id: string, o: LifecycleOptions = {}) => audit.run(c, 'instance:Start', inst(c, id), !o.dryRun, () => svc.start(c, id, o)),
    stop: (c: Caller, id: string, o: LifecycleOptions = {}) => audit.run(c, 'instance:Stop', inst(c, id), !o.dryRun, () => svc.stop(c, id, o)),
    reboot: (c: Caller, id: string, o: LifecycleOptions = {}) => audit.run(c, 'instance:Reboot', inst(c, id), !o.dryRun, () => svc.reboot(c, id, o)),
    resetPassword: (c: Caller, id: string, password: string) => audit.run(c, 'instance:ResetPassword', inst(c, id), true, () => svc.resetPassword(c, id, password)),
    delete: (c: Caller, id: string, o: { force?: boolean } = {}) => audit.run(c, 'instance:Delete', inst(c, id), true, () => svc.delete(c, id, o)),
    recover: svc.recover,
    settle: svc.settle,
  };
}

export function auditedHosts(svc: HostService, audit: Auditor) {
  return {
    register: (c: Caller, input: RegisterHostInput) => audit.run(c, 'instance:Create', [{ type: 'instance', regionId: input.regionId, id: String(input.name) }], true, () => svc.register(c, input)),
    update: (c: Caller, id: string, input: UpdateHostInput) => audit.run(c, 'instance:UpdateHost', [{ type: 'instance', regionId: '*', id: String(id) }], true, () => svc.update(c, id, input)),
  };
}

export function auditedTasks(api: TaskService, audit: Auditor): TaskService {
  /** `made`: the task, once made — an unbind that named no key pair records the one the instance had. */
  const bindRefs = (req: BindRequest, made?: Task): ResourceRef[] => {
    const name = req.keyPairName ?? made?.keyPairName;
    const refs: ResourceRef[] = name ? [kp(req.regionId, name)] : [];
    if (Array.isArray(req.instanceIds)) for (const id of req.instanceIds) refs.push({ type: 'instance', regionId: req.regionId, id: String(id) });
    return refs;
  };
  const action = (req: BindRequest) => (req.kind === 'unbind' ? 'keypair:Unbind' : 'keypair:Bind');
  return {
    submit: (c, req) => {
      let made: Task | undefined;
      return audit.run(c, action(req), async () => bindRefs(req, made), true, async () => (made = await api.submit(c, req)));
    },
    submitAndWait: (c, req) => {
      let made: Task | undefined;
      return audit.run(c, action(req), async () => bindRefs(req, made), true, async () => {
        const r = await api.submitAndWait(c, req);
        made = r.task;
        return r;
      });
    },
    get: (c, id) => audit.run(c, 'task:Describe', [task(id)], false, () => api.get(c, id)),
    list: (c, q) => audit.run(c, 'task:Describe', [task('*')], false, () => api.list(c, q)),
    items: (c, id, q) => audit.run(c, 'task:Describe', [task(id)], false, () => api.items(c, id, q)),
    waitFor: (c, id) => audit.run(c, 'task:Describe', [task(id)], false, () => api.waitFor(c, id)),
    watch: (c, id, on, signal) => audit.run(c, 'task:Describe', [task(id)], false, () => api.watch(c, id, on, signal)),
    overview: (c, q) => audit.run(c, 'task:Describe', [task('*')], false, () => api.overview(c, q)),
    delete: (c, ids, scope) => audit.run(c, 'task:Delete', Array.isArray(ids) ? ids.map(task) : [], true, () => api.delete(c, ids, scope)),
    deleteAll: (c, scope) => audit.run(c, 'task:Delete', [{ type: 'task', regionId: scope.regionId ?? '*', id: '*' }], true, () => api.deleteAll(c, scope)),
  };
}

export function auditedIdentity(svc: IdentityService, accounts: AccountService, audit: Auditor) {
  const user = (name: string): ResourceRef => ({ type: '*', regionId: '*', id: `user/${name}` });
  const policy = (name: string): ResourceRef => ({ type: '*', regionId: '*', id: `policy/${name}` });
  const key = (id: string): ResourceRef => ({ type: '*', regionId: '*', id: `accesskey/${id}` });
  const group = (name: string): ResourceRef => ({ type: '*', regionId: '*', id: `group/${name}` });
  return {
    listUsers: (c: Caller) => audit.run(c, 'iam:ListUsers', [user('*')], false, () => svc.listUsers(c)),
    createUser: (c: Caller, input: { name: string; password?: string; isAccountAdmin?: boolean }) => audit.run(c, 'iam:CreateUser', [user(input.name)], true, () => svc.createUser(c, input)),
    deleteUser: (c: Caller, name: string) => audit.run(c, 'iam:DeleteUser', [user(name)], true, () => svc.deleteUser(c, name)),
    setPassword: (c: Caller, name: string, password: string | null) => audit.run(c, 'iam:SetPassword', [user(name)], true, () => svc.setPassword(c, name, password)),
    listAccessKeys: (c: Caller, userName: string) => audit.run(c, 'iam:ListAccessKeys', [user(userName)], false, () => svc.listAccessKeys(c, userName)),
    createAccessKey: (c: Caller, userName: string) => audit.run(c, 'iam:CreateAccessKey', [user(userName)], true, () => svc.createAccessKey(c, userName)),
    setAccessKeyStatus: (c: Caller, id: string, status: 'Active' | 'Inactive') => audit.run(c, 'iam:UpdateAccessKey', [key(id)], true, () => svc.setAccessKeyStatus(c, id, status)),
    deleteAccessKey: (c: Caller, id: string) => audit.run(c, 'iam:DeleteAccessKey', [key(id)], true, () => svc.deleteAccessKey(c, id)),
    listPolicies: (c: Caller) => audit.run(c, 'iam:ListPolicies', [policy('*')], false, () => svc.listPolicies(c)),
    createPolicy: (c: Caller, input: { name: string; document: unknown; description?: string }) => audit.run(c, 'iam:CreatePolicy', [policy(input.name)], true, () => svc.createPolicy(c, input)),
    deletePolicy: (c: Caller, name: string, opts: { force?: boolean } = {}) => audit.run(c, 'iam:DeletePolicy', [policy(name)], true, () => svc.deletePolicy(c, name, opts)),
    attachPolicy: (c: Caller, userName: string, policyName: string) => audit.run(c, 'iam:AttachPolicy', [user(userName), policy(policyName)], true, () => svc.attachPolicy(c, userName, policyName)),
    detachPolicy: (c: Caller, userName: string, policyName: string) => audit.run(c, 'iam:DetachPolicy', [user(userName), policy(policyName)], true, () => svc.detachPolicy(c, userName, policyName)),
    policiesOfUser: (c: Caller, userName: string) => audit.run(c, 'iam:ListPolicies', [user(userName)], false, () => svc.policiesOfUser(c, userName)),
    groupsOfUser: (c: Caller, userName: string) => audit.run(c, 'iam:ListGroupsForUser', [user(userName)], false, () => svc.groupsOfUser(c, userName)),
    listGroups: (c: Caller) => audit.run(c, 'iam:ListGroups', [group('*')], false, () => svc.listGroups(c)),
    createGroup: (c: Caller, input: { name: string; description?: string }) => audit.run(c, 'iam:CreateGroup', [group(input.name)], true, () => svc.createGroup(c, input)),
    deleteGroup: (c: Caller, name: string) => audit.run(c, 'iam:DeleteGroup', [group(name)], true, () => svc.deleteGroup(c, name)),
    getGroup: (c: Caller, name: string) => audit.run(c, 'iam:GetGroup', [group(name)], false, () => svc.getGroup(c, name)),
    addUserToGroup: (c: Caller, groupName: string, userName: string) => audit.run(c, 'iam:AddUserToGroup', [group(groupName), user(userName)], true, () => svc.addUserToGroup(c, groupName, userName)),
    removeUserFromGroup: (c: Caller, groupName: string, userName: string) => audit.run(c, 'iam:RemoveUserFromGroup', [group(groupName), user(userName)], true, () => svc.removeUserFromGroup(c, groupName, userName)),
    attachGroupPolicy: (c: Caller, groupName: string, policyName: string) => audit.run(c, 'iam:AttachPolicyToGroup', [group(groupName), policy(policyName)], true, () => svc.attachGroupPolicy(c, groupName, policyName)),
    detachGroupPolicy: (c: Caller, groupName: string, policyName: string) => audit.run(c, 'iam:DetachPolicyFromGroup', [group(groupName), policy(policyName)], true, () => svc.detachGroupPolicy(c, groupName, policyName)),
    listAccounts: (c: Caller) => audit.run(c, 'iam:ListAccounts', [{ type: '*', regionId: '*', id: 'account/*' }], false, () => svc.listAccounts(c)),
    createAccount: (c: Caller, input: { name: string; adminName?: string; adminPassword?: string }) => audit.run(c, 'iam:CreateAccount', [{ type: '*', regionId: '*', id: `account/${input.name}` }], true, () => svc.createAccount(c, input)),
    signOut: (c: Caller) => audit.run(c, 'iam:SignOut', [], true, () => accounts.signOut(c)),
  };
}

export function auditedDrift(svc: DriftService, audit: Auditor, store: Store) {
  const hostRefs = (regionId: string, ids: unknown): ResourceRef[] =>
    Array.isArray(ids) ? ids.map((id) => ({ type: 'instance', regionId: regionId || '*', id: String(id) })) : [{ type: 'instance', regionId: regionId || '*', id: '*' }];
  return {
    /** A read (recorded only when denied), though it logs in to every host it names. */
    scan: (c: Caller, input: DriftScanInput) => audit.run(c, 'instance:DescribeKeys', hostRefs(input.regionId, input.instanceIds), false, () => svc.scan(c, input)),
    /**
     * One entry per repair, under the permission it needs: keypair:Bind when any named host has a key pair (its
     * block is restored), keypair:Unbind when none has; the entry names the hosts and their key pairs.
     */
    repair: async (c: Caller, input: DriftRepairInput) => {
      const ids = Array.isArray(input.instanceIds) ? input.instanceIds.filter((id): id is string => typeof id === 'string') : [];
      const found = ids.length > 0 ? await store.instances.getMany(c.accountId, ids) : [];
      const names = [...new Set(found.flatMap((i) => (i.keyPairName && i.regionId === input.regionId ? [i.keyPairName] : [])))];
      const refs = [...names.map((n) => kp(input.regionId, n)), ...hostRefs(input.regionId, input.instanceIds)];
      return audit.run(c, names.length > 0 ? 'keypair:Bind' : 'keypair:Unbind', refs, true, () => svc.repair(c, input));
    },
  };
}
