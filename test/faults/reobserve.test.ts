/**
 * ADR 26: a live change interrupted while the machine then stops answering is asked about again until it answers.
 * A real Debian OpenSSH host (the harness) is registered with keyfleet through a fault proxy; the change is cut off
 * at the start of its proof (after its session wrote the key and reloaded sshd), and from then on the network is
 * broken ('all'), so keyfleet's own observation cannot reach the machine either: the item fails Live.StateUnknown
 * and the instance is unverified. While the network stays broken the record keeps saying "not verified ... last
 * asked at"; once it is back, keyfleet's re-observation records what the machine does, which is compared with
 * what the real OpenSSH client finds (directly, not through the proxy): the key logs in or not, password login is
 * accepted or not. (Where exactly the cut falls varies a little with the traffic, so the machine may have the change
 * in whole or in part; the record must say which.) The second case stops keyfleet with the mark pending and starts it again on the same data: the
 * restarted process finishes the re-observation. The third makes a newer change while the mark waits: it wins.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FaultProxy } from '../support/fault-proxy.js';
import { sleep } from '../support/keyfleet.js';
import { writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import { dirOf, login, REGION, type RegisteredFleet, startRegisteredFleet } from '../hosts/support/registered-hosts.js';

const KEY_PAIR = 'kp-reobserve';
/** Waits are bounded by this, far above what any step takes; nothing asserts a duration. */
const DEADLINE_MS = 120_000;

