/**
 * The audit records outcomes, not only submissions: an unbind that fails on its instance (a live unbind with the
 * wrong private key, a DetachKeyPair of a Windows instance) has an outcome entry of its own that says so and why,
 * linked to the request that submitted it by task id and request id, through every face: the native API, the
 * console, KPS (the Huawei SDK) and ECS (the Alibaba SDK). "Which unbinds of key X failed last week" is one query;
 * the native API, its export and the CLI filter by stage, task id and request id. Each live unbind is also proven
 * on the machine with the real OpenSSH client.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type EcsDriver, ecsSdkDriver } from '../ecs/support/ecs-clients.js';
import { type Kps, kpsWithAkSk, pollTask } from '../kps/support/huawei.js';
import { loginCode } from '../kps/support/instance-files.js';
import {
  ACCESS_KEY_ID,
  ACCESS_KEY_SECRET,
  type Api,
  LINUX_IMAGE,
  startInProcess,
  WINDOWS_IMAGE,
} from '../support/keyfleet.js';
import { sshKeygen, writePrivateKey } from '../support/openssh.js';

const REGION = 'cn-hangzhou';
const ROOT_PASSWORD = 'Audit-Pass-0001';
const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');

describe('audit: a task is recorded with its outcome, through every face', () => {
  let kf: Keyfleet;
  let api: Api;
  let kps: Kps;
  let ecs: EcsDriver;
  /** A private key no instance trusts: the wrong credential of a live unbind. */
  let wrongKey: string;

  before(async () => {
    ({ kf, api } = await startInProcess());
    kps = kpsWithAkSk(kf.url);
    ecs = ecsSdkDriver(kf.url, 'default');
    wrongKey = fs.readFileSync((await sshKeygen('ed25519', 'not-bound-anywhere')).privateKeyPath, 'utf8');
  });
  after(async () => {
    await kf?.close();
  });

  /** The entries of one task: its request entry and its outcome entries. */
  async function entriesOf(taskId: string): Promise<{ request: any; outcomes: any[] }> {
    const { entries } = await api.call('GET', `/api/v1/audit?taskId=${taskId}`);
    const requests = entries.filter((e: any) => e.stage === 'request');
    assert.equal(requests.length, 1, `one request entry names task ${taskId}: ${JSON.stringify(entries)}`);
    const outcomes = entries.filter((e: any) => e.stage === 'outcome');
    const [request] = requests;
    for (const o of outcomes) {
      assert.equal(o.taskId, taskId);
      assert.equal(o.requestId, request.requestId, 'an outcome carries the request id of its submission');
      assert.equal(o.action, request.action, 'and its action');
      assert.equal(o.face, request.face, 'and its face');
      assert.equal(o.userName, request.userName, 'and its user');
      assert.equal(o.accessKeyId, request.accessKeyId);
      assert.equal(o.sourceIp, request.sourceIp);
    }
    return { request, outcomes };
  }

  /** One Linux instance with a root password, Running. */
  async function linuxInstance(): Promise<any> {
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    await api.waitStatus([id!], 'Running');
    return api.instance(id!);
  }

  const named = (e: any, suffix: string) => e.resources.some((r: string) => r.endsWith(`:${suffix}`));

  /** The native API as a script (face native) or as the console sends it (face console). */
  async function nativeUnbindAndBind(face: 'native' | 'console') {
    const headers: Record<string, string> = face === 'console' ? { 'x-keyfleet-client': 'console' } : {};
    const bindings = async (body: Record<string, unknown>) => {
      const r = await api.raw('POST', `/api/v1/regions/${REGION}/bindings`, { wait: true, ...body }, headers);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as { task: any; items: any[] };
    };
    const keyName = `audit-${face}`;
    const { privateKey } = await api.createKeyPair(keyName, 'ed25519');
    const keyFile = await writePrivateKey(privateKey);
    const inst = await linuxInstance();
    const bound = await bindings({
      action: 'bind',
      keyPairName: keyName,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'password', password: ROOT_PASSWORD },
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));

    // The wrong private key: the unbind is accepted as a request and fails on the instance.
    const failed = await bindings({
      action: 'unbind',
      keyPairName: keyName,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'privateKey', privateKey: wrongKey },
    });
    assert.equal(failed.task.status, 'failed');
    assert.equal(failed.items[0].errorCode, 'Live.CredentialRejected');
    assert.equal(await loginCode(inst, { identityFile: keyFile }), 0, 'the key still logs in: nothing was unbound');

    const ok = await bindings({
      action: 'unbind',
      keyPairName: keyName,
      instanceIds: [inst.id],
      mode: 'live',
      credential: { kind: 'privateKey', privateKey },
    });
    assert.equal(ok.task.status, 'succeeded', JSON.stringify(ok.items));
    assert.equal(await loginCode(inst, { identityFile: keyFile }), 255, 'the key is refused at once');
    return { keyName, inst, failedTaskId: failed.task.id as string, okTaskId: ok.task.id as string };
  }

  for (const face of ['native', 'console'] as const) {
    test(`${face}: a live unbind with the wrong private key has a failure outcome saying why; with the right key, a success outcome`, async () => {
      const { keyName, inst, failedTaskId, okTaskId } = await nativeUnbindAndBind(face);

      const failed = await entriesOf(failedTaskId);
      assert.equal(failed.request.face, face);
      assert.equal(failed.request.action, 'keypair:Unbind');
      assert.equal(failed.request.result, 'success', 'the request was accepted…');
      assert.equal(failed.outcomes.length, 1, JSON.stringify(failed.outcomes));
      const [why] = failed.outcomes;
      assert.equal(why.result, 'failure', '…and its outcome says it failed');
      assert.equal(why.errorCode, 'Live.CredentialRejected');
      assert.match(why.detail, /rejected the credential for user 'root'/);
      assert.ok(!why.detail.includes('PRIVATE KEY'), 'the detail never quotes the credential');
      assert.ok(named(why, `keypair/${keyName}`) && named(why, `instance/${inst.id}`), JSON.stringify(why.resources));

      const ok = await entriesOf(okTaskId);
      assert.equal(ok.outcomes.length, 1, JSON.stringify(ok.outcomes));
      assert.equal(ok.outcomes[0].result, 'success');
      assert.equal(ok.outcomes[0].errorCode, null);
      assert.match(ok.outcomes[0].detail, /live unbind succeeded on 1 of 1 instance/);
      assert.ok(named(ok.outcomes[0], `keypair/${keyName}`) && named(ok.outcomes[0], `instance/${inst.id}`));

      // Which unbinds of this key pair failed in the last week: the one with the wrong key, and only it.
      const weekAgo = new Date(Date.now() - 7 * 86_400_000).toISOString();
      const q = new URLSearchParams({
        action: 'keypair:Unbind',
        resource: `keypair/${keyName}`,
        stage: 'outcome',
        result: 'failure',
        from: weekAgo,
      });
      const search = await api.call('GET', `/api/v1/audit?${q}`);
      assert.deepEqual(
        search.entries.map((e: any) => [e.taskId, e.errorCode, e.face]),
        [[failedTaskId, 'Live.CredentialRejected', face]],
      );
      // The instance's outcomes: one failure, then one success, newest first.
      const byInstance = await api.call(
        'GET',
        `/api/v1/audit?${new URLSearchParams({ resource: `instance/${inst.id}`, stage: 'outcome', action: 'keypair:Unbind' })}`,
      );
      assert.deepEqual(
        byInstance.entries.map((e: any) => [e.taskId, e.result]),
        [
          [okTaskId, 'success'],
          [failedTaskId, 'failure'],
        ],
      );
    });
  }

  test('KPS: DisassociateKeypair with the wrong private key ends FAILED_UNBIND, and the audit says so and why; with the right key, SUCCESS_UNBIND', async () => {
    const created = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs',
      data: { keypair: { name: 'audit-kps' } },
    });
    const privateKey: string = created.keypair.private_key;
    const keyFile = await writePrivateKey(privateKey);
    const inst = await linuxInstance();
    const associated = await kps.call({
      method: 'POST',
      url: '/v3/{project_id}/keypairs/associate',
      data: { keypair_name: 'audit-kps', server: { id: inst.id, auth: { type: 'password', key: ROOT_PASSWORD } } },
    });
    assert.equal((await pollTask(kps, associated.task_id)).task_status, 'SUCCESS_RESET');

    const disassociate = async (key: string) =>
      (
        await kps.call({
          method: 'POST',
          url: '/v3/{project_id}/keypairs/disassociate',
          data: { server: { id: inst.id, auth: { type: 'keypair', key } } },
        })
      ).task_id as string;
    const failedId = await disassociate(wrongKey);
    assert.equal((await pollTask(kps, failedId)).task_status, 'FAILED_UNBIND');
    assert.equal(await loginCode(inst, { identityFile: keyFile }), 0, 'the key still logs in');

    const failed = await entriesOf(failedId);
    assert.equal(failed.request.face, 'kps');
    assert.equal(failed.request.action, 'keypair:Unbind');
    assert.ok(named(failed.request, 'keypair/audit-kps'), 'the request names the key pair it removed');
    assert.deepEqual(
      failed.outcomes.map((o) => [o.result, o.errorCode]),
      [['failure', 'Live.CredentialRejected']],
    );
    assert.match(failed.outcomes[0].detail, /rejected the credential/);
    assert.ok(named(failed.outcomes[0], 'keypair/audit-kps') && named(failed.outcomes[0], `instance/${inst.id}`));

    const okId = await disassociate(privateKey);
    assert.equal((await pollTask(kps, okId)).task_status, 'SUCCESS_UNBIND');
    assert.equal(await loginCode(inst, { identityFile: keyFile }), 255, 'the key is refused at once');
    const ok = await entriesOf(okId);
    assert.deepEqual(
      ok.outcomes.map((o) => [o.result, o.errorCode]),
      [['success', null]],
    );
    assert.ok(named(ok.outcomes[0], 'keypair/audit-kps') && named(ok.outcomes[0], `instance/${inst.id}`));
  });

  test('ECS (Alibaba SDK): DetachKeyPair of a Linux and a Windows instance — the outcome names the one that failed and why, and the one that succeeded', async () => {
    // The ECS face has no live mode: DetachKeyPair is recorded at once and applied at the next restart.
    const created = await ecs.createKeyPair(REGION, 'audit-ecs');
    const linux = await linuxInstance();
    const [windows] = await api.run({ imageId: WINDOWS_IMAGE, password: 'Win-Pass-0001' });
    await api.waitStatus([windows!], 'Running');
    const attached = await ecs.attachKeyPair(REGION, created.name, [linux.id]);
    assert.equal(attached.failCount, '0');

    const detached = await ecs.detachKeyPair(REGION, created.name, [linux.id, windows!]);
    assert.deepEqual(
      detached.results.map((r) => [r.instanceId, r.success]),
      [
        [linux.id, 'true'],
        [windows, 'false'],
      ],
    );
    // The SDK's answer carries no task id; the request entry does.
    const requests = await api.call(
      'GET',
      `/api/v1/audit?${new URLSearchParams({ action: 'keypair:Unbind', resource: 'keypair/audit-ecs', stage: 'request' })}`,
    );
    assert.equal(requests.entries.length, 1, JSON.stringify(requests.entries));
    assert.equal(requests.entries[0].face, 'ecs');
    const { outcomes } = await entriesOf(requests.entries[0].taskId);
    const failure = outcomes.filter((o) => o.result === 'failure');
    const success = outcomes.filter((o) => o.result === 'success');
    assert.equal(failure.length, 1, JSON.stringify(outcomes));
    assert.equal(success.length, 1, JSON.stringify(outcomes));
    assert.equal(failure[0].errorCode, 'Instance.WindowsNotSupported');
    assert.match(failure[0].detail, /Windows/);
    assert.ok(named(failure[0], `instance/${windows}`) && !named(failure[0], `instance/${linux.id}`));
    assert.ok(named(success[0], `instance/${linux.id}`) && !named(success[0], `instance/${windows}`));
    assert.match(success[0].detail, /on-restart unbind succeeded on 1 of 2 instances; 1 failed/);
    for (const o of outcomes) assert.ok(named(o, 'keypair/audit-ecs'));
  });

  test('filters and export: stage and task id narrow the trail (native API and CLI); entries carry stage, task id and detail', async () => {
    await api.createKeyPair('audit-filters', 'ed25519');
    const linux = await linuxInstance();
    const [windows] = await api.run({ imageId: WINDOWS_IMAGE, password: 'Win-Pass-0002' });
    await api.waitStatus([windows!], 'Running');
    await api.bind({ action: 'bind', keyPairName: 'audit-filters', instanceIds: [linux.id] });
    const { task } = await api.bind({
      action: 'unbind',
      keyPairName: 'audit-filters',
      instanceIds: [linux.id, windows],
    });
    assert.equal(task.status, 'partial');

    const all = (await api.call('GET', `/api/v1/audit?taskId=${task.id}`)).entries;
    assert.deepEqual(all.map((e: any) => e.stage).sort(), ['outcome', 'outcome', 'request']);
    const failures = (await api.call('GET', `/api/v1/audit?taskId=${task.id}&stage=outcome&result=failure`)).entries;
    assert.deepEqual(
      failures.map((e: any) => [e.errorCode, named(e, `instance/${windows}`)]),
      [['Instance.WindowsNotSupported', true]],
    );
    const byRequest = (await api.call('GET', `/api/v1/audit?requestId=${all[0].requestId}`)).entries;
    assert.deepEqual(byRequest.map((e: any) => e.id).sort(), all.map((e: any) => e.id).sort(), 'one request, one task');
    const bad = await api.raw('GET', '/api/v1/audit?stage=after');
    assert.equal(bad.status, 400, 'an unknown stage is refused');

    // The export: the same entries as JSON lines.
    const r = await api.raw('GET', `/api/v1/audit/export?taskId=${task.id}`);
    const lines = String(r.body)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines, all);

    // The CLI: --task and --stage, as JSON lines and as a table with the detail.
    const env = {
      KEYFLEET_ENDPOINT: kf.url,
      KEYFLEET_ACCESS_KEY_ID: ACCESS_KEY_ID,
      KEYFLEET_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    const jsonl = await cli(['audit', '--task', task.id, '--stage', 'outcome', '--jsonl'], env);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const cliEntries = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(cliEntries.map((e) => e.result).sort(), ['failure', 'success']);
    const table = await cli(['audit', '--task', task.id, '--stage', 'outcome', '--result', 'failure'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`outcome of ${task.id}`));
    assert.match(table.stdout, /failure: Instance\.WindowsNotSupported/);
    assert.match(table.stdout, /Windows/);
  });
});

/** The keyfleet CLI as a user runs it. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}
