/**
 * Bindings that expire, enforced by the machine (issue 19), with real time, real OpenSSH clients, a Debian sshd
 * host from the harness (registered with its management key) and simulated instances, through the native API and
 * the CLI. The story of the issue: bind with a ~20 s expiry; the key logs in; keyfleet stops; after the expiry
 * OpenSSH refuses the key while the line is still there (the machine enforces it, not keyfleet); keyfleet starts
 * again on the same data, the overdue unbind runs (as keyfleet itself, in the task list), and the record and the
 * machine agree, with password login back by the rule: at once on the host (live, its management key), at the
 * next start on a simulated instance (keyfleet holds no credential for it: the on-restart path, ADR 15). The same
 * for a binding made on-restart, written at its boot.
 *
 * Time is real here because sshd reads the real clock: every wait polls a condition with a generous deadline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createSimDriftSource } from '../../src/backends/sim/sim-compute.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, LINUX_IMAGE, sleep } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import type { TestHost } from '../support/sshd-harness.js';
import {
  akPath,
  cli,
  dropIn,
  login,
  REGION,
  type RegisteredFleet,
  startRegisteredFleet,
} from '../hosts/support/registered-hosts.js';

const ROOT_PASSWORD = 'Expiry-Root-01';
/** Long: the sweeper must not be what refuses the key; keyfleet's start sweeps at once anyway. */
const SWEEP_MS = '3600000';

