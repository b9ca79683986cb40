/**
 * Issue 17, "tasks any process can run": a live bind with a root password, submitted to A while A stays healthy,
 * is run by whichever of three processes on one PostgreSQL claims its items. The credential is sealed with the
 * task in the store (issue 16), so no item fails Live.CredentialRequired, whoever ran it; the instances' new key
 * then really logs in. Which process ran which item is sampled from the store and reported, not asserted
 * (scheduling decides it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { loginCode } from '../kps/support/instance-files.js';
import { Api, LINUX_IMAGE, sleep } from '../support/keyfleet.js';
import { writePrivateKey } from '../support/openssh.js';
import { SharedStoreCluster } from './support/shared-store-cluster.js';

const AMOUNT = 100;
const ROOT_PASSWORD = 'Any-Process-Root-0001!';
const REGION = 'cn-hangzhou';

describe('a live task submitted to A runs on whichever process claims its items', () => {
  let cluster: SharedStoreCluster;

  before(async () => {
    cluster = await SharedStoreCluster.start({
      // Every process looks for unfinished tasks often and claims few items at a time, paced, so that B and C
      // join a task A is running (as the sweeper of a busy cluster does).
      KEYFLEET_TASK_SWEEP_MS: '200',
      KEYFLEET_TASK_CHUNK: '4',
      KEYFLEET_TASK_CONCURRENCY: '8',
      KEYFLEET_TASK_ITEMS_PER_SECOND: '40',
    });
  });
  after(async () => {
    await cluster?.close();
  });

  test(`a live bind of ${AMOUNT} instances with a root password: no item lacks the credential`, async (t) => {
    const onA = new Api(cluster.a.url);
    await onA.signIn();
    const ids = await onA.run({ imageId: LINUX_IMAGE, amount: AMOUNT, name: 'anyproc', password: ROOT_PASSWORD });
    await onA.waitStatus(ids, 'Running', 120_000);
    const { privateKey } = await onA.createKeyPair('anyproc', 'ed25519');
    const submitted = await onA.call('POST', `/api/v1/regions/${REGION}/bindings`, {
      wait: false,
      action: 'bind',
      keyPairName: 'anyproc',
      instanceIds: ids,
      mode: 'live',
      credential: { kind: 'password', password: ROOT_PASSWORD },
    });
    const taskId = submitted.task.id as string;

    // Who holds which item while it runs (lease_owner is `${pid}-…`; it is cleared when the item ends).
    const ranBy = new Map<number, string>();
    const byPid = new Map(cluster.members.map((m) => [String(m.child!.pid), m.name]));
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    const onB = new Api(cluster.b.url);
    await onB.signIn();
    let task: any;
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const running = await db.query<{ seq: number; lease_owner: string }>(
          `select seq, lease_owner from task_items where task_id = $1 and status = 'running'`,
          [taskId],
        );
        for (const r of running.rows) ranBy.set(r.seq, byPid.get(r.lease_owner.split('-')[0]!) ?? 'other');
        task = (await onB.call('GET', `/api/v1/tasks/${taskId}`)).task;
        if (task.finishedAt) break;
        assert.ok(Date.now() < deadline, `task still ${task.status} (${task.succeeded}/${task.total})`);
        await sleep(30);
      }
    } finally {
      await db.end();
    }

    const items = (await onB.call('GET', `/api/v1/tasks/${taskId}/items?limit=${AMOUNT}`)).items as any[];
    const lacking = items.filter(
      (i) => i.errorCode === 'Live.CredentialRequired' || i.errorCode === 'Live.CredentialLost',
    );
    assert.equal(lacking.length, 0, JSON.stringify(lacking.slice(0, 3)));
    const failed = items.filter((i) => i.status !== 'succeeded');
    assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 3)));
    assert.equal(task.status, 'succeeded');
    assert.equal(task.succeeded, AMOUNT);

    const counts: Record<string, number> = {};
    for (const who of ranBy.values()) counts[who] = (counts[who] ?? 0) + 1;
    t.diagnostic(`items seen running by process: ${JSON.stringify(counts)} (${AMOUNT - ranBy.size} not sampled)`);

    // Every instance is recorded with the key pair, as any process reads it.
    const onC = new Api(cluster.c.url);
    await onC.signIn();
    const bound = await onC.call('GET', `/api/v1/regions/${REGION}/instances?keyPairName=anyproc&limit=${AMOUNT}`);
    assert.equal(bound.total, AMOUNT);
    // And the machines agree: the new key logs in on one instance run by each process that ran any (A serves them).
    const keyFile = await writePrivateKey(privateKey);
    const sample = new Map<string, number>();
    for (const [seq, who] of ranBy) if (!sample.has(who)) sample.set(who, seq);
    for (const [who, seq] of sample) {
      const item = items.find((i) => i.seq === seq);
      const inst = bound.instances.find((i: any) => i.id === item.instanceId);
      assert.equal(await loginCode(inst, { identityFile: keyFile }), 0, `instance of item ${seq}, run by ${who}`);
    }
  });
});