describe('re-observation after an interrupted live change, real OpenSSH through a fault proxy', () => {
  let fleet: RegisteredFleet;
  let host: TestHost;
  let proxy: FaultProxy;
  let id: string;
  let kpFile: string;
  /** Where the proof of a clean bind and unbind begins in the proxied traffic (bytes since arming). */
  const proofStart = { bind: 0, unbind: 0 };

  before(async () => {
    fleet = await startRegisteredFleet(1, {
      hosts: { addressPrefix: '127.61' },
      extraEnv: { KEYFLEET_LIVE_TIMEOUT_MS: '2500', KEYFLEET_REOBSERVE_MS: '300,600,1000' },
    });
    host = fleet.hosts[0]!;
    proxy = await FaultProxy.start('127.61.250.1', { host: host.address, port: host.port });
    const r = await fleet.api.call(
      'POST',
      `/api/v1/regions/${REGION}/hosts`,
      fleet.registerBody(host, 'via-proxy', { address: proxy.host, port: proxy.port }),
    );
    id = r.instance.id;
    const { privateKey } = await fleet.api.createKeyPair(KEY_PAIR, 'ed25519');
    kpFile = await writePrivateKey(privateKey);
    // A clean bind, measured: its session, then the proof's fresh connections. Then back to unbound.
    for (const action of ['bind', 'unbind'] as const) {
      proxy.arm(null);
      assert.equal((await change(action)).status, 'succeeded');
      proofStart[action] = proxy.connectionStarts()[1] ?? 0;
      assert.ok(proofStart[action] > 0, `the ${action}'s proof opened a connection of its own`);
    }
  });

  after(async () => {
    await proxy?.close();
    await fleet?.close();
  });

  async function change(action: 'bind' | 'unbind') {
    const r = await fleet.api.bind({
      action,
      mode: 'live',
      instanceIds: [id],
      ...(action === 'bind' ? { keyPairName: KEY_PAIR } : {}),
    });
    return { ...r.items[0], taskId: r.task.id as string };
  }

  /** true: logged in; false: refused by sshd (directly, not through the proxy). */
  async function logsIn(auth: { identityFile?: string; password?: string }): Promise<boolean> {
    const request = path.join(dirOf(host), 'reload', 'request');
    for (let i = 0; existsSync(request) && i < 500; i++) await sleep(20);
    for (let attempt = 1; ; attempt++) {
      const r = await login(host, auth);
      if (r.code === 0) return true;
      if (/Permission denied/.test(r.stderr)) return false;
      if (attempt >= 50) assert.fail(`the host gave no answer to a login: ${r.stderr}`);
      await sleep(50);
    }
  }

  async function until<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
    const end = Date.now() + DEADLINE_MS;
    for (;;) {
      const v = await probe();
      if (v !== null) return v;
      if (Date.now() > end) assert.fail(`not reached within the deadline: ${what}`);
      await sleep(100);
    }
  }

  /** The change is cut off at its proof and the network stays broken: Live.StateUnknown, unverified. */
  async function interrupted(action: 'bind' | 'unbind') {
    proxy.arm({ kind: 'close', afterBytes: proofStart[action] + 200, direction: 'total', scope: 'all' });
    const item = await change(action);
    assert.ok(proxy.fired(), 'the fault fired');
    assert.equal(item.errorCode, 'Live.StateUnknown', JSON.stringify(item));
    const inst = await fleet.api.instance(id);
    assert.equal(inst.verifiedAt ?? null, null);
    return item;
  }

  async function recordMatchesHost() {
    const inst = await until('the machine is observed again', async () => {
      const i = await fleet.api.instance(id);
      return i.verifiedAt && /^observed by probe at .* after an interrupted change/.test(i.verification ?? '')
        ? i
        : null;
    });
    const key = await logsIn({ identityFile: kpFile });
    const password = await logsIn({ password: host.password });
    assert.equal(inst.keyPairName === KEY_PAIR, key, `the record's key pair says what sshd does: ${inst.verification}`);
    assert.equal(inst.passwordLogin !== false, password, `the record's password login says what sshd does`);
    // Where the cut fell decides whether the change took effect in whole or in part (the traffic of a change is not
    // byte-for-byte the same each time); either way the record says what sshd does.
    return { inst, host: { key, password } };
  }

  test('unanswered: "not verified, last asked at"; answered: the record equals what OpenSSH shows, audited', async (t) => {
    const item = await interrupted('bind');
    await until('the record says when the machine was last asked', async () => {
      const i = await fleet.api.instance(id);
      return /^not verified: .*last asked at /.test(i.verification ?? '') && !i.verifiedAt ? i : null;
    });
    proxy.arm(null);
    const seen = await recordMatchesHost();
    t.diagnostic(`bind: the host ${JSON.stringify(seen.host)}; the record: ${seen.inst.verification}`);
    const audit = await fleet.kf.store.audit.query({
      accountId: (await fleet.kf.store.instances.list({ ids: [id], offset: 0, limit: 1 })).items[0]!.accountId,
      requestId: `reobserve-${item.taskId}`,
      offset: 0,
      limit: 10,
    });
    assert.equal(audit.total, 1, 'one audit entry for the re-observation');
    assert.equal(audit.items[0]?.stage, 'outcome');
    assert.equal(audit.items[0]?.userName, 'keyfleet');
    assert.match(audit.items[0]?.detail ?? '', /took effect/);
  });

  test('keyfleet stopped while the mark waits: started again on the same data, it finishes the observation', async (t) => {
    await interrupted('unbind');
    await fleet.stopKeyfleet();
    proxy.arm(null);
    await fleet.startKeyfleet();
    const seen = await recordMatchesHost();
    t.diagnostic(`unbind: the host ${JSON.stringify(seen.host)}; the record: ${seen.inst.verification}`);
  });

  test('a newer change made while the mark waits wins: its record stands, the mark is gone', async () => {
    await interrupted('bind');
    proxy.arm(null);
    // Whether the sweeper asks before this unbind is recorded or after, the unbind is the newer change.
    const newer = await change('unbind');
    assert.equal(newer.status, 'succeeded', JSON.stringify(newer));
    await until('the mark is gone', async () => ((await fleet.kf.store.reobservations.get(id)) ? null : true));
    const inst = await fleet.api.instance(id);
    // The unbind's own proof (a login), not the interrupted bind's observation nor its "not verified".
    assert.doesNotMatch(inst.verification ?? '', /observed by probe|not verified|interrupted/, inst.verification);
    assert.ok(inst.verifiedAt);
    assert.equal(inst.keyPairName ?? null, null);
    assert.equal(await logsIn({ identityFile: kpFile }), false);
    assert.equal(await logsIn({ password: host.password }), true);
  });
});
