/**
 * Sign-in throttling (issue 18), on a fake clock: free failures, then doubling waits per user name and per source
 * address; a refused attempt is refused before any password check; a success clears its user's failures only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CoreError } from '../../src/core/errors.js';
import { createSignInThrottle, type SignInThrottleOptions } from '../../src/core/account/sign-in-throttle.js';
import { fakeClock } from '../support/fake-clock.js';

const OPTS: SignInThrottleOptions = {
  perUser: { freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 60_000 },
  perSource: { freeFailures: 20, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000 },
  forgetAfterMs: 15 * 60_000,
};

function throttled(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CoreError && err.code === 'Auth.Throttled', String(err));
    return err.details.retryAfterSeconds as number;
  }
  assert.fail('the attempt was not throttled');
}

describe('sign-in throttle', () => {
  test('five failures are free; then each further attempt waits twice as long as the one before', async () => {
    const clock = fakeClock();
    const t = createSignInThrottle(clock, OPTS);
    const alice = { principal: 'user:keyfleet/alice', sourceIp: '10.0.0.1' };
    for (let n = 0; n < 5; n++) t.begin(alice);
    assert.equal(
      throttled(() => t.begin(alice)),
      1,
    );
    await clock.advance(1_000);
    t.begin(alice); // the 6th failure
    assert.equal(
      throttled(() => t.begin(alice)),
      2,
    );
    await clock.advance(1_999);
    assert.equal(
      throttled(() => t.begin(alice)),
      1,
      'a millisecond short is still refused',
    );
    await clock.advance(1);
    t.begin(alice); // the 7th
    assert.equal(
      throttled(() => t.begin(alice)),
      4,
    );
  });

  test('the wait is capped, and failures are forgotten after a quiet spell', async () => {
    const clock = fakeClock();
    const t = createSignInThrottle(clock, OPTS);
    const bob = { principal: 'user:keyfleet/bob', sourceIp: '10.0.0.2' };
    for (let n = 0; n < 5; n++) t.begin(bob);
    for (let n = 0; n < 10; n++) {
      await clock.advance(60_000);
      t.begin(bob);
    }
    assert.equal(
      throttled(() => t.begin(bob)),
      60,
      'never more than the cap',
    );
    await clock.advance(15 * 60_000 + 1);
    for (let n = 0; n < 5; n++) t.begin(bob);
    assert.equal(
      throttled(() => t.begin(bob)),
      1,
      'counting starts over',
    );
  });

  test('attempts side by side count before they finish: the sixth is refused while five are in flight', () => {
    const t = createSignInThrottle(fakeClock(), OPTS);
    const carol = { principal: 'user:keyfleet/carol', sourceIp: '10.0.0.3' };
    const inFlight = Array.from({ length: 5 }, () => t.begin(carol));
    assert.equal(inFlight.length, 5);
    throttled(() => t.begin(carol));
  });

  test("a success clears its user's failures, not its source address's", () => {
    const t = createSignInThrottle(fakeClock(), OPTS);
    const ip = '10.0.0.4';
    for (let n = 0; n < 4; n++) t.begin({ principal: 'user:keyfleet/dave', sourceIp: ip });
    t.begin({ principal: 'user:keyfleet/dave', sourceIp: ip }).succeeded();
    for (let n = 0; n < 5; n++) t.begin({ principal: 'user:keyfleet/dave', sourceIp: ip });
    throttled(() => t.begin({ principal: 'user:keyfleet/dave', sourceIp: ip }));
    // 4 + 5 failures from the address; the success gave its own attempt back, nothing more.
    for (let n = 0; n < 11; n++) t.begin({ principal: `user:keyfleet/u${n}`, sourceIp: ip });
    throttled(() => t.begin({ principal: 'user:keyfleet/someone-else', sourceIp: ip }));
  });

  test('per source address: guessing across many user names is throttled too; other addresses are not', () => {
    const t = createSignInThrottle(fakeClock(), OPTS);
    for (let n = 0; n < 20; n++) t.begin({ principal: `user:keyfleet/name${n}`, sourceIp: '10.0.0.5' });
    throttled(() => t.begin({ principal: 'user:keyfleet/name-new', sourceIp: '10.0.0.5' }));
    t.begin({ principal: 'user:keyfleet/name-new', sourceIp: '10.0.0.6' });
  });

  test('a user name that does not exist is throttled exactly like one that does (the throttle never looks)', () => {
    const t = createSignInThrottle(fakeClock(), OPTS);
    for (const principal of ['user:keyfleet/admin', 'user:keyfleet/nobody-here']) {
      for (let n = 0; n < 5; n++) t.begin({ principal, sourceIp: `10.1.0.${principal.length}` });
      assert.equal(
        throttled(() => t.begin({ principal, sourceIp: `10.1.0.${principal.length}` })),
        1,
      );
    }
  });
});
