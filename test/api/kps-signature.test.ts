/**
 * SDK-HMAC-SHA256 verification against every request captured from the official Huawei Node SDKs
 * (test/fixtures/huawei/sdk-signed-requests.json), the two worked examples of docs/api/huawei-kps.md ("Worked
 * examples"; test/fixtures/huawei/signature-worked-example.txt), and the Go SDK's own signer test
 * vectors (huaweicloud-sdk-go-v3 core/auth/signer/signer_test.go).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { EMPTY_BODY_SHA256, sha256Hex } from '../../src/api/http/request-signing.js';
import {
  canonicalQueryString,
  canonicalUri,
  formatSdkDate,
  parseSdkDate,
} from '../../src/api/kps/signature/canonical.js';
import {
  type IncomingSignedRequest,
  parseSignedRequest,
  type SignedRequestInfo,
} from '../../src/api/kps/signature/parse.js';
import { type SignatureProblem, unknownAccessKeyProblem } from '../../src/api/kps/signature/problems.js';
import { checkFreshness, computeCanonicalRequest, verifySignature } from '../../src/api/kps/signature/verify.js';
import { signRequest } from '../support/kps-signer.js';

const AK = 'MOCKAKMOCKAKMOCKAK01';
const SK = 'mockSecretKeyMockSecretKeyMockSecret0001';
const PROJECT = '0123456789abcdef0123456789abcdef';

const CAPTURES = new URL('../fixtures/huawei/sdk-signed-requests.json', import.meta.url);
const WORKED_EXAMPLE = new URL('../fixtures/huawei/signature-worked-example.txt', import.meta.url);

// ----------------------------------------------------------------------------------------------------------------
// Capture loading
// ----------------------------------------------------------------------------------------------------------------

interface CapturedExchange {
  label: string; // e.g. "17-kps-disassociate#0"
  request: IncomingSignedRequest;
  bodySha256: string;
  serverCheckOk: boolean;
}

/** One request as the SDK sent it, with the capture tool's own verdict on its signature. */
interface CapturedRecord {
  label: string;
  method: string;
  raw_url: string;
  raw_headers: Array<[string, string]>;
  body_raw: string;
  body_sha256: string;
  server_check_ok: boolean;
}

