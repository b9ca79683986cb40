/**
 * A live bind that replaces key pairs, sent without a credential, across machines bound to different key pairs
 * (issue 20): each machine is logged in to with the escrowed private key of the key pair IT accepts now, and each
 * use is audited; a machine whose key pair is not escrowed, or that has no key pair, fails on its own with
 * Live.CredentialRequired and keeps its key. While an on-restart change waits, the machine still accepts the key
 * pair bound before: that one's escrowed key is used, not the recorded one's (whose key the machine does not have).
 * Proven with the real OpenSSH client against simulated instances.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';

const KP = '/api/v1/regions/cn-hangzhou/key-pairs';

describe('live replace without a credential: the escrowed key of the key pair each machine accepts', () => {
  let kf: Keyfleet;
  let api: Api;

  before(async () => {
    ({ kf, api } = await startInProcess());
  });
  after(async () => kf?.close());

  async function keyPair(name: string, escrow: boolean): Promise<string> {
    const made = await api.call('POST', KP, { name, type: 'ed25519', escrow });
    return writePrivateKey(made.privateKey);
  }
  async function runningBoundTo(name: string, keyPairName: string | null, password: string): Promise<any> {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name, password });
    await api.waitStatus([id!], 'Running');
    if (keyPairName) {
      const bound = await api.bind({
        action: 'bind',
        keyPairName,
        instanceIds: [id],
        mode: 'live',
        credential: { kind: 'password', password },
      });
      assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));
    }
    return api.instance(id!);
  }
  const logsIn = async (inst: any, identityFile: string) =>
    (await sshRun({ host: inst.address, port: inst.sshPort, command: 'echo in', identityFile })).code === 0;
  const escrowUses = async (taskId: string) =>
    (await api.call('GET', `/api/v1/audit?${new URLSearchParams({ taskId, action: 'keypair:UseEscrowedPrivateKey' })}`))
      .entries;

  test('one batch over machines bound to two escrowed key pairs, one kept-nowhere key pair and none', async () => {
    const fileA = await keyPair('rep-a', true);
    const fileC = await keyPair('rep-c', true);
    const fileD = await keyPair('rep-d', false);
    const fileB = await keyPair('rep-b', false);
    const onA = await runningBoundTo('rep-on-a', 'rep-a', 'Replace-Pass-01');
    const onC = await runningBoundTo('rep-on-c', 'rep-c', 'Replace-Pass-02');
    const onD = await runningBoundTo('rep-on-d', 'rep-d', 'Replace-Pass-03');
    const bare = await runningBoundTo('rep-bare', null, 'Replace-Pass-04');

    const res = await api.bind({
      action: 'bind',
      keyPairName: 'rep-b',
      instanceIds: [onA.id, onC.id, onD.id, bare.id],
      mode: 'live',
    });
    const byId = new Map(res.items.map((i: any) => [i.instanceId, i]));
    assert.equal(byId.get(onA.id).status, 'succeeded', JSON.stringify(res.items));
    assert.match(byId.get(onA.id).note, /escrowed private key of key pair 'rep-a'/);
    assert.equal(byId.get(onC.id).status, 'succeeded', JSON.stringify(res.items));
    assert.match(byId.get(onC.id).note, /escrowed private key of key pair 'rep-c'/);
    assert.equal(byId.get(onD.id).errorCode, 'Live.CredentialRequired');
    assert.equal(byId.get(bare.id).errorCode, 'Live.CredentialRequired');

    assert.ok(await logsIn(onA, fileB), 'B logs in where A was');
    assert.ok(!(await logsIn(onA, fileA)), 'A no longer does');
    assert.ok(await logsIn(onC, fileB), 'B logs in where C was');
    assert.ok(!(await logsIn(onC, fileC)), 'C no longer does');
    assert.ok(await logsIn(onD, fileD), 'D is still the way in where nothing could log in');
    assert.ok(!(await logsIn(onD, fileB)));
    assert.equal((await api.instance(onD.id)).keyPairName, 'rep-d');
    assert.equal((await api.instance(bare.id)).keyPairName, null);

    const used = await escrowUses(res.task.id);
    const pairs = used.map((e: any) => e.resources.map((r: string) => r.split('/').pop()).join(' ')).sort();
    assert.deepEqual(pairs, [`rep-a ${onA.id}`, `rep-c ${onC.id}`], JSON.stringify(used));
  });

  test('while an on-restart change waits, the escrowed key of the key pair the machine still has is used', async () => {
    const fileE = await keyPair('rep-e', true);
    await keyPair('rep-f', true);
    const fileG = await keyPair('rep-g', false);
    const inst = await runningBoundTo('rep-pending', 'rep-e', 'Replace-Pass-05');
    const recorded = await api.bind({
      action: 'bind',
      keyPairName: 'rep-f',
      instanceIds: [inst.id],
      mode: 'on-restart',
    });
    assert.equal(recorded.task.status, 'succeeded', JSON.stringify(recorded.items));
    const pending = await api.instance(inst.id);
    assert.equal(pending.keyPairName, 'rep-f');
    assert.equal(pending.pendingChanges.keyPair, true);
    assert.ok(await logsIn(inst, fileE), 'the machine still accepts E');

    const res = await api.bind({ action: 'bind', keyPairName: 'rep-g', instanceIds: [inst.id], mode: 'live' });
    assert.equal(res.task.status, 'succeeded', JSON.stringify(res.items));
    assert.match(res.items[0].note, /escrowed private key of key pair 'rep-e'/);
    assert.ok(await logsIn(inst, fileG), 'G logs in');
    assert.ok(!(await logsIn(inst, fileE)), 'E no longer does');
    const used = await escrowUses(res.task.id);
    assert.equal(used.length, 1);
    assert.ok(
      used[0].resources.some((r: string) => r.endsWith('keypair/rep-e')),
      JSON.stringify(used),
    );
  });
});
