/**
 * Benchmark: webhook delivery throughput. N events are written to the outbox of the embedded store (SQLite, or
 * PostgreSQL with KEYFLEET_DATABASE_URL) for one endpoint; the dispatcher (real clock, real HTTP sender) drains
 * them to a receiver on 127.0.0.1 that answers 204. Prints the cost of publishing (one transaction per event, as a
 * task's finish pays it) and deliveries per second.
 *
 *   node --import tsx bench/webhook-delivery.ts          # BENCH_EVENTS (default 2000), BENCH_CONCURRENCY (8)
 *
 * Loopback only; bounded by the event count.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createIdGen, systemClock } from '../src/app/ids.js';
import { createHttpWebhookSender } from '../src/backends/webhook/http-sender.js';
import { systemCaller } from '../src/core/caller.js';
import { createDispatcher } from '../src/core/events/dispatcher.js';
import { createWebhookService } from '../src/core/events/webhook-service.js';
import { createSecretBox } from '../src/crypto/secret-box.js';
import { openStore } from '../src/store/open-store.js';
import { tempDir } from '../test/support/tmp.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const silent = { info() {}, warn() {}, error() {} };

const store = await openStore({ dataDir: tempDir(), databaseUrl: process.env.KEYFLEET_DATABASE_URL });
const secrets = createSecretBox(randomBytes(32));
const ids = createIdGen();
await store.accounts.insertAccount({ id: 'acc-bench', name: `bench-${ids.next('', 6)}`, createdAt: new Date() });
let received = 0;
let allIn: () => void = () => undefined;
const done = new Promise<void>((r) => (allIn = r));
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(204).end();
    if (++received === EVENTS) allIn();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;

// Publishing with no endpoint subscribed (the cost every task finish pays when nobody listens), then with one.
const t0 = performance.now();
for (let n = 0; n < 1000; n++)
  await store.transaction((tx) =>
    tx.outbox.publish({ accountId: 'acc-bench', type: 'task.finished', at: new Date(), data: { n } }),
  );
const idleMs = (performance.now() - t0) / 1000;
await createWebhookService({ store, secrets, clock: systemClock, ids }).create(systemCaller('acc-bench', 'bench'), {
  url: `http://127.0.0.1:${port}/hook`,
  events: ['task.finished'],
});
const t1 = performance.now();
for (let n = 0; n < EVENTS; n++)
  await store.transaction((tx) =>
    tx.outbox.publish({ accountId: 'acc-bench', type: 'task.finished', at: new Date(), data: { n } }),
  );
const publishMs = (performance.now() - t1) / EVENTS;

const dispatcher = createDispatcher({
  store,
  secrets,
  sender: createHttpWebhookSender(),
  clock: systemClock,
  ids,
  logger: silent,
  settings: {
    owner: 'bench',
    singleWriter: true,
    pollMs: 50,
    timeoutMs: 5000,
    backoffMs: 100,
    backoffMaxMs: 1000,
    maxAttempts: 5,
    concurrency: CONCURRENCY,
    retentionMs: 3_600_000,
  },
});
const t2 = performance.now();
await dispatcher.start();
await done;
const seconds = (performance.now() - t2) / 1000;
await dispatcher.close();
server.close();
await store.close();
console.log(
  JSON.stringify({
    store: store.dialect,
    events: EVENTS,
    concurrency: CONCURRENCY,
    publishNoSubscriberMs: Number(idleMs.toFixed(3)),
    publishOneEndpointMs: Number(publishMs.toFixed(3)),
    deliveriesPerSecond: Math.round(EVENTS / seconds),
  }),
);
