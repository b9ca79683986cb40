/**
 * Raw signed requests to the ECS face, byte for byte as the SDKs send them (test/support/ecs-signer.ts signs like each SDK),
 * so a test controls what the SDKs never do: tamper after signing, reuse a nonce, send a stale timestamp, use an
 * unknown key, another HTTP method. Sent with node:http so that no header is added or dropped on the way.
 */
import http from 'node:http';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET } from '../../support/keyfleet.js';
import { type SignedRawRequest, signAcs3, signRpcV1 } from '../../support/ecs-signer.js';

/** The three wire forms: new SDK default (ACS3, POST, query), pop-core GET (V1 query), pop-core POST (V1 form body). */
export type Scheme = 'acs3' | 'v1-get' | 'v1-post';
export const SCHEMES: readonly Scheme[] = ['acs3', 'v1-get', 'v1-post'];

export interface RawCall {
  action: string;
  params?: Record<string, string>;
  scheme?: Scheme;
  accessKeyId?: string;
  secret?: string;
  timestamp?: Date | string;
  nonce?: string;
  /** V1 only: override or drop common parameters (Timestamp, SignatureMethod, …). */
  overrides?: Record<string, string | undefined>;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

export function signCall(baseUrl: string, c: RawCall): SignedRawRequest {
  const host = new URL(baseUrl).host;
  const accessKeyId = c.accessKeyId ?? ACCESS_KEY_ID;
  const secret = c.secret ?? ACCESS_KEY_SECRET;
  const scheme = c.scheme ?? 'acs3';
  if (scheme === 'acs3') {
    return signAcs3({
      accessKeyId,
      secret,
      action: c.action,
      host,
      method: 'POST',
      query: c.params ?? {},
      date: c.timestamp,
      nonce: c.nonce,
    });
  }
  return signRpcV1({
    accessKeyId,
    secret,
    action: c.action,
    host,
    method: scheme === 'v1-get' ? 'GET' : 'POST',
    paramsIn: scheme === 'v1-get' ? 'query' : 'body',
    params: c.params ?? {},
    timestamp: c.timestamp,
    nonce: c.nonce,
    overrides: c.overrides,
  });
}

export function send(
  baseUrl: string,
  req: { method: string; url: string; headers: Record<string, string>; rawBody?: Buffer },
): Promise<RawResponse> {
  const target = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any = null;
          try {
            body = text ? JSON.parse(text) : null;
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.rawBody && req.rawBody.length > 0 ? req.rawBody : undefined);
  });
}

export function ecsCall(baseUrl: string, c: RawCall): Promise<RawResponse> {
  return send(baseUrl, signCall(baseUrl, c));
}
