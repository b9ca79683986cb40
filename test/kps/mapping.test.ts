/**
 * The face's translation tables, checked exhaustively: every core error code has a KPS wire code, every core task
 * state a KPS task_status (with the documented replace quirk, API.md §4.5), every associate body its flavour, and
 * project ids are IAM-shaped, stable and per account.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  associateFlavour,
  associateRequest,
  credentialOf,
  disassociateRequest,
} from '../../src/api/kps/binding-request.js';
import { KPS_ERRORS } from '../../src/api/kps/errors.js';
import { domainIdOf, findProject, projectIdOf } from '../../src/api/kps/projects.js';
import { kpsOperateType, kpsTaskStatus } from '../../src/api/kps/task-status.js';
import { ErrorCodes } from '../../src/core/errors.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import type { TaskStatus } from '../../src/core/task/task.js';

describe('KPS face mappings', () => {
  test('every core error code maps to a documented KPS or APIGW code', () => {
    assert.deepEqual(Object.keys(KPS_ERRORS).sort(), Object.keys(ErrorCodes).sort());
    for (const [code, wire] of Object.entries(KPS_ERRORS)) {
      assert.match(wire.code, /^(KPS\.\d{4}|APIGW\.\d{4})$/, code);
      assert.ok(wire.status >= 400 && wire.status < 600, code);
    }
    assert.deepEqual(KPS_ERRORS['KeyPair.NotFound'], { status: 400, code: 'KPS.6004' });
    assert.equal(KPS_ERRORS['PrivateKey.NotEscrowed'].code, 'KPS.6005');
    assert.equal(KPS_ERRORS['PrivateKey.Mismatch'].code, 'KPS.6011');
    assert.equal(KPS_ERRORS['Task.NotFound'].code, 'KPS.0001');
  });

  test('task_status and operate_type for every operation and state; a finished replace reports *_RESET', () => {
    const statuses: TaskStatus[] = ['queued', 'running', 'succeeded', 'failed', 'partial'];
    const table = (kind: 'bind' | 'unbind', flavour: 'reset' | 'bind' | 'replace' | 'unbind') =>
      statuses.map((status) => [
        kpsTaskStatus({ kind, status, options: { flavour } }),
        kpsOperateType({ kind, status, options: { flavour } }),
      ]);
    assert.deepEqual(table('bind', 'reset'), [
      ['READY_RESET', 'READY_RESET'],
      ['RUNNING_RESET', 'RUNNING_RESET'],
      ['SUCCESS_RESET', 'SUCCESS_RESET'],
      ['FAILED_RESET', 'FAILED_RESET'],
      ['FAILED_RESET', 'FAILED_RESET'],
    ]);
    assert.deepEqual(
      table('bind', 'bind'),
      table('bind', 'reset'),
      'a bind with the root password runs as a RESET task',
    );
    assert.deepEqual(table('bind', 'replace'), [
      ['READY_REPLACE', 'READY_REPLACE'],
      ['RUNNING_REPLACE', 'RUNNING_REPLACE'],
      ['SUCCESS_RESET', 'SUCCESS_REPLACE'],
      ['FAILED_RESET', 'FAILED_REPLACE'],
      ['FAILED_RESET', 'FAILED_REPLACE'],
    ]);
    assert.deepEqual(
      table('unbind', 'unbind').map(([s]) => s),
      ['READY_UNBIND', 'RUNNING_UNBIND', 'SUCCESS_UNBIND', 'FAILED_UNBIND', 'FAILED_UNBIND'],
    );
    // Tasks made by other faces have no flavour: a bind is a RESET, an unbind an UNBIND.
    assert.equal(kpsTaskStatus({ kind: 'bind', status: 'succeeded', options: {} }), 'SUCCESS_RESET');
  });

  test('server.auth decides the flavour; the credential goes to the core, the options record port and flavour', () => {
    assert.equal(associateFlavour(credentialOf(undefined)), 'reset');
    assert.equal(associateFlavour(credentialOf({})), 'reset');
    assert.equal(associateFlavour(credentialOf({ type: 'password', key: 'Root-Pass-1' })), 'bind');
    assert.equal(associateFlavour(credentialOf({ type: 'keypair', key: '-----BEGIN…' })), 'replace');
    assert.throws(() => credentialOf({ type: 'password' }), /needs both/);
    assert.throws(() => credentialOf({ key: 'x' }), /needs both/);

    const req = associateRequest('cn-hangzhou', {
      keypair_name: 'k',
      server: { id: 'i-1', port: 2222, disable_password: false, auth: { type: 'password', key: 'Root-Pass-1' } },
    });
    assert.deepEqual(
      { ...req, credential: req.credential?.kind },
      {
        regionId: 'cn-hangzhou',
        kind: 'bind',
        keyPairName: 'k',
        instanceIds: ['i-1'],
        mode: 'live',
        credential: 'password',
        options: { flavour: 'bind', port: 2222, disablePassword: false },
        maxBatch: 10,
      },
    );
    const un = disassociateRequest('cn-hangzhou', { server: { id: 'i-1' } });
    assert.deepEqual(
      [un.kind, un.keyPairName, un.credential, un.options],
      ['unbind', undefined, undefined, { flavour: 'unbind' }],
    );
  });

  test('project ids: 32 hex, stable, one per region, different for every account', () => {
    const a = projectIdOf('acc-a', 'cn-hangzhou');
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.equal(projectIdOf('acc-a', 'cn-hangzhou'), a);
    assert.notEqual(projectIdOf('acc-b', 'cn-hangzhou'), a);
    assert.notEqual(projectIdOf('acc-a', 'cn-shanghai'), a);
    assert.notEqual(domainIdOf('acc-a'), a);
    assert.equal(findProject('acc-a', DEFAULT_REGIONS, a)?.region.id, 'cn-hangzhou');
    assert.equal(findProject('acc-b', DEFAULT_REGIONS, a), null, 'another account does not find it');
  });
});
