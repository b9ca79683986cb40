import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { rfc3986Encode as percentEncode } from '../../src/api/http/request-signing.js';
import { formatTimestamp, rpcV1Signature, rpcV1StringToSign } from '../../src/api/ecs/signature/canonical.js';
import { checkFreshness } from '../../src/api/ecs/signature/freshness.js';
import { NonceCache } from '../../src/api/ecs/signature/nonce-cache.js';
import {
  type IncomingSignedRequest,
  parseSignedRequest,
  type SignedRequestInfo,
} from '../../src/api/ecs/signature/parse.js';
import type { SignatureProblem } from '../../src/api/ecs/signature/problems.js';
import { describeSignature, verifySignature } from '../../src/api/ecs/signature/verify.js';
import { serializePairs, signAcs3, signRpcV1 } from '../support/ecs-signer.js';

// ---------------------------------------------------------------------------------------------------------------
// Captured SDK traffic: every request the official SDKs sent to a loopback server with a fake key, with an
// independent check of its signature (test/fixtures/README.md).

const CAPTURE_SECRET = 'fakeSecretForLoopbackCaptureOnly0001';
const CAPTURE_AK = 'LTAI5tFAKEcaptureKEY0001';
const CAPTURES = new URL('../fixtures/alibaba/sdk-signed-requests.json', import.meta.url);

interface CaptureRecord {
  /** The SDK run it was captured in, e.g. `pop-core-1.8.0-GET`. */
  capture: string;
  seq: number;
  method: string;
  url: string;
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body: string;
  bodyParams: [string, string][];
  action: string;
  version: string;
  signature: {
    scheme: 'v1' | 'v3';
    accessKeyId: string;
    ok: boolean;
    stringToSign: string;
    canonicalRequest?: string;
    signedHeaders?: string[];
  };
}

interface Capture {
  file: string;
  record: CaptureRecord;
}

function loadCaptures(): Capture[] {
  const records = JSON.parse(readFileSync(CAPTURES, 'utf8')) as CaptureRecord[];
  return records.map((record) => ({ file: record.capture, record }));
}

const captures = loadCaptures();
const passing = captures.filter((c) => c.record.signature.ok);
const failing = captures.filter((c) => !c.record.signature.ok);

function toRequest(r: CaptureRecord): IncomingSignedRequest {
  const q = r.url.indexOf('?');
  return {
    method: r.method,
    path: r.path,
    rawQuery: q < 0 ? '' : r.url.slice(q + 1),
    headers: { ...r.headers },
    rawBody: Buffer.from(r.body, 'utf8'),
  };
}

function label(c: Capture): string {
  return `${c.file} #${c.record.seq} ${c.record.method} ${c.record.action}`;
}

/** parse + verify; the first problem, or ok. */
function check(req: IncomingSignedRequest, secret: string): { ok: true; info: SignedRequestInfo } | SignatureProblem {
  const p = parseSignedRequest(req);
  if (!p.ok) return p.problem;
  const v = verifySignature(req, p.info, secret);
  if (!v.ok) return v.problem;
  return { ok: true, info: p.info };
}

function assertVerifies(req: IncomingSignedRequest, secret: string, what = ''): SignedRequestInfo {
  const r = check(req, secret);
  assert.ok('ok' in r, `${what}: expected to verify, got ${JSON.stringify(r)}`);
  return r.info;
}

function assertRejected(req: IncomingSignedRequest, secret: string, what = ''): SignatureProblem {
  const r = check(req, secret);
  assert.ok(!('ok' in r), `${what}: expected a rejection, but it verified`);
  assert.equal(r.httpStatus, 400, what);
  return r;
}

const V1_COMMON = new Set([
  'AccessKeyId',
  'Action',
  'Format',
  'SignatureMethod',
  'SignatureNonce',
  'SignatureVersion',
  'Timestamp',
  'Version',
  'Signature',
]);

/** Pairs where the params live (query or form body), one business value changed. */
function tamperOneValue(pairs: [string, string][]): [string, string][] {
  let idx = pairs.findIndex(([k]) => !V1_COMMON.has(k));
  if (idx < 0) idx = pairs.findIndex(([k]) => k !== 'Signature');
  assert.ok(idx >= 0, 'no parameter to tamper with');
  return pairs.map(([k, v], i) => (i === idx ? [k, `${v}x`] : [k, v]));
}

function shiftOneSecond(ts: string): string {
  return formatTimestamp(new Date(new Date(ts).getTime() + 1000));
}

