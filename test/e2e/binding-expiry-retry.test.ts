/**
 * A binding's expiry on a host that is down when it comes (issue 19): keyfleet's unbind fails (the host cannot be
 * reached through any attempt), the record keeps the binding with its passed expiry (true: the line is still on
 * the host), the sweeper makes the unbind again after KEYFLEET_EXPIRY_RETRY_MS, naming the task it retries, and
 * once the host is back a retry succeeds: the line is gone, password login is back by the rule, proven by logins.
 * Real Debian sshd (the harness), real OpenSSH clients, real time: every wait polls a condition with a deadline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../support/keyfleet.js';
import { writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import {
  akPath,
  dropIn,
  login,
  type RegisteredFleet,
  startRegisteredFleet,
} from '../hosts/support/registered-hosts.js';

describe('an expiry whose unbind fails while the host is down is unbound again once it is back', () => {
  let fleet: RegisteredFleet;
  let host: TestHost;
  let hostId: string;

  before(async () => {
    // Addresses of its own (127.49.<slot>.x), apart from the ranges other suites' host fleets use at once.
    fleet = await startRegisteredFleet(1, {
      extraEnv: {
        KEYFLEET_EXPIRY_SWEEP_MS: '500',
        KEYFLEET_EXPIRY_RETRY_MS: '2000',
        KEYFLEET_LIVE_TIMEOUT_MS: '5000',
      },
      hosts: { addressPrefix: '127.49', user: 'kfr' },
    });
    host = fleet.hosts[0]!;
    hostId = (await fleet.register(host, 'retry-host')).instance.id;
  });
  after(async () => {
    await fleet?.close();
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 180_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe();
      if (got) return got;
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await sleep(250);
    }
  }
  const expiryTasks = async () =>
    ((await fleet.api.call('GET', '/api/v1/tasks?limit=100')).tasks as any[]).filter(
      (t) => t.face === 'system' && t.kind === 'unbind' && t.options.endsExpiry,
    );

  test('failed while down, retried (naming the failed task) until the host is back, then the record and the host agree', async () => {
    const api = fleet.api;
    const { privateKey } = await api.createKeyPair('short-lived', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'short-lived',
      instanceIds: [hostId],
      mode: 'live',
      expiresIn: '8s',
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
    assert.equal((await login(host, { identityFile: keyFile })).code, 0, 'the key logs in before its expiry');

    // The host goes down before the expiry: keyfleet's unbind cannot reach it.
    await host.stop();
    const failed = await until('the expiry unbind has failed', async () => {
      const done = (await expiryTasks()).filter((t) => t.finishedAt);
      return done.length > 0 ? done : undefined;
    });
    assert.equal(failed[0].status, 'failed');
    const item = (await api.call('GET', `/api/v1/tasks/${failed[0].id}/items`)).items[0];
    assert.match(item.errorCode, /^Live\./, `a network fault, named: ${JSON.stringify(item)}`);
    const stillBound = await api.instance(hostId);
    assert.equal(stillBound.keyPairName, 'short-lived', 'the record keeps the binding the host still has');
    assert.ok(new Date(stillBound.keyExpiresAt).getTime() < Date.now(), 'with its passed expiry');

    // While it is down the sweeper keeps trying, each retry naming the task it retries.
    const retried = await until('a retry has been made and failed too', async () => {
      const all = await expiryTasks();
      const r = all.find((t) => t.options.retryOf && t.finishedAt);
      return r ? { r, all } : undefined;
    });
    assert.ok(
      retried.all.some((t) => t.id === retried.r.options.retryOf),
      'the retry names an earlier expiry task',
    );
    assert.equal(retried.r.status, 'failed');
    assert.equal(retried.r.options.endsExpiry, failed[0].options.endsExpiry, 'the same expiry');
    const running = retried.all.filter((t) => !t.finishedAt);
    assert.ok(running.length <= 1, `one unbind at a time for one expiry: ${JSON.stringify(running)}`);

    // The host comes back: the next retry succeeds and everything agrees.
    await host.restart();
    const done = await until('an expiry unbind has succeeded', async () =>
      (await expiryTasks()).find((t) => t.status === 'succeeded'),
    );
    assert.ok(done.options.retryOf, 'it was a retry');
    const after = await api.instance(hostId);
    assert.deepEqual([after.keyPairName, after.keyExpiresAt, after.passwordLogin], [null, null, true]);
    assert.ok(after.verifiedAt, 'proven by a fresh login');
    assert.ok(!(await fs.readFile(akPath(host), 'utf8')).includes('keyfleet:short-lived'), 'the line is gone');
    assert.match(await fs.readFile(dropIn(host), 'utf8'), /PasswordAuthentication yes/);
    assert.equal((await login(host, { password: host.password })).code, 0, 'password login is back');
    assert.equal((await login(host, { identityFile: keyFile })).code, 255, 'the key is refused');

    // Done means done: no further unbind is made for this expiry.
    const count = (await expiryTasks()).length;
    await sleep(4500); // two retry periods and more
    assert.equal((await expiryTasks()).length, count, 'no retry after the success');
  });
});
