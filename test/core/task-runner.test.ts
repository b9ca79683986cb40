/**
 * The task runner on a fake clock and the real embedded store: pacing, the process-wide bound on items in
 * flight, lease takeover by another runner, and dispatch to the executor registered for a task's mode. No
 * wall-clock waits: time moves only when the test moves it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Logger } from '../../src/core/ports.js';
import { createTaskRunner, type ItemLease, type TaskExecutor } from '../../src/core/task/task-runner.js';
import type { Task, TaskItem, TaskMode } from '../../src/core/task/task.js';
import { openStore, type OpenedStore } from '../../src/store/open-store.js';
import { type FakeClock, fakeClock, settle } from '../support/fake-clock.js';
import { freezable } from '../support/freezable-store.js';
import { tempDir } from '../support/tmp.js';

const quiet: Logger = { info() {}, warn() {}, error() {} };
let store: OpenedStore;
let seq = 0;

before(async () => {
  store = await openStore({ dataDir: tempDir() });
  await store.accounts.insertAccount({ id: 'acc-1', name: 'one', createdAt: new Date(0) });
});
after(() => store.close());

async function newTask(clock: FakeClock, total: number, mode: TaskMode = 'on-restart'): Promise<Task> {
  const id = `task-${++seq}`;
  const task: Task = {
    id,
    accountId: 'acc-1',
    regionId: 'cn-hangzhou',
    kind: 'bind',
    mode,
    keyPairId: null,
    keyPairName: null,
    status: 'queued',
    total,
    succeeded: 0,
    failed: 0,
    face: 'native',
    requestId: 'r',
    createdBy: 'u',
    createdAt: clock.now(),
    startedAt: null,
    finishedAt: null,
    options: {},
  };
  const items: TaskItem[] = Array.from({ length: total }, (_, n) => ({
    taskId: id,
    seq: n,
    instanceId: `i-${n}`,
    status: 'pending',
    attempts: 0,
    errorCode: null,
    errorMessage: null,
    note: null,
    startedAt: null,
    finishedAt: null,
  }));
  await store.transaction((tx) => tx.tasks.insert(task, items));
  return task;
}

function runnerWith(clock: FakeClock, over: Partial<Parameters<typeof createTaskRunner>[0]> = {}) {
  return createTaskRunner({
    store,
    clock,
    logger: quiet,
    owner: 'A',
    concurrency: 64,
    chunk: 64,
    leaseMs: 60_000,
    itemsPerSecond: 0,
    ...over,
  });
}

/** An executor that records when each item started and finishes it as `owner` at once, or when released. */
function recorder(clock: FakeClock, opts: { hold?: boolean } = {}) {
  const started: Array<{ task: string; seq: number; at: number }> = [];
  const held: Array<() => Promise<boolean>> = [];
  const finished: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const executor: TaskExecutor = {
    async execute(task, item, owner) {
      started.push({ task: task.id, seq: item.seq, at: clock.now().getTime() });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const finish = () =>
        store.transaction((tx) =>
          tx.tasks.finishItem({ ...item, status: 'succeeded', note: `by ${owner}`, finishedAt: clock.now() }, owner),
        );
      if (opts.hold) {
        await new Promise<void>((resolve) =>
          held.push(async () => {
            const ok = await finish();
            resolve();
            return ok;
          }),
        );
      } else {
        await finish();
      }
      inFlight--;
    },
    finished: (task) => void finished.push(task.id),
  };
  return { executor, started, held, finished, maxInFlight: () => maxInFlight };
}

async function untilFinished(clock: FakeClock, taskId: string): Promise<Task> {
  for (let n = 0; n < 10_000; n++) {
    const t = await store.tasks.get('acc-1', taskId);
    if (t?.finishedAt) return t;
    if (!(await clock.next())) await settle();
  }
  throw new Error(`task ${taskId} did not finish`);
}