describe('captured SDK requests', () => {
  it('covers every SDK family with the expected scheme', () => {
    assert.equal(captures.length, 204);
    assert.equal(passing.length, 201);
    assert.equal(failing.length, 3);
    const schemes = new Map<string, Set<string>>();
    for (const c of passing) {
      const p = parseSignedRequest(toRequest(c.record));
      assert.ok(p.ok, label(c));
      const set = schemes.get(c.file) ?? new Set<string>();
      set.add(p.info.scheme);
      schemes.set(c.file, set);
    }
    const expected: Record<string, string[]> = {
      'ecs20140526-4.3.0-legacy-v3': ['ACS3-HMAC-SHA256'],
      'ecs20140526-7.11.6-v1-signatureAlgorithm-v2': ['HMAC-SHA1'],
      'ecs20140526-7.11.6-v3-openapi-client-config': ['ACS3-HMAC-SHA256'],
      'ecs20140526-7.11.6-v3-openapi-core-config': ['ACS3-HMAC-SHA256'],
      'ecs20140526-7.11.6-v3-sts-token': ['ACS3-HMAC-SHA256'],
      'error-probe': ['ACS3-HMAC-SHA256', 'HMAC-SHA1'],
      'pop-core-1.8.0-GET': ['HMAC-SHA1'],
      'pop-core-1.8.0-POST': ['HMAC-SHA1'],
    };
    assert.deepEqual(Object.fromEntries([...schemes].map(([f, s]) => [f, [...s].sort()])), expected);
  });

  it(`all ${passing.length} requests whose capture check passed verify with the capture secret`, () => {
    for (const c of passing) {
      const r = c.record;
      const req = toRequest(r);
      const info = assertVerifies(req, CAPTURE_SECRET, label(c));
      assert.equal(info.scheme, r.signature.scheme === 'v3' ? 'ACS3-HMAC-SHA256' : 'HMAC-SHA1', label(c));
      assert.equal(info.accessKeyId, CAPTURE_AK, label(c));
      assert.equal(info.action, r.action, label(c));
      assert.equal(info.version, r.version, label(c));
      assert.ok(info.nonce && info.nonce.length >= 32, label(c));
      assert.ok(info.timestamp instanceof Date && !Number.isNaN(info.timestamp.getTime()), label(c));
      const expectedParams = Object.fromEntries([...r.query, ...r.bodyParams].filter(([k]) => k !== 'Signature'));
      assert.deepEqual({ ...info.params }, expectedParams, label(c));
      if (c.file.includes('sts-token')) assert.equal(info.securityToken, 'CAISfakeStsTokenForLoopbackCapture');
      else assert.equal(info.securityToken, undefined, label(c));
    }
  });

  it('server canonical request / string to sign equal the independent verifier’s, byte for byte', () => {
    for (const c of captures) {
      const d = describeSignature(toRequest(c.record));
      assert.ok(d.ok, label(c));
      assert.equal(d.stringToSign, c.record.signature.stringToSign, label(c));
      if (c.record.signature.canonicalRequest !== undefined) {
        assert.equal(d.canonicalRequest, c.record.signature.canonicalRequest, label(c));
      }
    }
  });

  it('the 3 wrong-secret probes fail with SignatureDoesNotMatch and the Alibaba message shapes', () => {
    for (const c of failing) {
      const problem = assertRejected(toRequest(c.record), CAPTURE_SECRET, label(c));
      assert.equal(problem.code, 'SignatureDoesNotMatch');
      const sts = c.record.signature.stringToSign;
      assert.equal(
        problem.message,
        c.record.signature.scheme === 'v3'
          ? `Specified signature does not match our calculation. server StringToSign is [${sts}]`
          : `Specified signature is not matched with our calculation. server string to sign is:${sts}`,
      );
    }
  });

  it('verification uses decoded values: re-encoding the query/body differently still verifies', () => {
    for (const c of passing) {
      const r = c.record;
      const req = toRequest(r);
      if (r.query.length > 0) req.rawQuery = serializePairs(r.query, 'strict');
      if (r.bodyParams.length > 0) req.rawBody = Buffer.from(serializePairs(r.bodyParams, 'querystring'));
      assertVerifies(req, CAPTURE_SECRET, `${label(c)} re-encoded`);
    }
  });

  it('each fails with a wrong secret', () => {
    for (const c of passing) {
      const problem = assertRejected(toRequest(c.record), `${CAPTURE_SECRET}x`, label(c));
      assert.equal(problem.code, 'SignatureDoesNotMatch', label(c));
      assert.ok(problem.message.includes(c.record.signature.stringToSign), label(c));
    }
  });

  it('each fails when one parameter value is changed', () => {
    for (const c of passing) {
      const r = c.record;
      const req = toRequest(r);
      if (r.bodyParams.length > 0) req.rawBody = Buffer.from(serializePairs(tamperOneValue(r.bodyParams)));
      else req.rawQuery = serializePairs(tamperOneValue(r.query));
      assert.equal(assertRejected(req, CAPTURE_SECRET, label(c)).code, 'SignatureDoesNotMatch', label(c));
    }
  });

  it('each fails when a parameter is added or removed', () => {
    for (const c of passing) {
      const r = c.record;
      const added = toRequest(r);
      if (r.bodyParams.length > 0) added.rawBody = Buffer.from(`${r.body}&Extra=1`);
      else added.rawQuery = `${added.rawQuery}&Extra=1`;
      assertRejected(added, CAPTURE_SECRET, `${label(c)} +param`);

      const removed = toRequest(r);
      const pairs = r.bodyParams.length > 0 ? r.bodyParams : r.query;
      const dropAt = pairs.findIndex(([k]) => !V1_COMMON.has(k));
      const fewer = pairs.filter((_, i) => i !== dropAt);
      if (r.bodyParams.length > 0) removed.rawBody = Buffer.from(serializePairs(fewer));
      else removed.rawQuery = serializePairs(fewer);
      assertRejected(removed, CAPTURE_SECRET, `${label(c)} -param`);
    }
  });

  it('each fails when the HTTP method is changed', () => {
    for (const c of passing) {
      const req = toRequest(c.record);
      req.method = c.record.method === 'GET' ? 'POST' : 'GET';
      assert.equal(assertRejected(req, CAPTURE_SECRET, label(c)).code, 'SignatureDoesNotMatch', label(c));
    }
  });

  it('each fails when the body is changed', () => {
    for (const c of passing) {
      const r = c.record;
      const req = toRequest(r);
      if (r.signature.scheme === 'v3') {
        // Covered by the payload hash (and by x-acs-content-sha256).
        req.rawBody = Buffer.from('x');
      } else if (r.bodyParams.length > 0) {
        req.rawBody = Buffer.from(r.body.replace('Format=JSON', 'Format=JSOM'));
        assert.notEqual(req.rawBody.toString(), r.body);
      } else {
        // V1 signs the merged params: a form body smuggled into a query-signed request changes them.
        req.headers['content-type'] = 'application/x-www-form-urlencoded';
        req.rawBody = Buffer.from('KeyPairName2=evil');
      }
      assertRejected(req, CAPTURE_SECRET, label(c));
    }
  });

  it('ACS3: each fails when any one signed header is changed', () => {
    let checked = 0;
    for (const c of passing.filter((x) => x.record.signature.scheme === 'v3')) {
      for (const name of c.record.signature.signedHeaders ?? []) {
        const req = toRequest(c.record);
        const old = c.record.headers[name]!;
        req.headers[name] =
          name === 'x-acs-date'
            ? shiftOneSecond(old)
            : name === 'x-acs-content-sha256'
              ? createHash('sha256').update('x').digest('hex')
              : `${old}0`;
        assertRejected(req, CAPTURE_SECRET, `${label(c)} header ${name}`);
        checked++;
      }
    }
    assert.ok(checked >= 7 * 100);
  });

  it('ACS3: each fails when the Host port differs (host is signed with its port)', () => {
    for (const c of passing.filter((x) => x.record.signature.scheme === 'v3')) {
      const req = toRequest(c.record);
      req.headers['host'] = String(req.headers['host']).replace(/:\d+$/, '');
      assertRejected(req, CAPTURE_SECRET, label(c));
    }
  });

  it('V1: unsigned x-acs-* headers are ignored (action comes from the signed Action param)', () => {
    for (const c of passing.filter((x) => x.record.signature.scheme === 'v1')) {
      const req = toRequest(c.record);
      req.headers['x-acs-action'] = 'DeleteKeyPairs';
      const info = assertVerifies(req, CAPTURE_SECRET, label(c));
      assert.equal(info.action, c.record.action);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('HMAC-SHA1 official documentation vector (SDK-TRAFFIC §4.1)', () => {
  const docParams = {
    AccessKeyId: 'testid',
    Action: 'DescribeRegions',
    Format: 'XML',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z',
    Version: '2014-05-26',
  };

  it('string to sign and signature', () => {
    const sts = rpcV1StringToSign('GET', docParams);
    assert.equal(
      sts,
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1' +
        '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0' +
        '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    assert.equal(rpcV1Signature(sts, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('signRpcV1 produces it, and the request verifies', () => {
    const signed = signRpcV1({
      accessKeyId: 'testid',
      secret: 'testsecret',
      action: 'DescribeRegions',
      format: 'XML',
      timestamp: '2016-02-23T12:46:24Z',
      nonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    });
    assert.equal(signed.signature, 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    assert.ok(signed.rawQuery.endsWith('&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D'));
    const info = assertVerifies(signed, 'testsecret');
    assert.equal(info.accessKeyId, 'testid');
    assert.equal(info.action, 'DescribeRegions');
    assert.equal(info.timestamp?.toISOString(), '2016-02-23T12:46:24.000Z');
    assertRejected(signed, 'testsecret2');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('signing side round trips', () => {
  const ak = 'LTAIroundtrip';
  const secret = 'roundTripSecret';
  const tricky = { InstanceName: "web 01 (prod)*~网'!", Password: "Fleet*(1)!'~+/=&:", RegionId: 'cn-hangzhou' };

  for (const queryStyle of ['querystring', 'strict'] as const) {
    it(`ACS3 with reserved and non-ASCII characters (${queryStyle} query)`, () => {
      const signed = signAcs3({
        accessKeyId: ak,
        secret,
        action: 'ModifyInstanceAttribute',
        host: 'h:8443',
        query: tricky,
        queryStyle,
      });
      const info = assertVerifies(signed, secret);
      assert.deepEqual({ ...info.params }, tricky);
      assert.equal(info.action, 'ModifyInstanceAttribute');
      assert.equal(info.version, '2014-05-26');
    });
  }

  it('ACS3 with a form body: params merged, content-type signed, body covered', () => {
    const body = serializePairs([
      ['KeyPairName', 'k 1'],
      ['PublicKeyBody', 'ssh-ed25519 AAAA+/='],
    ]);
    const signed = signAcs3({
      accessKeyId: ak,
      secret,
      action: 'ImportKeyPair',
      host: 'h',
      query: { RegionId: 'cn-hangzhou' },
      body,
      contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    assert.match(String(signed.headers['authorization']), /SignedHeaders=content-type;host;/);
    const info = assertVerifies(signed, secret);
    assert.deepEqual(
      { ...info.params },
      {
        RegionId: 'cn-hangzhou',
        KeyPairName: 'k 1',
        PublicKeyBody: 'ssh-ed25519 AAAA+/=',
      },
    );
    assertRejected({ ...signed, rawBody: Buffer.from(body.replace('k%201', 'k%202')) }, secret);
  });

  it('ACS3 with a non-form body: hashed, not merged into params', () => {
    const json = { body: '{"a":1}', contentType: 'application/json' };
    const signed = signAcs3({ accessKeyId: ak, secret, action: 'X', host: 'h', ...json });
    const info = assertVerifies(signed, secret);
    assert.deepEqual({ ...info.params }, {});
    assertRejected({ ...signed, rawBody: Buffer.from('{"a":2}') }, secret);
  });

  it('ACS3: x-acs-content-sha256 must match the body even when the signature itself matches', () => {
    const other = createHash('sha256').update('something else').digest('hex');
    const signed = signAcs3({
      accessKeyId: ak,
      secret,
      action: 'X',
      host: 'h',
      body: 'a=1',
      extraHeaders: { 'x-acs-content-sha256': other },
    });
    const p = parseSignedRequest(signed);
    assert.ok(p.ok);
    const v = verifySignature(signed, p.info, secret);
    assert.ok(!v.ok);
    assert.equal(v.problem.code, 'SignatureDoesNotMatch');
  });

  it('ACS3 with STS token', () => {
    const sts = { securityToken: 'CAIStoken' };
    const signed = signAcs3({ accessKeyId: ak, secret, action: 'DescribeRegions', host: 'h', ...sts });
    const info = assertVerifies(signed, secret);
    assert.equal(info.securityToken, 'CAIStoken');
    // The x-acs-accesskey-id header must agree with the Credential.
    const other = { ...signed, headers: { ...signed.headers, 'x-acs-accesskey-id': 'LTAIother' } };
    assert.equal(assertRejected(other, secret).code, 'IncompleteSignature');
  });

  it('ACS3 retries headers are signed and accepted; the method is taken case-insensitively', () => {
    const signed = signAcs3({
      accessKeyId: ak,
      secret,
      action: 'DescribeRegions',
      host: 'h',
      extraHeaders: { 'x-acs-retry-attempts': '1', 'x-acs-retry-delay': '0', 'user-agent': 'unsigned' },
    });
    assertVerifies(signed, secret);
    assertVerifies({ ...signed, method: 'post' }, secret);
    assertVerifies({ ...signed, headers: { ...signed.headers, 'user-agent': 'changed' } }, secret);
  });

  it('HMAC-SHA1 GET, POST with query (new SDK v2) and POST with form body (pop-core)', () => {
    const p = { ...tricky, InstanceIds: '["i-a","i-b"]' };
    for (const [method, paramsIn] of [
      ['GET', 'query'],
      ['POST', 'query'],
      ['POST', 'body'],
    ] as const) {
      const signed = signRpcV1({ accessKeyId: ak, secret, action: 'AttachKeyPair', method, paramsIn, params: p });
      const info = assertVerifies(signed, secret, `${method} ${paramsIn}`);
      assert.equal(info.scheme, 'HMAC-SHA1');
      assert.equal(info.params['InstanceIds'], '["i-a","i-b"]');
      assert.equal(info.params['Password'], tricky.Password);
      assert.equal(info.params['Signature'], undefined);
      assertRejected({ ...signed, method: method === 'GET' ? 'POST' : 'GET' }, secret, `${method} ${paramsIn}`);
    }
  });

  it('HMAC-SHA1 with STS SecurityToken', () => {
    const signed = signRpcV1({ accessKeyId: ak, secret, action: 'DescribeRegions', securityToken: 'CAIStoken' });
    assert.equal(assertVerifies(signed, secret).securityToken, 'CAIStoken');
  });

  it("'+' in the query decodes to a space; a raw '+' in a base64 Signature is tolerated", () => {
    const signed = signAcs3({ accessKeyId: ak, secret, action: 'X', host: 'h', query: { InstanceName: 'a b' } });
    assertVerifies({ ...signed, rawQuery: 'InstanceName=a+b' }, secret);
    assertVerifies({ ...signed, rawQuery: 'InstanceName=a%20b' }, secret);
    assertRejected({ ...signed, rawQuery: 'InstanceName=a%2Bb' }, secret);

    // Find a V1 request whose signature contains '+', then send it unescaped.
    for (let i = 0; i < 200; i++) {
      const v1 = signRpcV1({ accessKeyId: ak, secret, action: 'X', nonce: `n${i}` });
      if (!v1.signature.includes('+')) continue;
      const raw = v1.rawQuery.replace(/Signature=[^&]*$/, `Signature=${v1.signature}`);
      assertVerifies({ ...v1, rawQuery: raw }, secret);
      return;
    }
    assert.fail('no signature with a + found');
  });

  it('params is a null-prototype object', () => {
    const info = assertVerifies(signRpcV1({ accessKeyId: ak, secret, action: 'X' }), secret);
    assert.equal(info.params['toString'], undefined);
    assert.equal(info.params['__proto__'], undefined);
  });

  it('verifySignature refuses an info that does not describe the request', () => {
    const a = signRpcV1({ accessKeyId: ak, secret, action: 'DescribeRegions' });
    const b = signRpcV1({ accessKeyId: ak, secret, action: 'DeleteKeyPairs', params: { KeyPairNames: '["k"]' } });
    const pa = parseSignedRequest(a);
    assert.ok(pa.ok);
    const v = verifySignature(b, pa.info, secret);
    assert.ok(!v.ok);
    assert.equal(v.problem.code, 'SignatureDoesNotMatch');
    // And a request edited in place after parsing is re-read.
    const c = signRpcV1({ accessKeyId: ak, secret, action: 'DescribeRegions', params: { RegionId: 'r1' } });
    const pc = parseSignedRequest(c);
    assert.ok(pc.ok);
    c.rawQuery = c.rawQuery.replace('RegionId=r1', 'RegionId=r2');
    assert.ok(!verifySignature(c, pc.info, secret).ok);
  });

  it('percentEncode is strict RFC 3986', () => {
    assert.equal(percentEncode("a b*()!'~-_.+/=&:网"), 'a%20b%2A%28%29%21%27~-_.%2B%2F%3D%26%3A%E7%BD%91');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('missing or malformed pieces', () => {
  const ak = 'LTAImissing';
  const secret = 's';
  const base = signRpcV1({ accessKeyId: ak, secret, action: 'DescribeRegions', params: { RegionId: 'cn-hangzhou' } });

  function parseProblem(req: IncomingSignedRequest): SignatureProblem {
    const p = parseSignedRequest(req);
    assert.ok(!p.ok, 'expected a parse problem');
    assert.equal(p.problem.httpStatus, 400);
    return p.problem;
  }

  function v1Without(name: string, overrides: Record<string, string | undefined> = {}): IncomingSignedRequest {
    return signRpcV1({
      accessKeyId: ak,
      secret,
      action: 'DescribeRegions',
      overrides: { [name]: undefined, ...overrides },
    });
  }

  it('anonymous request without AccessKeyId → MissingParameter AccessKeyId', () => {
    const anonymous = { method: 'GET', path: '/', rawQuery: 'Action=DescribeRegions', headers: {} };
    const p = parseProblem({ ...anonymous, rawBody: Buffer.alloc(0) });
    assert.equal(p.code, 'MissingParameter');
    assert.equal(
      p.message,
      'The input parameter "AccessKeyId" that is mandatory for processing this request is not supplied.',
    );
  });

  it('AccessKeyId but no signature → IncompleteSignature', () => {
    const raw = base.rawQuery.replace(/&Signature=[^&]*$/, '');
    const p = parseProblem({ ...base, rawQuery: raw });
    assert.equal(p.code, 'IncompleteSignature');
    assert.equal(p.message, 'The request signature does not conform to Alibaba Cloud standards.');
    assert.equal(parseProblem({ ...base, rawQuery: `${raw}&Signature=` }).code, 'IncompleteSignature');
  });

  it('V1: Signature without AccessKeyId → MissingParameter', () => {
    const p = parseProblem(v1Without('AccessKeyId'));
    assert.equal(p.code, 'MissingParameter');
    assert.match(p.message, /"AccessKeyId"/);
  });

  it('V1: missing / malformed Timestamp → IllegalTimestamp', () => {
    const p = parseProblem(v1Without('Timestamp'));
    assert.equal(p.code, 'IllegalTimestamp');
    assert.equal(
      p.message,
      'The input parameter "Timestamp" that is mandatory for processing this request is not supplied.',
    );
    const malformed = [
      '2026-11-24 17:28:10',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '1732469290',
      '2026-11-24T17:28:10+08:00',
    ];
    for (const bad of malformed) {
      assert.equal(parseProblem(v1Without('x', { Timestamp: bad })).code, 'IllegalTimestamp', bad);
    }
  });

  it('V1: missing SignatureNonce / SignatureMethod / SignatureVersion → MissingParameter', () => {
    for (const name of ['SignatureNonce', 'SignatureMethod', 'SignatureVersion']) {
      const p = parseProblem(v1Without(name));
      assert.equal(p.code, 'MissingParameter', name);
      assert.match(p.message, new RegExp(`"${name}"`));
    }
  });

  it('V1: other methods / versions → UnsupportedSignatureMethod', () => {
    assert.equal(parseProblem(v1Without('x', { SignatureMethod: 'HMAC-SHA256' })).code, 'UnsupportedSignatureMethod');
    assert.equal(parseProblem(v1Without('x', { SignatureVersion: '2.0' })).code, 'UnsupportedSignatureMethod');
  });

  it('a parameter given twice (query twice, or query and body) → IncompleteSignature', () => {
    const twice = { ...base, rawQuery: `${base.rawQuery}&RegionId=cn-beijing` };
    assert.equal(parseProblem(twice).code, 'IncompleteSignature');
    const both = {
      ...base,
      headers: { ...base.headers, 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: Buffer.from('RegionId=cn-beijing'),
    };
    assert.equal(parseProblem(both).code, 'IncompleteSignature');
  });

  const acs3 = signAcs3({ accessKeyId: ak, secret, action: 'DescribeRegions', host: 'h:1', query: { RegionId: 'r' } });
  const auth = String(acs3.headers['authorization']);
  const withAuth = (a: string) => ({ ...acs3, headers: { ...acs3.headers, authorization: a } });
  const withoutHeader = (name: string) => {
    const headers = { ...acs3.headers };
    delete headers[name];
    return { ...acs3, headers };
  };

  it('ACS3: Authorization missing a field or malformed → IncompleteSignature', () => {
    for (const a of [
      auth.replace(/,Signature=[0-9a-f]+$/, ''),
      auth.replace(/,SignedHeaders=[^,]+/, ''),
      auth.replace(/Credential=[^,]+,/, ''),
      auth.replace(/Signature=[0-9a-f]+$/, 'Signature=abc'),
      auth.replace(/Signature=([0-9a-f]+)$/, 'Signature=$1,Signature=$1'),
      'ACS3-HMAC-SHA256',
      'ACS3-HMAC-SHA256 garbage',
    ]) {
      assert.equal(parseProblem(withAuth(a)).code, 'IncompleteSignature', a);
    }
  });

  it('ACS3: empty Credential → MissingParameter AccessKeyId', () => {
    const p = parseProblem(withAuth(auth.replace(/Credential=[^,]+/, 'Credential=')));
    assert.equal(p.code, 'MissingParameter');
    assert.match(p.message, /"AccessKeyId"/);
  });

  it('ACS3: an x-acs-* header or host left out of SignedHeaders → IncompleteSignature', () => {
    const extra = { ...acs3, headers: { ...acs3.headers, 'x-acs-action': 'DescribeRegions', 'x-acs-extra': '1' } };
    assert.equal(parseProblem(extra).code, 'IncompleteSignature');
    const noHost = withAuth(auth.replace('SignedHeaders=host;', 'SignedHeaders='));
    assert.equal(parseProblem(noHost).code, 'IncompleteSignature');
    assert.equal(parseProblem(withAuth(auth.replace(';x-acs-action;', ';'))).code, 'IncompleteSignature');
  });

  it('ACS3: missing/malformed x-acs-date → IllegalTimestamp; missing nonce → MissingParameter', () => {
    // Removing a signed header also leaves it in SignedHeaders; parsing reports the missing value first.
    assert.equal(parseProblem(withoutHeader('x-acs-date')).code, 'IllegalTimestamp');
    const badDate = { ...acs3, headers: { ...acs3.headers, 'x-acs-date': 'yesterday' } };
    assert.equal(parseProblem(badDate).code, 'IllegalTimestamp');
    const p = parseProblem(withoutHeader('x-acs-signature-nonce'));
    assert.equal(p.code, 'MissingParameter');
    assert.match(p.message, /x-acs-signature-nonce/);
  });

  it('unknown Authorization schemes → UnsupportedSignatureMethod', () => {
    const sm3 = withAuth(auth.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'));
    assert.equal(parseProblem(sm3).code, 'UnsupportedSignatureMethod');
    assert.equal(parseProblem(withAuth('Basic Zm9vOmJhcg==')).code, 'UnsupportedSignatureMethod');
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('checkFreshness', () => {
  const ts = new Date('2026-11-24T17:28:10Z');
  const info: SignedRequestInfo = {
    scheme: 'ACS3-HMAC-SHA256',
    accessKeyId: 'a',
    params: {},
    action: 'X',
    version: '2014-05-26',
    nonce: 'n',
    timestamp: ts,
  };
  const at = (offsetMs: number) => new Date(ts.getTime() + offsetMs);
  const MIN = 60_000;

  it('accepts up to 15 minutes either way (14:59 and the boundary itself)', () => {
    for (const off of [0, 14 * MIN + 59_000, 15 * MIN, -(14 * MIN + 59_000), -15 * MIN]) {
      assert.deepEqual(checkFreshness(info, at(off)), { ok: true }, String(off));
    }
  });

  it('rejects 15:01 old and 15:01 in the future with InvalidTimeStamp.Expired', () => {
    for (const off of [15 * MIN + 1000, 15 * MIN + 1, -(15 * MIN + 1000), 24 * 60 * MIN]) {
      const r = checkFreshness(info, at(off));
      assert.ok(!r.ok, String(off));
      assert.deepEqual(r.problem, {
        code: 'InvalidTimeStamp.Expired',
        message: 'Specified time stamp or date value is expired.',
        httpStatus: 400,
      });
    }
  });

  it('custom skew, and a missing timestamp', () => {
    assert.ok(checkFreshness(info, at(61_000), 60_000).ok === false);
    assert.ok(checkFreshness(info, at(59_000), 60_000).ok);
    assert.equal(checkFreshness(info, new Date(Number.NaN)).ok, false);
    const r = checkFreshness({ ...info, timestamp: undefined }, at(0));
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'IllegalTimestamp');
  });

  it('works on a parsed capture regardless of how old the capture is', () => {
    const c = passing[0]!;
    const p = parseSignedRequest(toRequest(c.record));
    assert.ok(p.ok);
    const captured = p.info.timestamp!;
    assert.ok(checkFreshness(p.info, new Date(captured.getTime() + 60_000)).ok);
    assert.ok(!checkFreshness(p.info, new Date(captured.getTime() + 16 * MIN)).ok);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('NonceCache', () => {
  const t0 = 1_800_000_000_000;

  it('detects a replay of the same nonce for the same AccessKeyId', () => {
    const cache = new NonceCache();
    assert.equal(cache.seen('ak1', 'n1', t0), false);
    assert.equal(cache.seen('ak1', 'n1', t0 + 1000), true);
    assert.equal(cache.seen('ak1', 'n1', t0 + 29 * 60_000), true);
    assert.equal(cache.seen('ak1', 'n2', t0), false);
  });

  it('keeps distinct AccessKeyIds independent (no key-joining ambiguity)', () => {
    const cache = new NonceCache();
    assert.equal(cache.seen('ak1', 'n1', t0), false);
    assert.equal(cache.seen('ak2', 'n1', t0), false);
    assert.equal(cache.seen('ak2', 'n1', t0), true);
    assert.equal(cache.seen('a', 'b:c', t0), false);
    assert.equal(cache.seen('a:b', 'c', t0), false);
  });

  it('remembers nonces for twice the freshness skew by default, then forgets and evicts them', () => {
    const cache = new NonceCache();
    assert.equal(cache.windowMs, 30 * 60_000);
    cache.seen('ak', 'old', t0);
    assert.equal(cache.seen('ak', 'old', t0 + 30 * 60_000 - 1), true);
    assert.equal(cache.size, 1);
    assert.equal(cache.seen('ak', 'new', t0 + 30 * 60_000), false);
    assert.equal(cache.size, 1, 'expired entry evicted');
    assert.equal(cache.seen('ak', 'old', t0 + 30 * 60_000 + 1), false);
  });

  it('is bounded: at the cap the oldest entry goes and is counted', () => {
    const cache = new NonceCache(60_000, 3);
    for (let i = 0; i < 5; i++) assert.equal(cache.seen('ak', `n${i}`, t0 + i), false);
    assert.equal(cache.size, 3);
    assert.equal(cache.forcedEvictions, 2);
    assert.equal(cache.seen('ak', 'n4', t0 + 10), true);
    assert.equal(cache.seen('ak', 'n2', t0 + 10), true);
  });

  it('stays bounded and O(1) under sustained load with rolling time', () => {
    const cache = new NonceCache(1000, 1_000_000);
    const start = process.hrtime.bigint();
    for (let i = 0; i < 300_000; i++) {
      // 100 requests per ms → 100k live within a 1 s window.
      assert.equal(cache.seen(`ak${i % 7}`, `nonce-${i}`, t0 + Math.floor(i / 100)), false);
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(cache.size <= 100_100, `size ${cache.size}`);
    assert.equal(cache.forcedEvictions, 0);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('long nonces are stored hashed and still detected', () => {
    const cache = new NonceCache();
    const long = 'x'.repeat(10_000);
    assert.equal(cache.seen('ak', long, t0), false);
    assert.equal(cache.seen('ak', long, t0), true);
    assert.equal(cache.seen('ak', `${long}y`, t0), false);
  });

  it('a nonce seen again after expiry (clock moved back meanwhile) is recorded anew', () => {
    const cache = new NonceCache(1000, 10);
    cache.seen('ak', 'a', t0 + 5000);
    cache.seen('ak', 'b', t0); // clock went back: expiry earlier than the ring head's
    assert.equal(cache.seen('ak', 'b', t0 + 1500), false); // b expired (head 'a' not yet)
    assert.equal(cache.seen('ak', 'b', t0 + 1600), true);
  });

  it('works end to end with captured requests (capture nonces are unique)', () => {
    const cache = new NonceCache();
    const now = t0;
    for (const c of passing) {
      const p = parseSignedRequest(toRequest(c.record));
      assert.ok(p.ok);
      assert.equal(cache.seen(p.info.accessKeyId, p.info.nonce!, now), false, label(c));
    }
    for (const c of passing) {
      const p = parseSignedRequest(toRequest(c.record));
      assert.ok(p.ok);
      assert.equal(cache.seen(p.info.accessKeyId, p.info.nonce!, now + 1), true, label(c));
    }
  });
});
