/**
 * One log line and the HTTP metrics per answered request, for every face. The line carries the request id the
 * answer carries (ECS: RequestId and x-acs-request-id; KPS: X-Request-Id and request_id; native: requestId in
 * errors; every face: the x-request-id header set here), the account and user it acted for, the face, the action,
 * the status and the time taken. Never a query string, a body or a header value: those can carry passwords,
 * private keys, signatures and tokens.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../core/metrics.js';
import type { RequestAccounts } from './request-accounts.js';
import { actionOf, faceOfPath, pathOf } from './request-labels.js';

export interface RequestObservationOptions {
  metrics: Metrics;
  accounts: RequestAccounts;
  /** The ECS actions the ECS face serves: any other Action is labelled 'unknown'. */
  ecsActions: readonly string[];
}

export function observeRequests(app: FastifyInstance, opts: RequestObservationOptions): void {
  const { metrics, accounts } = opts;
  const ecsActions = new Set(opts.ecsActions);
  // Set first, so that every answer carries it (a face may set its own header with the same id too).
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const path = pathOf(req.url);
    const face = faceOfPath(path);
    const action = actionOf(req, face, ecsActions);
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.inc('http_requests_total', { face, action, status: String(status) });
    metrics.observe('http_request_duration_seconds', { face, action }, seconds);
    const who = accounts.take(req.id);
    const line = {
      face,
      action,
      account: who?.accountId ?? null,
      user: who?.userName ?? null,
      method: req.method,
      path,
      status,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (status >= 500) req.log.error(line, 'request completed');
    else req.log.info(line, 'request completed');
  });
}
