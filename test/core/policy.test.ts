/** The policy engine: RAM semantics, and the compiled index giving exactly the answers of a naive evaluation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compilePermissions,
  evaluate,
  MAX_PATTERN_LENGTH,
  MAX_WILDCARDS_PER_PATTERN,
  parsePolicyDocument,
  type PolicyDocument,
  resourceName,
} from '../../src/core/authz/policy.js';
import type { Action, ResourceRef } from '../../src/core/authz/actions.js';
import { isCoreError } from '../../src/core/errors.js';

const ACC = 'acc-1';
const kp = (id: string, regionId = 'cn-hangzhou'): ResourceRef => ({ type: 'keypair', regionId, id });
const inst = (id: string, regionId = 'cn-hangzhou', resourceGroupId?: string): ResourceRef => ({
  type: 'instance',
  regionId,
  id,
  resourceGroupId,
});
const decide = (doc: PolicyDocument, action: Action, refs: ResourceRef[]) =>
  evaluate(compilePermissions([doc]), ACC, action, refs);

describe('policy semantics', () => {
  it('nothing is allowed by default; an Allow allows; an explicit Deny wins over any Allow', () => {
    assert.equal(
      decide({ Statement: [{ Effect: 'Allow', Action: 'keypair:Describe' }] }, 'keypair:Delete', [kp('a')]),
      'implicit-deny',
    );
    assert.equal(
      decide({ Statement: [{ Effect: 'Allow', Action: 'keypair:*' }] }, 'keypair:Delete', [kp('a')]),
      'allow',
    );
    const doc: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'ecs:DeleteKeyPairs', Resource: 'acs:ecs:*:*:keypair/prod-*' },
      ],
    };
    assert.equal(decide(doc, 'keypair:Delete', [kp('prod-web')]), 'deny');
    assert.equal(decide(doc, 'keypair:Delete', [kp('dev-web')]), 'allow');
  });

  it('action names of every face mean the same core permission', () => {
    for (const name of [
      'ecs:DetachKeyPair',
      'kps:SSHKeyPair:unbind',
      'keypair:Unbind',
      'kps:SSHKeyPair:*',
      'ecs:Detach*',
    ]) {
      assert.equal(
        decide({ Statement: [{ Effect: 'Allow', Action: name, Resource: '*' }] }, 'keypair:Unbind', [
          kp('k'),
          inst('i-1'),
        ]),
        'allow',
        name,
      );
    }
    assert.equal(
      decide({ Statement: [{ Effect: 'Allow', Action: 'ecs:AttachKeyPair' }] }, 'keypair:Unbind', [kp('k')]),
      'implicit-deny',
    );
  });

  it('every resource of a request needs an Allow (bind names the instance and the key pair)', () => {
    const doc: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'keypair:Bind',
          Resource: ['acs:ecs:*:*:keypair/team-*', 'acs:ecs:cn-hangzhou:*:instance/i-web*'],
        },
      ],
    };
    assert.equal(decide(doc, 'keypair:Bind', [kp('team-a'), inst('i-web1')]), 'allow');
    assert.equal(decide(doc, 'keypair:Bind', [kp('team-a'), inst('i-db1')]), 'implicit-deny');
    assert.equal(decide(doc, 'keypair:Bind', [kp('team-a'), inst('i-web1', 'cn-shanghai')]), 'implicit-deny');
  });

  it('a * in region or account stays within its part; in the resource part it spans anything', () => {
    const doc: PolicyDocument = {
      Statement: [{ Effect: 'Allow', Action: 'keypair:Delete', Resource: 'acs:ecs:*:acc-1:keypair/a*' }],
    };
    assert.equal(decide(doc, 'keypair:Delete', [kp('a:b:c')]), 'allow');
    assert.equal(
      evaluate(compilePermissions([doc]), 'acc-2', 'keypair:Delete', [kp('a')]),
      'implicit-deny',
      'another account',
    );
    const sneaky: PolicyDocument = {
      Statement: [{ Effect: 'Allow', Action: 'keypair:Delete', Resource: 'acs:ecs:*:*:keypair/x' }],
    };
    assert.equal(
      decide(sneaky, 'keypair:Delete', [kp('y:keypair/x')]),
      'implicit-deny',
      'region * must not swallow the resource',
    );
  });

  it('conditions on region and resource group', () => {
    const doc: PolicyDocument = {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'instance:Stop',
          Resource: '*',
          Condition: { StringEquals: { 'acs:ResourceGroupId': 'rg-ops' }, StringLike: { 'acs:RegionId': 'cn-*' } },
        },
      ],
    };
    assert.equal(decide(doc, 'instance:Stop', [inst('i-1', 'cn-hangzhou', 'rg-ops')]), 'allow');
    assert.equal(decide(doc, 'instance:Stop', [inst('i-1', 'ap-southeast-1', 'rg-ops')]), 'implicit-deny');
    assert.equal(decide(doc, 'instance:Stop', [inst('i-1', 'cn-hangzhou', 'rg-dev')]), 'implicit-deny');
  });

  it('malformed documents are refused with a reason', () => {
    for (const bad of [
      '{',
      { Statement: [] },
      { Statement: [{ Effect: 'Maybe', Action: '*' }] },
      { Statement: [{ Effect: 'Allow', Action: 'ecs:Nope' }] },
      { Statement: [{ Effect: 'Allow', Action: '*', NotAction: 'x' }] },
      { Statement: [{ Effect: 'Allow', Action: '*', Condition: { IpAddress: { 'acs:SourceIp': '1.2.3.4' } } }] },
    ]) {
      assert.throws(
        () => parsePolicyDocument(bad),
        (e) => isCoreError(e) && e.code === 'Policy.Malformed' && e.message.length > 30,
      );
    }
  });
});

/** mulberry32: a seeded generator whose low bits are as random as its high ones; rand(n) is in [0, n). */
function seededRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

