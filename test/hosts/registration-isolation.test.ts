/**
 * Host registration per account (issue 18): an address is unique within one account, on its canonical form (so
 * 127.16.6 and ::ffff:127.16.0.6 are 127.16.0.6); another account's answer does not depend on whether the first
 * holds the address; every failure of the first contact before the host shows an SSH host key gives one error, at one
 * time (the live timeout), so registration is no port scanner; and the operator's network allowlist refuses an
 * address outside it before anything is contacted.
 *
 * The first part drives the host service with a scripted LiveAccess and a clock that moves only when slept on (what
 * each failure answers, and when); the second registers real SSH and non-SSH listeners on loopback addresses
 * through the native API of a keyfleet with two accounts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import ssh2 from 'ssh2';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { systemCaller } from '../../src/core/caller.js';
import type { Clock } from '../../src/core/clock.js';
import { CoreError } from '../../src/core/errors.js';
import type { Instance } from '../../src/core/instance/instance.js';
import { createHostService } from '../../src/core/instance/host-service.js';
import type { KeyMaterial } from '../../src/core/keypair/key-material.js';
import type { LiveAccess, SecretBox, Store } from '../../src/core/ports.js';
import { DEFAULT_REGIONS } from '../../src/core/region.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { sshKeygen } from '../support/openssh.js';

const REGION = 'cn-hangzhou';
const HOST_KEY = `SHA256:${'A'.repeat(43)}`;
const TIMEOUT_MS = 5_000;

/** Instances in memory, listed as the SQL repo lists them (account filter, 'contains' search over the address). */
function memoryStore(): Store & { rows: Instance[] } {
  const rows: Instance[] = [];
  const instances = {
    async list(f: { accountId?: string; search?: string; offset: number; limit: number }) {
      const items = rows.filter(
        (i) => (!f.accountId || i.accountId === f.accountId) && (!f.search || i.address.includes(f.search)),
      );
      return { items: items.slice(f.offset, f.offset + f.limit), total: items.length };
    },
    async insert(i: Instance) {
      rows.push(i);
    },
  };
  const store = {
    rows,
    instances,
    accounts: { listResourceGroups: async () => [{ id: 'rg-default', name: 'default' }] },
    transaction: async (fn: (tx: unknown) => Promise<unknown>) => fn({ instances }),
  };
  return store as unknown as Store & { rows: Instance[] };
}

/** A clock whose time moves only when the code under test sleeps or the scripted host takes time to answer. */
function steppedClock(): Clock & { ms: number } {
  const clock = {
    ms: 0,
    now: () => new Date(clock.ms),
    sleep: async (ms: number) => {
      clock.ms += ms;
    },
    every: () => () => undefined,
  };
  return clock;
}

type Outcome = { after: number; fail?: unknown };

/** A LiveAccess whose every first contact takes `after` ms and then fails with `fail` (or shows HOST_KEY). */
function scriptedLive(clock: { ms: number }, outcome: () => Outcome): LiveAccess & { contacts: string[] } {
  const contacts: string[] = [];
  const contact = async (target: { host: string; port: number }) => {
    contacts.push(`${target.host}:${target.port}`);
    const o = outcome();
    clock.ms += o.after;
    if (o.fail !== undefined) throw o.fail;
  };
  return {
    contacts,
    openSession: async () => {
      throw new Error('not used');
    },
    probeLogin: async (target) => {
      await contact(target);
      return { keyAccepted: null, methods: ['publickey'], hostKeySha256: HOST_KEY };
    },
    tryLogin: async (target) => {
      await contact(target);
      return { ok: true, hostKeySha256: HOST_KEY };
    },
  };
}

function service(opts: { hostNetworks?: string[]; outcome?: () => Outcome } = {}) {
  const store = memoryStore();
  const clock = steppedClock();
  const live = scriptedLive(clock, opts.outcome ?? (() => ({ after: 3 })));
  const logged: Record<string, unknown>[] = [];
  const hosts = createHostService({
    store,
    live,
    keys: { publicKeyOf: () => 'ssh-ed25519 AAAA' } as unknown as KeyMaterial,
    secrets: { seal: (p: string) => `sealed:${p.length}`, open: () => '' } as SecretBox,
    clock,
    ids: { next: (p: string) => `${p}${Math.random().toString(36).slice(2, 12)}`, uuid: () => '', random: () => 0 },
    regions: DEFAULT_REGIONS,
    liveTimeoutMs: TIMEOUT_MS,
    hostNetworks: opts.hostNetworks,
    logger: { info: () => undefined, warn: (_m, f) => logged.push(f ?? {}), error: () => undefined },
  });
  return { hosts, store, clock, live, logged };
}

