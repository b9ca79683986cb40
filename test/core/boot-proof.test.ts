/**
 * The boot prover on its own: a scripted LiveAccess answers each probe, a fake clock moves the retries, the store
 * is the embedded one. What the instance records for each answer (accepted, refused, password still offered, no
 * answer, host key changed), that a machine which answers late is asked again, that a proof of a state the machine
 * no longer has is not recorded, and that proofs run a bounded number at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreError } from '../../src/core/errors.js';
import { BOOT_PROOF_CONCURRENCY, createBootProver } from '../../src/core/instance/boot-proof.js';
import type { Instance } from '../../src/core/instance/instance.js';
import { verificationOf } from '../../src/core/instance/verification.js';
import type { HostKeyPolicy, LiveAccess, LiveTarget, Logger } from '../../src/core/ports.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { fakeClock, settle } from '../support/fake-clock.js';
import { tempDir } from '../support/tmp.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm6M7a0r6D3nJ9H1hC4H8Qm2bV0t2cS1o0N8XwYk6rK web';
const OLD_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx3cGq1b8yV3m0h4rj2T0Gd7m3u8pQw5s8bZ1yX2k9a old';
const HOST_KEY = 'SHA256:host';

type Answer = { keyAccepted: boolean | null; methods: string[] } | CoreError;
interface Probe {
  target: LiveTarget;
  hostKey: HostKeyPolicy;
  key: string | null;
}

/** A LiveAccess whose probes answer from `answer`; every probe is recorded; `gate` holds probes until opened. */
function scriptedLive(answer: (p: Probe) => Answer | Promise<Answer>) {
  const probes: Probe[] = [];
  let active = 0;
  let peak = 0;
  const live: LiveAccess = {
    openSession: () => Promise.reject(new Error('not used')),
    tryLogin: () => Promise.reject(new Error('not used')),
    async probeLogin(target, hostKey, key) {
      const p = { target, hostKey, key };
      probes.push(p);
      peak = Math.max(peak, ++active);
      try {
        const a = await answer(p);
        if (a instanceof CoreError) throw a;
        return { ...a, hostKeySha256: HOST_KEY };
      } finally {
        active--;
      }
    },
  };
  return { live, probes, peak: () => peak };
}

let store: OpenedStore;
let n = 0;
const warnings: Array<Record<string, unknown> | undefined> = [];
const logger: Logger = { info() {}, warn: (_m, f) => void warnings.push(f), error() {} };

before(async () => {
  store = await openStore({ dataDir: tempDir() });
  await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
});
after(() => store.close());

async function machine(over: Partial<Instance> = {}): Promise<Instance> {
  const id = `i-proof${++n}`;
  const inst: Instance = {
    id,
    accountId: 'acc-1',
    regionId: 'cn-hangzhou',
    zoneId: 'cn-hangzhou-a',
    name: id,
    hostName: 'h',
    description: '',
    imageId: 'img',
    instanceType: 't',
    osType: 'linux',
    osName: 'Linux',
    status: 'Running',
    backend: 'sim',
    address: `127.16.9.${n}`,
    sshPort: 2222,
    loginUser: 'root',
    resourceGroupId: 'rg-1',
    tags: [],
    createdAt: new Date(0),
    updatedAt: new Date(0),
    keyPairId: 'kp-1',
    keyPairName: 'web',
    desiredPublicKey: KEY,
    pendingPasswordHash: null,
    appliedPublicKey: KEY,
    appliedPasswordLogin: false,
    pendingRestart: false,
    hasPassword: true,
    hostKeySha256: HOST_KEY,
    startAfterProvision: true,
    verifiedAt: null,
    verification: 'waiting for the boot to be proven',
    ...over,
  };
  await store.transaction((tx) => tx.instances.insert(inst));
  return inst;
}

const reload = async (i: Instance) => (await store.instances.get('acc-1', i.id))!;

