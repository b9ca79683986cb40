/**
 * Runs a face's mutated requests in-process (Fastify inject: no sockets, so tens of thousands fit in seconds) and
 * checks each answer: never 5xx, always the face's error envelope when refused, and no change to the store from a
 * refused request (test/fuzz/support/state-probe.ts).
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Keyfleet } from '../../../src/app/keyfleet.js';
import type { Rng } from './rng.js';
import type { StateProbe } from './state-probe.js';

export interface FuzzRequest {
  /** What was sent, for the failure report (`ECS CreateKeyPair drop`, `native PATCH /key-pairs/{name} body`). */
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface FuzzFace {
  name: string;
  /** The n-th request of the run (the template's state may have moved with earlier accepted requests). */
  build(rng: Rng, n: number): Promise<FuzzRequest> | FuzzRequest;
  /** Why an answer is not in the face's error envelope, or null. */
  envelopeProblem(res: LightMyRequestResponse): string | null;
  /** Told about every accepted request once background work has settled (to refresh the templates' state). */
  accepted?(req: FuzzRequest, res: LightMyRequestResponse): Promise<void> | void;
}

export interface FuzzReport {
  requests: number;
  accepted: number;
  byStatus: Record<number, number>;
  failures: string[];
  ms: number;
}

const MAX_FAILURES = 25;

function describe(req: FuzzRequest, res: LightMyRequestResponse, why: string): string {
  const body = typeof req.payload === 'string' ? req.payload : (req.payload?.toString('utf8') ?? '');
  return `${why}\n  ${req.label}: ${req.method} ${req.url.slice(0, 300)}\n  body ${body.slice(0, 300)}\n  → ${res.statusCode} ${res.body.slice(0, 400)}`;
}

export async function runFuzz(
  kf: Keyfleet,
  probe: StateProbe,
  rng: Rng,
  face: FuzzFace,
  count: number,
): Promise<FuzzReport> {
  const started = performance.now();
  const report: FuzzReport = { requests: 0, accepted: 0, byStatus: {}, failures: [], ms: 0 };
  await probe.quiesce();
  // The probe sees a change (and not a write of identical values): rename an account and name it back.
  await probe.reset();
  const account = await kf.store.db.selectFrom('accounts').select(['id', 'name']).executeTakeFirstOrThrow();
  await kf.store.db.updateTable('accounts').set({ name: account.name }).where('id', '=', account.id).execute();
  if ((await probe.changes()).length !== 0) throw new Error('the probe took a write of identical values for a change');
  await kf.store.db
    .updateTable('accounts')
    .set({ name: `${account.name}-x` })
    .where('id', '=', account.id)
    .execute();
  await kf.store.db.updateTable('accounts').set({ name: account.name }).where('id', '=', account.id).execute();
  if ((await probe.changes()).join() !== 'accounts update,accounts update')
    throw new Error('the probe missed a change');
  await probe.reset();
  const slowest: Record<string, number> = {};
  for (let n = 0; n < count && report.failures.length < MAX_FAILURES; n++) {
    const req = await face.build(rng, n);
    const t0 = performance.now();
    const res = await kf.app.inject({
      method: req.method as InjectOptions['method'],
      url: req.url,
      headers: req.headers,
      payload: req.payload,
    });
    report.requests++;
    const spent = performance.now() - t0;
    const key = `${req.label.split(' ').slice(0, 2).join(' ')} ${res.statusCode < 400 ? 'ok' : 'no'}`;
    slowest[key] = (slowest[key] ?? 0) + spent;
    if (process.env.KEYFLEET_FUZZ_VERBOSE && n % 1000 === 0)
      console.log(
        `# ${face.name} ${n} ${Math.round(performance.now() - started)} ms ${process.memoryUsage().rss >> 20} MB`,
      );
    report.byStatus[res.statusCode] = (report.byStatus[res.statusCode] ?? 0) + 1;
    if (res.statusCode >= 500) report.failures.push(describe(req, res, `HTTP ${res.statusCode}`));
    if (res.statusCode >= 400) {
      const problem = face.envelopeProblem(res);
      if (problem) report.failures.push(describe(req, res, `not the ${face.name} error envelope: ${problem}`));
      const changes = await probe.changes();
      if (changes.length > 0) {
        report.failures.push(
          describe(req, res, `a refused request changed the store: ${[...new Set(changes)].join(', ')}`),
        );
        await probe.reset();
      }
    } else {
      report.accepted++;
      await probe.quiesce();
      await face.accepted?.(req, res);
      await probe.reset();
    }
  }
  report.ms = Math.round(performance.now() - started);
  if (process.env.KEYFLEET_FUZZ_VERBOSE)
    console.log(
      `# time per kind: ${JSON.stringify(
        Object.entries(slowest)
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([k, v]) => [k, Math.round(v)]),
      )}`,
    );
  console.log(
    `# fuzz ${face.name}: ${report.requests} requests, ${report.accepted} accepted, ${report.ms} ms; statuses ${JSON.stringify(report.byStatus)}`,
  );
  return report;
}