const as = (account: string) => systemCaller(account, 'req-test');
const input = (address: string, name = 'web', port?: number) => ({
  regionId: REGION,
  name,
  address,
  loginUser: 'root',
  ...(port === undefined ? {} : { port }),
});

async function failure(p: Promise<unknown>): Promise<CoreError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CoreError) return err;
    throw err;
  }
  assert.fail('expected the registration to fail');
}

describe('host registration per account (service)', () => {
  test('the address is stored in canonical form; its other spellings are the same host in the same account', async () => {
    const { hosts, store, live } = service();
    const first = await hosts.register(as('acct-a'), input('127.16.6'));
    assert.equal(first.instance.address, '127.16.0.6');
    assert.equal(store.rows[0]!.address, '127.16.0.6');
    assert.deepEqual(live.contacts, ['127.16.0.6:22'], 'the canonical address is the one connected to');
    for (const again of ['127.16.0.6', '::ffff:127.16.0.6', '::FFFF:7f10:6', '0x7f.16.6', '2131755014']) {
      const err = await failure(hosts.register(as('acct-a'), input(again, 'web-again')));
      assert.equal(err.code, 'Instance.AlreadyRegistered', again);
      assert.match(err.message, /^127\.16\.0\.6:22 is already an instance/);
    }
    assert.equal(live.contacts.length, 1, 'a duplicate is refused before any contact');
    // Another port of the same address is another host.
    await hosts.register(as('acct-a'), input('127.16.6', 'web-2222', 2222));
    // Host names are compared lower-cased.
    await hosts.register(as('acct-a'), input('Web.Example.COM', 'named'));
    assert.equal(
      (await failure(hosts.register(as('acct-a'), input('web.example.com', 'named-again')))).code,
      'Instance.AlreadyRegistered',
    );
  });

  test("another account's answer is the same whether or not the first holds the address", async () => {
    const { hosts } = service();
    await hosts.register(as('acct-a'), input('127.16.0.6'));
    const held = await hosts.register(as('acct-b'), input('127.16.6'));
    const free = await hosts.register(as('acct-b'), input('127.16.7', 'web-free'));
    const shape = (r: typeof held) => ({
      keys: Object.keys(r).sort(),
      pinned: r.pinnedOnFirstUse,
      status: r.instance.status,
      account: r.instance.accountId,
    });
    assert.deepEqual(shape(held), shape(free));
    assert.equal(held.instance.address, '127.16.0.6');
    // B's own duplicate is refused as A's was.
    assert.equal(
      (await failure(hosts.register(as('acct-b'), input('::ffff:127.16.0.6', 'again')))).code,
      'Instance.AlreadyRegistered',
    );
  });

  test('every failure before the host key gives one error, answered when the live timeout has passed', async () => {
    const failures: [string, Outcome][] = [
      [
        'refused',
        { after: 1, fail: new CoreError('Live.Unreachable', 'Cannot reach x: connection refused (ECONNREFUSED)') },
      ],
      [
        'timed out',
        { after: TIMEOUT_MS, fail: new CoreError('Live.Timeout', 'No answer from x: no SSH login within') },
      ],
      [
        'not SSH',
        { after: 20, fail: new CoreError('Live.Unreachable', 'SSH failed while handshake: Protocol mismatch') },
      ],
      [
        'closed early',
        { after: 7, fail: new CoreError('Live.Unreachable', 'the connection was closed while handshake') },
      ],
      ['unexpected', { after: 2, fail: new TypeError('something inside the SSH library') }],
    ];
    const answers: unknown[] = [];
    for (const [what, outcome] of failures) {
      const { hosts, clock, store, logged } = service({ outcome: () => outcome });
      const started = clock.ms;
      const err = await failure(hosts.register(as('acct-a'), input('127.16.6', 'web', 2200)));
      answers.push({ code: err.code, message: err.message, details: err.details, tookMs: clock.ms - started });
      assert.equal(store.rows.length, 0, `${what}: nothing registered`);
      assert.equal(logged.length, 1, `${what}: the detail is logged`);
    }
    for (const a of answers) assert.deepEqual(a, answers[0]);
    assert.deepEqual(answers[0], {
      code: 'Live.Unreachable',
      message: 'Could not verify an SSH host at 127.16.0.6:2200; nothing was registered.',
      details: { host: '127.16.0.6', port: 2200 },
      tookMs: TIMEOUT_MS,
    });
  });

  test('failures after the host showed its key are told as they are', async () => {
    for (const code of ['Live.HostKeyChanged', 'Live.CredentialRejected'] as const) {
      const { hosts, clock } = service({ outcome: () => ({ after: 4, fail: new CoreError(code, `${code} detail`) }) });
      const err = await failure(hosts.register(as('acct-a'), input('127.16.6')));
      assert.equal(err.code, code);
      assert.equal(clock.ms, 4, 'not held back: the host is an SSH server, as a success would show');
    }
  });

  test('the network allowlist refuses an address outside it, in any spelling, before any contact', async () => {
    const { hosts, live } = service({ hostNetworks: ['10.0.0.0/8', 'fd00::/8'] });
    for (const outside of ['127.16.6', '::ffff:127.16.0.6', '2130706433', '192.168.1.1', 'fe80::1', '11.0.0.1']) {
      const err = await failure(hosts.register(as('acct-a'), input(outside)));
      assert.equal(err.code, 'Input.Invalid', outside);
      assert.equal(err.details.parameter, 'address');
      assert.match(err.message, /outside the networks hosts may be registered in/);
    }
    const named = await failure(hosts.register(as('acct-a'), input('web.example.com')));
    assert.equal(named.code, 'Input.Invalid');
    assert.match(named.message, /registered by IP address here/);
    assert.deepEqual(live.contacts, [], 'nothing was contacted');

    assert.equal((await hosts.register(as('acct-a'), input('10.1', 'in-short'))).instance.address, '10.0.0.1');
    assert.equal(
      (await hosts.register(as('acct-a'), input('::ffff:10.0.0.2', 'in-mapped'))).instance.address,
      '10.0.0.2',
    );
    assert.equal((await hosts.register(as('acct-a'), input('FD00::0:7', 'in-v6'))).instance.address, 'fd00::7');
  });

  test('without an allowlist any address and any host name may be registered', async () => {
    const { hosts } = service();
    assert.equal((await hosts.register(as('acct-a'), input('192.168.1.1'))).instance.address, '192.168.1.1');
    assert.equal(
      (await hosts.register(as('acct-a'), input('Web.Example.com', 'named'))).instance.address,
      'web.example.com',
    );
  });

  test('KEYFLEET_HOST_NETWORKS: canonical networks; unset or empty is any address; a bad entry stops the start', () => {
    assert.equal(loadConfig({}).hostNetworks, undefined);
    assert.equal(loadConfig({ KEYFLEET_HOST_NETWORKS: ' ' }).hostNetworks, undefined);
    assert.deepEqual(loadConfig({ KEYFLEET_HOST_NETWORKS: '10.1.2.3/8, FD00::/8,192.168.7.7' }).hostNetworks, [
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.7.7/32',
    ]);
    assert.throws(() => loadConfig({ KEYFLEET_HOST_NETWORKS: '10.0.0.0/8,corp.example' }), ConfigError);
    assert.throws(() => loadConfig({ KEYFLEET_HOST_NETWORKS: '10.0.0.0/33' }), ConfigError);
  });
});