describe('task runner (fake clock, embedded store)', () => {
  test('pacing: with 4 items per second, items start 250 ms apart, in order', async () => {
    const clock = fakeClock();
    const rec = recorder(clock);
    const runner = runnerWith(clock, { itemsPerSecond: 4 });
    runner.register('on-restart', rec.executor);
    const task = await newTask(clock, 6);
    const t0 = clock.now().getTime();
    runner.kick(task.id);
    const done = await untilFinished(clock, task.id);
    assert.equal(done.succeeded, 6);
    assert.deepEqual(
      rec.started.map((s) => s.seq),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      rec.started.map((s) => s.at - t0),
      [0, 250, 500, 750, 1000, 1250],
    );
    assert.deepEqual(rec.finished, [task.id], 'the executor is told once that its task finished');
    await runner.close();
  });

  test('one bound on items in flight across all tasks of the process', async () => {
    const clock = fakeClock();
    const rec = recorder(clock, { hold: true });
    const runner = runnerWith(clock, { concurrency: 3 });
    runner.register('on-restart', rec.executor);
    const a = await newTask(clock, 5);
    const b = await newTask(clock, 5);
    runner.kick(a.id);
    runner.kick(b.id);
    let released = 0;
    while (released < 10) {
      await settle();
      assert.ok(
        rec.started.length - released <= 3,
        `at most 3 in flight (started ${rec.started.length}, done ${released})`,
      );
      const next = rec.held[released];
      assert.ok(next, 'an item is waiting to be released');
      await next();
      released++;
    }
    assert.equal((await untilFinished(clock, a.id)).succeeded, 5);
    assert.equal((await untilFinished(clock, b.id)).succeeded, 5);
    assert.equal(rec.maxInFlight(), 3);
    await runner.close();
  });

  test('a runner frozen past its lease loses its items to another runner; its late results are refused and its leases aborted', async () => {
    const clock = fakeClock();
    const stalled = recorder(clock, { hold: true });
    // A's store answers until A is frozen (SIGSTOP): then nothing of A's reaches the store, renewals included.
    const frozen = freezable(store);
    const a = runnerWith(clock, { owner: 'A', leaseMs: 5_000, chunk: 4, concurrency: 4, store: frozen.store });
    const leases: ItemLease[] = [];
    a.register('on-restart', {
      ...stalled.executor,
      execute: (task, item, owner, lease) => {
        leases.push(lease);
        return stalled.executor.execute(task, item, owner, lease);
      },
    });
    const task = await newTask(clock, 4);
    a.kick(task.id);
    await settle();
    assert.equal(stalled.started.length, 4, 'runner A holds all four items');

    // While A runs, its leases are renewed: long past the lease's length nothing expires.
    await clock.advance(12_000);
    assert.equal(await store.tasks.releaseLeases('expired', clock.now()), 0, 'renewed leases do not expire');
    frozen.freeze();
    await clock.advance(5_001);
    assert.equal(await store.tasks.releaseLeases('expired', clock.now()), 4, 'a frozen runner stops renewing');

    const healthy = recorder(clock);
    const b = runnerWith(clock, { owner: 'B', leaseMs: 5_000 });
    b.register('on-restart', healthy.executor);
    assert.equal(await b.resumeAll(), 1);
    const done = await untilFinished(clock, task.id);
    assert.equal(done.succeeded, 4);

    // A wakes up: its next renewal finds the items gone and aborts their leases; its results are refused.
    frozen.thaw();
    await clock.advance(2_000);
    await settle();
    assert.deepEqual(
      leases.map((l) => l.signal.aborted),
      [true, true, true, true],
    );
    assert.deepEqual(await Promise.all(leases.map((l) => l.holds())), [false, false, false, false]);
    const late = await Promise.all(stalled.held.map((release) => release()));
    assert.deepEqual(late, [false, false, false, false]);
    const items = await store.tasks.items(task.id, { offset: 0, limit: 10 });
    assert.deepEqual(
      items.items.map((i) => i.note),
      ['by B', 'by B', 'by B', 'by B'],
    );
    await a.close();
    await b.close();
  });

  test('an item is claimed only when it can start: paced items wait as pending, not under a lease', async () => {
    const clock = fakeClock();
    const rec = recorder(clock, { hold: true });
    const runner = runnerWith(clock, { itemsPerSecond: 1, concurrency: 8, chunk: 64, leaseMs: 1_000 });
    runner.register('on-restart', rec.executor);
    const task = await newTask(clock, 6);
    runner.kick(task.id);
    await settle();
    const running = async () => (await store.tasks.items(task.id, { status: 'running' })).total;
    assert.equal(await running(), 1, 'one item may start now; the others wait unclaimed');
    await clock.advance(1_000);
    await settle();
    assert.equal(await running(), 2);
    // Running items hold their leases however long they run (renewed), and none is claimed twice.
    await clock.advance(10_000);
    await settle();
    assert.equal(await store.tasks.releaseLeases('expired', clock.now()), 0);
    assert.equal(rec.started.length, 6);
    assert.equal(new Set(rec.started.map((s) => s.seq)).size, 6);
    for (const release of rec.held) assert.equal(await release(), true);
    await untilFinished(clock, task.id);
    await runner.close();
  });

  test('dispatch by mode: each task goes to the executor registered for its mode; one executor per mode', async () => {
    const clock = fakeClock();
    const onRestart = recorder(clock);
    const live = recorder(clock);
    const runner = runnerWith(clock);
    runner.register('on-restart', onRestart.executor);
    runner.register('live', live.executor);
    assert.throws(() => runner.register('live', live.executor), /already registered/);
    const t1 = await newTask(clock, 2, 'live');
    const t2 = await newTask(clock, 3, 'on-restart');
    runner.kick(t1.id);
    runner.kick(t2.id);
    await untilFinished(clock, t1.id);
    await untilFinished(clock, t2.id);
    assert.deepEqual(new Set(live.started.map((s) => s.task)), new Set([t1.id]));
    assert.deepEqual(new Set(onRestart.started.map((s) => s.task)), new Set([t2.id]));
    await runner.close();
  });

  test('a task whose mode has no executor is left unfinished, not failed by guesswork', async () => {
    const clock = fakeClock();
    const runner = runnerWith(clock);
    runner.register('on-restart', recorder(clock).executor);
    const t = await newTask(clock, 1, 'live');
    runner.kick(t.id);
    await settle();
    const after = await store.tasks.get('acc-1', t.id);
    assert.equal(after?.finishedAt, null);
    assert.equal(after?.succeeded, 0);
    await runner.close();
  });
});