function toIncoming(
  method: string,
  rawUrl: string,
  rawHeaders: Array<[string, string]>,
  body: string,
): IncomingSignedRequest {
  const q = rawUrl.indexOf('?');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of rawHeaders) {
    const k = name.toLowerCase();
    const prev = headers[k];
    headers[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return {
    method,
    rawPath: q === -1 ? rawUrl : rawUrl.slice(0, q),
    rawQuery: q === -1 ? '' : rawUrl.slice(q + 1),
    headers,
    rawBody: Buffer.from(body, 'utf8'),
  };
}

function loadCaptures(): CapturedExchange[] {
  const records = JSON.parse(readFileSync(CAPTURES, 'utf8')) as CapturedRecord[];
  return records.map((r) => ({
    label: r.label,
    request: toIncoming(r.method, r.raw_url, r.raw_headers, r.body_raw),
    bodySha256: r.body_sha256,
    serverCheckOk: r.server_check_ok,
  }));
}

const captures = loadCaptures();

function cloneReq(r: IncomingSignedRequest): IncomingSignedRequest {
  return { ...r, headers: { ...r.headers }, rawBody: Buffer.from(r.rawBody) };
}

/** parse + verify with SK (freshness deliberately not checked: captures are dated). */
function check(
  req: IncomingSignedRequest,
  sk = SK,
): { ok: true; info: SignedRequestInfo } | { ok: false; problem: SignatureProblem } {
  const parsed = parseSignedRequest(req);
  if (!parsed.ok) return parsed;
  const verified = verifySignature(req, parsed.info, sk);
  return verified.ok ? { ok: true, info: parsed.info } : verified;
}

function assertRejected(
  req: IncomingSignedRequest,
  reason: SignatureProblem['reason'],
  what: string,
): SignatureProblem {
  const res = check(req);
  assert.equal(res.ok, false, `${what}: expected rejection`);
  const { problem } = res as { ok: false; problem: SignatureProblem };
  assert.equal(problem.reason, reason, `${what}: ${problem.message}`);
  assert.equal(problem.httpStatus, 401);
  assert.equal(problem.code, 'APIGW.0301');
  assert.match(problem.message, /^Incorrect IAM authentication information: /);
  return problem;
}

function bumpChar(s: string): string {
  const last = s.at(-1) ?? 'a';
  return s.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

// ----------------------------------------------------------------------------------------------------------------
// Captured SDK traffic
// ----------------------------------------------------------------------------------------------------------------

describe('captured Huawei SDK requests', () => {
  it('loads all 31 exchanges from 30 capture files, bodies byte-exact', () => {
    assert.equal(captures.length, 31);
    for (const c of captures) {
      assert.equal(sha256Hex(c.request.rawBody), c.bodySha256, c.label);
      assert.equal(c.serverCheckOk, true, c.label);
    }
  });

  it('every captured request verifies with the SK', () => {
    let verified = 0;
    for (const c of captures) {
      const res = check(c.request);
      assert.ok(res.ok, `${c.label}: ${res.ok ? '' : res.problem.message}`);
      assert.equal(res.info.accessKeyId, AK, c.label);
      assert.ok(res.info.signedHeaders.includes('x-sdk-date'), c.label);
      verified++;
    }
    assert.equal(verified, 31);
  });

  it('every captured request fails with a wrong SK', () => {
    for (const c of captures) {
      const res = check(c.request, SK.replace(/1$/, '2'));
      assert.equal(res.ok, false, c.label);
    }
  });

  it('extracts project id / domain id from the signed headers', () => {
    const byLabel = new Map(captures.map((c) => [c.label, c]));
    const kps = check(byLabel.get('17-kps-disassociate#0')!.request);
    assert.ok(kps.ok);
    assert.equal(kps.info.projectId, PROJECT);
    assert.equal(kps.info.domainId, undefined);
    assert.deepEqual(kps.info.signedHeaders, ['content-type', 'host', 'x-project-id', 'x-sdk-date']);

    const iam = check(byLabel.get('28-iam-create-token-by-password#0')!.request);
    assert.ok(iam.ok);
    assert.equal(iam.info.projectId, undefined);
    assert.match(iam.info.domainId ?? '', /\S/);

    const lookup = check(byLabel.get('07-ecs-auto-project-id-via-iam#0')!.request);
    assert.ok(lookup.ok);
    assert.equal(lookup.info.projectId, undefined);
    assert.deepEqual(lookup.info.signedHeaders, ['content-type', 'host', 'x-sdk-date']);

    const nova = check(byLabel.get('03-ecs-nova-list-keypairs#0')!.request);
    assert.ok(nova.ok);
    assert.ok(nova.info.signedHeaders.includes('openstack-api-version'));
  });

  it('unsigned headers (user-agent, accept, connection…) may change freely', () => {
    for (const c of captures) {
      const r = cloneReq(c.request);
      r.headers['user-agent'] = 'something else';
      r.headers['accept'] = 'text/plain';
      delete r.headers['connection'];
      delete r.headers['accept-encoding'];
      assert.ok(check(r).ok, c.label);
    }
  });

  it('an unsigned X-Project-Id is not reported as the project', () => {
    const c = captures.find((x) => x.label === '07-ecs-auto-project-id-via-iam#0')!;
    const r = cloneReq(c.request);
    r.headers['x-project-id'] = 'ffffffffffffffffffffffffffffffff';
    const res = check(r);
    assert.ok(res.ok);
    assert.equal(res.info.projectId, undefined);
  });

  it('every tampered variant is rejected (body, path, query, date, project header, method)', () => {
    const counts = { body: 0, path: 0, query: 0, date: 0, project: 0, method: 0 };
    let skipped = 0;
    for (const c of captures) {
      const base = c.request;

      // body
      {
        const r = cloneReq(base);
        r.rawBody = base.rawBody.length === 0 ? Buffer.from('{}') : Buffer.concat([base.rawBody, Buffer.from(' ')]);
        assertRejected(r, 'signature_mismatch', `${c.label} body`);
        const r2 = cloneReq(base);
        if (base.rawBody.length > 0) {
          const flipped = Buffer.from(base.rawBody);
          const mid = Math.floor(flipped.length / 2);
          flipped[mid] = (flipped[mid] ?? 0) ^ 0x01;
          r2.rawBody = flipped;
          assertRejected(r2, 'signature_mismatch', `${c.label} body bit flip`);
        }
        counts.body++;
      }
      // path
      {
        const r = cloneReq(base);
        r.rawPath = base.rawPath + 'x';
        assertRejected(r, 'signature_mismatch', `${c.label} path`);
        counts.path++;
      }
      // query: change a value, or add one
      {
        const r = cloneReq(base);
        r.rawQuery = base.rawQuery === '' ? 'limit=1' : base.rawQuery.replace(/=([^&]*)/, (_m, v: string) => `=${v}x`);
        assert.notEqual(r.rawQuery, base.rawQuery);
        assertRejected(r, 'signature_mismatch', `${c.label} query`);
        counts.query++;
      }
      // date: one second later (still well-formed)
      {
        const r = cloneReq(base);
        const d = parseSdkDate(String(base.headers['x-sdk-date']))!;
        r.headers['x-sdk-date'] = formatSdkDate(new Date(d.getTime() + 1000));
        assertRejected(r, 'signature_mismatch', `${c.label} date`);
        counts.date++;
      }
      // project (or domain) header
      {
        const name =
          base.headers['x-project-id'] !== undefined
            ? 'x-project-id'
            : base.headers['x-domain-id'] !== undefined
              ? 'x-domain-id'
              : undefined;
        if (name === undefined) skipped++;
        else {
          const r = cloneReq(base);
          r.headers[name] = bumpChar(String(base.headers[name]));
          assertRejected(r, 'signature_mismatch', `${c.label} ${name}`);
          counts.project++;
        }
      }
      // method
      {
        const r = cloneReq(base);
        r.method = base.method === 'GET' ? 'POST' : base.method === 'POST' ? 'PUT' : 'GET';
        assertRejected(r, 'signature_mismatch', `${c.label} method`);
        counts.method++;
      }
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.deepEqual(counts, { body: 31, path: 31, query: 31, date: 31, project: 30, method: 31 });
    assert.equal(total, 185);
    assert.equal(skipped, 1); // 07#0, the IAM project lookup, carries no project/domain header at all
  });

  it('a stripped signed header is reported as missing, not as a mismatch', () => {
    const r = cloneReq(captures[0]!.request);
    delete r.headers['host'];
    const p = assertRejected(r, 'signed_header_missing', 'no host');
    assert.match(p.message, /signed header 'host' is not present/);
  });

  it('signature mismatch echoes the canonical request like APIG', () => {
    const c = captures.find((x) => x.label === '27-kps-disassociate-fixed-date#0')!;
    const r = cloneReq(c.request);
    r.rawBody = Buffer.from('{}');
    const p = assertRejected(r, 'signature_mismatch', 'echo');
    assert.match(
      p.message,
      /^Incorrect IAM authentication information: verify aksk signature fail, ak:MOCKAKMOCKAKMOCKAK01, canonicalRequest:POST\|\/v3\//,
    );
    assert.ok(p.message.includes('|content-type:application/json|host:127.0.0.1:18080|'));
    assert.ok(p.message.endsWith(`|content-type;host;x-project-id;x-sdk-date|${sha256Hex('{}')}`));
    assert.ok(p.canonicalRequest?.startsWith('POST\n'));
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Worked examples (docs/api/huawei-kps.md; test/fixtures/huawei/signature-worked-example.txt)
// ----------------------------------------------------------------------------------------------------------------

describe('worked examples', () => {
  const workedExampleText = readFileSync(WORKED_EXAMPLE, 'utf8');

  const EX1 = {
    body: '{"server":{"id":"d76baba7-ef09-40a2-87ff-3eafec0696e7"}}',
    bodyHash: '86a86f1efaf385cce015e001314832def8516994133436c871e2ffa195591c83',
    canonical: [
      'POST',
      `/v3/${PROJECT}/keypairs/disassociate/`,
      '',
      'content-type:application/json',
      'host:127.0.0.1:18080',
      `x-project-id:${PROJECT}`,
      'x-sdk-date:20240101T000000Z',
      '',
      'content-type;host;x-project-id;x-sdk-date',
      '86a86f1efaf385cce015e001314832def8516994133436c871e2ffa195591c83',
    ].join('\n'),
    canonicalHash: '53bf091ef916bcb7401c3326012bc92e6173a8e089b01e147483d65da202d11f',
    signature: '50a68c0506f320570a80a93eadc0c5e7cd8909d56229fd573123b57393af2f38',
  };
  const EX2 = {
    canonical: [
      'GET',
      `/v3/${PROJECT}/keypairs/`,
      'limit=10&marker=fleet-key-1',
      'content-type:application/json',
      'host:kms.cn-north-4.myhuaweicloud.com',
      `x-project-id:${PROJECT}`,
      'x-sdk-date:20240101T000000Z',
      '',
      'content-type;host;x-project-id;x-sdk-date',
      EMPTY_BODY_SHA256,
    ].join('\n'),
    canonicalHash: '72cd54c762cbf0a5fd1b68020def145bab7f8f72aa223ca2d18f150923de6a04',
    signature: 'd53d573fe49db40b4187d54e74bec1e7f06570ef633c4ea53990962b6f736b69',
  };

  it('the expected values are the ones in signature-worked-example.txt', () => {
    for (const v of [
      EX1.bodyHash,
      EX1.canonical,
      EX1.canonicalHash,
      EX1.signature,
      EX2.canonical,
      EX2.canonicalHash,
      EX2.signature,
    ]) {
      assert.ok(workedExampleText.includes(v), `signature-worked-example.txt lacks ${v.slice(0, 40)}…`);
    }
  });

  it('example 1: capture 27 reproduces canonical request, its hash and the signature', () => {
    const c = captures.find((x) => x.label === '27-kps-disassociate-fixed-date#0')!;
    assert.equal(c.request.rawBody.toString('utf8'), EX1.body);
    assert.equal(sha256Hex(c.request.rawBody), EX1.bodyHash);
    const parsed = parseSignedRequest(c.request);
    assert.ok(parsed.ok);
    assert.equal(parsed.info.signature, EX1.signature);
    assert.equal(formatSdkDate(parsed.info.sdkDate), '20240101T000000Z');
    const canonical = computeCanonicalRequest(c.request, parsed.info.signedHeaders);
    assert.equal(canonical, EX1.canonical);
    assert.equal(sha256Hex(canonical), EX1.canonicalHash);
    assert.ok(verifySignature(c.request, parsed.info, SK).ok);
  });

  it('example 1: signRequest produces the same signature', () => {
    const s = signRequest({
      method: 'POST',
      rawPath: `/v3/${PROJECT}/keypairs/disassociate`,
      headers: { 'Content-Type': 'application/json', host: '127.0.0.1:18080', 'X-Project-Id': PROJECT },
      body: EX1.body,
      accessKeyId: AK,
      secretKey: SK,
      date: new Date(Date.UTC(2024, 0, 1)),
    });
    assert.equal(s.canonicalRequest, EX1.canonical);
    assert.equal(s.stringToSign, `SDK-HMAC-SHA256\n20240101T000000Z\n${EX1.canonicalHash}`);
    assert.equal(s.signature, EX1.signature);
    assert.equal(
      s.authorization,
      `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${EX1.signature}`,
    );
  });

  it('example 2: ListKeypairs on the real host (query sorted regardless of wire order)', () => {
    const req: IncomingSignedRequest = {
      method: 'GET',
      rawPath: `/v3/${PROJECT}/keypairs`,
      rawQuery: 'marker=fleet-key-1&limit=10',
      headers: {
        'content-type': 'application/json',
        host: 'kms.cn-north-4.myhuaweicloud.com',
        'x-project-id': PROJECT,
        'x-sdk-date': '20240101T000000Z',
        authorization: `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=${EX2.signature}`,
      },
      rawBody: Buffer.alloc(0),
    };
    const parsed = parseSignedRequest(req);
    assert.ok(parsed.ok);
    const canonical = computeCanonicalRequest(req, parsed.info.signedHeaders);
    assert.equal(canonical, EX2.canonical);
    assert.equal(sha256Hex(canonical), EX2.canonicalHash);
    assert.deepEqual(verifySignature(req, parsed.info, SK), { ok: true, payloadSigned: true });

    const s = signRequest({
      method: 'GET',
      rawPath: req.rawPath,
      rawQuery: req.rawQuery,
      headers: {
        'content-type': 'application/json',
        host: 'kms.cn-north-4.myhuaweicloud.com',
        'x-project-id': PROJECT,
        'x-sdk-date': '20240101T000000Z',
      },
      accessKeyId: AK,
      secretKey: SK,
    });
    assert.equal(s.signature, EX2.signature);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Freshness
// ----------------------------------------------------------------------------------------------------------------

describe('freshness (±15 min)', () => {
  const info: SignedRequestInfo = {
    accessKeyId: AK,
    signedHeaders: ['x-sdk-date'],
    signature: '0'.repeat(64),
    sdkDate: new Date(Date.UTC(2024, 0, 1, 12, 0, 0)),
  };
  const at = (deltaMs: number): Date => new Date(info.sdkDate.getTime() + deltaMs);

  it('accepts up to and including 15 minutes either way', () => {
    for (const d of [0, 1000, -1000, 15 * 60_000, -15 * 60_000])
      assert.deepEqual(checkFreshness(info, at(d)), { ok: true }, String(d));
  });

  it('rejects beyond 15 minutes either way, with the APIG message', () => {
    for (const d of [15 * 60_000 + 1000, -(15 * 60_000 + 1000), 3600_000]) {
      const res = checkFreshness(info, at(d));
      assert.equal(res.ok, false);
      const { problem } = res as { ok: false; problem: SignatureProblem };
      assert.equal(problem.httpStatus, 401);
      assert.equal(problem.code, 'APIGW.0301');
      assert.equal(problem.reason, 'signature_expired');
      assert.equal(
        problem.message,
        `Incorrect IAM authentication information: calc aksk signature fail:signature expired, signature time:20240101T120000Z,server time:${formatSdkDate(at(d))}`,
      );
    }
  });

  it('honours a custom skew', () => {
    assert.ok(checkFreshness(info, at(60_000), 60_000).ok);
    assert.equal(checkFreshness(info, at(60_001), 60_000).ok, false);
  });

  it('a freshly signed request passes parse + verify + freshness end to end', () => {
    const now = new Date();
    const s = signRequest({
      method: 'GET',
      rawPath: `/v3/${PROJECT}/keypairs`,
      headers: { host: 'keyfleet.local:8443', 'content-type': 'application/json', 'x-project-id': PROJECT },
      accessKeyId: AK,
      secretKey: SK,
      date: now,
    });
    const parsed = parseSignedRequest(s.request);
    assert.ok(parsed.ok);
    assert.ok(verifySignature(s.request, parsed.info, SK).ok);
    assert.ok(checkFreshness(parsed.info, now).ok);
    assert.equal(checkFreshness(parsed.info, new Date(now.getTime() + 16 * 60_000)).ok, false);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Other official signers
// ----------------------------------------------------------------------------------------------------------------

describe('Go and Python signer variants', () => {
  it('Go style: host and content-type unsigned, user-agent signed', () => {
    const s = signRequest({
      method: 'POST',
      rawPath: `/v3/${PROJECT}/keypairs/disassociate`,
      headers: {
        'Content-Type': 'application/json;charset=UTF-8',
        host: 'kms.cn-north-4.myhuaweicloud.com',
        'User-Agent': 'huaweicloud-usdk-go/3.0',
        'X-Project-Id': PROJECT,
      },
      body: '{"server":{"id":"d76baba7-ef09-40a2-87ff-3eafec0696e7"}}',
      accessKeyId: AK,
      secretKey: SK,
      date: new Date(),
      signedHeaders: ['user-agent', 'x-project-id', 'x-sdk-date'],
    });
    assert.match(s.authorization, /SignedHeaders=user-agent;x-project-id;x-sdk-date,/);
    const parsed = parseSignedRequest(s.request);
    assert.ok(parsed.ok);
    assert.equal(parsed.info.projectId, PROJECT);
    assert.ok(verifySignature(s.request, parsed.info, SK).ok);

    // host / content-type are not signed: a proxy rewriting them does not matter
    const proxied = cloneReq(s.request);
    proxied.headers['host'] = '10.0.0.7:8080';
    proxied.headers['content-type'] = 'application/json';
    assert.ok(check(proxied).ok);

    // user-agent is signed
    const ua = cloneReq(s.request);
    ua.headers['user-agent'] = 'curl/8';
    assertRejected(ua, 'signature_mismatch', 'go user-agent');
  });

  it("the Go SDK's own signer test vectors verify (no host, underscore header and content-type excluded)", () => {
    // core/auth/signer/signer_test.go: AK "AccessKey", SK "SecretKey", endpoint https://example.huaweicloud.com, path /path
    const base = {
      rawPath: '/path',
      headers: {
        host: 'example.huaweicloud.com',
        'x-sdk-date': '20060102T150405Z',
        test_underscore: 'TEST_VALUE',
      } as Record<string, string>,
    };
    const get: IncomingSignedRequest = {
      method: 'GET',
      rawPath: base.rawPath,
      rawQuery: 'limit=1',
      headers: {
        ...base.headers,
        authorization:
          'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624',
      },
      rawBody: Buffer.alloc(0),
    };
    const post: IncomingSignedRequest = {
      method: 'POST',
      rawPath: base.rawPath,
      rawQuery: 'key=value',
      headers: {
        ...base.headers,
        'content-type': 'application/json',
        authorization:
          'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59',
      },
      rawBody: Buffer.from('{"Name":"test","Id":1}\n'), // Go json.Encoder output, trailing newline included
    };
    for (const req of [get, post]) {
      const res = check(req, 'SecretKey');
      assert.ok(res.ok, res.ok ? '' : res.problem.message);
      assert.equal(res.info.accessKeyId, 'AccessKey');
    }
    const noNewline = cloneReq(post);
    noNewline.rawBody = Buffer.from('{"Name":"test","Id":1}');
    assert.equal(check(noNewline, 'SecretKey').ok, false);
  });

  it("the Go SDK's canonical query vector (UTF-8, reserved characters, repeated keys)", () => {
    const wire = new URLSearchParams([
      ['limit', '1'],
      ['enable', 'true'],
      ['test', '一 (&=?!#%.*)'],
      ['path', '/tmp/123'],
      ['multi', '3'],
      ['multi', '1'],
      ['multi', '2'],
    ]).toString(); // '+' for spaces, as Go's url.Values.Encode sends them
    assert.equal(
      canonicalQueryString(wire),
      'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29',
    );
  });

  it('query: Node querystring (%20, %2B) and Go (+) wire forms canonicalise alike', () => {
    assert.equal(canonicalQueryString('limit=10&marker=a%20b%2Bc'), 'limit=10&marker=a%20b%2Bc');
    assert.equal(canonicalQueryString('marker=a+b%2Bc&limit=10'), 'limit=10&marker=a%20b%2Bc');
    assert.equal(canonicalQueryString('b=2&a=2&a=1&flag'), 'a=1&a=2&b=2&flag=');
    assert.equal(canonicalQueryString(''), '');
    assert.equal(canonicalQueryString('&&x=%zz'), 'x=%25zz');
  });

  it('path: literal % is encoded (Node/Go), the decoded variant (Python) is accepted as a fallback', () => {
    const rawPath = `/v3/${PROJECT}/keypairs/a%20b`;
    assert.equal(canonicalUri(rawPath), `/v3/${PROJECT}/keypairs/a%2520b/`);
    assert.equal(canonicalUri(rawPath, 'decoded'), `/v3/${PROJECT}/keypairs/a%20b/`);
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalUri(''), '/');
    assert.equal(canonicalUri('/a/b/'), '/a/b/');

    const headers = { host: 'h', 'x-project-id': PROJECT };
    const date = new Date();
    const node = signRequest({ method: 'GET', rawPath, headers, accessKeyId: AK, secretKey: SK, date });
    assert.ok(check(node.request).ok, 'raw-encoded variant');

    // Python: unquote, then quote — sign with the decoded canonical URI, send the encoded path
    const python = signRequest({
      method: 'GET',
      rawPath: `/v3/${PROJECT}/keypairs/a b`,
      headers,
      accessKeyId: AK,
      secretKey: SK,
      date,
    });
    const sent = cloneReq(python.request);
    sent.rawPath = rawPath;
    assert.ok(check(sent).ok, 'decoded variant');

    // a different name still fails
    const other = cloneReq(sent);
    other.rawPath = `/v3/${PROJECT}/keypairs/a%20c`;
    assertRejected(other, 'signature_mismatch', 'other name');
  });

  it("path: the Node SDK's encodeURIComponent leaves !'()* alone; accepted as a fallback", () => {
    const rawPath = `/v3/${PROJECT}/keypairs/key(1)`;
    assert.equal(canonicalUri(rawPath), `/v3/${PROJECT}/keypairs/key%281%29/`);
    assert.equal(canonicalUri(rawPath, 'uri-component'), `/v3/${PROJECT}/keypairs/key(1)/`);
    // Build what the Node SDK would sign by hand
    const date = '20240101T000000Z';
    const canonical = [
      'GET',
      `/v3/${PROJECT}/keypairs/key(1)/`,
      '',
      'host:h',
      `x-sdk-date:${date}`,
      '',
      'host;x-sdk-date',
      EMPTY_BODY_SHA256,
    ].join('\n');
    const sig = createHmac('sha256', SK)
      .update(`SDK-HMAC-SHA256\n${date}\n${sha256Hex(canonical)}`)
      .digest('hex');
    const req: IncomingSignedRequest = {
      method: 'GET',
      rawPath,
      rawQuery: '',
      headers: {
        host: 'h',
        'x-sdk-date': date,
        authorization: `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${sig}`,
      },
      rawBody: Buffer.alloc(0),
    };
    assert.ok(check(req).ok);
    // and the strict encoding alone would not have matched
    assert.notEqual(computeCanonicalRequest(req, ['host', 'x-sdk-date']), canonical);
    assert.equal(computeCanonicalRequest(req, ['host', 'x-sdk-date'], 'uri-component'), canonical);
  });

  it('x-sdk-content-sha256: UNSIGNED-PAYLOAD is honoured and reported; a hex claim must match the body', () => {
    const date = new Date();
    const unsigned = signRequest({
      method: 'POST',
      rawPath: `/v3/${PROJECT}/keypairs`,
      headers: { host: 'h', 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: 'anything',
      accessKeyId: AK,
      secretKey: SK,
      date,
    });
    const parsed = parseSignedRequest(unsigned.request);
    assert.ok(parsed.ok);
    assert.deepEqual(verifySignature(unsigned.request, parsed.info, SK), { ok: true, payloadSigned: false });

    const body = '{"keypair":{"name":"k"}}';
    const claimed = signRequest({
      method: 'POST',
      rawPath: `/v3/${PROJECT}/keypairs`,
      headers: { host: 'h', 'x-sdk-content-sha256': sha256Hex(body) },
      body,
      accessKeyId: AK,
      secretKey: SK,
      date,
    });
    assert.ok(check(claimed.request).ok);
    const swapped = cloneReq(claimed.request);
    swapped.rawBody = Buffer.from('{"keypair":{"name":"evil"}}');
    assertRejected(swapped, 'payload_hash_mismatch', 'swapped body');

    const weird = cloneReq(claimed.request);
    weird.headers['x-sdk-content-sha256'] = 'STREAMING';
    assertRejected(weird, 'malformed_content_sha256', 'unknown content sha value');
  });

  it('signed header values are trimmed', () => {
    const s = signRequest({
      method: 'GET',
      rawPath: '/v3/p/keypairs',
      headers: { host: 'h', 'x-project-id': 'p' },
      accessKeyId: AK,
      secretKey: SK,
      date: new Date(),
    });
    const r = cloneReq(s.request);
    r.headers['x-project-id'] = '  p \t';
    assert.ok(check(r).ok);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Malformed input
// ----------------------------------------------------------------------------------------------------------------

describe('malformed Authorization / X-Sdk-Date', () => {
  const good = (): IncomingSignedRequest =>
    signRequest({
      method: 'GET',
      rawPath: `/v3/${PROJECT}/keypairs`,
      headers: { host: 'h', 'content-type': 'application/json', 'x-project-id': PROJECT },
      accessKeyId: AK,
      secretKey: SK,
      date: new Date(Date.UTC(2024, 0, 1)),
    }).request;
  const sig = (r: IncomingSignedRequest): string =>
    /Signature=([0-9a-f]+)/.exec(String(r.headers['authorization']))![1]!;

  function parseProblem(mutate: (r: IncomingSignedRequest) => void): SignatureProblem {
    const r = good();
    mutate(r);
    const res = parseSignedRequest(r);
    assert.equal(res.ok, false);
    const { problem } = res as { ok: false; problem: SignatureProblem };
    assert.equal(problem.httpStatus, 401);
    assert.equal(problem.code, 'APIGW.0301');
    assert.match(problem.message, /^Incorrect IAM authentication information: /);
    return problem;
  }

  const cases: Array<[string, (r: IncomingSignedRequest) => void, SignatureProblem['reason'], RegExp]> = [
    [
      'no Authorization',
      (r) => delete r.headers['authorization'],
      'missing_authorization',
      /Authorization header is missing/,
    ],
    ['empty Authorization', (r) => (r.headers['authorization'] = ''), 'missing_authorization', /missing/],
    [
      'two Authorization headers',
      (r) => (r.headers['authorization'] = [String(r.headers['authorization']), 'x']),
      'malformed_authorization',
      /more than one/,
    ],
    [
      'Bearer token',
      (r) => (r.headers['authorization'] = 'Bearer abc'),
      'unsupported_algorithm',
      /unsupported authorization scheme 'Bearer', expected SDK-HMAC-SHA256/,
    ],
    [
      'derived V11 scheme',
      (r) =>
        (r.headers['authorization'] =
          'V11-HMAC-SHA256 Credential=AK/20240101/cn-north-4/kps, SignedHeaders=x-sdk-date, Signature=' +
          '0'.repeat(64)),
      'unsupported_algorithm',
      /'V11-HMAC-SHA256'/,
    ],
    [
      'bare algorithm',
      (r) => (r.headers['authorization'] = 'SDK-HMAC-SHA256'),
      'malformed_authorization',
      /Access is missing/,
    ],
    [
      'no Access',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=${sig(r)}`),
      'malformed_authorization',
      /Access is missing/,
    ],
    [
      'empty Access',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=${sig(r)}`),
      'malformed_authorization',
      /Access is missing/,
    ],
    [
      'no SignedHeaders',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, Signature=${sig(r)}`),
      'malformed_authorization',
      /SignedHeaders is missing/,
    ],
    [
      'no Signature',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date`),
      'malformed_authorization',
      /Signature is missing/,
    ],
    [
      'short Signature',
      (r) =>
        (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=abc123`),
      'malformed_authorization',
      /64 hexadecimal/,
    ],
    [
      'non-hex Signature',
      (r) =>
        (r.headers['authorization'] =
          `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${'z'.repeat(64)}`),
      'malformed_authorization',
      /64 hexadecimal/,
    ],
    [
      'duplicate field',
      (r) =>
        (r.headers['authorization'] =
          `SDK-HMAC-SHA256 Access=${AK}, Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${sig(r)}`),
      'malformed_authorization',
      /duplicate field 'Access'/,
    ],
    [
      'unknown field',
      (r) =>
        (r.headers['authorization'] =
          `SDK-HMAC-SHA256 Access=${AK}, Region=x, SignedHeaders=host;x-sdk-date, Signature=${sig(r)}`),
      'malformed_authorization',
      /unknown field 'Region'/,
    ],
    [
      'field without =',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, garbage, Signature=${sig(r)}`),
      'malformed_authorization',
      /unexpected 'garbage'/,
    ],
    [
      'bad header name',
      (r) =>
        (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x sdk, Signature=${sig(r)}`),
      'malformed_authorization',
      /invalid header name/,
    ],
    [
      'repeated header name',
      (r) =>
        (r.headers['authorization'] =
          `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;host;x-sdk-date, Signature=${sig(r)}`),
      'malformed_authorization',
      /twice/,
    ],
    [
      'x-sdk-date not signed',
      (r) => (r.headers['authorization'] = `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host, Signature=${sig(r)}`),
      'sdk_date_not_signed',
      /x-sdk-date must be one of the SignedHeaders/,
    ],
    ['no x-sdk-date', (r) => delete r.headers['x-sdk-date'], 'missing_sdk_date', /x-sdk-date header is missing/],
    [
      'ISO x-sdk-date',
      (r) => (r.headers['x-sdk-date'] = '2024-01-01T00:00:00Z'),
      'malformed_sdk_date',
      /'2024-01-01T00:00:00Z' is not a valid YYYYMMDDTHHMMSSZ/,
    ],
    [
      'impossible x-sdk-date',
      (r) => (r.headers['x-sdk-date'] = '20241301T000000Z'),
      'malformed_sdk_date',
      /not a valid/,
    ],
    ['Feb 30', (r) => (r.headers['x-sdk-date'] = '20240230T000000Z'), 'malformed_sdk_date', /not a valid/],
    [
      'signed header absent',
      (r) => delete r.headers['x-project-id'],
      'signed_header_missing',
      /'x-project-id' is not present/,
    ],
  ];
  for (const [name, mutate, reason, message] of cases) {
    it(name, () => {
      const p = parseProblem(mutate);
      assert.equal(p.reason, reason, p.message);
      assert.match(p.message, message);
    });
  }

  it('tolerates spacing and field order, upper-case hex', () => {
    const r = good();
    const s = sig(r);
    r.headers['authorization'] =
      `SDK-HMAC-SHA256   Signature=${s.toUpperCase()} ,SignedHeaders=content-type;host;x-project-id;x-sdk-date,Access=${AK}`;
    const res = check(r);
    assert.ok(res.ok, res.ok ? '' : res.problem.message);
    assert.equal(res.info.signature, s);
  });

  it('echoed untrusted values are bounded and single-line', () => {
    const p = parseProblem((r) => (r.headers['authorization'] = `${'A'.repeat(500)}\nB`));
    assert.ok(p.message.length < 200, p.message);
    assert.ok(!p.message.includes('\n'));
  });

  it('unknown access key problem', () => {
    const p = unknownAccessKeyProblem('NOPE');
    assert.deepEqual(
      { code: p.code, httpStatus: p.httpStatus, reason: p.reason, message: p.message },
      {
        code: 'APIGW.0301',
        httpStatus: 401,
        reason: 'unknown_access_key',
        message: 'Incorrect IAM authentication information: Get secretKey failed,ak:NOPE,err:ak not exist',
      },
    );
  });

  it('verifySignature rejects an info whose signature is not hex (defensive)', () => {
    const r = good();
    const parsed = parseSignedRequest(r);
    assert.ok(parsed.ok);
    const res = verifySignature(r, { ...parsed.info, signature: 'nope' }, SK);
    assert.equal(res.ok, false);
  });

  it('signRequest refuses misuse', () => {
    assert.throws(
      () =>
        signRequest({
          method: 'GET',
          rawPath: '/',
          accessKeyId: AK,
          secretKey: SK,
          signedHeaders: ['host'],
          headers: { host: 'h' },
        }),
      /x-sdk-date/,
    );
    assert.throws(
      () =>
        signRequest({
          method: 'GET',
          rawPath: '/',
          accessKeyId: AK,
          secretKey: SK,
          signedHeaders: ['x-sdk-date', 'host'],
        }),
      /'host'/,
    );
    assert.throws(
      () =>
        signRequest({
          method: 'GET',
          rawPath: '/',
          accessKeyId: AK,
          secretKey: SK,
          headers: { 'x-sdk-date': 'yesterday' },
        }),
      /invalid x-sdk-date/,
    );
  });

  it('date helpers round-trip', () => {
    const d = new Date(Date.UTC(2026, 10, 24, 17, 25, 2, 999));
    assert.equal(formatSdkDate(d), '20261124T172502Z');
    assert.equal(parseSdkDate('20261124T172502Z')?.getTime(), Date.UTC(2026, 10, 24, 17, 25, 2));
    assert.equal(parseSdkDate('20261124T172502'), undefined);
    assert.equal(parseSdkDate(' 20261124T172502Z'), undefined);
  });
});
