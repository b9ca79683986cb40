/**
 * Webhook delivery through an outage (issue 21): the receiver (on 127.x.y.z) is down for 30 s of the
 * dispatcher's clock, then up. The dispatcher, the outbox on the real store (SQLite, and PostgreSQL when
 * KEYFLEET_TEST_PG_URL is set) and the real HTTP sender run; only time is faked, so the 30 s take milliseconds.
 * Every event arrives, each exactly once after deduplication by its id, every signature verifies with the
 * receiver's own HMAC code, and the retries during the outage doubled their delay.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { createIdGen } from '../../src/app/ids.js';
import { createHttpWebhookSender } from '../../src/backends/webhook/http-sender.js';
import { systemCaller } from '../../src/core/caller.js';
import { createDispatcher } from '../../src/core/events/dispatcher.js';
import { EVENT_TYPES } from '../../src/core/events/event.js';
import { createWebhookService } from '../../src/core/events/webhook-service.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { fakeClock } from '../support/fake-clock.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const EVENTS = 24;
const OUTAGE_MS = 30_000;
const silent = { info() {}, warn() {}, error() {} };

interface Received {
  id: string;
  body: string;
  signature: string;
  attempt: number;
}

/** The receiver's own check: HMAC-SHA256 over `<t>.<body>`, compared in constant time, t within 5 minutes. */
function verifies(secret: string, header: string, body: string, nowS: number): boolean {
  const t = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
  const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
  if (!v1 || !Number.isInteger(t) || Math.abs(nowS - t) > 300) return false;
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(want, Buffer.from(v1, 'hex'));
}

function receiverAt(host: string, port: number, got: Received[]) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({
        id: String(req.headers['keyfleet-event-id']),
        body,
        signature: String(req.headers['keyfleet-signature']),
        attempt: Number(req.headers['keyfleet-delivery-attempt']),
      });
      res.writeHead(204).end();
    });
  });
  return {
    listen: () => new Promise<void>((r) => server.listen(port, host, () => r())),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function storesUnderTest(): Promise<Array<{ name: string; open: () => Promise<OpenedStore> }>> {
  const list = [{ name: 'sqlite', open: () => openStore({ dataDir: tempDir() }) }];
  if (process.env.KEYFLEET_TEST_PG_URL) {
    list.push({
      name: 'postgres',
      open: async () => {
        const pg = await freshPostgres();
        const store = await openStore({ databaseUrl: pg.url, dataDir: tempDir() });
        return { ...store, close: async () => (await store.close(), await pg.drop()) };
      },
    });
  }
  return list;
}

for (const s of await storesUnderTest()) {
  describe(`webhooks through a 30 s outage (${s.name})`, () => {
    const closers: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of closers.reverse()) await c();
    });

    it('delivers every event once the receiver is up: each id once after dedup, every signature valid', async () => {
      const store = await s.open();
      closers.push(() => store.close());
      const clock = fakeClock(new Date('2026-03-01T00:00:00Z'));
      const ids = { ...createIdGen(), random: () => 0.5 };
      const secrets = createSecretBox(randomBytes(32));
      await store.accounts.insertAccount({ id: 'acc-webhooks', name: `webhooks-${s.name}`, createdAt: clock.now() });
      const caller = systemCaller('acc-webhooks', 'req-test');

      // A receiver address on 127.x.y.z with nothing listening yet: connections are refused.
      const host = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      const port = 20000 + Math.floor(Math.random() * 20000);
      const webhooks = createWebhookService({ store, secrets, clock, ids });
      const { webhook, secret } = await webhooks.create(caller, {
        url: `http://${host}:${port}/hook`,
        events: [...EVENT_TYPES],
      });
      assert.equal(JSON.stringify(await store.outbox.getEndpoint('acc-webhooks', webhook.id)).includes(secret), false);

      const published: string[] = [];
      for (let n = 0; n < EVENTS; n++) {
        const id = await store.transaction((tx) =>
          tx.outbox.publish({
            accountId: 'acc-webhooks',
            type: EVENT_TYPES[n % EVENT_TYPES.length]!,
            at: clock.now(),
            data: { n },
          }),
        );
        published.push(id!);
      }

      const dispatcher = createDispatcher({
        store,
        secrets,
        sender: createHttpWebhookSender(),
        clock,
        ids,
        logger: silent,
        settings: {
          owner: 'test-owner',
          singleWriter: true,
          pollMs: 1000,
          timeoutMs: 5000,
          backoffMs: 1000,
          backoffMaxMs: 8000,
          maxAttempts: 100,
          concurrency: 4,
          retentionMs: 24 * 3_600_000,
        },
      });
      await dispatcher.start();
      closers.push(() => dispatcher.close());
      const got: Received[] = [];
      const receiver = receiverAt(host, port, got);
      closers.push(() => receiver.close());

      // Down for 30 s of the dispatcher's clock: each poll's round is awaited (the sender's I/O is real).
      for (let t = 0; t < OUTAGE_MS; t += 500) {
        await clock.advance(500);
        await dispatcher.poll();
      }
      assert.equal(got.length, 0);
      const during = await store.outbox.deliveries('acc-webhooks', webhook.id, 100);
      assert.equal(during.length, EVENTS);
      for (const d of during) {
        assert.equal(d.status, 'pending');
        // 1 s, 2 s, 4 s, 8 s (capped) apart with equal jitter at 0.5: 0, 0.75, 2.25, 5.25, 11.25, 17.25, 23.25, 29.25 s.
        assert.ok(d.attempts >= 6, `only ${d.attempts} attempts in 30 s`);
        const log = await store.outbox.attempts(d.id);
        const gaps = log.slice(1).map((a, i) => a.at.getTime() - log[i]!.at.getTime());
        for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! >= gaps[i - 1]!, `gaps shrink: ${gaps}`);
        assert.ok(
          gaps.every((g) => g <= 8000),
          `a gap above the cap: ${gaps}`,
        );
        assert.ok(log.every((a) => a.httpStatus === null && a.error));
      }

      await receiver.listen();
      for (let t = 0; t < 10_000 && got.length < EVENTS; t += 500) {
        await clock.advance(500);
        await dispatcher.poll();
      }
      const unique = new Map(got.map((r) => [r.id, r]));
      assert.deepEqual([...unique.keys()].sort(), [...published].sort());
      const nowS = Math.floor(clock.now().getTime() / 1000);
      for (const r of got) {
        assert.ok(verifies(secret, r.signature, r.body, nowS), `bad signature on ${r.id}`);
        assert.equal(JSON.parse(r.body).id, r.id);
        assert.ok(r.attempt >= 2);
      }
      const afterwards = await store.outbox.deliveries('acc-webhooks', webhook.id, 100);
      assert.ok(afterwards.every((d) => d.status === 'delivered' && d.lastStatus === 204));
      // Nothing is sent again once delivered.
      const count = got.length;
      await clock.advance(20_000);
      await dispatcher.poll();
      assert.equal(got.length, count);
    });
  });
}
