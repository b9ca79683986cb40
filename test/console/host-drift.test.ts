/**
 * Drift and host settings of registered real hosts in the web console — Debian's Chromium against a real keyfleet
 * and two real Debian OpenSSH hosts from the harness, managed as root with a management key (registered through
 * the API, password login left to the host, so no sshd reload is needed).
 *
 * Drift: a live-bound host is in sync and its hand-added keys are listed with the fingerprint `ssh-keygen -lf`
 * prints (keyfleet's own management key labelled); keyfleet's block deleted on disk as root shows the host drifted
 * with the finding; Repair runs a live task that succeeds, the row checks in sync again and the file has the block
 * back with the hand-added lines kept. A simulated instance with a key planted inside keyfleet's block (issue 16)
 * shows drifted with the key's fingerprint; Repair asks for the bound key pair's private key first, then removes
 * the key, and the real OpenSSH client is refused with it while the bound key logs in. Host settings: after the host key is rotated on disk, drift says
 * Live.HostKeyChanged; re-pinning with "trust the key the host presents now" (after the risk is confirmed) sends only
 * that, shows the new fingerprint (equal to ssh-keygen's) and the previous one, and the API holds the new pin.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun, writePrivateKey } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';
import {
  type Browser,
  ensureConsoleBuilt,
  instanceRow,
  launch,
  signIn,
  watchErrors,
  closeOpenDialog,
} from './support.js';

const run = promisify(execFile);
const REGION = 'cn-hangzhou';

describe('web console: drift and host settings of registered hosts', () => {
  let kf: Keyfleet;
  let api: Api;
  let hosts: TestHost[] = [];
  let host1: TestHost, host2: TestHost;
  let id1: string, id2: string;
  let mgmt: { privateKeyPath: string; publicKey: string };
  let hand: { privateKeyPath: string; publicKey: string };
  let boundKeyFile: string;
  let boundPrivateKey: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const akPath = (h: TestHost) => path.join(h.home, '.ssh', 'authorized_keys');
  const dialog = () => page.getByRole('dialog');
  /** A host's row in the drift dialog; with `status`, only once it shows that status. */
  const driftRow = (id: string, status?: string) =>
    dialog().locator(
      `table[aria-label="Drift per host"] > tbody > tr[data-instance-id="${id}"]${status ? `[data-drift="${status}"]` : ''}`,
    );

  /** `ssh-keygen -lf` of a public key line, as an operator would compute it. */
  async function keygenFingerprint(publicKey: string): Promise<string> {
    const file = path.join(path.dirname(boundKeyFile), `fp-${Math.random().toString(36).slice(2)}.pub`);
    await fs.writeFile(file, publicKey + '\n');
    return (await run('ssh-keygen', ['-lf', file])).stdout.split(' ')[1]!;
  }

  /** A new host key on disk (a re-installed host): sshd restarted with it; returns its fingerprint by ssh-keygen. */
  async function rotateHostKey(h: TestHost): Promise<string> {
    const keyFile = path.join(path.dirname(h.home), 'ssh_host_ed25519_key');
    await h.stop();
    await fs.rm(keyFile);
    await fs.rm(`${keyFile}.pub`);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    await h.restart();
    return (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${keyFile}.pub`])).stdout.split(' ')[1]!;
  }

  async function openActions(name: string, item: string) {
    await page.getByRole('button', { name: `Actions for ${name}` }).click();
    const menu = page.getByRole('menu', { name: `Actions for ${name}` });
    await menu.waitFor();
    await menu.getByRole('menuitem', { name: item }).click();
  }

  async function closeDialog() {
    await dialog()
      .getByRole('button', { name: /^(Close|Done)$/ })
      .last()
      .click();
    await dialog().waitFor({ state: 'detached' });
  }

  before(async () => {
    ensureConsoleBuilt();
    hosts = await startHosts(2, { user: 'kfd' });
    [host1, host2] = hosts as [TestHost, TestHost];
    mgmt = await sshKeygen('ed25519', 'keyfleet-management');
    hand = await sshKeygen('ed25519', 'hand-added');
    for (const h of hosts) {
      await allowRootLogin(h, mgmt.publicKey);
      // The user's own keys: a comment, a hand-added key and (as on many fleets) the management key too.
      await fs.mkdir(path.join(h.home, '.ssh'), { mode: 0o700 });
      await fs.writeFile(akPath(h), `# added by hand\n${hand.publicKey}\n${mgmt.publicKey}\n`, { mode: 0o600 });
      await fs.chown(path.join(h.home, '.ssh'), h.uid, h.gid);
      await fs.chown(akPath(h), h.uid, h.gid);
    }
    ({ kf, api } = await startInProcess());
    const managementPrivateKey = await fs.readFile(mgmt.privateKeyPath, 'utf8');
    const register = async (h: TestHost, name: string) =>
      (
        await api.call('POST', `/api/v1/regions/${REGION}/hosts`, {
          name,
          address: h.address,
          port: h.port,
          loginUser: h.user,
          homeDir: h.home,
          managementUser: 'root',
          managementPrivateKey,
          passwordLogin: 'unmanaged',
        })
      ).instance.id as string;
    id1 = await register(host1, 'drift-a');
    id2 = await register(host2, 'drift-b');
    const kp = await api.createKeyPair('hd-kp', 'ed25519');
    boundKeyFile = await writePrivateKey(kp.privateKey);
    boundPrivateKey = kp.privateKey;
    const bound = await api.bind({ action: 'bind', keyPairName: 'hd-kp', instanceIds: [id1], mode: 'live' });
    assert.equal(bound.items[0].status, 'succeeded', JSON.stringify(bound.items[0]));

    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });

  afterEach(() => closeOpenDialog(page));

  after(async () => {
    await browser?.close();
    await kf?.close();
    await stopHosts(hosts);
  });

  test('Check drift (every host of the region): in sync, hand-added keys listed with the fingerprint ssh-keygen prints', async () => {
    await instanceRow(page, 'drift-a').waitFor();
    await page.getByRole('button', { name: 'Check drift' }).click();
    await dialog().getByRole('heading', { name: 'Drift check' }).waitFor();
    await driftRow(id1, 'in-sync').waitFor({ timeout: 30_000 });
    assert.equal(await driftRow(id2).getAttribute('data-drift'), 'in-sync', 'both registered hosts are checked');
    assert.equal(await dialog().locator('table[aria-label="Drift per host"] > tbody > tr').count(), 2);
    assert.match((await driftRow(id1).textContent())!, /In sync/);
    assert.match((await driftRow(id1).textContent())!, /hd-kp/);
    assert.equal(
      await driftRow(id1).getByRole('button', { name: 'Repair drift-a' }).count(),
      0,
      'no repair for a host in sync',
    );

    const keys = driftRow(id1).getByRole('table', { name: 'Unmanaged keys on drift-a' });
    const handFp = await keygenFingerprint(hand.publicKey);
    const handRow = keys.locator(`tr[data-fingerprint="${handFp}"]`);
    assert.equal(
      await handRow.count(),
      1,
      `the hand-added key is listed by its ssh-keygen fingerprint (${await keys.textContent()})`,
    );
    const handCells = await handRow.locator('td').allTextContents();
    assert.equal(handCells[0], handFp);
    assert.equal(handCells[1], 'ssh-ed25519');
    assert.equal(handCells[2], 'hand-added');
    assert.match(handCells[3]!, /unknown/);
    assert.ok(!handCells[3]!.includes('management key'));
    const mgmtRow = keys.locator(`tr[data-fingerprint="${await keygenFingerprint(mgmt.publicKey)}"]`);
    assert.match((await mgmtRow.textContent())!, /management key/, "keyfleet's own key is labelled");
    assert.equal(await keys.locator('tbody tr').count(), 2, "the bound key in keyfleet's block is not unmanaged");
    await closeDialog();
  });

  test("keyfleet's block deleted on disk: drifted with the finding; Repair runs a live task, the host is in sync and the file has the block back", async () => {
    const before = await fs.readFile(akPath(host1), 'utf8');
    const lines = before.split('\n');
    const begin = lines.findIndex((l) => l.startsWith('# >>> keyfleet'));
    const end = lines.findIndex((l) => l.startsWith('# <<< keyfleet'));
    assert.ok(begin >= 0 && end > begin, before);
    await fs.writeFile(akPath(host1), [...lines.slice(0, begin), ...lines.slice(end + 1)].join('\n'));
    const bad = await sshRun({
      host: host1.address,
      port: host1.port,
      user: host1.user,
      command: 'echo in',
      identityFile: boundKeyFile,
    });
    assert.notEqual(bad.code, 0, 'the tampering is real: the bound key no longer logs in');

    // One host, from its Actions menu.
    await openActions('drift-a', 'Check drift');
    await dialog().getByRole('heading', { name: 'Drift check' }).waitFor();
    await driftRow(id1, 'drifted').waitFor({ timeout: 30_000 });
    assert.equal(
      await dialog().locator('table[aria-label="Drift per host"] > tbody > tr').count(),
      1,
      'only that host',
    );
    const finding = driftRow(id1).getByRole('list', { name: 'Findings on drift-a' }).locator('li');
    assert.equal(await finding.count(), 1);
    assert.equal(await finding.getAttribute('data-code'), 'block-missing');
    assert.match((await finding.textContent())!, /keyfleet's block is missing; key pair 'hd-kp' is bound/);
    await dialog().getByRole('button', { name: 'Repair all drifted (1)' }).waitFor();

    await driftRow(id1).getByRole('button', { name: 'Repair drift-a' }).click();
    const task = dialog().locator('[data-task-id]');
    await task.waitFor();
    await dialog().locator('[data-task-status="succeeded"]').waitFor({ timeout: 60_000 });
    await dialog()
      .getByText(/^Repaired 1 host/)
      .waitFor();
    const taskId = (await task.getAttribute('data-task-id'))!;
    const link = task.getByRole('link', { name: `task ${taskId.slice(0, 8)}` });
    assert.equal(await link.getAttribute('href'), `/console/tasks/${taskId}`, 'the task links to its page');
    const t = (await api.call('GET', `/api/v1/tasks/${taskId}`)).task;
    assert.deepEqual(
      [t.kind, t.mode, t.keyPairName, t.status, t.face],
      ['bind', 'live', 'hd-kp', 'succeeded', 'console'],
    );

    // The repaired host is checked again by the dialog, and again on request.
    await driftRow(id1, 'in-sync').waitFor({ timeout: 30_000 });
    await dialog().getByRole('button', { name: 'Check again' }).click();
    await dialog()
      .getByText(/checking again/)
      .waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await driftRow(id1).getAttribute('data-drift'), 'in-sync');
    assert.equal(
      await dialog()
        .getByRole('button', { name: /Repair all drifted/ })
        .count(),
      0,
    );

    const after = await fs.readFile(akPath(host1), 'utf8');
    assert.match(
      after,
      /# >>> keyfleet managed keys[^\n]*\nssh-ed25519 \S+ keyfleet:hd-kp\n# <<< keyfleet managed keys <<</,
      after,
    );
    assert.ok(
      after.includes('# added by hand') && after.includes(hand.publicKey) && after.includes(mgmt.publicKey),
      `hand-added lines kept:\n${after}`,
    );
    const good = await sshRun({
      host: host1.address,
      port: host1.port,
      user: host1.user,
      command: 'echo in',
      identityFile: boundKeyFile,
    });
    assert.equal(good.code, 0, `the bound key logs in again: ${good.stderr}`);

    // The link leads to the task's page, which shows the host's result.
    await link.click();
    await dialog().waitFor({ state: 'detached' });
    await page.waitForURL(`**/console/tasks/${taskId}`);
    await page.getByRole('link', { name: id1 }).first().waitFor();
  });

  test('Host settings: after a host key change, re-pin with "trust the key presented now"; the new fingerprint is ssh-keygen\'s', async () => {
    await page.goto(`${kf.url}/console/instances`);
    await instanceRow(page, 'drift-b').waitFor();
    const old = host2.hostKeySha256;
    const fresh = await rotateHostKey(host2);
    assert.notEqual(fresh, old);

    // The changed key stops keyfleet: drift says so.
    await openActions('drift-b', 'Check drift');
    await driftRow(id2, 'error').waitFor({ timeout: 30_000 });
    assert.match((await driftRow(id2).textContent())!, /Live\.HostKeyChanged/);
    await closeDialog();

    const sent: unknown[] = [];
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.method() === 'PATCH' && r.url().endsWith(`/api/v1/instances/${id2}/host`)) sent.push(r.postDataJSON());
    };
    page.on('request', onRequest);
    try {
      await openActions('drift-b', 'Host settings');
      const d = dialog();
      await d.getByRole('heading', { name: 'Host settings' }).waitFor();
      assert.equal(
        (await d.getByTestId('current-host-key').textContent())!.trim(),
        old,
        'the pinned fingerprint is shown',
      );
      assert.equal(await d.getByLabel('Password login').inputValue(), 'unmanaged', 'the current policy is shown');
      assert.match((await d.textContent())!, /edits authorized_keys only and never touches sshd/);

      // Nothing changed: nothing sent.
      await d.getByRole('button', { name: 'Save' }).click();
      await d.getByText(/^Nothing changed/).waitFor();

      await d.getByRole('radio', { name: /Trust the key the host presents now/ }).check();
      await d.getByRole('button', { name: 'Save' }).click();
      await d.getByText('Confirm that you checked the host key on the host.').waitFor();
      assert.deepEqual(sent, [], 'not sent without the confirmation');
      await d.getByRole('checkbox', { name: /I changed this host's key on purpose/ }).check();
      await d.getByRole('button', { name: 'Save' }).click();
      await d.getByRole('heading', { name: 'Host settings saved' }).waitFor({ timeout: 30_000 });
      assert.equal(
        (await d.getByTestId('new-host-key').textContent())!.trim(),
        fresh,
        'the new fingerprint shown is the one ssh-keygen prints',
      );
      assert.equal((await d.getByTestId('previous-host-key').textContent())!.trim(), old);
      await d.getByText('Pinned as the host presented it: compare it with the host.').waitFor();
      assert.deepEqual(sent, [{ repinHostKey: true }], 'only the changed field is sent');
      await closeDialog();
    } finally {
      page.off('request', onRequest);
    }
    assert.equal((await api.instance(id2)).hostKeySha256, fresh, 'the API holds the new pin');

    // With the new pin keyfleet reaches the host again.
    await openActions('drift-b', 'Check drift');
    await driftRow(id2, 'in-sync').waitFor({ timeout: 30_000 });
    await closeDialog();
  });

  test("a simulated instance: a key planted inside keyfleet's block is drift with its fingerprint; Repair asks for the key pair's private key, removes the key, and OpenSSH refuses it", async () => {
    const [simId] = (await api.run({ imageId: LINUX_IMAGE, keyPairName: 'hd-kp', name: 'drift-sim' })) as [string];
    await api.waitStatus([simId], 'Running');
    const sim = await api.instance(simId);
    const simAk = path.join(kf.config.dataDir, 'sim', 'instances', simId, 'root', '.ssh', 'authorized_keys');
    const intruder = await sshKeygen('ed25519', 'planted');
    const intruderFp = await keygenFingerprint(intruder.publicKey);
    await fs.writeFile(
      simAk,
      (await fs.readFile(simAk, 'utf8')).replace('# <<< keyfleet', `${intruder.publicKey}\n# <<< keyfleet`),
    );
    const simLogin = (identityFile: string) =>
      sshRun({ host: sim.address, port: sim.sshPort, user: 'root', command: 'echo in', identityFile });
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 0, 'the tampering is real: the planted key logs in');

    await page.goto(`${kf.url}/console/instances`);
    await instanceRow(page, 'drift-sim').waitFor();
    await page.getByRole('button', { name: 'Check drift' }).click();
    await driftRow(simId, 'drifted').waitFor({ timeout: 30_000 });
    const finding = driftRow(simId).getByRole('list', { name: 'Findings on drift-sim' }).locator('li');
    assert.equal(await finding.count(), 1);
    assert.equal(await finding.getAttribute('data-code'), 'foreign-key-in-block');
    const findingText = (await finding.textContent()) ?? '';
    assert.ok(findingText.includes(intruderFp), findingText);
    const planted = driftRow(simId)
      .getByRole('table', { name: 'Unmanaged keys on drift-sim' })
      .locator(`tr[data-fingerprint="${intruderFp}"]`);
    assert.match((await planted.textContent())!, /in keyfleet's block/);

    const sent: any[] = [];
    const onRequest = (r: import('playwright-core').Request) => {
      if (r.method() === 'POST' && r.url().endsWith('/drift-repairs')) sent.push(r.postDataJSON());
    };
    page.on('request', onRequest);
    try {
      await driftRow(simId).getByRole('button', { name: 'Repair drift-sim' }).click();
      const form = dialog().getByRole('form', { name: 'Credential for the repair' });
      await form.waitFor();
      assert.equal(sent.length, 0, 'nothing is sent before the credential is given');
      assert.match((await form.textContent())!, /hd-kp/, 'the key pair whose private key is needed is named');
      await form.getByRole('button', { name: 'Repair with this credential' }).click();
      await form.getByText('Upload or paste the private key.').waitFor();
      await form.getByRole('textbox', { name: 'Private key' }).fill(boundPrivateKey);
      await form.getByRole('button', { name: 'Repair with this credential' }).click();
      await dialog().locator('[data-task-status="succeeded"]').waitFor({ timeout: 60_000 });
      assert.equal(await form.count(), 0, 'the form is gone with its credential');
      assert.equal(sent.length, 1);
      const body = (sent as any[])[0];
      assert.deepEqual(body.instanceIds, [simId]);
      assert.equal(body.credential.kind, 'privateKey');
      await driftRow(simId, 'in-sync').waitFor({ timeout: 30_000 });
    } finally {
      page.off('request', onRequest);
    }
    assert.ok(!(await fs.readFile(simAk, 'utf8')).includes(intruder.publicKey.split(' ')[1]!), 'the key is gone');
    assert.equal((await simLogin(intruder.privateKeyPath)).code, 255, 'OpenSSH refuses the planted key');
    assert.equal((await simLogin(boundKeyFile)).code, 0, 'the bound key still logs in');
    await closeDialog();
  });

  test('Register host sends the password-login policy and sudo chosen in the dialog', async () => {
    let body: any = null;
    await page.route('**/api/v1/regions/*/hosts', async (route) => {
      body = route.request().postDataJSON();
      await route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'Input.Invalid', message: 'stopped by the test', requestId: 'test', details: {} }),
      });
    });
    try {
      await page.getByRole('button', { name: 'Register host' }).click();
      const d = dialog();
      await d.getByRole('heading', { name: 'Register host' }).waitFor();
      assert.equal(await d.getByLabel('Password login').inputValue(), 'managed', 'managed by default');
      await d.getByLabel('Name', { exact: true }).fill('policy-probe');
      await d.getByLabel('Address', { exact: true }).fill('10.0.0.9');
      await d
        .getByLabel('Management private key', { exact: true })
        .fill(await fs.readFile(mgmt.privateKeyPath, 'utf8'));
      await d.getByLabel('Password login').selectOption('unmanaged');
      await d.getByRole('checkbox', { name: 'Use sudo' }).check();
      await d.getByRole('button', { name: 'Register', exact: true }).click();
      await d.getByRole('alert').filter({ hasText: 'stopped by the test' }).waitFor();
      assert.equal(body?.passwordLogin, 'unmanaged');
      assert.equal(body?.sudo, true);
      await d.getByRole('button', { name: 'Cancel' }).click();
      await dialog().waitFor({ state: 'detached' });
    } finally {
      await page.unroute('**/api/v1/regions/*/hosts');
    }
  });

  test('no script errors', () => {
    assert.deepEqual(errors, []);
  });
});