describe('boot proof', () => {
  test('the bound key accepted and password login off: verified at the clock time, probed with the host key pinned', async () => {
    const clock = fakeClock(new Date('2026-12-07T02:00:00Z'));
    const { live, probes } = scriptedLive((p) => ({ keyAccepted: p.key === KEY, methods: ['publickey'] }));
    const prover = createBootProver({ store, live, clock, logger, timeoutMs: 1000 });
    const inst = await machine();
    prover.after(Promise.resolve(), 'acc-1', inst.id, null);
    await prover.settle();
    const got = await reload(inst);
    assert.deepEqual(got.verifiedAt, new Date('2026-12-07T02:00:00Z'));
    assert.equal(got.verification, "key 'web' accepted; password login off");
    assert.deepEqual(probes[0]!.hostKey, { kind: 'pinned', sha256: HOST_KEY });
    assert.deepEqual(probes[0]!.target, { host: inst.address, port: 2222, username: 'root' });
  });

  test('what a failed proof records, and the warning it logs', async () => {
    const cases: Array<[Partial<Instance>, (p: Probe) => Answer, string]> = [
      [{}, () => ({ keyAccepted: false, methods: ['publickey', 'password'] }), "proof failed: key 'web' refused"],
      [
        {},
        () => ({ keyAccepted: true, methods: ['publickey', 'password'] }),
        'proof failed: password login is still offered',
      ],
      [
        {},
        () => ({ keyAccepted: true, methods: ['publickey', 'keyboard-interactive'] }),
        'proof failed: password login is still offered',
      ],
      [
        {
          keyPairId: null,
          keyPairName: null,
          desiredPublicKey: null,
          appliedPublicKey: null,
          appliedPasswordLogin: true,
        },
        () => ({ keyAccepted: null, methods: ['publickey'] }),
        'proof failed: password login is not offered',
      ],
      [{}, () => new CoreError('Live.HostKeyChanged', 'changed'), 'proof failed: the host key changed'],
    ];
    for (const [over, answer, text] of cases) {
      const { live } = scriptedLive(answer);
      const prover = createBootProver({ store, live, clock: fakeClock(), logger, timeoutMs: 1000 });
      const inst = await machine(over);
      warnings.length = 0;
      prover.after(Promise.resolve(), 'acc-1', inst.id, null);
      await prover.settle();
      const got = await reload(inst);
      assert.equal(got.verifiedAt, null, text);
      assert.equal(got.verification, text);
      assert.deepEqual(verificationOf(got), { verifiedAt: null, verification: text });
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]!.verification, text);
    }
  });

  test('an unbind applied at the boot is proven by the removed key being refused', async () => {
    const { live, probes } = scriptedLive((p) => ({
      keyAccepted: p.key === OLD_KEY,
      methods: ['publickey', 'password'],
    }));
    const prover = createBootProver({ store, live, clock: fakeClock(), logger, timeoutMs: 1000 });
    const none = {
      keyPairId: null,
      keyPairName: null,
      desiredPublicKey: null,
      appliedPublicKey: null,
      appliedPasswordLogin: true,
    };
    const refused = await machine(none);
    // The scripted sshd still accepts OLD_KEY: an unbind the boot did not really apply.
    prover.after(Promise.resolve(), 'acc-1', refused.id, OLD_KEY);
    await prover.settle();
    assert.equal((await reload(refused)).verification, 'proof failed: the removed key is still accepted');
    assert.equal(probes.at(-1)!.key, OLD_KEY);

    const { live: live2 } = scriptedLive(() => ({ keyAccepted: false, methods: ['publickey', 'password'] }));
    const prover2 = createBootProver({ store, live: live2, clock: fakeClock(), logger, timeoutMs: 1000 });
    const ok = await machine(none);
    prover2.after(Promise.resolve(), 'acc-1', ok.id, OLD_KEY);
    await prover2.settle();
    const got = await reload(ok);
    assert.ok(got.verifiedAt);
    assert.equal(got.verification, 'no key pair: the removed key refused; password login on');
  });

  test('a machine that does not answer at once is asked again (0.5 s, 1 s); one that never answers is not verified, and why', async () => {
    const clock = fakeClock();
    let refusals = 2;
    const { live, probes } = scriptedLive(() =>
      refusals-- > 0
        ? new CoreError('Live.Unreachable', 'connection refused')
        : { keyAccepted: true, methods: ['publickey'] },
    );
    const prover = createBootProver({ store, live, clock, logger, timeoutMs: 1000 });
    const late = await machine();
    prover.after(Promise.resolve(), 'acc-1', late.id, null);
    while (prover.pending() > 0) {
      await settle();
      if (!(await clock.next())) await settle();
    }
    assert.equal(probes.length, 3);
    assert.deepEqual(clock.sleeps, [500, 1000]);
    assert.ok((await reload(late)).verifiedAt);

    const { live: dead } = scriptedLive(
      () => new CoreError('Live.Unreachable', 'Cannot reach 127.16.9.9:2222 over SSH: connection refused.'),
    );
    const clock2 = fakeClock();
    const prover2 = createBootProver({ store, live: dead, clock: clock2, logger, timeoutMs: 1000 });
    const silent = await machine();
    prover2.after(Promise.resolve(), 'acc-1', silent.id, null);
    while (prover2.pending() > 0) {
      await settle();
      if (!(await clock2.next())) await settle();
    }
    const got = await reload(silent);
    assert.equal(got.verifiedAt, null);
    assert.equal(
      got.verification,
      'the machine did not answer: Cannot reach 127.16.9.9:2222 over SSH: connection refused.',
    );
  });

  test('a proof of a state the machine no longer has (restarted or changed meanwhile) is not recorded', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { live } = scriptedLive(async () => {
      await held;
      return { keyAccepted: true, methods: ['publickey'] };
    });
    const prover = createBootProver({ store, live, clock: fakeClock(), logger, timeoutMs: 1000 });
    const inst = await machine();
    prover.after(Promise.resolve(), 'acc-1', inst.id, null);
    await settle();
    // Meanwhile the machine is restarted: the proof in flight is about the boot before.
    await store.transaction(async (tx) => {
      const cur = (await tx.instances.get('acc-1', inst.id))!;
      await tx.instances.update({ ...cur, status: 'Starting', verification: 'waiting for the boot to be proven' });
    });
    release();
    await prover.settle();
    const got = await reload(inst);
    assert.equal(got.verifiedAt, null);
    assert.equal(got.verification, 'waiting for the boot to be proven');
  });

  test(`proofs run at most ${BOOT_PROOF_CONCURRENCY} at a time; Windows and unknown host keys are not probed`, async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { live, probes, peak } = scriptedLive(async () => {
      await held;
      return { keyAccepted: true, methods: ['publickey'] };
    });
    const prover = createBootProver({ store, live, clock: fakeClock(), logger, timeoutMs: 1000 });
    const many = [];
    for (let k = 0; k < BOOT_PROOF_CONCURRENCY * 3; k++) many.push(await machine());
    for (const m of many) prover.after(Promise.resolve(), 'acc-1', m.id, null);
    await settle(50);
    assert.equal(probes.length, BOOT_PROOF_CONCURRENCY);
    release();
    await prover.settle();
    assert.equal(peak(), BOOT_PROOF_CONCURRENCY);
    for (const m of many) assert.ok((await reload(m)).verifiedAt);

    const before = probes.length;
    const windows = await machine({ osType: 'windows' });
    const unpinned = await machine({ hostKeySha256: null });
    prover.after(Promise.resolve(), 'acc-1', windows.id, null);
    prover.after(Promise.resolve(), 'acc-1', unpinned.id, null);
    await prover.settle();
    assert.equal(probes.length, before);
    assert.equal((await reload(windows)).verification, 'no SSH on this machine (Windows)');
    assert.equal((await reload(unpinned)).verification, 'no host key is known to pin the proof to');
  });
});
