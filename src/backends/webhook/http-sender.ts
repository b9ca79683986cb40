/**
 * Posts webhook deliveries over HTTP(S) with Node's own client. Two guards against a tenant aiming keyfleet at
 * internal services (SSRF): with KEYFLEET_WEBHOOK_NETWORKS set, the address a name resolves to is checked in the
 * socket's own lookup, so the address connected to is the address checked (a name that resolves elsewhere later
 * cannot slip past a check made earlier); and redirects are never followed. Answers are read and discarded: only
 * the status is kept, so nothing an internal service says reaches the tenant.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { inNetwork, type Network, normalizeHostAddress, parseNetwork } from '../../common/address.js';
import type { WebhookSender } from '../../core/events/outbox.js';

/** The most of an answer read before the connection is dropped (it is discarded anyway). */
const MAX_ANSWER_BYTES = 64 * 1024;

export class AddressNotAllowed extends Error {}

function allowed(address: string, networks: readonly Network[]): boolean {
  const a = normalizeHostAddress(address);
  return a !== null && networks.some((n) => inNetwork(a, n));
}

/** A lookup that resolves as usual and refuses addresses outside `networks`. */
function guardedLookup(networks: readonly Network[]): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const ok = list.filter((a) => allowed(a.address, networks));
      if (ok.length === 0)
        return callback(
          new AddressNotAllowed(
            `${hostname} resolves to ${list.map((a) => a.address).join(', ')}, outside KEYFLEET_WEBHOOK_NETWORKS`,
          ) as NodeJS.ErrnoException,
          '',
          0,
        );
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, ok);
      callback(null, ok[0]!.address, ok[0]!.family);
    });
  };
}

export function createHttpWebhookSender(opts: { networks?: readonly string[] } = {}): WebhookSender {
  const networks = (opts.networks ?? []).map((n) => parseNetwork(n)).filter((n) => n !== null);
  const lookup = networks.length > 0 ? guardedLookup(networks) : undefined;
  // Connections are kept for the next delivery to the same endpoint (a new socket is looked up, and checked, again).
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return {
    post(url, headers, body, { timeoutMs, signal }) {
      return new Promise((resolve, reject) => {
        const u = new URL(url);
        // An address literal is not looked up: it is checked here.
        const literal = normalizeHostAddress(u.hostname.replace(/^\[|\]$/g, ''));
        if (lookup && literal && literal.kind !== 'hostname' && !allowed(literal.text, networks))
          return reject(new AddressNotAllowed(`${literal.text} is outside KEYFLEET_WEBHOOK_NETWORKS`));
        const client = u.protocol === 'https:' ? https : http;
        const timeout = AbortSignal.timeout(timeoutMs);
        const req = client.request(
          u,
          {
            method: 'POST',
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
            lookup,
            signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
            agent: agents[u.protocol as 'http:' | 'https:'],
          },
          (res) => {
            let read = 0;
            res.on('data', (chunk: Buffer) => {
              read += chunk.length;
              if (read > MAX_ANSWER_BYTES) res.destroy();
            });
            const done = () => resolve({ status: res.statusCode ?? 0 });
            res.on('end', done);
            res.on('close', done);
            res.on('error', done);
          },
        );
        req.on('error', (err) => reject(timeout.aborted ? new Error(`no answer within ${timeoutMs} ms`) : err));
        req.end(body);
      });
    },
  };
}
