/**
 * Webhook leases and limits (issue 21). Two dispatchers (two processes' worth: different owners) drain one outbox
 * at the same time and every event is sent exactly once: a leased row is never claimed by another owner while its
 * lease lasts (on PostgreSQL through FOR UPDATE SKIP LOCKED; set KEYFLEET_TEST_PG_URL). A delivery that keeps
 * failing is given up after its last attempt. KEYFLEET_WEBHOOK_NETWORKS refuses an address literal at create and a
 * name that resolves outside the networks at delivery.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { createIdGen } from '../../src/app/ids.js';
import { createHttpWebhookSender } from '../../src/backends/webhook/http-sender.js';
import { systemCaller } from '../../src/core/caller.js';
import { createDispatcher, type DispatcherSettings } from '../../src/core/events/dispatcher.js';
import type { WebhookSender } from '../../src/core/events/outbox.js';
import { createWebhookService } from '../../src/core/events/webhook-service.js';
import { isCoreError } from '../../src/core/errors.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { type OpenedStore, openStore } from '../../src/store/open-store.js';
import { fakeClock } from '../support/fake-clock.js';
import { freshPostgres } from '../support/fresh-postgres.js';
import { tempDir } from '../support/tmp.js';

const silent = { info() {}, warn() {}, error() {} };
const ACCOUNT = 'acc-leases';

async function storesUnderTest(): Promise<Array<{ name: string; open: () => Promise<OpenedStore> }>> {
  const list = [{ name: 'sqlite', open: () => openStore({ dataDir: tempDir() }) }];
  if (process.env.KEYFLEET_TEST_PG_URL)
    list.push({
      name: 'postgres',
      open: async () => {
        const pg = await freshPostgres();
        const store = await openStore({ databaseUrl: pg.url, dataDir: tempDir() });
        return { ...store, close: async () => (await store.close(), await pg.drop()) };
      },
    });
  return list;
}

const settings = (owner: string, over: Partial<DispatcherSettings> = {}): DispatcherSettings => ({
  owner,
  singleWriter: false,
  pollMs: 1000,
  timeoutMs: 5000,
  backoffMs: 1000,
  backoffMaxMs: 4000,
  maxAttempts: 10,
  concurrency: 8,
  retentionMs: 3_600_000,
  ...over,
});

for (const s of await storesUnderTest()) {
  describe(`webhook leases (${s.name})`, () => {
    const closers: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of closers.reverse()) await c();
    });

    async function world() {
      const store = await s.open();
      closers.push(() => store.close());
      const clock = fakeClock(new Date('2026-04-01T00:00:00Z'));
      const ids = { ...createIdGen(), random: () => 0.5 };
      const secrets = createSecretBox(randomBytes(32));
      await store.accounts.insertAccount({ id: ACCOUNT, name: `leases-${ids.next('', 6)}`, createdAt: clock.now() });
      return { store, clock, ids, secrets, webhooks: createWebhookService({ store, secrets, clock, ids }) };
    }

    it('two dispatchers draining one outbox at once send each event exactly once', async () => {
      const w = await world();
      const counts = new Map<string, number>();
      const server = http.createServer((req, res) => {
        const id = String(req.headers['keyfleet-event-id']);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        req.resume();
        req.on('end', () => res.writeHead(200).end());
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      closers.push(() => new Promise<void>((r) => server.close(() => r())));
      const port = (server.address() as { port: number }).port;
      await w.webhooks.create(systemCaller(ACCOUNT, 'r'), {
        url: `http://127.0.0.1:${port}/`,
        events: ['task.finished'],
      });
      const EVENTS = 150;
      for (let n = 0; n < EVENTS; n++)
        await w.store.outbox.publish({ accountId: ACCOUNT, type: 'task.finished', at: w.clock.now(), data: { n } });
      const sender = createHttpWebhookSender();
      const [a, b] = ['owner-a', 'owner-b'].map((owner) =>
        createDispatcher({ ...w, sender, logger: silent, settings: settings(owner) }),
      );
      await Promise.all([a!.poll(), b!.poll(), a!.poll(), b!.poll()]);
      for (let n = 0; n < 5 && counts.size < EVENTS; n++) await Promise.all([a!.poll(), b!.poll()]);
      assert.equal(counts.size, EVENTS);
      assert.deepEqual(
        [...counts.entries()].filter(([, c]) => c !== 1),
        [],
        'an event sent more than once',
      );
    });

    it('a delivery that keeps failing is given up after maxAttempts, each attempt recorded', async () => {
      const w = await world();
      const { webhook } = await w.webhooks.create(systemCaller(ACCOUNT, 'r'), {
        url: 'http://127.0.0.1:9/never',
        events: ['drift.found'],
      });
      await w.store.outbox.publish({ accountId: ACCOUNT, type: 'drift.found', at: w.clock.now(), data: {} });
      const answers500: WebhookSender = { post: async () => ({ status: 500 }) };
      const d = createDispatcher({
        ...w,
        sender: answers500,
        logger: silent,
        settings: settings('o', { maxAttempts: 3 }),
      });
      for (let n = 0; n < 20; n++) {
        await d.poll();
        await w.clock.advance(1000);
      }
      const [row] = await w.store.outbox.deliveries(ACCOUNT, webhook.id, 10);
      assert.equal(row!.status, 'failed');
      assert.equal(row!.attempts, 3);
      assert.deepEqual(
        (await w.store.outbox.attempts(row!.id)).map((x) => x.httpStatus),
        [500, 500, 500],
      );
    });

    it('KEYFLEET_WEBHOOK_NETWORKS: a literal outside is refused at create, a name resolving outside at delivery', async () => {
      const w = await world();
      const limited = createWebhookService({ ...w, networks: ['10.0.0.0/8'] });
      await assert.rejects(
        limited.create(systemCaller(ACCOUNT, 'r'), { url: 'http://169.254.169.254/latest', events: ['task.finished'] }),
        (e) => isCoreError(e) && e.code === 'Input.Invalid' && /outside the networks/.test(e.message),
      );
      const ok = await limited.create(systemCaller(ACCOUNT, 'r'), {
        url: 'http://10.1.2.3/hook',
        events: ['task.finished'],
      });
      assert.equal(ok.webhook.url, 'http://10.1.2.3/hook');
      const sender = createHttpWebhookSender({ networks: ['10.0.0.0/8'] });
      await assert.rejects(
        sender.post('http://localhost:9/x', {}, '{}', { timeoutMs: 2000 }),
        /outside KEYFLEET_WEBHOOK_NETWORKS/,
      );
      await assert.rejects(
        sender.post('http://127.0.0.1:9/x', {}, '{}', { timeoutMs: 2000 }),
        /outside KEYFLEET_WEBHOOK_NETWORKS/,
      );
    });
  });
}
