/**
 * The causes of webhook events (issue 21), each in a real keyfleet: a boot whose proof fails writes
 * verification.failed (with the reason the instance shows), and a drift scan that finds a key planted behind
 * keyfleet's back writes drift.found (with the drifted instance). Both arrive signed at a receiver on 127.x.y.z.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { MANAGED_END } from '../../src/core/binding/authorized-keys.js';
import { type Api, LINUX_IMAGE, sleep, startInProcess } from '../support/keyfleet.js';

const REGION = 'cn-hangzhou';

describe('webhook events from their causes', () => {
  let kf: Keyfleet;
  let api: Api;
  let secret: string;
  const got: Array<{ body: any; signature: string; raw: string }> = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      got.push({ raw, body: JSON.parse(raw), signature: String(req.headers['keyfleet-signature']) });
      res.writeHead(204).end();
    });
  });

  before(async () => {
    const host = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    await new Promise<void>((r) => server.listen(0, host, () => r()));
    const port = (server.address() as { port: number }).port;
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_WEBHOOK_POLL_MS: '50' } }));
    const created = await api.call('POST', '/api/v1/webhooks', {
      url: `http://${host}:${port}/events`,
      events: ['verification.failed', 'drift.found'],
    });
    secret = created.secret;
  });
  after(async () => {
    await kf?.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function arrived(type: string, instanceId: string) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const e = got.find(
        (g) =>
          g.body.type === type &&
          (g.body.data.instanceId === instanceId ||
            g.body.data.drifted?.some((d: { instanceId: string }) => d.instanceId === instanceId)),
      );
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no ${type} event for ${instanceId}`);
      await sleep(50);
    }
  }
  const signedRight = (e: { raw: string; signature: string }) => {
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(e.signature) ?? [];
    return v1 === createHmac('sha256', secret).update(`${t}.${e.raw}`).digest('hex');
  };
  const disk = (id: string, guestPath: string) => path.join(kf.config.dataDir, 'sim', 'instances', id, guestPath);

  it('a failed boot proof: verification.failed with the reason the instance shows', async () => {
    await api.createKeyPair('wh-elsewhere', 'ed25519');
    const [id] = (await api.run({ imageId: LINUX_IMAGE, name: 'wh-proof', password: 'Root-Pass-0001!' })) as [string];
    await api.waitStatus([id], 'Running');
    await kf.core.instances.settle();
    // The image's sshd reads keys from elsewhere (read before keyfleet's drop-in): the bound key is refused.
    const conf = disk(id, 'etc/ssh/sshd_config.d/00-central-keys.conf');
    fs.mkdirSync(path.dirname(conf), { recursive: true });
    fs.writeFileSync(conf, 'AuthorizedKeysFile /etc/ssh/authorized_keys/%u\n', { mode: 0o644 });
    await api.bind({ action: 'bind', keyPairName: 'wh-elsewhere', instanceIds: [id] });
    await api.restart(id);
    await kf.core.instances.settle();
    const inst = await api.instance(id);
    assert.equal(inst.verifiedAt, null);

    const e = await arrived('verification.failed', id);
    assert.equal(e.body.data.reason, inst.verification);
    assert.equal(e.body.data.keyPairName, 'wh-elsewhere');
    assert.ok(signedRight(e));
  });

  it('a drift scan that finds a planted key: drift.found naming the instance', async () => {
    await api.createKeyPair('wh-drift', 'ed25519');
    const intruder = await api.createKeyPair('wh-intruder', 'ed25519');
    const [id] = (await api.run({ imageId: LINUX_IMAGE, keyPairName: 'wh-drift', name: 'wh-drift' })) as [string];
    await api.waitStatus([id], 'Running');
    const clean = await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [id] });
    assert.equal(clean.results[0].status, 'in-sync');
    assert.equal(
      got.some((g) => g.body.type === 'drift.found'),
      false,
      'a scan in sync writes no event',
    );
    // A key written inside keyfleet's block behind its back (as someone with write access would).
    const ak = disk(id, 'root/.ssh/authorized_keys');
    const text = fs.readFileSync(ak, 'utf8');
    assert.ok(text.includes(MANAGED_END), text);
    fs.writeFileSync(ak, text.replace(MANAGED_END, `${intruder.keyPair.publicKey}\n${MANAGED_END}`));
    const scan = await api.call('POST', `/api/v1/regions/${REGION}/drift-scans`, { instanceIds: [id] });
    assert.equal(scan.results[0].status, 'drifted');

    const e = await arrived('drift.found', id);
    assert.equal(e.body.data.regionId, REGION);
    assert.equal(e.body.data.driftedCount, 1);
    assert.ok(e.body.data.drifted[0].findings >= 1);
    assert.ok(signedRight(e));
  });
});
