/**
 * Metrics: the counters, histograms and gauges keyfleet keeps, named once here so the core, the faces and the SSH
 * adapter record them without knowing the library that publishes them (prom-client, in src/app). A typo in a name
 * or a missing label is a type error. The default records nothing, so a core built without metrics (tests) pays
 * nothing and changes nothing.
 *
 * Label values must come from bounded sets (error codes, route patterns, known action names), never from input
 * as given, or one caller could create unbounded series.
 */

/** Every metric: its kind, help text and label names. Durations are in seconds (Prometheus' convention). */
export const METRIC_CATALOGUE = {
  http_requests_total: {
    kind: 'counter',
    help: 'HTTP requests answered, by face (ecs, kps, native, console, other), action and status code.',
    labels: ['face', 'action', 'status'],
  },
  http_request_duration_seconds: {
    kind: 'histogram',
    help: 'Time from receiving a request to its answer, by face and action.',
    labels: ['face', 'action'],
  },
  live_changes_total: {
    kind: 'counter',
    help: "Live changes over SSH (one per task item), by kind (bind, unbind) and result ('applied', or the error code).",
    labels: ['kind', 'result'],
  },
  live_change_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of a live change, retries included, by kind and result.',
    labels: ['kind', 'result'],
  },
  live_proofs_total: {
    kind: 'counter',
    help: "Proofs of live changes by a fresh login, by result ('proven', 'not-proven', or the error code).",
    labels: ['result'],
  },
  live_proof_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of a proof, waits for a reloading sshd included, by result.',
    labels: ['result'],
  },
  boot_proofs_total: {
    kind: 'counter',
    help: "Proofs after a boot (publickey probes of the applied state), by result ('proven', 'not-proven', 'no-ssh', 'no-host-key', or the error code).",
    labels: ['result'],
  },
  boot_proof_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of a boot proof, waits for a starting sshd included, by result.',
    labels: ['result'],
  },
  drift_scans_total: {
    kind: 'counter',
    help: 'Machines read by drift scans, by status (in-sync, drifted, unreachable, error, skipped).',
    labels: ['status'],
  },
  drift_findings_total: {
    kind: 'counter',
    help: 'Drift found by scans, by finding code.',
    labels: ['code'],
  },
  ssh_sessions_in_flight: {
    kind: 'gauge',
    help: 'SSH connections open now, by use (session: a change; probe: a proof or observation; login: a credential check).',
    labels: ['use'],
  },
  store_transaction_duration_seconds: {
    kind: 'histogram',
    help: 'Store transactions, from the call to the commit (a grouped SQLite commit included), by result (ok, error).',
    labels: ['result'],
  },
} as const;

type Catalogue = typeof METRIC_CATALOGUE;
type NamesOf<K extends string> = {
  [N in keyof Catalogue]: Catalogue[N]['kind'] extends K ? N : never;
}[keyof Catalogue];
export type CounterName = NamesOf<'counter'>;
export type HistogramName = NamesOf<'histogram'>;
export type GaugeName = NamesOf<'gauge'>;
export type MetricName = keyof Catalogue;
/** The label values a metric takes: exactly its label names. */
export type LabelsOf<N extends MetricName> = Record<Catalogue[N]['labels'][number], string>;

export interface Metrics {
  /** Adds `by` (default 1) to a counter. */
  inc<N extends CounterName>(name: N, labels: LabelsOf<N>, by?: number): void;
  /** Records one observation, in seconds. */
  observe<N extends HistogramName>(name: N, labels: LabelsOf<N>, seconds: number): void;
  /** Moves a gauge up (positive) or down (negative). */
  add<N extends GaugeName>(name: N, labels: LabelsOf<N>, by: number): void;
}

/** Records nothing: the default when keyfleet runs without metrics. */
export const noMetrics: Metrics = {
  inc: () => undefined,
  observe: () => undefined,
  add: () => undefined,
};
