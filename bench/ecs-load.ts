/**
 * The load generator of bench/ecs-api.ts, run in a worker thread so that it does not share an event loop with
 * the server it measures. One job = one scenario at one concurrency: `concurrency` virtual users send requests
 * back to back over keep-alive connections until the duration or the request budget runs out.
 *
 *  - raw: requests built before the clock starts. Signed ones (ACS3, the new SDK's default form) each carry their
 *    own nonce, so no request is a replay; the signing cost is therefore not in the figures.
 *  - sdk: `@alicloud/ecs20140526` 7.11.6 with default settings, signing every call as an application would.
 *
 * Loopback only; bounded in time and count.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import EcsSdk, * as $Ecs from '@alicloud/ecs20140526';
import * as $OpenApi from '@alicloud/openapi-client';
import { signAcs3 } from '../test/support/ecs-signer.js';

export interface LoadJob {
  label: string;
  baseUrl: string;
  /** `bare`: GET /bare; `raw`: pre-signed ECS calls; `sdk`: the official SDK. */
  mode: 'bare' | 'raw' | 'sdk';
  action: string;
  params: Record<string, string>;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  warmupRequests: number;
  accessKeyId: string;
  accessKeySecret: string;
}

export interface LoadResult {
  label: string;
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

type Send = (n: number) => Promise<{ ok: boolean; detail: string }>;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function httpSender(job: LoadJob, total: number): Send {
  const target = new URL(job.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const requests = Array.from({ length: total }, () => {
    if (job.mode === 'bare')
      return { method: 'GET', url: '/bare', headers: { host: target.host }, body: undefined as Buffer | undefined };
    const s = signAcs3({
      accessKeyId: job.accessKeyId,
      secret: job.accessKeySecret,
      action: job.action,
      host: target.host,
      method: 'POST',
      query: job.params,
    });
    return { method: s.method, url: s.url, headers: s.headers, body: s.rawBody.length > 0 ? s.rawBody : undefined };
  });
  return (n) =>
    new Promise((resolve, reject) => {
      const r = requests[n]!;
      const req = http.request(
        { host: target.hostname, port: target.port, method: r.method, path: r.url, headers: r.headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              ok: res.statusCode === 200,
              detail: `${res.statusCode} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
}

function sdkSender(job: LoadJob): Send {
  const client = new EcsSdk.default(
    new $OpenApi.Config({
      accessKeyId: job.accessKeyId,
      accessKeySecret: job.accessKeySecret,
      endpoint: new URL(job.baseUrl).host,
      protocol: 'http',
      readTimeout: 60_000,
    }),
  );
  const call = (): Promise<unknown> => {
    const p = job.params;
    switch (job.action) {
      case 'DescribeKeyPairs':
        return client.describeKeyPairs(
          new $Ecs.DescribeKeyPairsRequest({ regionId: p['RegionId'], keyPairName: p['KeyPairName'] }),
        );
      case 'DetachKeyPair':
        return client.detachKeyPair(
          new $Ecs.DetachKeyPairRequest({
            regionId: p['RegionId'],
            keyPairName: p['KeyPairName'],
            instanceIds: p['InstanceIds'],
          }),
        );
      case 'AttachKeyPair':
        return client.attachKeyPair(
          new $Ecs.AttachKeyPairRequest({
            regionId: p['RegionId'],
            keyPairName: p['KeyPairName'],
            instanceIds: p['InstanceIds'],
          }),
        );
      default:
        throw new Error(`no SDK call for ${job.action}`);
    }
  };
  return async () => {
    try {
      await call();
      return { ok: true, detail: '' };
    } catch (e) {
      return { ok: false, detail: String((e as Error).message).slice(0, 300) };
    }
  };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const total = job.warmupRequests + job.maxRequests;
  const send = job.mode === 'sdk' ? sdkSender(job) : httpSender(job, total);
  for (let n = 0; n < job.warmupRequests; n++) await send(n);

  const latencies = new Float64Array(job.maxRequests);
  let next = job.warmupRequests;
  let done = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = performance.now();
  const deadline = start + job.durationMs;
  const user = async () => {
    while (next < total && performance.now() < deadline) {
      const n = next++;
      const t0 = performance.now();
      const r = await send(n);
      latencies[done++] = performance.now() - t0;
      if (!r.ok) {
        errors++;
        firstError ??= r.detail;
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, user));
  const elapsedMs = performance.now() - start;
  const sorted = latencies.slice(0, done).sort();
  return {
    label: job.label,
    concurrency: job.concurrency,
    requests: done,
    errors,
    firstError,
    elapsedMs,
    rps: done / (elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

if (parentPort) {
  run(workerData as LoadJob).then(
    (result) => parentPort!.postMessage(result),
    (err: unknown) =>
      parentPort!.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}
