/**
 * Issue 19: revoke a key everywhere, with a report that proves it. Debian OpenSSH hosts from the harness (managed as
 * root with keyfleet's management key, root's keys in a file of the host's own) and simulated instances:
 *  - the key is bound by keyfleet on some machines, hand-added to the managed user's or root's authorized_keys on
 *    others (some with options), absent from the rest; 10% of the hosts are down when the revocation is applied;
 *  - the plan names every machine correctly and changes nothing;
 *  - applied with includeUnmanaged, the report says `refused (verified at …)` for every machine reached and
 *    `unreachable (retrying until …)` for the hosts that are down; keyfleet is restarted meanwhile (the revocation
 *    lives in the store); when the hosts come back the retry completes;
 *  - real OpenSSH is refused with the key, as the user and as root, on every machine; every other line of every
 *    file is unchanged, byte for byte; one outcome entry is in the audit trail; the report exports as CSV.
 *  - without includeUnmanaged, hand-added copies are kept and the report says so (failed, with the reason).
 *
 * KEYFLEET_REVOKE_TEST_HOSTS sets the number of hosts (default 20; the 200 runs in a few minutes).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mapLimit } from '../../src/common/concurrency.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, freePort, LINUX_IMAGE, startInProcess, tempDir } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const N = Number(process.env.KEYFLEET_REVOKE_TEST_HOSTS ?? 20);
const ROOT_KEYS_DIR = '/var/lib/keyfleet-harness-root-keys';
const OTHER_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00 someone-else';

type Kind = 'bound' | 'user' | 'root' | 'bound+user' | 'clean';

describe(`revoke a key everywhere: ${N} Debian sshd hosts and simulated instances`, () => {
  let kf: Keyfleet;
  let api: Api;
  let hosts: TestHost[] = [];
  const dataDir = tempDir();
  let simPort: number;
  let extra: Record<string, string>;
  let mgmt: { privateKeyPath: string; publicKey: string };
  let victim: { privateKeyPath: string; publicKey: string };
  let victimBody: string;
  const ids = new Map<TestHost, string>();
  const kindOf = new Map<string, Kind>();
  let down: TestHost[] = [];
  let sims: { bound: string; root: string; clean: string; down: string };
  /** Every file's text before (null: the file does not exist). */
  const before_ = new Map<string, string | null>();
  const readOrNull = (file: string) =>
    fs.readFile(file, 'utf8').catch((err) => (err.code === 'ENOENT' ? null : Promise.reject(err)));

  const userFile = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
  const rootFile = (h: TestHost) => path.join(ROOT_KEYS_DIR, path.basename(path.dirname(h.home)), 'root');
  const simFile = (id: string) => path.join(dataDir, 'sim', 'instances', id, 'root', '.ssh', 'authorized_keys');
  const kindFor = (i: number): Kind =>
    i % 8 === 0 ? 'bound+user' : (['bound', 'user', 'root', 'clean'] as const)[i % 4]!;
  const handLine = (i: number) =>
    i % 3 === 0
      ? `from="127.0.0.0/8",no-pty ${victim.publicKey}`
      : `${victim.publicKey.split(' ').slice(0, 2).join(' ')} laptop`;
  const login = (address: string, port: number, user: string) =>
    sshRun({ host: address, port, user, command: 'echo in', identityFile: victim.privateKeyPath, timeoutMs: 20_000 });

  /** Runs `fn` on every item, 8 at a time, and fails with the first failure (mapLimit itself settles them all). */
  async function each<T>(items: readonly T[], _limit: number, fn: (item: T, index: number) => Promise<void>) {
    const failed = (await mapLimit(items, 8, fn)).find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  async function waitFor<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 240_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== null) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const report = async (id: string) => api.call('GET', `/api/v1/revocations/${id}/report`);

  async function start(): Promise<void> {
    ({ kf, api } = await startInProcess({ dataDir, simPort, extra }));
  }

  before(async () => {
    simPort = await freePort();
    // Hundreds of sshd share this machine's cores with keyfleet: a busy host answers late, not never.
    extra = { KEYFLEET_REVOKE_TICK_MS: '200', KEYFLEET_REVOKE_RETRY_MS: '300', KEYFLEET_LIVE_TIMEOUT_MS: '60000' };
    // Addresses of its own: hosts another run left behind on the harness's default addresses cannot collide.
    hosts = await startHosts(N, { user: 'kfr', addressPrefix: '127.39' });
    mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    victim = await sshKeygen('ed25519', 'leaver');
    victimBody = victim.publicKey.split(' ')[1]!;
    await start();
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'leaver', publicKey: victim.publicKey });
    const managementPrivateKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
    await each(hosts, 8, async (h, i) => {
      await allowRootLogin(h, mgmt.publicKey);
      const kind = kindFor(i);
      const sshDir = path.join(h.home, '.ssh');
      await fs.mkdir(sshDir, { mode: 0o700 });
      const hand = kind === 'user' || kind === 'bound+user' ? `${handLine(i)}\n` : '';
      // A CRLF line and a last line without a newline on some hosts: kept exactly as they are.
      const tail = i % 5 === 0 ? '# no newline at the end' : '';
      await fs.writeFile(
        userFile(h),
        `# the user's own\r\n${OTHER_LINE}\n${hand}command="true" ${OTHER_LINE}\n${tail}`,
        {
          mode: 0o600,
        },
      );
      await fs.chown(sshDir, h.uid, h.gid);
      await fs.chown(userFile(h), h.uid, h.gid);
      if (kind === 'root') await fs.appendFile(rootFile(h), `${handLine(i)}\n# root's note\n`);
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `rv-${h.name}`,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        rootKeysFile: rootFile(h),
        managementUser: 'root',
        managementPrivateKey,
        passwordLogin: 'unmanaged',
      });
      ids.set(h, r.instance.id);
      kindOf.set(r.instance.id, kind);
    });
    const boundIds = hosts.filter((_, i) => kindFor(i).startsWith('bound')).map((h) => ids.get(h)!);
    const b = await api.bind({ action: 'bind', keyPairName: 'leaver', instanceIds: boundIds, mode: 'live' });
    assert.ok(
      b.items.every((i: any) => i.status === 'succeeded'),
      JSON.stringify(b.items.filter((i: any) => i.status !== 'succeeded')),
    );

    // Simulated instances: bound at creation, hand-added to root's file, clean, and one that will be stopped.
    const [bound] = await api.run({ imageId: LINUX_IMAGE, keyPairName: 'leaver', name: 'rv-sim-bound' });
    const [root, clean, simDown] = await api.run({
      imageId: LINUX_IMAGE,
      name: 'rv-sim',
      amount: 3,
      password: 'Sim-Pass-0001',
    });
    sims = { bound: bound!, root: root!, clean: clean!, down: simDown! };
    await api.waitStatus(Object.values(sims), 'Running');
    for (const id of [sims.root, sims.down]) {
      await fs.mkdir(path.dirname(simFile(id)), { recursive: true });
      await fs.appendFile(simFile(id), `# root's own\n${OTHER_LINE}\n${victim.publicKey}\n`);
    }
    kindOf.set(sims.bound, 'bound');
    kindOf.set(sims.root, 'root');
    kindOf.set(sims.clean, 'clean');
    kindOf.set(sims.down, 'root');
  });

  after(async () => {
    await kf?.close();
    await stopHosts(hosts);
  });

  async function snapshot(): Promise<void> {
    for (const h of hosts) {
      before_.set(userFile(h), await fs.readFile(userFile(h), 'utf8'));
      before_.set(rootFile(h), await fs.readFile(rootFile(h), 'utf8'));
    }
    for (const id of Object.values(sims)) before_.set(simFile(id), await readOrNull(simFile(id)));
  }

  /** The file as it was, without the lines that authorised the key outside keyfleet's block and without the block. */
  function expectedAfter(text: string | null): string | null {
    if (text === null) return null;
    const segments = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    let inBlock = false;
    return segments
      .filter((s) => {
        if (s.startsWith('# >>> keyfleet')) return (inBlock = true) && false;
        if (s.startsWith('# <<< keyfleet')) return (inBlock = false);
        return !inBlock && !s.includes(victimBody);
      })
      .join('');
  }

  test('the plan names where the key is bound and every copy, on every machine, and changes nothing', async () => {
    await snapshot();
    const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { keyPairName: 'leaver' });
    assert.equal(revocation.status, 'planned');
    assert.equal(revocation.machineCount, N + 4);
    const { machines } = await report(revocation.id);
    assert.equal(machines.length, N + 4);
    for (const m of machines) {
      const kind = kindOf.get(m.instanceId);
      assert.ok(kind, `an unknown machine in the plan: ${m.instanceId}`);
      assert.equal(m.boundKeyPairName, kind.startsWith('bound') ? 'leaver' : null, `${m.name}: bound`);
      const outside = m.copies.filter((c: any) => !c.inBlock);
      const expectOutside = kind === 'user' || kind === 'bound+user' || kind === 'root' ? 1 : 0;
      assert.equal(outside.length, expectOutside, `${m.name} (${kind}): ${JSON.stringify(m.copies)}`);
      if (kind === 'root' && m.backend === 'host') assert.equal(outside[0].account, 'root');
      assert.equal(m.state, 'planned');
    }
    for (const [file, text] of before_) assert.equal(await readOrNull(file), text, `${file} untouched by the plan`);
  });

  test('by a pasted key or a fingerprint, the same machines are found', async () => {
    const byKey = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { publicKey: victim.publicKey });
    const fp = byKey.revocation.key.fingerprintSha256;
    const byFp = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { fingerprint: fp });
    const byMd5 = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, {
      fingerprint: byKey.revocation.key.fingerprintMd5,
    });
    const copies = async (id: string) =>
      (await report(id)).machines.map((m: any) => [m.instanceId, m.copies.length, m.boundKeyPairName]).sort();
    const expected = await copies(byKey.revocation.id);
    assert.deepEqual(await copies(byFp.revocation.id), expected);
    assert.deepEqual(await copies(byMd5.revocation.id), expected);
    const unknown = await api.raw('POST', `/api/v1/regions/${REGION}/revocations`, {
      fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'Revocation.KeyUnknown');
  });

  test('applied with includeUnmanaged: refused everywhere reached, unreachable hosts retried across a restart until they come back', async () => {
    const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { keyPairName: 'leaver' });
    // Before: the key really logs in where it was put.
    for (const [i, h] of hosts.entries()) {
      const kind = kindFor(i);
      if (kind === 'clean') continue;
      const user = kind === 'root' ? 'root' : h.user;
      assert.equal((await login(h.address, h.port, user)).code, 0, `${h.name} (${kind}): the key logs in before`);
    }
    down = hosts.filter((_, i) => i % 10 === 7);
    for (const h of down) await h.stop();
    await api.call('POST', `/api/v1/instances/${sims.down}/stop`);
    await api.waitStatus([sims.down], 'Stopped');

    const credential = { kind: 'privateKey', privateKey: await fs.readFile(victim.privateKeyPath, 'utf8') };
    const applied = await api.call('POST', `/api/v1/revocations/${revocation.id}/apply`, {
      includeUnmanaged: true,
      retryForSeconds: 3600,
      credential,
    });
    assert.equal(applied.revocation.status, 'applying');

    const downIds = new Set([...down.map((h) => ids.get(h)!), sims.down]);
    const settled = await waitFor('every reachable machine refused, the others unreachable', async () => {
      const r = await report(revocation.id);
      const open = r.machines.filter(
        (m: any) => m.state === 'pending' || (m.state === 'unreachable' && !downIds.has(m.instanceId)),
      );
      const downSeen = r.machines.filter((m: any) => downIds.has(m.instanceId) && m.state === 'unreachable');
      return open.length === 0 && downSeen.length === downIds.size ? r : null;
    });
    for (const m of settled.machines) {
      if (downIds.has(m.instanceId)) {
        assert.equal(m.state, 'unreachable', `${m.name}: ${m.detail}`);
        assert.equal(m.outcome, `unreachable (retrying until ${settled.revocation.retryUntil})`);
      } else {
        assert.equal(m.state, 'refused', `${m.name}: ${m.outcome}`);
        assert.match(m.outcome, /^refused \(verified at \d{4}-\d\d-\d\dT/);
      }
    }

    // keyfleet restarts while hosts are down: the revocation is in the store and goes on.
    await kf.close();
    for (const h of down) await h.restart();
    await start();
    await api.call('POST', `/api/v1/instances/${sims.down}/start`);

    const done = await waitFor('the revocation to finish', async () => {
      const r = await report(revocation.id);
      return r.revocation.status === 'finished' ? r : null;
    });
    assert.deepEqual(
      done.machines.filter((m: any) => m.state !== 'refused').map((m: any) => [m.name, m.outcome]),
      [],
      'every machine refused in the end',
    );
    assert.equal(done.revocation.counts.refused, N + 4);

    // Real OpenSSH, as the managed user and as root, on every machine.
    await each(hosts, 8, async (h) => {
      assert.equal((await login(h.address, h.port, h.user)).code, 255, `${h.name}: refused as ${h.user}`);
      assert.equal((await login(h.address, h.port, 'root')).code, 255, `${h.name}: refused as root`);
    });
    for (const id of Object.values(sims)) {
      const inst = await api.instance(id);
      assert.equal((await login(inst.address, inst.sshPort, 'root')).code, 255, `${inst.name}: refused as root`);
    }

    // Every other line of every file, byte for byte.
    assert.equal(before_.size, 2 * N + 4);
    for (const [file, text] of before_) assert.equal(await readOrNull(file), expectedAfter(text), file);

    // The store agrees: nothing is bound any more.
    for (const h of hosts) assert.equal((await api.instance(ids.get(h)!)).keyPairName ?? null, null);

    // One outcome entry for the revocation.
    const audit = await api.call('GET', `/api/v1/audit?taskId=${revocation.id}&limit=100`);
    const outcomes = audit.entries.filter((e: any) => e.stage === 'outcome');
    assert.equal(outcomes.length, 1, JSON.stringify(audit.entries));
    assert.equal(outcomes[0].action, 'keypair:Revoke');
    assert.equal(outcomes[0].result, 'success');
    assert.match(outcomes[0].detail, new RegExp(`refused on ${N + 4} of ${N + 4} machine`));

    // CSV export: a header and one row per machine, naming each.
    const csv = await api.raw('GET', `/api/v1/revocations/${revocation.id}/report?format=csv`);
    assert.equal(csv.status, 200);
    const lines = String(csv.body).trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'instanceId,name,backend,address,sshPort,bound,copiesInBlock,copiesOutsideBlock,state,outcome,verifiedAt,removedLines,detail',
    );
    assert.equal(lines.length, N + 5);
    for (const id of kindOf.keys()) assert.equal(lines.filter((l) => l.startsWith(`${id},`)).length, 1, id);
  });

  test('without includeUnmanaged a hand-added copy is kept, and the report says the key is still accepted there', async () => {
    const h = hosts[1]!; // a 'user' host
    await fs.appendFile(userFile(h), `${victim.publicKey}\n`);
    const text = await fs.readFile(userFile(h), 'utf8');
    const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, {
      publicKey: victim.publicKey,
    });
    await api.call('POST', `/api/v1/revocations/${revocation.id}/apply`, { retryForSeconds: 60 });
    const done = await waitFor('the revocation to finish', async () => {
      const r = await report(revocation.id);
      return r.revocation.status === 'finished' ? r : null;
    });
    const m = done.machines.find((x: any) => x.instanceId === ids.get(h));
    assert.equal(m.state, 'failed');
    assert.match(m.outcome, /^failed \(The key is still accepted for kfr\d+; 1 line\(s\) outside keyfleet's block/);
    assert.equal(await fs.readFile(userFile(h), 'utf8'), text, 'the hand-added line is kept');
    assert.equal((await login(h.address, h.port, h.user)).code, 0);
    const audit = await api.call('GET', `/api/v1/audit?taskId=${revocation.id}&limit=100`);
    const outcome = audit.entries.find((e: any) => e.stage === 'outcome');
    assert.equal(outcome.result, 'failure');
  });

  test('bounded inputs: a pasted key too large, a deadline out of range, applying twice', async () => {
    const big = await api.raw('POST', `/api/v1/regions/${REGION}/revocations`, {
      publicKey: `ssh-ed25519 ${'A'.repeat(20_000)}`,
    });
    assert.equal(big.status, 400);
    const two = await api.raw('POST', `/api/v1/regions/${REGION}/revocations`, {
      keyPairName: 'leaver',
      fingerprint: 'x',
    });
    assert.equal(two.status, 400);
    const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { publicKey: OTHER_LINE });
    const early = await api.raw('POST', `/api/v1/revocations/${revocation.id}/apply`, { retryForSeconds: 1 });
    assert.equal(early.status, 400);
    const late = await api.raw('POST', `/api/v1/revocations/${revocation.id}/apply`, {
      retryUntil: new Date(Date.now() + 90 * 86_400_000).toISOString(),
    });
    assert.equal(late.status, 400);
    assert.equal((await api.call('GET', `/api/v1/revocations/${revocation.id}`)).revocation.status, 'planned');
    const page = await api.raw('GET', `/api/v1/revocations/${revocation.id}/machines?limit=5000`);
    assert.equal(page.status, 400);
    await api.call('POST', `/api/v1/revocations/${revocation.id}/apply`, { retryForSeconds: 60 });
    const again = await api.raw('POST', `/api/v1/revocations/${revocation.id}/apply`, { retryForSeconds: 60 });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'Revocation.IncorrectState');
  });
});
