/**
 * recordTaskOutcome: what a finished task came to, as audit entries of their own. Each entry's result is true of
 * every instance it names; failed instances have an entry each with their code and message (the first hundred),
 * then grouped by code; a 10,000-instance task writes a bounded number of entries naming every instance. Built
 * on in-memory repositories: no server, no store.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NewAuditEntry } from '../../src/core/audit/audit.js';
import {
  INSTANCES_PER_ENTRY,
  MAX_FAILURE_ENTRIES,
  recordTaskOutcome,
} from '../../src/core/binding/task-outcome-audit.js';
import type { Repos } from '../../src/core/ports.js';
import { queuedTask, type Task, type TaskItem } from '../../src/core/task/task.js';

const NOW = new Date('2026-03-01T12:00:00Z');

function finishedTask(over: Partial<Task> & Pick<Task, 'kind' | 'mode' | 'total'>): Task {
  const caller = {
    accountId: 'acc-1',
    face: 'kps' as const,
    requestId: 'req-9',
    userId: 'u-ops',
    userName: 'ops',
    accessKeyId: 'LTAIops',
    sessionId: null,
    sourceIp: '10.1.2.3',
  };
  const task = queuedTask(
    caller,
    {
      id: 't-1',
      regionId: 'cn-hangzhou',
      keyPairId: 'kp-1',
      keyPairName: 'web',
      options: {},
      ...over,
    },
    NOW,
  );
  return { ...task, ...over, finishedAt: NOW };
}

function item(seq: number, status: 'succeeded' | 'failed', code?: string): TaskItem {
  return {
    taskId: 't-1',
    seq,
    instanceId: `i-${String(seq).padStart(5, '0')}`,
    status,
    attempts: 1,
    errorCode: status === 'failed' ? (code ?? 'Live.CredentialRejected') : null,
    errorMessage: status === 'failed' ? `The instance i-${seq} rejected the credential for user 'root'.` : null,
    note: status === 'succeeded' ? 'verified by login' : null,
    startedAt: NOW,
    finishedAt: NOW,
  };
}

/** The two repositories recordTaskOutcome uses, over a list of items; the entries it appends are kept. */
function reposOver(items: TaskItem[]): { tx: Repos; written: NewAuditEntry[]; calls: { appendMany: number } } {
  const written: NewAuditEntry[] = [];
  const calls = { appendMany: 0 };
  const tasks = {
    async items(_taskId: string, f: { status?: string; offset?: number; limit?: number } = {}) {
      const all = items.filter((i) => !f.status || i.status === f.status);
      const offset = f.offset ?? 0;
      return { items: all.slice(offset, offset + (f.limit ?? 10_000)), total: all.length };
    },
  };
  const audit = {
    async append(e: NewAuditEntry) {
      written.push(e);
    },
    async appendMany(es: readonly NewAuditEntry[]) {
      calls.appendMany++;
      written.push(...es);
    },
  };
  return { tx: { tasks, audit } as unknown as Repos, written, calls };
}

let n = 0;
const deps = { ids: { next: (p: string) => `${p}${++n}`, uuid: () => 'u', random: () => 0.5 }, clock: clockAt(NOW) };

function clockAt(now: Date) {
  return { now: () => now, sleep: async () => undefined, every: () => () => undefined };
}

const instancesOf = (e: NewAuditEntry) =>
  e.resources.filter((r) => r.includes(':instance/')).map((r) => r.slice(r.indexOf(':instance/') + 10));

