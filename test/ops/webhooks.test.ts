/**
 * Webhooks end to end (issue 21), keyfleet as a child process: endpoints through the native API (the secret shown
 * once, sealed at rest), task.finished events with per-item counts, and at least once across a crash: the receiver
 * holds the first delivery unanswered, keyfleet is killed (SIGKILL) mid-delivery and restarted on the same data
 * dir, and every event still arrives; after deduplication by Keyfleet-Event-Id each arrives once, every signature
 * verifying with the receiver's own HMAC code. A rotated secret signs what follows.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Api, sleep, startChild, testEnv } from '../support/keyfleet.js';

const TASKS = 4;

interface Received {
  id: string;
  body: string;
  signature: string;
}

function verifies(secret: string, header: string, body: string): boolean {
  const t = Number(/(?:^|,)t=(\d+)/.exec(header)?.[1]);
  const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
  if (!v1 || !Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  return timingSafeEqual(createHmac('sha256', secret).update(`${t}.${body}`).digest(), Buffer.from(v1, 'hex'));
}

/** A receiver that can hold requests unanswered (to be cut by a crash) or answer 200. */
function receiver(host: string) {
  const got: Received[] = [];
  let holding = true;
  let onHeld: (() => void) | null = null;
  const held = new Promise<void>((r) => (onHeld = r));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({
        id: String(req.headers['keyfleet-event-id']),
        body,
        signature: String(req.headers['keyfleet-signature']),
      });
      if (holding) {
        onHeld?.();
        return; // never answered: the sender dies waiting
      }
      res.writeHead(200).end('ok');
    });
  });
  return {
    got,
    held,
    answer: () => {
      holding = false;
    },
    listen: () =>
      new Promise<number>((r) => server.listen(0, host, () => r((server.address() as { port: number }).port))),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('webhooks end to end, across a crash of keyfleet', () => {
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    for (const c of closers) await c();
  });

  it('delivers every task.finished event at least once; once each after dedup; signatures valid', async () => {
    const host = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const rx = receiver(host);
    const port = await rx.listen();
    closers.push(rx.close);
    const env = await testEnv({
      extra: {
        KEYFLEET_WEBHOOK_POLL_MS: '100',
        KEYFLEET_WEBHOOK_BACKOFF_MS: '100',
        KEYFLEET_WEBHOOK_BACKOFF_MAX_MS: '500',
        // Longer than the test: the held delivery is cut by the crash, never by a timeout.
        KEYFLEET_WEBHOOK_TIMEOUT_MS: '120000',
      },
    });
    const first = await startChild(env);
    children.push(first.child);
    const api = new Api(first.url);
    await api.signIn();

    const bad = await api.raw('POST', '/api/v1/webhooks', { url: 'ftp://example.com/x', events: ['task.finished'] });
    assert.equal(bad.status, 400);
    const missing = await api.raw('GET', '/api/v1/webhooks/whk_nosuchendpoint');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'Webhook.NotFound');
    const created = await api.call('POST', '/api/v1/webhooks', {
      url: `http://${host}:${port}/hook`,
      events: ['task.finished'],
      description: 'ops test',
    });
    const secret: string = created.secret;
    assert.match(secret, /^whsec_[a-z0-9]{40}$/);
    const id: string = created.webhook.id;
    const shown = await api.call('GET', `/api/v1/webhooks/${id}`);
    assert.equal(JSON.stringify(shown).includes(secret), false);
    assert.equal(JSON.stringify(await api.call('GET', '/api/v1/webhooks')).includes(secret), false);

    await api.createKeyPair('wh-kp', 'ed25519');
    const taskIds: string[] = [];
    for (let n = 0; n < TASKS; n++) {
      // One item on a machine that does not exist: the task finishes at once, failed (1 of 1).
      const r = await api.bind({ action: 'bind', keyPairName: 'wh-kp', instanceIds: [`i-doesnotexist00000${n}`] });
      taskIds.push(r.task.id);
    }

    // The first delivery is held unanswered; keyfleet dies in the middle of it.
    await rx.held;
    const heldId = rx.got[0]!.id;
    process.kill(first.child.pid!, 'SIGKILL');
    await new Promise<void>((r) => (first.child.exitCode !== null ? r() : first.child.once('exit', () => r())));
    rx.answer();

    const second = await startChild(env);
    children.push(second.child);
    const unique = await waitFor('every event', () => {
      const m = new Map(rx.got.map((r) => [r.id, r]));
      return m.size >= TASKS ? m : undefined;
    });
    assert.equal(unique.size, TASKS);
    assert.ok(rx.got.filter((r) => r.id === heldId).length >= 2, 'the cut delivery was sent again');
    for (const r of rx.got) assert.ok(verifies(secret, r.signature, r.body), `bad signature on ${r.id}`);
    const events = [...unique.values()].map((r) => JSON.parse(r.body));
    assert.deepEqual(events.map((e) => e.data.taskId).sort(), [...taskIds].sort());
    for (const e of events) {
      assert.equal(e.type, 'task.finished');
      assert.equal(e.data.status, 'failed');
      assert.deepEqual(e.data.items, { total: 1, succeeded: 0, failed: 1 });
    }

    // Nothing secret at rest: the database files never hold the secret in plain text.
    const dir = env.KEYFLEET_DATA_DIR!;
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('keyfleet.db')))
      assert.equal(fs.readFileSync(path.join(dir, f)).includes(secret), false, `${f} holds the secret`);

    // Every delivery is recorded with its attempts.
    const api2 = new Api(second.url);
    await api2.signIn();
    const { deliveries } = await api2.call('GET', `/api/v1/webhooks/${id}/deliveries`);
    const settled = await waitFor('deliveries recorded', async () => {
      const d = (await api2.call('GET', `/api/v1/webhooks/${id}/deliveries`)).deliveries;
      return d.every((x: { status: string }) => x.status === 'delivered') ? d : undefined;
    });
    assert.equal(deliveries.length, TASKS);
    assert.ok(settled.every((d: { attemptLog: unknown[] }) => d.attemptLog.length >= 1));

    // A rotated secret signs what follows; the old one no longer does.
    const rotated = await api2.call('POST', `/api/v1/webhooks/${id}/rotate-secret`);
    assert.notEqual(rotated.secret, secret);
    const r = await api2.bind({ action: 'bind', keyPairName: 'wh-kp', instanceIds: ['i-doesnotexist00009'] });
    const late = await waitFor('the event after rotation', () =>
      rx.got.find((g) => JSON.parse(g.body).data.taskId === r.task.id),
    );
    assert.ok(verifies(rotated.secret, late.signature, late.body));
    assert.equal(verifies(secret, late.signature, late.body), false);

    // Disabled: events are kept, not sent; deleted: gone.
    await api2.call('PATCH', `/api/v1/webhooks/${id}`, { enabled: false });
    assert.equal((await api2.call('GET', `/api/v1/webhooks/${id}`)).webhook.enabled, false);
    const del = await api2.raw('DELETE', `/api/v1/webhooks/${id}`);
    assert.equal(del.status, 204);
    assert.equal((await api2.call('GET', '/api/v1/webhooks')).webhooks.length, 0);
  });
});
