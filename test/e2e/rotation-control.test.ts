/**
 * Rotations by hand (issue 19), on simulated instances with on-restart changes (each wave is recorded at once, so
 * the waves' order, not SSH, is what is tested): bounds and errors that change nothing; a canary as a percentage;
 * pause, resume (the next wave at once) and cancel (the rest skipped, still on A); the CLI's start, show, pause,
 * resume and cancel; the audit of each.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, ApiFailure, LINUX_IMAGE, sleep, startInProcess } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import { cliEnvFor } from '../cli/support/run-cli.js';

const REGION = 'cn-hangzhou';
const BIN = path.resolve(import.meta.dirname, '../../bin/keyfleet.js');
const HOUR = 3600;

describe('rotation by hand', () => {
  let kf: Keyfleet;
  let api: Api;
  let env: Record<string, string>;
  let dataDir: string;
  let ids: string[];

  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: { ...process.env, ...env }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  async function failure(p: Promise<unknown>): Promise<ApiFailure> {
    try {
      await p;
    } catch (err) {
      if (err instanceof ApiFailure) return err;
      throw err;
    }
    throw new Error('the call succeeded');
  }

  async function waitFor(id: string, ok: (d: any) => boolean): Promise<any> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const d = await api.call('GET', `/api/v1/rotations/${id}`);
      if (ok(d)) return d;
      if (Date.now() > deadline) throw new Error(JSON.stringify(d));
      await sleep(50);
    }
  }

  const boundTo = async (name: string) =>
    (await api.call('GET', `/api/v1/regions/${REGION}/instances?limit=100&keyPairName=${name}`)).instances.map(
      (i: any) => i.id,
    );

  before(async () => {
    let started: Record<string, string>;
    ({ kf, api, env: started } = await startInProcess({ extra: { KEYFLEET_ROTATION_POLL_MS: '100' } }));
    dataDir = started.KEYFLEET_DATA_DIR!;
    env = cliEnvFor(kf.url);
    ids = await api.run({ imageId: LINUX_IMAGE, amount: 10, name: 'rot' });
    await api.waitStatus(ids, 'Running');
    for (const name of ['ctl-a', 'ctl-b', 'ctl-c', 'ctl-unbound']) await api.createKeyPair(name, 'ed25519');
  });
  after(async () => kf?.close());

  async function bindAll(name: string) {
    const r = await api.bind({ action: 'bind', keyPairName: name, instanceIds: ids });
    assert.equal(r.task.succeeded, ids.length);
  }

  test('bounds and errors: a clear code, and no rotation made', async () => {
    await bindAll('ctl-a');
    const before = (await api.call('GET', '/api/v1/rotations')).total;
    const start = (body: Record<string, unknown>) =>
      failure(
        api.call('POST', `/api/v1/regions/${REGION}/rotations`, {
          fromKeyPairName: 'ctl-a',
          toKeyPairName: 'ctl-b',
          mode: 'on-restart',
          waveSize: 3,
          ...body,
        }),
      );
    for (const [body, status, code] of [
      [{ waveSize: 0 }, 400, 'Input.Invalid'],
      [{ waveSize: 501 }, 400, 'Input.Invalid'],
      [{ pauseSeconds: 24 * HOUR + 1 }, 400, 'Input.Invalid'],
      [{ maxFailures: -1 }, 400, 'Input.Invalid'],
      [{ canaryPercent: 101 }, 400, 'Input.Invalid'],
      [{ canary: 2, canaryPercent: 10 }, 400, 'Input.Invalid'],
      [{ toKeyPairName: 'ctl-a' }, 400, 'Input.Invalid'],
      [{ toKeyPairName: 'no-such' }, 404, 'KeyPair.NotFound'],
      [{ fromKeyPairName: 'ctl-unbound' }, 409, 'Rotation.NothingToRotate'],
      [{ instanceIds: [ids[0], 'i-notboundtoa0000000'] }, 409, 'Instance.NotBound'],
      [{ instanceIds: [ids[0], ids[0]] }, 400, 'Batch.DuplicateIds'],
      [{ mode: 'sideways' }, 400, 'Input.Invalid'],
    ] as const) {
      const f = await start(body);
      assert.equal(f.status, status, `${JSON.stringify(body)}: ${JSON.stringify(f.body)}`);
      assert.equal(f.body.code, code, JSON.stringify(body));
    }
    assert.equal((await api.call('GET', '/api/v1/rotations')).total, before, 'no rotation was made');
    assert.deepEqual((await boundTo('ctl-a')).sort(), [...ids].sort(), 'nothing changed');
    const missing = await failure(api.call('GET', '/api/v1/rotations/rot-nosuchrotation000'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'Rotation.NotFound');
  });

  test('pause, resume (the next wave at once) and cancel (the rest skipped, left on A); canary as a percentage', async () => {
    await bindAll('ctl-a');
    const beforeCreate = Date.now();
    const created = await api.call('POST', `/api/v1/regions/${REGION}/rotations`, {
      fromKeyPairName: 'ctl-a',
      toKeyPairName: 'ctl-b',
      mode: 'on-restart',
      canaryPercent: 25,
      waveSize: 3,
      pauseSeconds: HOUR,
    });
    const id = created.rotation.id;
    assert.equal(created.rotation.canarySize, 3, '25% of 10, rounded up');
    assert.equal(created.rotation.waveCount, 4, '3 + 3 + 3 + 1');
    // The canary runs, then the rotation waits out its pause of an hour.
    const waiting = await waitFor(id, (d) => d.waves[0].status === 'done');
    assert.equal(waiting.rotation.status, 'running');
    // An hour after the canary ended: the canary ended after the create and before this answer (bounds that hold
    // however slow the machine is).
    const next = Date.parse(waiting.rotation.nextWaveAt);
    assert.ok(
      next >= beforeCreate + HOUR * 1000 && next <= Date.now() + HOUR * 1000,
      'next wave an hour after the canary',
    );
    assert.deepEqual(
      waiting.waves.map((w: any) => w.status),
      ['done', 'pending', 'pending', 'pending'],
    );

    const paused = await api.call('POST', `/api/v1/rotations/${id}/pause`, { reason: 'checking the canary' });
    assert.equal(paused.rotation.status, 'paused');
    assert.match(paused.rotation.reason, /checking the canary/);
    const again = await failure(api.call('POST', `/api/v1/rotations/${id}/pause`, {}));
    assert.equal(again.body.code, 'Rotation.IncorrectStatus');

    const resumed = await api.call('POST', `/api/v1/rotations/${id}/resume`);
    assert.equal(resumed.rotation.status, 'running');
    const second = await waitFor(id, (d) => d.waves[1].status === 'done');
    assert.equal(second.waves[2].status, 'pending', 'wave 3 waits for its pause');
    assert.equal(second.rotation.succeeded, 6);

    const cancelled = await api.call('POST', `/api/v1/rotations/${id}/cancel`);
    assert.equal(cancelled.rotation.status, 'cancelled');
    assert.ok(cancelled.rotation.finishedAt);
    await sleep(400); // several driver rounds (100 ms): none may start a wave of a cancelled rotation
    const final = await api.call('GET', `/api/v1/rotations/${id}`);
    assert.deepEqual(
      final.waves.map((w: any) => [w.status, w.taskId === null]),
      [
        ['done', false],
        ['done', false],
        ['pending', true],
        ['pending', true],
      ],
    );
    const machines = (await api.call('GET', `/api/v1/rotations/${id}/machines?limit=100`)).machines;
    const rotated = machines.filter((m: any) => m.status === 'succeeded').map((m: any) => m.instanceId);
    const skipped = machines.filter((m: any) => m.status === 'skipped').map((m: any) => m.instanceId);
    assert.equal(rotated.length, 6);
    assert.equal(skipped.length, 4);
    assert.deepEqual((await boundTo('ctl-b')).sort(), rotated.sort());
    assert.deepEqual((await boundTo('ctl-a')).sort(), skipped.sort());
    for (const verb of ['pause', 'resume', 'cancel']) {
      const f = await failure(api.call('POST', `/api/v1/rotations/${id}/${verb}`, {}));
      assert.equal(f.body.code, 'Rotation.IncorrectStatus', verb);
    }
    const audit = (await api.call('GET', '/api/v1/audit?action=keypair:Rotate&stage=request&limit=200')).entries.filter(
      (e: any) => e.resources.some((r: string) => r.endsWith(`task/${id}`)),
    );
    // Pause, the refused second pause, resume, cancel, and the three refused after the cancel: each recorded.
    assert.deepEqual(audit.map((e: any) => [e.result, e.errorCode]).reverse(), [
      ['success', null],
      ['failure', 'Rotation.IncorrectStatus'],
      ['success', null],
      ['success', null],
      ['failure', 'Rotation.IncorrectStatus'],
      ['failure', 'Rotation.IncorrectStatus'],
      ['failure', 'Rotation.IncorrectStatus'],
    ]);
  });

  test('the CLI starts, shows, pauses, resumes and cancels a rotation', async () => {
    await bindAll('ctl-c');
    const started = await cli([
      'rotations',
      'start',
      '--from',
      'ctl-c',
      '--to',
      'ctl-a',
      '--on-restart',
      '--canary',
      '2',
      '--wave-size',
      '4',
      '--pause',
      '1h',
      '--no-wait',
      '--json',
    ]);
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout).rotation.id;
    assert.equal(JSON.parse(started.stdout).rotation.pauseSeconds, HOUR);
    await waitFor(id, (d) => d.waves[0].status === 'done');
    const shown = await cli(['rotations', 'show', id, '--wave', '1']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /1 \(canary\)/);
    assert.match(shown.stdout, /2 machine\(s\)/);
    assert.match(shown.stdout, /succeeded/);
    assert.equal((await cli(['rotations', 'pause', id])).stdout, `rotation ${id} paused\n`);
    assert.equal((await cli(['rotations', 'resume', id])).stdout, `rotation ${id} running\n`);
    await waitFor(id, (d) => d.waves[1].status === 'done');
    assert.equal((await cli(['rotations', 'cancel', id])).stdout, `rotation ${id} cancelled\n`);
    const watched = await cli(['rotations', 'watch', id]);
    assert.equal(watched.code, 3, 'a cancelled rotation is a partial result');
    assert.match(watched.stdout, /cancelled/);
    const listed = await cli(['rotations', 'ls', '--status', 'cancelled', '--json']);
    assert.ok(JSON.parse(listed.stdout).rotations.some((r: any) => r.id === id));
  });

  test('live, logging in with A: the credential sealed for the rotation, wiped when it completes; OpenSSH: B in, A out', async () => {
    const PASSWORD = 'Rotate-Pass-0001';
    const three = await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'live-rot', password: PASSWORD });
    await api.waitStatus(three, 'Running');
    const a = await api.createKeyPair('live-a', 'ed25519');
    const b = await api.createKeyPair('live-b', 'ed25519');

    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'live-a',
      instanceIds: three,
      mode: 'live',
      credential: { kind: 'password', password: PASSWORD },
    });
    assert.equal(bound.task.succeeded, 3, JSON.stringify(bound.items));
    const created = await api.call('POST', `/api/v1/regions/${REGION}/rotations`, {
      fromKeyPairName: 'live-a',
      toKeyPairName: 'live-b',
      mode: 'live',
      // Binding A turned password login off: keyfleet logs in with A's private key to replace it.
      credential: { kind: 'privateKey', privateKey: a.privateKey },
      canary: 1,
      waveSize: 2,
    });
    const id = created.rotation.id;
    assert.equal(JSON.stringify(created).includes('PRIVATE KEY'), false, 'the credential is never shown');
    const stored = () => {
      const db = new BetterSqlite3(`${dataDir}/keyfleet.db`, { readonly: true });
      try {
        return (db.prepare('select sealed_credential as s from rotations where id = ?').get(id) as { s: string | null })
          .s;
      } finally {
        db.close();
      }
    };
    const done = await waitFor(id, (d) => d.rotation.status !== 'running');
    assert.equal(
      done.rotation.status,
      'completed',
      JSON.stringify((await api.call('GET', `/api/v1/rotations/${id}/machines`)).machines),
    );
    assert.equal(stored(), null, 'the sealed credential is wiped when the rotation completes');
    const machines = (await api.call('GET', `/api/v1/rotations/${id}/machines`)).machines;
    const [keyA, keyB] = [await writePrivateKey(a.privateKey), await writePrivateKey(b.privateKey)];
    for (const m of machines) {
      assert.match(m.detail, /key 'live-b' accepted, removed key refused/);
      const inst = await api.instance(m.instanceId);
      const login = (identityFile: string) =>
        sshRun({ host: inst.address, port: inst.sshPort, user: 'root', command: 'echo in', identityFile });
      assert.equal((await login(keyB)).code, 0, `${m.instanceId}: B logs in`);
      assert.notEqual((await login(keyA)).code, 0, `${m.instanceId}: A refused`);
    }
  });
});
