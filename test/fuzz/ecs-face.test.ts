/**
 * Seeded fuzz of the ECS RPC face (issue 18): 10,000 mutated requests, nearly all validly signed (ACS3 and both
 * V1 forms) so that they reach the actions. No answer is a 5xx, every refusal is the ECS envelope, and no refused
 * request changes the store. Replay a run with KEYFLEET_FUZZ_SEED=<the printed seed>.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ECS_ACTION_NAMES, type EcsActionName } from '../../src/api/ecs/action-names.js';
import { signAcs3, signRpcV1 } from '../support/ecs-signer.js';
import { ACCESS_KEY_ID, ACCESS_KEY_SECRET, LINUX_IMAGE } from '../support/keyfleet.js';
import { type FuzzFixture, REGION, startFuzzFixture } from './support/fixture.js';
import { type FuzzFace, type FuzzRequest, runFuzz } from './support/fuzz-runner.js';
import { mutatePairs, NASTY_STRINGS, type Pairs, wellFormed, wrongContentType } from './support/mutate.js';
import { fuzzRequests, fuzzSeed, Rng } from './support/rng.js';
import { installStateProbe } from './support/state-probe.js';

let fx: FuzzFixture;
before(async () => {
  fx = await startFuzzFixture();
});
after(async () => fx?.kf.close());

/** A valid request of each action, naming what the account has now. */
function validParams(action: EcsActionName, rng: Rng): Pairs {
  const kp = () => (fx.keyPairNames.length > 0 ? rng.pick(fx.keyPairNames) : 'fz-kp-0');
  const inst = () => (fx.instanceIds.length > 0 ? rng.pick(fx.instanceIds) : 'i-none');
  const fresh = () => `fz-ecs-${rng.int(6)}`;
  switch (action) {
    case 'CreateKeyPair':
      return [
        ['RegionId', REGION],
        ['KeyPairName', fresh()],
      ];
    case 'ImportKeyPair':
      return [
        ['RegionId', REGION],
        ['KeyPairName', fresh()],
        ['PublicKeyBody', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGr2e0UOxzZB3tLcM9fPQmT8Wd3vIJ3y1o5Yk0a9oQ+A fz'],
        ['Tag.1.Key', 'team'],
        ['Tag.1.Value', 'fuzz'],
      ];
    case 'DescribeKeyPairs':
      return [
        ['RegionId', REGION],
        ['PageNumber', '1'],
        ['PageSize', '10'],
        ['KeyPairName', 'fz-*'],
      ];
    case 'DeleteKeyPairs':
      // Rarely one of the names CreateKeyPair uses: each one freed is an RSA key generated again.
      return [
        ['RegionId', REGION],
        ['KeyPairNames', JSON.stringify([rng.chance(0.1) ? fresh() : kp()])],
      ];
    case 'AttachKeyPair':
    case 'DetachKeyPair':
      return [
        ['RegionId', REGION],
        ['KeyPairName', kp()],
        ['InstanceIds', JSON.stringify([inst()])],
      ];
    case 'RunInstances':
      return [
        ['RegionId', REGION],
        ['ImageId', LINUX_IMAGE],
        ['Amount', '1'],
        ['InstanceType', 'ecs.t6-c1m1.large'],
      ];
    case 'DescribeInstances':
      return [
        ['RegionId', REGION],
        ['PageSize', '10'],
        ['InstanceIds', JSON.stringify([inst()])],
      ];
    case 'StartInstance':
    case 'StopInstance':
    case 'RebootInstance':
      return [['InstanceId', inst()]];
    case 'ModifyInstanceAttribute':
      return [
        ['InstanceId', inst()],
        ['InstanceName', 'fz-name'],
        ['Description', 'fuzzed'],
      ];
    case 'DeleteInstance':
      return [
        ['InstanceId', inst()],
        ['Force', 'true'],
      ];
    case 'DescribeImages':
      return [
        ['RegionId', REGION],
        ['OSType', 'linux'],
        ['PageSize', '10'],
      ];
    case 'DescribeRegions':
      return [['AcceptLanguage', 'en-US']];
    case 'TagResources':
      return [
        ['RegionId', REGION],
        ['ResourceType', rng.pick(['keypair', 'instance'])],
        ['ResourceId.1', rng.chance(0.5) ? kp() : inst()],
        ['Tag.1.Key', 'fz'],
        ['Tag.1.Value', 'v'],
      ];
    case 'UntagResources':
      return [
        ['RegionId', REGION],
        ['ResourceType', 'keypair'],
        ['ResourceId.1', kp()],
        ['TagKey.1', 'fz'],
      ];
    case 'ListTagResources':
      return [
        ['RegionId', REGION],
        ['ResourceType', rng.pick(['keypair', 'instance'])],
        ['Tag.1.Key', 'fz'],
      ];
    case 'JoinResourceGroup':
      return [
        ['RegionId', REGION],
        ['ResourceType', 'instance'],
        ['ResourceId', inst()],
        ['ResourceGroupId', 'rg-fuzz'],
      ];
    default: // an action the face does not have
      return [['RegionId', REGION]];
  }
}

type Scheme = 'acs3' | 'v1-get' | 'v1-post';

function signed(action: string, params: Pairs, scheme: Scheme, secret = ACCESS_KEY_SECRET, ak = ACCESS_KEY_ID) {
  if (scheme === 'acs3') return signAcs3({ accessKeyId: ak, secret, action, host: fx.host, query: params });
  return signRpcV1({
    accessKeyId: ak,
    secret,
    action,
    host: fx.host,
    method: scheme === 'v1-get' ? 'GET' : 'POST',
    paramsIn: scheme === 'v1-get' ? 'query' : 'body',
    params,
  });
}

const face: FuzzFace = {
  name: 'ECS',
  build(rng): FuzzRequest {
    let action: string = rng.pick(ECS_ACTION_NAMES);
    // A generated key pair costs an RSA key generation: CreateKeyPair comes up a third as often as the others.
    if (action === 'CreateKeyPair' && rng.chance(0.67)) action = rng.pick(ECS_ACTION_NAMES);
    if (rng.chance(0.02)) action = rng.pick(['describekeypairs', 'NoSuchAction', 'toString', '']);
    let params = validParams(action as EcsActionName, rng);
    for (let m = 1 + rng.int(3); m > 0; m--) params = mutatePairs(rng, params);
    const scheme = rng.pick<Scheme>(['acs3', 'acs3', 'v1-get', 'v1-post']);
    let label = `ECS ${action} ${scheme}`;
    // Mostly validly signed: the point is to reach the actions. Now and then a signature or envelope goes wrong.
    const bend = rng.chance(0.06) ? rng.int(5) : -1;
    const s =
      bend === 0
        ? signed(action, params, scheme, 'wrong-secret')
        : bend === 1
          ? signed(action, params, scheme, ACCESS_KEY_SECRET, rng.pick(['UNKNOWNkey', '', 'LTAI💥']))
          : signed(action, params, scheme);
    const headers = { ...s.headers };
    let url = s.url;
    let payload: Buffer | undefined = s.rawBody.length > 0 ? s.rawBody : undefined;
    if (bend === 2) {
      url = url.includes('?')
        ? `${url}&Extra=${encodeURIComponent(wellFormed(rng.pick(NASTY_STRINGS).slice(0, 100)))}`
        : `${url}?Extra=1`;
      label += ' tampered';
    } else if (bend === 3) {
      const ct = wrongContentType(rng);
      if (ct === undefined) delete headers['content-type'];
      else headers['content-type'] = ct;
      if (payload === undefined) payload = Buffer.from('{"RegionId":"cn-hangzhou"}');
      headers['content-length'] = String(payload.length);
      label += ` content-type ${ct}`;
    } else if (bend === 4) {
      headers.authorization = rng.pick([
        '',
        'ACS3-HMAC-SHA256',
        'Bearer x',
        `${headers.authorization ?? ''},Signature=00`,
      ]);
      label += ' bad authorization';
    }
    return { label, method: s.method, url, headers, payload };
  },
  envelopeProblem(res) {
    let body: any;
    try {
      body = JSON.parse(res.body);
    } catch {
      return 'not JSON';
    }
    for (const k of ['RequestId', 'Code', 'Message'])
      if (typeof body?.[k] !== 'string' || body[k] === '') return `no ${k}`;
    return null;
  },
  async accepted() {
    await fx.refresh();
  },
};

test('ECS face: 10,000 mutated requests, no 5xx, the ECS envelope, no change from a refusal', {
  timeout: 600_000,
}, async () => {
  const seed = fuzzSeed('ECS');
  const probe = await installStateProbe(fx.kf);
  const report = await runFuzz(fx.kf, probe, new Rng(seed), face, fuzzRequests());
  assert.deepEqual(report.failures, [], `seed ${seed}:\n${report.failures.join('\n')}`);
  assert.equal(report.requests, fuzzRequests());
  assert.ok(report.accepted > 0 && report.accepted < report.requests, 'both accepted and refused requests were made');
});
