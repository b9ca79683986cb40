/**
 * Hostile tenants (issue 18): tenant B runs each attack of the issue against the keyfleet every tenant shares, from
 * its own simulated instances and through the API, while tenant A keeps calling DescribeKeyPairs (ECS face, signed)
 * and logging in over SSH to its own instance. Each attack asserts what the attacker gets (a refusal, an error code,
 * a cap); each also asserts that every one of A's calls made meanwhile succeeded. keyfleet runs as a child process
 * and its resident memory is sampled from /proc throughout: it must stay under the baseline + 200 MiB (the
 * attacks would cost far more unbounded: 8 × 8 MiB of cat output held at once, a 4 GiB scrypt, 200 connections).
 * No time is asserted: bench/hostile-tenant.ts measures A's latency under the same attacks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ATTACKS,
  describeAsA,
  rssOf,
  type Scenario,
  sshLoginAsA,
  startProbes,
  startScenario,
  stopScenario,
} from './support/scenario.js';

const RSS_HEADROOM = 200 * 1024 * 1024;

// The timeout guards against a hang, it does not check speed: ~40 s alone, several minutes on a loaded machine.
describe('tenant B attacks while tenant A works', { timeout: 900_000 }, () => {
  let s: Scenario;
  let baseline = 0;
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;

  before(async () => {
    s = await startScenario();
    await describeAsA(s);
    await sshLoginAsA(s);
    baseline = rssOf(s.child.pid!);
    peak = baseline;
    sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(s.child.pid!));
    }, 50);
  });

  after(async () => {
    clearInterval(sampler);
    await stopScenario(s);
  });

  for (const attack of ATTACKS) {
    test(`${attack.name}: the attacker is refused or bounded; every call of A meanwhile succeeds`, async () => {
      const probes = startProbes(s);
      let attackError: unknown = null;
      await attack.run(s).catch((err: unknown) => {
        attackError = err;
      });
      const record = await probes.stop();
      if (attackError) throw attackError;
      assert.deepEqual(record.failures, []);
      assert.ok(record.describeMs.length >= 1 && record.loginMs.length >= 1);
    });
  }

  test(`keyfleet's resident memory stayed under the baseline + ${RSS_HEADROOM / 1024 / 1024} MiB`, (t) => {
    peak = Math.max(peak, rssOf(s.child.pid!));
    t.diagnostic(`RSS baseline ${(baseline / 1048576).toFixed(0)} MiB, peak ${(peak / 1048576).toFixed(0)} MiB`);
    assert.ok(
      peak < baseline + RSS_HEADROOM,
      `peak ${(peak / 1048576).toFixed(0)} MiB, baseline ${(baseline / 1048576).toFixed(0)} MiB`,
    );
    assert.equal(s.child.exitCode, null, 'keyfleet is still running');
  });
});
