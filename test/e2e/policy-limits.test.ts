/**
 * Policy limits (issue 18), RAM's own: 1,500 policies per account, 25 attached to a user, 25 to a group. Passing one
 * is a coded 4xx that changes nothing; attaching a policy already attached is not a new attachment; detaching one
 * makes room again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import {
  MAX_POLICIES_PER_ACCOUNT,
  MAX_POLICIES_PER_GROUP,
  MAX_POLICIES_PER_USER,
} from '../../src/core/account/identity-service.js';
import { type Api, startInProcess } from '../support/keyfleet.js';

const DOCUMENT = { Version: '1', Statement: [{ Effect: 'Allow', Action: ['keypair:Describe*'], Resource: ['*'] }] };

describe('policy limits: per account, per user, per group', () => {
  let kf: Keyfleet;
  let api: Api;
  let accountId: string;

  before(async () => {
    ({ kf, api } = await startInProcess());
    accountId = (await api.call('GET', '/api/v1/whoami')).accountId;
    await api.call('POST', '/api/v1/users', { name: 'pl-user' });
    await api.call('POST', '/api/v1/groups', { name: 'pl-group' });
  });
  after(async () => kf?.close());

  /** Policies straight into the store (the limits are what is tested, not creating 1,500 through HTTP). */
  async function seedPolicies(prefix: string, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, n) => `${prefix}-${n}`);
    const now = new Date();
    await kf.store.transaction(async (tx) => {
      for (const name of names)
        await tx.accounts.insertPolicy({
          id: `pol-${prefix}-${String(names.indexOf(name)).padStart(6, '0')}`,
          accountId,
          name,
          description: '',
          document: DOCUMENT as never,
          createdAt: now,
          updatedAt: now,
        });
    });
    return names;
  }

  async function refused(method: string, path: string, body: unknown, code: string, limit: number) {
    const r = await api.raw(method, path, body);
    assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, code);
    assert.match(r.body.message, new RegExp(String(limit)));
    assert.equal(r.body.details.limit, limit);
  }

  test('a user: the 26th attachment is refused, a repeat is not, a detach makes room', async () => {
    const names = await seedPolicies('u', MAX_POLICIES_PER_USER + 1);
    for (const name of names.slice(0, MAX_POLICIES_PER_USER))
      assert.equal((await api.raw('PUT', `/api/v1/users/pl-user/policies/${name}`)).status, 204);
    const extra = names[MAX_POLICIES_PER_USER]!;
    await refused('PUT', `/api/v1/users/pl-user/policies/${extra}`, undefined, 'User.PolicyLimitExceeded', 25);
    const attached = await api.call('GET', '/api/v1/users/pl-user/policies');
    assert.equal(attached.policies.length, MAX_POLICIES_PER_USER, 'nothing was attached');
    assert.equal((await api.raw('PUT', `/api/v1/users/pl-user/policies/${names[0]}`)).status, 204, 'a repeat');
    assert.equal((await api.raw('DELETE', `/api/v1/users/pl-user/policies/${names[0]}`)).status, 204);
    assert.equal((await api.raw('PUT', `/api/v1/users/pl-user/policies/${extra}`)).status, 204, 'room again');
  });

  test('a group: the 26th attachment is refused, a repeat is not, a detach makes room', async () => {
    const names = await seedPolicies('g', MAX_POLICIES_PER_GROUP + 1);
    for (const name of names.slice(0, MAX_POLICIES_PER_GROUP))
      assert.equal((await api.raw('PUT', `/api/v1/groups/pl-group/policies/${name}`)).status, 204);
    const extra = names[MAX_POLICIES_PER_GROUP]!;
    await refused('PUT', `/api/v1/groups/pl-group/policies/${extra}`, undefined, 'Group.PolicyLimitExceeded', 25);
    const group = await api.call('GET', '/api/v1/groups/pl-group');
    assert.equal(group.policies.length, MAX_POLICIES_PER_GROUP, 'nothing was attached');
    assert.equal((await api.raw('PUT', `/api/v1/groups/pl-group/policies/${names[0]}`)).status, 204, 'a repeat');
    assert.equal((await api.raw('DELETE', `/api/v1/groups/pl-group/policies/${names[0]}`)).status, 204);
    assert.equal((await api.raw('PUT', `/api/v1/groups/pl-group/policies/${extra}`)).status, 204, 'room again');
  });

  test('an account: the policy past 1,500 is refused and not created; deleting one makes room', async () => {
    const have = (await api.call('GET', '/api/v1/policies')).policies.length;
    await seedPolicies('a', MAX_POLICIES_PER_ACCOUNT - have);
    assert.equal((await api.call('GET', '/api/v1/policies')).policies.length, MAX_POLICIES_PER_ACCOUNT);
    await refused(
      'POST',
      '/api/v1/policies',
      { name: 'one-too-many', document: DOCUMENT },
      'Policy.LimitExceeded',
      1500,
    );
    assert.equal((await api.call('GET', '/api/v1/policies')).policies.length, MAX_POLICIES_PER_ACCOUNT, 'not created');
    assert.equal((await api.raw('DELETE', '/api/v1/policies/a-0')).status, 204);
    assert.equal((await api.raw('POST', '/api/v1/policies', { name: 'one-too-many', document: DOCUMENT })).status, 201);
  });
});