/** RAM semantics evaluated statement by statement, with regular expressions (short inputs only: they backtrack). */
function naive(doc: PolicyDocument, action: Action, refs: ResourceRef[]) {
  const re = (p: string) => {
    const parts = p.split(':');
    const lit = (x: string, any: string) =>
      x
        .split('')
        .map((c) => (c === '*' ? any + '*' : c === '?' ? any : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('');
    if (parts.length < 5) return new RegExp('^' + lit(p, '.') + '$');
    return new RegExp(
      '^' +
        parts
          .slice(0, 4)
          .map((x) => lit(x, '[^:]'))
          .join(':') +
        ':' +
        lit(parts.slice(4).join(':'), '.') +
        '$',
    );
  };
  let all = true;
  for (const ref of refs) {
    const name = resourceName(ACC, ref);
    let allowed = false;
    for (const st of doc.Statement) {
      const acts = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (!acts.includes(action)) continue;
      const res = st.Resource === undefined ? ['*'] : Array.isArray(st.Resource) ? st.Resource : [st.Resource];
      if (!res.some((r) => re(r).test(name))) continue;
      if (st.Effect === 'Deny') return 'deny';
      allowed = true;
    }
    if (!allowed) all = false;
  }
  return all ? 'allow' : 'implicit-deny';
}

describe('policy limits and costly patterns (issue 18)', () => {
  const allowDelete = (Resource: string): PolicyDocument => ({
    Statement: [{ Effect: 'Allow', Action: 'keypair:Delete', Resource }],
  });
  const refused = (doc: unknown, reason: RegExp) =>
    assert.throws(
      () => parsePolicyDocument(doc),
      (e) => isCoreError(e) && e.code === 'Policy.Malformed' && reason.test(e.message),
    );

  it(`a pattern has at most ${MAX_PATTERN_LENGTH} characters and ${MAX_WILDCARDS_PER_PATTERN} wildcards`, () => {
    const longest = `acs:ecs:*:*:keypair/${'x'.repeat(MAX_PATTERN_LENGTH - 20)}`;
    assert.equal(longest.length, MAX_PATTERN_LENGTH);
    parsePolicyDocument(allowDelete(longest));
    refused(allowDelete(`${longest}x`), /longer than 512 characters/);
    const most = `acs:ecs:*:*:keypair/${'?a'.repeat(MAX_WILDCARDS_PER_PATTERN - 2)}`;
    parsePolicyDocument(allowDelete(most));
    refused(allowDelete(`${most}*`), /more than 20 wildcards/);
    refused({ Statement: [{ Effect: 'Allow', Action: `keypair:${'*'.repeat(21)}` }] }, /the action .* more than 20/);
    refused(
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'instance:Stop',
            Condition: { StringLike: { 'acs:RegionId': ['cn-*', 'x'.repeat(513)] } },
          },
        ],
      },
      /a value of acs:RegionId .* longer than 512/,
    );
  });

  it('the pathological patterns of the issue give their answers (they stalled every tenant for seconds)', () => {
    const name = 'a'.repeat(60);
    assert.equal(
      decide(allowDelete('acs:ecs:*:*:keypair/*a*a*a*a*a*a!'), 'keypair:Delete', [kp(name)]),
      'implicit-deny',
    );
    assert.equal(decide(allowDelete('acs:ecs:*:*:keypair/*a*a*a*a*a*a'), 'keypair:Delete', [kp(name)]), 'allow');
    const deny: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: `acs:ecs:*:*:keypair/${'*a'.repeat(8)}*!` },
      ],
    };
    assert.equal(decide(deny, 'keypair:Delete', [kp('a'.repeat(255))]), 'allow');
    assert.equal(decide(deny, 'keypair:Delete', [kp(`${'a'.repeat(254)}!`)]), 'deny');
    refused({ Statement: [{ Effect: 'Allow', Action: '*?*?*?*?*?*?*?*?*?#' }] }, /matches no action/);
  });
});

