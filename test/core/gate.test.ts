/**
 * The gate in front of every use case: it authorizes what a declaration names, runs the use case only when
 * allowed, and records the outcome (mutating calls always, reads only when denied). Built with the real policy
 * authorizer and an auditor that keeps entries in memory: no server, no store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditResult } from '../../src/core/audit/audit.js';
import type { ResourceRef } from '../../src/core/authz/actions.js';
import { compilePermissions, parsePolicyDocument } from '../../src/core/authz/policy.js';
import { createPolicyAuthorizer } from '../../src/core/authz/policy-authorizer.js';
import type { Caller } from '../../src/core/caller.js';
import { CoreError } from '../../src/core/errors.js';
import { createGate } from '../../src/core/usecase/gate.js';
import { ref, useCase } from '../../src/core/usecase/use-case.js';

interface Entry {
  action: string;
  resources: string[];
  result: AuditResult;
  errorCode: string | null;
}

function setup() {
  const entries: Entry[] = [];
  const auditor = {
    async append(_c: Caller, action: string, refs: ResourceRef[], result: AuditResult, errorCode: string | null) {
      entries.push({ action, resources: refs.map((r) => `${r.type}/${r.regionId}/${r.id}`), result, errorCode });
    },
  };
  return { entries, gate: createGate({ authz: createPolicyAuthorizer(), auditor }) };
}

function caller(over: Partial<Caller> = {}, statements: unknown[] = []): Caller {
  return {
    accountId: 'acc-1',
    userId: 'u-alice',
    userName: 'alice',
    isAccountAdmin: false,
    isSystemAdmin: false,
    accessKeyId: null,
    sessionId: null,
    face: 'native',
    sourceIp: '127.0.0.1',
    requestId: 'req-1',
    permissions: compilePermissions(statements.length > 0 ? [parsePolicyDocument({ Statement: statements })] : []),
    ...over,
  };
}

const admin = caller({ isAccountAdmin: true });
const allowDelete = (resource: string) =>
  caller({}, [{ Effect: 'Allow', Action: 'keypair:Delete', Resource: resource }]);

describe('the gate: authorize, run, audit — once, for every use case', () => {
  const declarations = (runs: string[]) => ({
    remove: useCase({
      action: 'keypair:Delete',
      access: 'policy',
      mutates: true,
      run: async (_c: Caller, regionId: string, name: string) => {
        runs.push(`${regionId}/${name}`);
        if (name === 'bound') throw new CoreError('KeyPair.InUse', 'bound');
        return name;
      },
      names: (_c, regionId, name) => [ref.keyPair(regionId, name)],
    }),
    read: useCase({
      action: 'keypair:Describe',
      access: 'policy',
      mutates: false,
      run: async (_c: Caller, name: string) => name,
      names: (_c, name) => [ref.keyPair('cn-hangzhou', name)],
    }),
  });

  test('a mutating call that succeeds runs once and is recorded once, naming what it named', async () => {
    const { gate, entries } = setup();
    const runs: string[] = [];
    const api = gate.expose(declarations(runs));
    assert.equal(await api.remove(allowDelete('acs:ecs:*:*:keypair/web*'), 'cn-hangzhou', 'web-1'), 'web-1');
    assert.deepEqual(runs, ['cn-hangzhou/web-1']);
    assert.deepEqual(entries, [
      { action: 'keypair:Delete', resources: ['keypair/cn-hangzhou/web-1'], result: 'success', errorCode: null },
    ]);
  });

  test('a denied call never runs; it is recorded as denied, reads included', async () => {
    const { gate, entries } = setup();
    const runs: string[] = [];
    const api = gate.expose(declarations(runs));
    await assert.rejects(
      api.remove(allowDelete('acs:ecs:*:*:keypair/web*'), 'cn-hangzhou', 'db-1'),
      (e: unknown) => e instanceof CoreError && e.code === 'Auth.Forbidden',
    );
    await assert.rejects(
      api.read(caller(), 'db-1'),
      (e: unknown) => e instanceof CoreError && e.code === 'Auth.Forbidden',
    );
    assert.deepEqual(runs, []);
    assert.deepEqual(
      entries.map((e) => [e.action, e.result, e.errorCode]),
      [
        ['keypair:Delete', 'denied', 'Auth.Forbidden'],
        ['keypair:Describe', 'denied', 'Auth.Forbidden'],
      ],
    );
  });

  test('a read that succeeds is not recorded; a mutating failure is, with its code', async () => {
    const { gate, entries } = setup();
    const api = gate.expose(declarations([]));
    assert.equal(await api.read(admin, 'web-1'), 'web-1');
    assert.equal(entries.length, 0);
    await assert.rejects(
      api.remove(admin, 'cn-hangzhou', 'bound'),
      (e: unknown) => e instanceof CoreError && e.code === 'KeyPair.InUse',
    );
    assert.deepEqual(entries, [
      {
        action: 'keypair:Delete',
        resources: ['keypair/cn-hangzhou/bound'],
        result: 'failure',
        errorCode: 'KeyPair.InUse',
      },
    ]);
  });

  test('a non-CoreError is recorded as Internal and passed on unchanged', async () => {
    const { gate, entries } = setup();
    const boom = new Error('disk on fire');
    const api = gate.expose({
      x: useCase({
        action: 'keypair:Update',
        access: 'policy',
        mutates: true,
        run: async (_c: Caller): Promise<void> => Promise.reject(boom),
        names: () => [],
      }),
    });
    await assert.rejects(api.x(admin), (e) => e === boom);
    assert.deepEqual(
      entries.map((e) => [e.result, e.errorCode]),
      [['failure', 'Internal']],
    );
  });

  test('declared checks replace the action on the named resources; every check must pass', async () => {
    const { gate } = setup();
    const runs: string[] = [];
    const api = gate.expose({
      run: useCase({
        action: 'instance:Create',
        access: 'policy',
        mutates: true,
        run: async (_c: Caller, keyPair: string) => void runs.push(keyPair),
        names: (_c, keyPair) => ({
          refs: [ref.instance('cn-hangzhou', '*')],
          checks: [
            { action: 'instance:Create', refs: [ref.instance('cn-hangzhou', '*')] },
            { action: 'keypair:Bind', refs: [ref.keyPair('cn-hangzhou', keyPair)] },
          ],
        }),
      }),
    });
    const createOnly = caller({}, [{ Effect: 'Allow', Action: 'instance:Create', Resource: '*' }]);
    await assert.rejects(
      api.run(createOnly, 'web'),
      (e: unknown) => e instanceof CoreError && e.code === 'Auth.Forbidden',
    );
    const both = caller({}, [{ Effect: 'Allow', Action: ['instance:Create', 'keypair:Bind'], Resource: '*' }]);
    await api.run(both, 'web');
    assert.deepEqual(runs, ['web']);
  });

  test('the audited action and resources can depend on what the call named and on its result', async () => {
    const { gate, entries } = setup();
    const api = gate.expose({
      change: useCase({
        action: (kind: 'bind' | 'unbind') => (kind === 'bind' ? 'keypair:Bind' : 'keypair:Unbind'),
        access: 'policy',
        mutates: true,
        run: async (_c: Caller, _kind: 'bind' | 'unbind', id: string) => ({ removed: 'old-key', id }),
        names: (_c, _kind, id) => [ref.instance('cn-hangzhou', id)],
        namesAfter: (result) => [ref.keyPair('cn-hangzhou', result.removed)],
      }),
      repair: useCase({
        action: 'keypair:Unbind',
        access: 'policy',
        mutates: true,
        run: async (_c: Caller) => undefined,
        names: () => ({ action: 'keypair:Bind', refs: [ref.keyPair('cn-hangzhou', 'web')] }),
      }),
    });
    await api.change(admin, 'unbind', 'i-1');
    await api.repair(admin);
    assert.deepEqual(
      entries.map((e) => [e.action, e.resources]),
      [
        ['keypair:Unbind', ['instance/cn-hangzhou/i-1', 'keypair/cn-hangzhou/old-key']],
        ['keypair:Bind', ['keypair/cn-hangzhou/web']],
      ],
    );
  });

  test('whether a call mutates can depend on its input (a dry run records nothing)', async () => {
    const { gate, entries } = setup();
    const api = gate.expose({
      stop: useCase({
        action: 'instance:Stop',
        access: 'policy',
        mutates: (_id: string, o: { dryRun?: boolean } = {}) => !o.dryRun,
        run: async (_c: Caller, id: string, _o?: { dryRun?: boolean }) => id,
        names: (_c, id) => [ref.instance('*', id)],
      }),
    });
    await api.stop(admin, 'i-1', { dryRun: true });
    assert.equal(entries.length, 0);
    await api.stop(admin, 'i-1');
    assert.equal(entries.length, 1);
  });

  test('administrator-only, self-or-administrator and system-administrator access', async () => {
    const { gate } = setup();
    const ok = async () => 'ok';
    const api = gate.expose({
      adminOnly: useCase({ action: 'iam:CreateUser', access: 'admin', mutates: true, run: ok, names: () => [] }),
      selfOrAdmin: useCase({
        action: 'iam:SetPassword',
        access: 'self-or-admin',
        mutates: true,
        run: async (_c: Caller, _userId: string | null) => 'ok',
        names: (_c, userId) => ({ refs: [], subjectUserId: userId }),
      }),
      systemOnly: useCase({
        action: 'iam:CreateAccount',
        access: 'system-admin',
        mutates: true,
        run: ok,
        names: () => [],
      }),
      anyone: useCase({ action: 'iam:SignOut', access: 'signed-in', mutates: true, run: ok, names: () => [] }),
    });
    // A policy that allows everything does not make a user an administrator.
    const everything = caller({}, [{ Effect: 'Allow', Action: '*', Resource: '*' }]);
    const forbidden = (e: unknown) => e instanceof CoreError && e.code === 'Auth.Forbidden';
    await assert.rejects(api.adminOnly(everything), forbidden);
    assert.equal(await api.adminOnly(admin), 'ok');
    assert.equal(await api.selfOrAdmin(everything, 'u-alice'), 'ok');
    await assert.rejects(api.selfOrAdmin(everything, 'u-bob'), forbidden);
    await assert.rejects(api.selfOrAdmin(everything, null), forbidden);
    assert.equal(await api.selfOrAdmin(admin, 'u-bob'), 'ok');
    await assert.rejects(api.systemOnly(admin), forbidden);
    assert.equal(await api.systemOnly(caller({ isSystemAdmin: true })), 'ok');
    assert.equal(await api.anyone(caller()), 'ok');
  });
});
