/**
 * A revocation survives `kill -9` (issue 19). keyfleet runs as a child process; a key is bound on some Debian sshd
 * hosts (harness) and hand-added to the managed user's or root's file on others, plus a simulated instance of each
 * kind. The revocation is applied with includeUnmanaged while its unbind task is paced (one item a second), and
 * keyfleet is killed with SIGKILL while machines are still pending. Started again on the same data directory:
 *  - the revocation finishes, every machine `refused`, its proof taken after the restart where it was pending;
 *  - nothing is done twice: one unbind item per bound machine (its task resumed, not submitted again), one audit
 *    outcome;
 *  - real OpenSSH is refused with the key everywhere, as the user and as root, and every other line of every file is
 *    unchanged, byte for byte; password login is back on the simulated instance keyfleet had bound.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Api, LINUX_IMAGE, sleep, startChild, testEnv } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';

const REGION = 'cn-hangzhou';
const HOSTS = 9;
const SIM_PASSWORD = 'Kill-Nine-Sim-01';
const ROOT_KEYS_DIR = '/var/lib/keyfleet-harness-root-keys';
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00 someone-else';
type Kind = 'bound' | 'user' | 'root';
const kindFor = (i: number): Kind => (['bound', 'user', 'root'] as const)[i % 3]!;

describe('kill -9 while a revocation is applied: restarted, it finishes once and every machine refuses the key', () => {
  let hosts: TestHost[] = [];
  let env: Record<string, string>;
  let run: Awaited<ReturnType<typeof startChild>> | null = null;
  let api: Api;
  let victim: { privateKeyPath: string; publicKey: string };
  const ids = new Map<string, { kind: Kind; host?: TestHost }>();
  const files = new Map<string, string>();

  const userFile = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
  const rootFile = (h: TestHost) => path.join(ROOT_KEYS_DIR, path.basename(path.dirname(h.home)), 'root');
  const simFile = (id: string) =>
    path.join(env.KEYFLEET_DATA_DIR!, 'sim', 'instances', id, 'root', '.ssh', 'authorized_keys');
  const login = (host: string, port: number, user: string, auth: { password?: string } = {}) =>
    sshRun({
      host,
      port,
      user,
      command: 'echo in',
      timeoutMs: 20_000,
      ...(auth.password ? auth : { identityFile: victim.privateKeyPath }),
    });

  async function start(): Promise<void> {
    run = await startChild(env);
    api = new Api(run.url);
    await api.signIn();
  }

  before(async () => {
    // Addresses of their own (127.51.<slot>.x), apart from other suites' host fleets.
    hosts = await startHosts(HOSTS, { user: 'kfk', addressPrefix: '127.51' });
    env = await testEnv({
      bootMs: 0,
      extra: {
        // Paced, so the kill lands while the unbind task runs; a short lease, so the restarted process takes over.
        KEYFLEET_TASK_ITEMS_PER_SECOND: '1',
        KEYFLEET_TASK_LEASE_MS: '3000',
        KEYFLEET_REVOKE_TICK_MS: '200',
        KEYFLEET_REVOKE_RETRY_MS: '300',
        KEYFLEET_LIVE_TIMEOUT_MS: '30000',
      },
    });
    await start();
    const mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    victim = await sshKeygen('ed25519', 'leaver');
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'leaver', publicKey: victim.publicKey });
    const managementPrivateKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
    for (const [i, h] of hosts.entries()) {
      const kind = kindFor(i);
      await allowRootLogin(h, mgmt.publicKey);
      await fs.mkdir(path.dirname(userFile(h)), { mode: 0o700 });
      const hand = kind === 'user' ? `no-pty ${victim.publicKey}\n` : '';
      await fs.writeFile(userFile(h), `# the user's own\r\n${OTHER}\n${hand}command="true" ${OTHER}\n`, {
        mode: 0o600,
      });
      await fs.chown(path.dirname(userFile(h)), h.uid, h.gid);
      await fs.chown(userFile(h), h.uid, h.gid);
      if (kind === 'root') await fs.appendFile(rootFile(h), `${victim.publicKey}\n# root's note\n`);
      const r = await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
        name: `k9-${h.name}`,
        address: h.address,
        port: h.port,
        loginUser: h.user,
        homeDir: h.home,
        rootKeysFile: rootFile(h),
        managementUser: 'root',
        managementPrivateKey,
        // Password login left to the host (its reload is another suite's subject: test/hosts).
        passwordLogin: 'unmanaged',
      });
      ids.set(r.instance.id, { kind, host: h });
    }
    const [simBound, simRoot] = await api.run({ imageId: LINUX_IMAGE, amount: 2, password: SIM_PASSWORD });
    await api.waitStatus([simBound!, simRoot!], 'Running');
    ids.set(simBound!, { kind: 'bound' });
    ids.set(simRoot!, { kind: 'root' });
    await fs.mkdir(path.dirname(simFile(simRoot!)), { recursive: true });
    await fs.appendFile(simFile(simRoot!), `# root's own\n${OTHER}\n${victim.publicKey}\n`);
    // Hosts with their management key; the simulated instance with its root password.
    for (const [instanceIds, credential] of [
      [[...ids].filter(([, m]) => m.kind === 'bound' && m.host).map(([id]) => id), undefined],
      [[simBound!], { kind: 'password', password: SIM_PASSWORD }],
    ] as const) {
      const b = await api.bind({ action: 'bind', keyPairName: 'leaver', instanceIds, mode: 'live', credential });
      assert.ok(
        b.items.every((i: any) => i.status === 'succeeded'),
        JSON.stringify(b.items.filter((i: any) => i.status !== 'succeeded')),
      );
    }
    for (const h of hosts) {
      files.set(userFile(h), await fs.readFile(userFile(h), 'utf8'));
      files.set(rootFile(h), await fs.readFile(rootFile(h), 'utf8'));
    }
    files.set(simFile(simBound!), await fs.readFile(simFile(simBound!), 'utf8'));
    files.set(simFile(simRoot!), await fs.readFile(simFile(simRoot!), 'utf8'));
  });

  after(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGTERM');
      await new Promise((r) => run!.child.once('exit', r));
    }
    await stopHosts(hosts);
  });

  test('the revocation resumes after the kill, finishes once, and the machines prove it', {
    timeout: 600_000,
  }, async () => {
    // Before: the key logs in wherever it was put.
    for (const [id, m] of ids) {
      if (!m.host) continue;
      const user = m.kind === 'root' ? 'root' : m.host.user;
      assert.equal((await login(m.host.address, m.host.port, user)).code, 0, `${id} (${m.kind}): logs in before`);
    }
    const { revocation } = await api.call('POST', `/api/v1/regions/${REGION}/revocations`, { keyPairName: 'leaver' });
    assert.equal(revocation.machineCount, ids.size);
    await api.call('POST', `/api/v1/revocations/${revocation.id}/apply`, {
      includeUnmanaged: true,
      retryForSeconds: 3600,
      // The bound simulated instance refuses passwords while the key is bound: the key itself logs in to unbind it.
      credential: { kind: 'privateKey', privateKey: await fs.readFile(victim.privateKeyPath, 'utf8') },
    });

    // Kill -9 while machines are still pending (their unbind task runs at one item a second).
    // The report read just before the kill: what it shows refused was proven before it.
    let beforeKill: any[];
    for (;;) {
      const at = (await api.call('GET', `/api/v1/revocations/${revocation.id}`)).revocation;
      assert.notEqual(at.status, 'finished', 'finished before the kill: the pacing did not hold the unbind task');
      if ((at.counts.pending ?? 0) > 0 && (at.counts.refused ?? 0) > 0) {
        beforeKill = (await report(revocation.id)).filter((m) => m.state === 'refused');
        break;
      }
      await sleep(50);
    }
    run!.child.kill('SIGKILL');
    await new Promise((r) => run!.child.once('exit', r));

    await start();
    let done: any;
    // No deadline of its own: the test's timeout is the hang guard; what is asserted is that it finishes.
    for (;;) {
      done = (await api.call('GET', `/api/v1/revocations/${revocation.id}`)).revocation;
      if (done.status === 'finished') break;
      await sleep(250);
    }
    const machines = await report(revocation.id);
    assert.deepEqual(
      machines.filter((m: any) => m.state !== 'refused').map((m: any) => [m.name, m.state, m.outcome]),
      [],
      'every machine refuses the key',
    );
    const verified = new Map(machines.map((m: any) => [m.instanceId, m.verifiedAt]));
    for (const m of beforeKill)
      assert.equal(verified.get(m.instanceId), m.verifiedAt, `${m.name}: proven before the kill, not worked on again`);

    // Nothing twice: the unbind tasks made at apply (one for the hosts, one for the simulated instance: ADR 16) were
    // resumed, not submitted again; each bound machine was unbound by exactly one item. One audit outcome.
    // A task's own end is written after its last item, which the revocation waits for: poll for it.
    let tasks: any[] = [];
    for (const until = Date.now() + 120_000; ; await sleep(250)) {
      tasks = ((await api.call('GET', '/api/v1/tasks?limit=100')).tasks as any[]).filter((t) => t.kind === 'unbind');
      if (tasks.every((t) => t.finishedAt) || Date.now() > until) break;
    }
    assert.deepEqual(
      tasks.map((t) => t.status),
      tasks.map(() => 'succeeded'),
    );
    const unbound = new Map<string, number>();
    for (const t of tasks)
      for (const item of (await api.call('GET', `/api/v1/tasks/${t.id}/items?limit=100`)).items)
        unbound.set(item.instanceId, (unbound.get(item.instanceId) ?? 0) + 1);
    const boundIds = [...ids].filter(([, m]) => m.kind === 'bound').map(([id]) => id);
    assert.deepEqual(
      [...unbound].sort(),
      boundIds.map((id) => [id, 1]).sort(),
      'one unbind item per bound machine, across the kill',
    );
    const audit = (await api.call('GET', `/api/v1/audit?taskId=${revocation.id}&limit=100`)).entries as any[];
    assert.equal(audit.filter((e) => e.stage === 'outcome').length, 1, JSON.stringify(audit));

    // The machines: refused everywhere by real OpenSSH; every other line unchanged byte for byte.
    for (const [id, m] of ids) {
      const inst = await api.instance(id);
      if (m.host) {
        assert.equal((await login(m.host.address, m.host.port, m.host.user)).code, 255, `${id}: user refused`);
        assert.equal((await login(m.host.address, m.host.port, 'root')).code, 255, `${id}: root refused`);
      } else {
        assert.equal((await login(inst.address, inst.sshPort, 'root')).code, 255, `${id}: root refused`);
      }
      if (m.kind === 'bound') assert.equal(inst.keyPairName, null, `${id}: unbound in the record`);
      if (m.kind === 'bound' && !m.host) {
        assert.equal(inst.passwordLogin, true, `${id}: password login back by the rule`);
        const pw = await login(inst.address, inst.sshPort, 'root', { password: SIM_PASSWORD });
        assert.equal(pw.code, 0, `${id}: the root password logs in`);
      }
    }
    for (const [file, text] of files) {
      const now = await fs.readFile(file, 'utf8');
      assert.equal(now, expectedAfter(text), `${file}: only the key's lines and keyfleet's block are gone`);
    }
  });

  async function report(id: string): Promise<any[]> {
    return (await api.call('GET', `/api/v1/revocations/${id}/report`)).machines;
  }

  /** The file as it was, without the lines that authorised the key and without keyfleet's block. */
  function expectedAfter(text: string): string {
    const body = victim.publicKey.split(' ')[1]!;
    const segments = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    let inBlock = false;
    return segments
      .filter((s) => {
        if (s.startsWith('# >>> keyfleet')) return (inBlock = true) && false;
        if (s.startsWith('# <<< keyfleet')) return (inBlock = false);
        return !inBlock && !s.includes(body);
      })
      .join('');
  }
});