describe('the compiled index answers exactly as a naive evaluation', () => {
  it('random policies, resources and requests (seeded)', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const pick = <T>(xs: T[]) => xs[rand(xs.length)]!;
    const ids = ['i-a1', 'i-a2', 'i-b1', 'web', 'web-1', 'db', 'a:b', 'x*y'];
    const regions = ['cn-hangzhou', 'cn-shanghai', 'ap-southeast-1'];
    const types = ['instance', 'keypair'] as const;
    const pattern = () => {
      const region = pick(['*', 'cn-*', 'cn-hangzhou', 'ap-?outheast-1']);
      const account = pick(['*', ACC, 'acc-2']);
      const id = pick(ids);
      const res = pick([
        `${pick([...types])}/${id}`,
        `${pick([...types])}/${id.slice(0, 2)}*`,
        `${pick([...types])}/*`,
        '*',
        `*${id.slice(-1)}`,
      ]);
      return pick([`acs:ecs:${region}:${account}:${res}`, '*', 'acs:ecs:*', `acs:ecs:${region}:*`]);
    };
    const actions: Action[] = ['keypair:Bind', 'keypair:Delete'];
    for (let round = 0; round < 300; round++) {
      const doc: PolicyDocument = {
        Statement: Array.from({ length: 1 + rand(8) }, () => ({
          Effect: pick(['Allow', 'Allow', 'Deny'] as const),
          Action: pick(actions),
          Resource: Array.from({ length: 1 + rand(3) }, pattern),
        })),
      };
      const set = compilePermissions([doc]);
      for (let q = 0; q < 10; q++) {
        const refs = Array.from(
          { length: 1 + rand(2) },
          (): ResourceRef => ({ type: pick([...types]), regionId: pick(regions), id: pick(ids) }),
        );
        const action = pick(actions);
        assert.equal(evaluate(set, ACC, action, refs), naive(doc, action, refs), JSON.stringify({ doc, action, refs }));
      }
    }
  });
  it('random wildcards in every part of resource patterns, names with colons (seeded)', () => {
    const rand = seededRandom(18);
    const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
    const draw = (alphabet: string, max: number) =>
      Array.from({ length: rand(max + 1) }, () => alphabet[rand(alphabet.length)]).join('');
    const regions = ['cn-a', 'a:b'];
    const ids = () => pick(['a', 'a:b', 'b-a']);
    // A value with some characters turned into wildcards: matches it (and others) often, not always.
    const wild = (value: string) =>
      value
        .split('')
        .map((c) => pick([c, c, c, c, c, c, c, c, c, c, '?', '*', `*${c}`, `${c}*`, '**', `${c}?`]))
        .join('');
    const part = (value: string) => pick([value, value, '*', wild(value)]);
    const pattern = () =>
      pick([
        () =>
          `${part('acs')}:${part('ecs')}:${part(pick(regions))}:${part(ACC)}:` +
          `${part(pick(['keypair', 'instance']))}/${part(ids())}`,
        () => wild(`acs:ecs:${pick(regions)}:${ACC}:${pick(['keypair', 'instance'])}/${ids()}`),
        () => draw('acs:e*?', 10),
        () => `acs:ecs:${draw('cnab-:*?', 6)}`,
      ])();
    const actions: Action[] = ['keypair:Bind', 'keypair:Delete'];
    const verdicts = { allow: 0, deny: 0, 'implicit-deny': 0 };
    const rounds = 2_000;
    for (let round = 0; round < rounds; round++) {
      const doc: PolicyDocument = {
        Statement: Array.from({ length: 1 + rand(6) }, () => ({
          Effect: pick(['Allow', 'Allow', 'Allow', 'Deny'] as const),
          Action: pick(actions),
          Resource: Array.from({ length: 1 + rand(3) }, pattern),
        })),
      };
      const set = compilePermissions([doc]);
      for (let q = 0; q < 5; q++) {
        const refs = Array.from(
          { length: 1 + rand(2) },
          (): ResourceRef => ({ type: pick(['instance', 'keypair'] as const), regionId: pick(regions), id: ids() }),
        );
        const action = pick(actions);
        const expected = naive(doc, action, refs);
        assert.equal(evaluate(set, ACC, action, refs), expected, JSON.stringify({ doc, action, refs }));
        verdicts[expected]++;
      }
    }
    // Every answer is common, so the comparison says something about each.
    for (const n of Object.values(verdicts)) assert.ok(n > (rounds * 5) / 20, JSON.stringify(verdicts));
  });
});