describe('recordTaskOutcome: a task’s outcome as audit entries', () => {
  test('a failed live unbind: one failure entry with the code and message, in the submitter’s name', async () => {
    const task = finishedTask({ kind: 'unbind', mode: 'live', total: 1 });
    const { tx, written } = reposOver([item(0, 'failed')]);
    await recordTaskOutcome(tx, task, deps);
    assert.equal(written.length, 1);
    const [e] = written;
    assert.deepEqual(
      [e!.action, e!.stage, e!.result, e!.errorCode, e!.taskId, e!.requestId, e!.face, e!.userName, e!.userId],
      ['keypair:Unbind', 'outcome', 'failure', 'Live.CredentialRejected', 't-1', 'req-9', 'kps', 'ops', 'u-ops'],
    );
    assert.deepEqual([e!.accessKeyId, e!.sourceIp], ['LTAIops', '10.1.2.3']);
    assert.deepEqual(e!.resources, [
      'acs:ecs:cn-hangzhou:acc-1:keypair/web',
      'acs:ecs:cn-hangzhou:acc-1:instance/i-00000',
    ]);
    assert.match(e!.detail!, /rejected the credential/);
  });

  test('a partial on-restart bind: the success entry names only the instances that succeeded', async () => {
    const task = finishedTask({ kind: 'bind', mode: 'on-restart', total: 3 });
    const { tx, written } = reposOver([
      item(0, 'succeeded'),
      item(1, 'failed', 'Instance.WindowsNotSupported'),
      item(2, 'succeeded'),
    ]);
    await recordTaskOutcome(tx, task, deps);
    const success = written.filter((e) => e.result === 'success');
    const failure = written.filter((e) => e.result === 'failure');
    assert.deepEqual(success.map(instancesOf), [['i-00000', 'i-00002']]);
    assert.deepEqual(failure.map(instancesOf), [['i-00001']]);
    assert.ok(written.every((e) => e.action === 'keypair:Bind'));
    assert.equal(
      success[0]!.detail,
      "on-restart bind succeeded on 2 of 3 instances; 1 failed (see this task's failure entries): verified by login",
    );
  });

  test('10,000 instances: a bounded number of entries, every instance named once with its own result', async () => {
    const items: TaskItem[] = [];
    for (let seq = 0; seq < 10_000; seq++)
      items.push(
        seq % 10 === 0
          ? item(seq, 'failed', seq % 20 === 0 ? 'Live.Unreachable' : 'Live.CredentialRejected')
          : item(seq, 'succeeded'),
      );
    const task = finishedTask({ kind: 'unbind', mode: 'live', total: 10_000 });
    const { tx, written, calls } = reposOver(items);
    await recordTaskOutcome(tx, task, deps);
    assert.equal(calls.appendMany, 1, 'written at once');
    // 100 failures one by one, 900 grouped by code (450 each, 99 per entry), 9,000 successes 99 per entry.
    const expected =
      MAX_FAILURE_ENTRIES + 2 * Math.ceil(450 / INSTANCES_PER_ENTRY) + Math.ceil(9000 / INSTANCES_PER_ENTRY);
    assert.equal(written.length, expected);
    assert.ok(written.length < 300, `${written.length} entries`);
    for (const e of written) {
      assert.ok(e.resources.length <= 100, 'no entry is cut short');
      assert.ok(!e.resources.some((r) => r.startsWith('(+')), 'no instance is summarised away');
    }
    const failedNamed = written.filter((e) => e.result === 'failure').flatMap(instancesOf);
    const succeededNamed = written.filter((e) => e.result === 'success').flatMap(instancesOf);
    assert.equal(new Set(failedNamed).size, 1000);
    assert.equal(failedNamed.length, 1000);
    assert.equal(new Set(succeededNamed).size, 9000);
    assert.equal(succeededNamed.length, 9000);
    const byId = new Map(items.map((i) => [i.instanceId, i]));
    for (const e of written.filter((x) => x.result === 'failure'))
      for (const id of instancesOf(e)) assert.equal(byId.get(id)!.errorCode, e.errorCode, 'grouped by its own code');
    const grouped = written.filter((e) => e.result === 'failure' && instancesOf(e).length > 1);
    assert.match(grouped[0]!.detail!, /^\d+ more instances failed with Live\.\w+/);
  });

  test('an import: a host that was never registered is named in the detail of its failure', async () => {
    const task = finishedTask({ kind: 'import', mode: 'live', total: 2, keyPairId: null, keyPairName: null });
    const unreachable: TaskItem = {
      ...item(0, 'failed', 'Live.Unreachable'),
      instanceId: '',
      errorMessage: 'Cannot reach 10.0.0.5:2222 over SSH.',
      payload: { name: 'web-1', address: '10.0.0.5', port: 2222, line: 3 },
    };
    const { tx, written } = reposOver([unreachable, item(1, 'succeeded')]);
    await recordTaskOutcome(tx, task, deps);
    const [failure] = written.filter((e) => e.result === 'failure');
    assert.equal(failure!.action, 'instance:Create');
    assert.deepEqual(failure!.resources, []);
    assert.equal(
      failure!.detail,
      "Host 'web-1' at 10.0.0.5:2222 (inventory line 3): Cannot reach 10.0.0.5:2222 over SSH.",
    );
    assert.deepEqual(written.filter((e) => e.result === 'success').map(instancesOf), [['i-00001']]);
  });

  test('a dry run says nothing was changed; a task with no items still records that it ended', async () => {
    const dry = finishedTask({ kind: 'unbind', mode: 'live', total: 1, options: { dryRun: true } });
    const one = reposOver([item(0, 'succeeded')]);
    await recordTaskOutcome(one.tx, dry, deps);
    assert.match(one.written[0]!.detail!, /dry run: nothing was changed/);

    const empty = reposOver([]);
    await recordTaskOutcome(empty.tx, finishedTask({ kind: 'unbind', mode: 'live', total: 0 }), deps);
    assert.equal(empty.written.length, 1);
    assert.equal(empty.written[0]!.result, 'success');
  });
});
