/**
 * The core's Metrics port over prom-client: every metric of METRIC_CATALOGUE (src/core/metrics.ts) as a
 * `keyfleet_*` counter, histogram or gauge; tasks and their items by kind and state, read from the store at
 * scrape time; and prom-client's default process metrics (CPU, memory, event loop lag, GC, handles). One registry
 * per keyfleet, not prom-client's global one, so several keyfleets in one process (tests) do not share counts.
 */
import client from 'prom-client';
import {
  type CounterName,
  type GaugeName,
  type HistogramName,
  METRIC_CATALOGUE,
  type Metrics,
} from '../core/metrics.js';
import type { TaskCounts } from '../store/task-counts.js';

const PREFIX = 'keyfleet_';

/** Seconds. Requests are mostly milliseconds; live changes and proofs are SSH round trips, up to the live timeout. */
const BUCKETS: Record<HistogramName, number[]> = {
  http_request_duration_seconds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  live_change_duration_seconds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  live_proof_duration_seconds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  boot_proof_duration_seconds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  store_transaction_duration_seconds: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
};

export interface PrometheusMetrics extends Metrics {
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; text: string }>;
  /** Where the task and item gauges read their counts at scrape time. */
  countTasksWith(read: () => Promise<TaskCounts>): void;
}

export interface PrometheusMetricsOptions {
  /** Task counts are read from the store at most this often, however many scrapers ask; 0: at every scrape. */
  taskCountsMaxAgeMs: number;
}

export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const counters = new Map<string, client.Counter>();
  const histograms = new Map<string, client.Histogram>();
  const gauges = new Map<string, client.Gauge>();
  for (const [name, m] of Object.entries(METRIC_CATALOGUE)) {
    const common = { name: PREFIX + name, help: m.help, labelNames: [...m.labels], registers: [registry] };
    if (m.kind === 'counter') counters.set(name, new client.Counter(common));
    else if (m.kind === 'histogram')
      histograms.set(name, new client.Histogram({ ...common, buckets: BUCKETS[name as HistogramName] }));
    else gauges.set(name, new client.Gauge(common));
  }

  let read: (() => Promise<TaskCounts>) | null = null;
  let cached: { at: number; counts: Promise<TaskCounts> } | null = null;
  /** Called once per scrape, before the gauges collect: both gauges then serve the same count of the store. */
  const refreshTaskCounts = () => {
    if (!read) return;
    const now = Date.now();
    if (!cached || now - cached.at >= options.taskCountsMaxAgeMs)
      cached = {
        at: now,
        // A store that does not answer leaves the gauges empty for this scrape (readiness says why).
        counts: read().catch(() => ({ tasks: [], items: [] })),
      };
  };
  const taskCounts = (): Promise<TaskCounts> | null => cached?.counts ?? null;
  const fill = (gauge: client.Gauge, rows: TaskCounts['items']) => {
    gauge.reset();
    for (const r of rows) gauge.set({ kind: r.kind, state: r.state }, r.count);
  };
  new client.Gauge({
    name: `${PREFIX}tasks`,
    help: 'Tasks in the store, by kind (bind, unbind, import) and state (queued, running, succeeded, failed, partial).',
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      const counts = taskCounts();
      if (counts) fill(this, (await counts).tasks);
    },
  });
  new client.Gauge({
    name: `${PREFIX}task_items`,
    help: 'Task items (one per machine) in the store, by the kind of their task and state (pending, running, succeeded, failed).',
    labelNames: ['kind', 'state'],
    registers: [registry],
    async collect() {
      const counts = taskCounts();
      if (counts) fill(this, (await counts).items);
    },
  });

  return {
    inc(name: CounterName, labels, by = 1) {
      counters.get(name)!.inc(labels, by);
    },
    observe(name: HistogramName, labels, seconds) {
      histograms.get(name)!.observe(labels, seconds);
    },
    add(name: GaugeName, labels, by) {
      gauges.get(name)!.inc(labels, by);
    },
    async render() {
      refreshTaskCounts();
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    countTasksWith(fn) {
      read = fn;
    },
  };
}