describe('bindings that expire: the machine refuses the key after its expiry, keyfleet unbinds it when it runs', () => {
  let fleet: RegisteredFleet;
  let host: TestHost;
  let hostId: string;

  before(async () => {
    // Addresses of its own (127.47.<slot>.x), apart from the default range other suites' host fleets use at once.
    fleet = await startRegisteredFleet(1, {
      extraEnv: { KEYFLEET_EXPIRY_SWEEP_MS: SWEEP_MS },
      hosts: { addressPrefix: '127.47', user: 'kfx' },
    });
    host = fleet.hosts[0]!;
    hostId = (await fleet.register(host, 'expiring-host')).instance.id;
  });
  after(async () => {
    await fleet?.close();
  });

  const api = () => fleet.api;
  const simFile = async (id: string) =>
    (await (await createSimDriftSource(fleet.env.KEYFLEET_DATA_DIR!).filesOf({ id }))!.read(
      '/root/.ssh/authorized_keys',
    )) ?? '';
  const simLogin = (inst: any, auth: { identityFile?: string; password?: string }) =>
    sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo in', ...auth });

  async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe();
      if (got) return got;
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await sleep(250);
    }
  }

  test('live on a registered host, live and on-restart on simulated instances: expiry with keyfleet stopped, the overdue unbind at its start', async () => {
    const { privateKey } = await api().createKeyPair('expiring', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const [liveSimId, bootSimId] = await api().run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD, amount: 2 });
    await api().waitStatus([liveSimId!, bootSimId!], 'Running');

    const bind = async (body: Record<string, unknown>) => {
      const r = await api().bind({ action: 'bind', keyPairName: 'expiring', expiresIn: '20s', ...body });
      assert.equal(r.task.status, 'succeeded', JSON.stringify(r.items));
      assert.ok(r.task.options.expiresAt, 'the task shows the expiry it binds with');
      return r;
    };
    await bind({ instanceIds: [hostId], mode: 'live' });
    await bind({
      instanceIds: [liveSimId],
      mode: 'live',
      credential: { kind: 'password', password: ROOT_PASSWORD },
    });
    await bind({ instanceIds: [bootSimId], mode: 'on-restart' });
    assert.equal((await api().instance(bootSimId!)).pendingRestart, true);
    await api().restart(bootSimId!);

    const hostView = await api().instance(hostId);
    const expiresAt = new Date(hostView.keyExpiresAt);
    assert.equal(hostView.bindingMode, 'live');
    const option = `expiry-time="${expiresAt.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z"`;
    assert.ok(
      (await fs.readFile(akPath(host), 'utf8')).includes(`${option} ssh-ed25519 `),
      'the host line carries the expiry',
    );
    const liveSim = await api().instance(liveSimId!);
    const bootSim = await api().instance(bootSimId!);
    for (const inst of [liveSim, bootSim]) {
      assert.ok(inst.keyExpiresAt, 'every face that shows a binding shows its expiry');
      assert.equal(inst.appliedKeyExpiresAt, inst.keyExpiresAt, 'the machine has the expiry recorded');
      assert.match(await simFile(inst.id), /^expiry-time="\d{14}Z" ssh-ed25519 \S+ keyfleet:expiring$/m);
    }
    assert.equal(
      (await login(host, { identityFile: keyFile })).code,
      0,
      'the key logs in on the host before its expiry',
    );
    assert.equal(
      (await simLogin(liveSim, { identityFile: keyFile })).code,
      0,
      'and on the live-bound simulated instance',
    );
    assert.equal(
      (await simLogin(bootSim, { identityFile: keyFile })).code,
      0,
      'and on the one that took it at its boot',
    );
    assert.equal((await login(host, { password: host.password })).code, 255, 'password login is off while bound');

    // keyfleet stops: only the host's own sshd can refuse the key now.
    await fleet.stopKeyfleet();
    await until(
      'OpenSSH on the host refuses the expired key',
      async () => (await login(host, { identityFile: keyFile })).code === 255,
    );
    assert.ok(Date.now() >= expiresAt.getTime(), 'not refused before its expiry');
    assert.ok(
      (await fs.readFile(akPath(host), 'utf8')).includes(option),
      'the line is still there: the host enforced it',
    );
    assert.equal(
      (await login(host, { password: host.password })).code,
      255,
      'password login stays off until keyfleet unbinds',
    );
    const latest = Math.max(...[liveSim, bootSim].map((i) => new Date(i.keyExpiresAt).getTime()));
    await until('every expiry has passed', async () => Date.now() > latest + 1000);

    // keyfleet starts again on the same data: the overdue unbinds run at once.
    await fleet.startKeyfleet();
    const tasks = await until('the three expiry unbinds have finished', async () => {
      const list = (await api().call('GET', '/api/v1/tasks?limit=100')).tasks as any[];
      const ours = list.filter((t) => t.face === 'system' && t.kind === 'unbind' && t.options.endsExpiry);
      return ours.length === 3 && ours.every((t) => t.finishedAt) ? ours : undefined;
    });
    assert.deepEqual(
      tasks.map((t) => t.status),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    const modeOf = async (id: string) => {
      const items = await Promise.all(
        tasks.map(async (t) => [t, (await api().call('GET', `/api/v1/tasks/${t.id}/items`)).items[0]]),
      );
      return items.find(([, i]) => i.instanceId === id)![0].mode;
    };
    assert.equal(await modeOf(hostId), 'live', 'the host is unbound live, with its management key');
    assert.equal(await modeOf(liveSimId!), 'on-restart', 'a simulated instance at its next start');
    assert.equal(await modeOf(bootSimId!), 'on-restart');
    const audit = (await api().call('GET', '/api/v1/audit?limit=200')).entries as any[];
    const systemUnbinds = audit.filter((e) => e.action === 'keypair:Unbind' && e.face === 'system');
    assert.ok(systemUnbinds.length >= 3, 'each expiry is audited as keyfleet did it');

    // The host: unbound live, the record and the machine agree, password login back (the managed rule).
    const hostAfter = await api().instance(hostId);
    assert.deepEqual([hostAfter.keyPairName, hostAfter.keyExpiresAt, hostAfter.passwordLogin], [null, null, true]);
    assert.ok(hostAfter.verifiedAt, 'proven by a fresh login');
    assert.ok(!(await fs.readFile(akPath(host), 'utf8')).includes('keyfleet:expiring'), 'the line is gone');
    assert.match(await fs.readFile(dropIn(host), 'utf8'), /PasswordAuthentication yes/);
    assert.equal((await login(host, { password: host.password })).code, 0, 'password login is back');
    assert.equal((await login(host, { identityFile: keyFile })).code, 255);

    // The simulated instances: unbound in the record, taking effect at their next start; until then their sshd
    // refuses the key by the line's expiry, the line still on disk.
    for (const id of [liveSimId!, bootSimId!]) {
      const inst = await api().instance(id);
      assert.deepEqual([inst.keyPairName, inst.keyExpiresAt, inst.pendingRestart], [null, null, true]);
      assert.match(await simFile(id), /keyfleet:expiring/);
      assert.equal(
        (await simLogin(inst, { identityFile: keyFile })).code,
        255,
        'the simulated sshd refuses the expired key',
      );
      await api().restart(id);
      const booted = await api().instance(id);
      assert.deepEqual([booted.pendingRestart, booted.passwordLogin], [false, true]);
      assert.ok(!(await simFile(id)).includes('keyfleet:expiring'), 'the block is gone after the boot');
      assert.equal((await simLogin(booted, { password: ROOT_PASSWORD })).code, 0, 'password login is back');
      assert.equal((await simLogin(booted, { identityFile: keyFile })).code, 255);
    }
  });

  test("extend and bounds through the API and the CLI: the line is rewritten in the binding's mode; errors change nothing", async () => {
    const { privateKey } = await api().createKeyPair('extended', 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const [simId] = await api().run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    await api().waitStatus([simId!], 'Running');
    const env = {
      KEYFLEET_ENDPOINT: fleet.kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
      KEYFLEET_REGION: REGION,
      ROOT_PW: ROOT_PASSWORD,
    };

    const tooFar = await api().raw('POST', `/api/v1/regions/${REGION}/bindings`, {
      action: 'bind',
      keyPairName: 'extended',
      instanceIds: [hostId],
      mode: 'live',
      expiresIn: '400d',
    });
    assert.equal(tooFar.status, 400);
    assert.equal(tooFar.body.code, 'Binding.ExpiryInvalid');
    const notBound = await api().raw('POST', `/api/v1/instances/${hostId}/expiry`, { expiresIn: '1h' });
    assert.equal(notBound.body.code, 'Binding.NotBound');
    assert.equal((await api().instance(hostId)).keyPairName, null, 'nothing changed');

    // CLI: bind the host live with an expiry, then the simulated instance live with the root password.
    const hostBind = await cli(['bind', hostId, '--key-pair', 'extended', '--live', '--expires-in', '1h'], env);
    assert.equal(hostBind.code, 0, hostBind.stderr + hostBind.stdout);
    const simBind = await cli(
      [
        'bind',
        simId!,
        '--key-pair',
        'extended',
        '--live',
        '--password-env',
        'ROOT_PW',
        '--expires-at',
        new Date(Date.now() + 7_200_000).toISOString(),
      ],
      env,
    );
    assert.equal(simBind.code, 0, simBind.stderr + simBind.stdout);
    const listed = await cli(['instances', 'ls', '--expiring-within', '90m'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /Expires/);
    assert.ok(
      listed.stdout.includes(hostId) && !listed.stdout.includes(simId!),
      'expiring within 90 minutes: the host only',
    );
    const soon = await api().call('GET', `/api/v1/regions/${REGION}/instances?expiringWithin=5400`);
    assert.deepEqual(
      soon.instances.map((i: any) => i.id),
      [hostId],
    );

    const before = (await api().instance(hostId)).keyExpiresAt;
    const extended = await cli(['extend', hostId, '--expires-in', '3h'], env);
    assert.equal(extended.code, 0, extended.stderr + extended.stdout);
    const after = await api().instance(hostId);
    assert.ok(new Date(after.keyExpiresAt).getTime() > new Date(before).getTime() + 7_000_000, 'three hours now');
    const expected = `expiry-time="${new Date(after.keyExpiresAt).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z"`;
    assert.ok((await fs.readFile(akPath(host), 'utf8')).includes(expected), 'the host line is rewritten live');
    assert.equal((await login(host, { identityFile: keyFile })).code, 0);

    // A live-bound simulated instance is rewritten live, so it needs a credential (the bound key will do).
    const noCredential = await api().raw('POST', `/api/v1/instances/${simId}/expiry`, { expiresIn: '3h' });
    assert.equal(noCredential.body.code, 'Live.CredentialRequired');
    const simExtended = await api().call('POST', `/api/v1/instances/${simId}/expiry`, {
      expiresIn: '3h',
      credential: { kind: 'privateKey', privateKey },
      wait: true,
    });
    assert.equal(simExtended.task.status, 'succeeded', JSON.stringify(simExtended.items));
    const sim = await api().instance(simId!);
    assert.ok(
      (await simFile(simId!)).includes(
        `expiry-time="${new Date(sim.keyExpiresAt).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z"`,
      ),
    );

    // Done now: an unbind with proof, as ever.
    const done = await api().bind({ action: 'unbind', instanceIds: [hostId], mode: 'live' });
    assert.equal(done.task.status, 'succeeded', JSON.stringify(done.items));
    assert.deepEqual(
      [(await api().instance(hostId)).keyExpiresAt, (await api().instance(hostId)).passwordLogin],
      [null, true],
    );
  });
});
