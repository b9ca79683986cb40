/**
 * The task gauges read the store at scrape time (src/app/prometheus-metrics.ts), at most once per max age however
 * many scrapers ask, and at every scrape with a max age of 0. A store that fails leaves the gauges empty for that
 * scrape instead of failing /metrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPrometheusMetrics } from '../../src/app/prometheus-metrics.js';
import type { TaskCounts } from '../../src/store/task-counts.js';
import { parseExposition, seriesKey } from './metrics-exposition.js';

function countingStore(): { reads: () => number; succeeded: (n: number) => void; read: () => Promise<TaskCounts> } {
  let reads = 0;
  let succeeded = 0;
  return {
    reads: () => reads,
    succeeded: (n) => {
      succeeded = n;
    },
    read: async () => {
      reads++;
      return {
        tasks: [{ kind: 'bind', state: 'succeeded', count: succeeded }],
        items: [{ kind: 'bind', state: 'succeeded', count: succeeded * 2 }],
      };
    },
  };
}

async function tasksSucceeded(m: ReturnType<typeof createPrometheusMetrics>): Promise<number | undefined> {
  const samples = parseExposition((await m.render()).text);
  return samples.get(seriesKey('keyfleet_tasks', { kind: 'bind', state: 'succeeded' }));
}

test('with a max age of 0 every scrape counts the store afresh', async () => {
  const m = createPrometheusMetrics({ taskCountsMaxAgeMs: 0 });
  const store = countingStore();
  m.countTasksWith(store.read);
  store.succeeded(1);
  assert.equal(await tasksSucceeded(m), 1);
  store.succeeded(2);
  assert.equal(await tasksSucceeded(m), 2);
  assert.equal(store.reads(), 2);
});

test('within the max age, scrapes share one count of the store', async () => {
  const m = createPrometheusMetrics({ taskCountsMaxAgeMs: 300_000 });
  const store = countingStore();
  m.countTasksWith(store.read);
  store.succeeded(1);
  const first = await Promise.all([tasksSucceeded(m), tasksSucceeded(m), tasksSucceeded(m)]);
  store.succeeded(5);
  assert.deepEqual([...first, await tasksSucceeded(m)], [1, 1, 1, 1]);
  assert.equal(store.reads(), 1);
});

test('a store that fails leaves the task gauges empty for that scrape; /metrics still answers', async () => {
  const m = createPrometheusMetrics({ taskCountsMaxAgeMs: 0 });
  m.countTasksWith(async () => {
    throw new Error('store down');
  });
  const { text } = await m.render();
  assert.equal(parseExposition(text).get(seriesKey('keyfleet_tasks', { kind: 'bind', state: 'succeeded' })), undefined);
  assert.match(text, /process_cpu_user_seconds_total/);
});