/** An SSH server that shows a host key and accepts no login: enough for a registration without a management key. */
async function sshListener(address: string): Promise<{ port: number; close: () => Promise<void> }> {
  const hostKey = await fs.readFile((await sshKeygen('ed25519')).privateKeyPath, 'utf8');
  const ssh = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => ctx.reject(['publickey']));
    client.on('error', () => undefined);
  });
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    ssh.injectSocket(socket);
  });
  return listening(server, address);
}

/** A TCP service that is not SSH: it answers like a web server and hangs up. */
function webListener(address: string, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  return listening(server, address, port);
}

/** Listens on address:port; closing also drops any connection still open (a test must not wait on a peer). */
function listening(
  server: net.Server,
  address: string,
  port = 0,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port }, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            for (const socket of sockets) socket.destroy();
          }),
      }),
    );
  });
}

/** A loopback address of its own for this run (127.64-127.127.x.y), and its three-part short form. */
function loopback(): { address: string; short: string } {
  const b = 64 + Math.floor(Math.random() * 64);
  const low = 1 + Math.floor(Math.random() * 65_000);
  return { address: `127.${b}.${low >> 8}.${low & 0xff}`, short: `127.${b}.${low}` };
}

describe('host registration per account (two accounts, real listeners)', () => {
  let kf: Keyfleet;
  let a: Api;
  let b: Api;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    ({ kf, api: a } = await startInProcess({ extra: { KEYFLEET_LIVE_TIMEOUT_MS: '1500' } }));
    const made = await a.call('POST', '/api/v1/accounts', { name: 'tenant-b', adminPassword: 'TenantB-Pass-0001' });
    b = new Api(kf.url);
    await b.signIn({ accessKeyId: made.accessKeyId, accessKeySecret: made.accessKeySecret });
  });
  after(async () => {
    for (const close of closers) await close();
    await kf?.close();
  });

  const register = (api: Api, name: string, address: string, port: number) =>
    api.raw('POST', `/api/v1/regions/${REGION}/hosts`, { name, address, port, loginUser: 'root' });
  /** What one account may compare between two answers: status, code, and the fields of a success. */
  const shape = (r: { status: number; body: any }) => ({
    status: r.status,
    code: r.body?.code,
    fields: r.status < 300 ? Object.keys(r.body).sort() : undefined,
    pinned: r.body?.pinnedOnFirstUse,
  });

  test('a duplicate in one account is refused in any spelling; the address is stored in canonical form', async () => {
    const at = loopback();
    const ssh = await sshListener(at.address);
    closers.push(ssh.close);
    const first = await register(a, 'dup-1', at.short, ssh.port);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.instance.address, at.address);
    for (const again of [at.address, `::ffff:${at.address}`, at.short]) {
      const r = await register(a, 'dup-2', again, ssh.port);
      assert.equal(r.body.code, 'Instance.AlreadyRegistered', again);
    }
  });

  test('another account gets the same answer whether or not the first holds the host', async () => {
    const held = loopback();
    const free = loopback();
    const sshHeld = await sshListener(held.address);
    const sshFree = await sshListener(free.address);
    closers.push(sshHeld.close, sshFree.close);
    assert.equal((await register(a, 'a-held', held.address, sshHeld.port)).status, 201);
    const bHeld = await register(b, 'b-held', `::ffff:${held.address}`, sshHeld.port);
    const bFree = await register(b, 'b-free', `::ffff:${free.address}`, sshFree.port);
    assert.deepEqual(shape(bHeld), shape(bFree), JSON.stringify([bHeld.body, bFree.body]));
    assert.equal(bHeld.body.instance.address, held.address);
    // Each account sees its own record only.
    const listed = (api: Api) =>
      api.call('GET', `/api/v1/regions/${REGION}/instances?search=${held.address}&limit=100`);
    assert.deepEqual(
      (await listed(b)).instances.map((i: any) => i.name),
      ['b-held'],
    );
    assert.deepEqual(
      (await listed(a)).instances.map((i: any) => i.name),
      ['a-held'],
    );
  });

  test('a closed port and an open port that is not SSH give the same answer', async () => {
    const at = loopback();
    // The port is found free first (closed), then served by a web server (open, not SSH): same address and port.
    const probe = await webListener(at.address);
    await probe.close();
    const closed = await register(b, 'scan-closed', at.address, probe.port);
    const web = await webListener(at.address, probe.port);
    closers.push(web.close);
    const open = await register(b, 'scan-open', at.short, probe.port);
    const answer = (r: { status: number; body: any }) => ({
      status: r.status,
      code: r.body?.code,
      message: r.body?.message,
    });
    assert.deepEqual(answer(open), answer(closed));
    assert.equal(closed.body.code, 'Live.Unreachable');
    assert.equal(
      closed.body.message,
      `Could not verify an SSH host at ${at.address}:${probe.port}; nothing was registered.`,
    );
  });
});

describe('KEYFLEET_HOST_NETWORKS through the native API', () => {
  let kf: Keyfleet;
  let api: Api;
  before(async () => {
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_HOST_NETWORKS: '10.0.0.0/8' } }));
  });
  after(async () => {
    await kf?.close();
  });

  test('an address outside the allowed networks is refused before any connection', async () => {
    const at = loopback();
    let contacted = false;
    const watch = net.createServer(() => (contacted = true));
    const watched = await listening(watch, at.address);
    try {
      for (const address of [at.address, at.short, `::ffff:${at.address}`]) {
        const r = await api.raw('POST', `/api/v1/regions/${REGION}/hosts`, {
          name: 'outside',
          address,
          port: watched.port,
          loginUser: 'root',
        });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.equal(r.body.code, 'Input.Invalid');
        assert.match(r.body.message, /outside the networks hosts may be registered in/);
      }
      assert.equal(contacted, false, 'nothing was contacted');
    } finally {
      await watched.close();
    }
  });
});
