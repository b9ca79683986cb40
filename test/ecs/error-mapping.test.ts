/**
 * The ECS face's error table is total: every code the core can raise maps to an Alibaba status, Code and
 * Message, under every operation's wording, and none of them echoes the core's own message text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ECS_ACTION_NAMES, type EcsActionName } from '../../src/api/ecs/action-names.js';
import { CORE_TO_ECS, ecsSpecOfCore, itemErrorOf, OVERRIDES, toEcsError } from '../../src/api/ecs/errors.js';
import { CoreError, type ErrorCode, ErrorCodes } from '../../src/core/errors.js';

const ALIBABA_CODE = /^[A-Z][A-Za-z]*(\.[A-Za-z]+)*$/;
const CANARY = 'core-text-canary';
const CODES = Object.keys(ErrorCodes) as ErrorCode[];
const CONTEXTS: Array<EcsActionName | undefined> = [undefined, ...ECS_ACTION_NAMES];
/** Details that select a variant somewhere in the table or the overrides. */
const DETAILS: Array<Record<string, string>> = [
  {},
  { parameter: 'Status' },
  { reason: 'key' },
  { reason: 'value' },
  { reason: 'duplicate' },
];

describe('ECS error mapping', () => {
  test('the table has an entry for every core code, and nothing else', () => {
    assert.deepEqual(Object.keys(CORE_TO_ECS).sort(), [...CODES].sort());
  });

  for (const code of CODES) {
    test(`${code} maps to an Alibaba error under every operation`, () => {
      for (const action of CONTEXTS) {
        for (const details of DETAILS) {
          const s = ecsSpecOfCore(new CoreError(code, CANARY, details), action);
          assert.ok(s.status >= 400 && s.status <= 599, `${code}/${action}: status ${s.status}`);
          assert.match(s.code, ALIBABA_CODE, `${code}/${action}`);
          assert.ok(s.message.length > 0);
          if (s.code !== 'QuotaExceed.Tags')
            assert.ok(!s.message.includes(CANARY), `${code}/${action} echoes the core's message`);
          if (ErrorCodes[code] === 'Internal') assert.equal(s.status, 500);
        }
      }
    });
  }

  test('overrides only refine operations that exist and codes the core has', () => {
    for (const [action, byCode] of Object.entries(OVERRIDES)) {
      assert.ok((ECS_ACTION_NAMES as readonly string[]).includes(action), action);
      for (const code of Object.keys(byCode ?? {})) assert.ok(Object.hasOwn(ErrorCodes, code), `${action}: ${code}`);
    }
  });

  test('the same condition is worded per operation (API.md §3.4-§3.6)', () => {
    const tooMany = new CoreError('Batch.TooLarge', CANARY, { parameter: 'InstanceIds', limit: 50 });
    assert.deepEqual(
      [ecsSpecOfCore(tooMany, 'AttachKeyPair').status, ecsSpecOfCore(tooMany, 'AttachKeyPair').code],
      [403, 'InstanceKeyPairLimitExceeded'],
    );
    assert.equal(
      ecsSpecOfCore(tooMany, 'DeleteKeyPairs').message,
      'Exceeding the allowed amount of instance which will be deleted.',
    );
    assert.equal(ecsSpecOfCore(tooMany, 'RunInstances').code, 'InvalidParameter');
    const windows = new CoreError('Instance.WindowsNotSupported', CANARY);
    assert.ok(!ecsSpecOfCore(windows, 'AttachKeyPair').message.endsWith('.'));
    assert.ok(ecsSpecOfCore(windows, 'DetachKeyPair').message.endsWith('.'));
    const status = new CoreError('Input.Invalid', CANARY, { parameter: 'Status' });
    assert.deepEqual(
      [ecsSpecOfCore(status, 'DescribeInstances').status, ecsSpecOfCore(status, 'DescribeInstances').code],
      [404, 'InvalidStatus.NotFound'],
    );
    assert.equal(
      ecsSpecOfCore(new CoreError('Input.Invalid', CANARY, { parameter: 'PageSize' }), 'DescribeInstances').code,
      'InvalidParameter',
    );
  });

  test('per-instance results map recorded core codes; an unknown one is InternalError', () => {
    assert.deepEqual(
      itemErrorOf('Instance.WindowsNotSupported', 'DetachKeyPair').code,
      'DependencyViolation.WindowsInstance',
    );
    assert.deepEqual(itemErrorOf('Instance.NotIoOptimized', 'AttachKeyPair').code, 'DependencyViolation.IoOptimize');
    assert.deepEqual(itemErrorOf('Instance.NotFound', 'AttachKeyPair').code, 'InvalidInstanceId.NotFound');
    assert.deepEqual(itemErrorOf('Auth.Forbidden', 'AttachKeyPair').code, 'Forbidden.RAM');
    assert.deepEqual(itemErrorOf('No.SuchCode', 'AttachKeyPair').code, 'InternalError');
    assert.deepEqual(itemErrorOf(null, 'AttachKeyPair').code, 'InternalError');
  });

  test('anything that is not a CoreError is an InternalError, flagged for the log', () => {
    const r = toEcsError(new Error('boom'));
    assert.deepEqual([r.error.status, r.error.code, r.unexpected], [500, 'InternalError', true]);
    assert.ok(!r.error.message.includes('boom'));
    assert.equal(toEcsError(new CoreError('Internal', CANARY)).unexpected, true);
    assert.equal(toEcsError(new CoreError('KeyPair.NotFound', CANARY)).unexpected, false);
  });
});
