/**
 * A live bind that replaces a key pair, in the console in Chromium (issue 20): the Bind dialog names the key pairs
 * the chosen instances have now and whether keyfleet keeps each one's private key. With A escrowed, "Log in with
 * the escrowed private key of A" sends no credential; B then logs in with the real OpenSSH client and A no longer
 * does, and the audit trail has the escrow's use. Where nothing is kept, the dialog says before sending that a
 * credential is needed, and which instances would fail without one when the escrowed keys are chosen for a mix.
 * The instance's own Bind dialog offers the same choice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshRun, writePrivateKey } from '../support/openssh.js';
import { type Browser, ensureConsoleBuilt, instanceRow, launch, signIn, watchErrors } from './support.js';

const KP = '/api/v1/regions/cn-hangzhou/key-pairs';

describe('console: a live replace with the escrowed private key of the key pair bound now', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const files: Record<string, string> = {};
  const privateKeys: Record<string, string> = {};
  const dialog = () => page.getByRole('dialog');

  async function keyPair(name: string, escrow: boolean): Promise<void> {
    const made = await api.call('POST', KP, { name, type: 'ed25519', escrow });
    privateKeys[name] = made.privateKey;
    files[name] = await writePrivateKey(made.privateKey);
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
  const logsIn = async (inst: any, keyPairName: string) =>
    (await sshRun({ host: inst.address, port: inst.sshPort, command: 'echo in', identityFile: files[keyPairName] }))
      .code === 0;

  /** Opens the Bind dialog of `keyPairName` on the Key Pairs page, moves `names` to Selected and chooses live. */
  async function bindLive(keyPairName: string, names: string[]): Promise<void> {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key Pairs' }).click();
    await page.getByRole('heading', { name: 'Key Pairs', level: 1 }).waitFor();
    await page.getByRole('button', { name: `Bind ${keyPairName}`, exact: true }).click();
    const d = dialog();
    const source = d.getByRole('list', { name: 'Instances to choose from' });
    for (const n of names) await source.locator('li', { hasText: n }).getByRole('checkbox').check();
    await d.getByRole('button', { name: 'Move checked instances to Selected' }).click();
    await d.getByRole('radio', { name: /Now, live over SSH/ }).check();
  }
  const keyRow = (name: string) => dialog().getByTestId('current-key-escrow').locator(`li[data-key-pair="${name}"]`);

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
    await keyPair('rep-a', true);
    await keyPair('rep-b', false);
    await keyPair('rep-c', false);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('bind B live on an instance bound to escrowed A: "Log in with the escrowed private key of rep-a", no credential sent', async () => {
    const inst = await runningBoundTo('rep-on-a', 'rep-a', 'Replace-Pass-01');
    assert.ok(await logsIn(inst, 'rep-a'));
    await bindLive('rep-b', ['rep-on-a']);
    const d = dialog();
    await keyRow('rep-a')
      .getByText(/private key kept by keyfleet \(escrowed\)/)
      .waitFor();
    assert.equal(await keyRow('rep-a').getAttribute('data-escrowed'), 'true');

    // Every credential the bind was sent with is seen here: none may leave the browser.
    const sent: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/bindings')) sent.push(r.postDataJSON());
    });
    await d.getByRole('radio', { name: 'Log in with the escrowed private key of rep-a (kept by keyfleet)' }).check();
    await d.getByText(/keyfleet opens the private key it keeps \(escrow\) for this change only/).waitFor();
    assert.equal(await d.getByTestId('escrow-would-fail').count(), 0, 'the one instance is reached by escrow');
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Bind 1 instance' }).click();
    await d.getByRole('heading', { name: 'Bind finished' }).waitFor({ timeout: 30_000 });
    await d.getByText(/escrowed private key of key pair 'rep-a'/).waitFor();

    assert.equal(sent.length, 1);
    assert.equal((sent[0] as any).mode, 'live');
    assert.equal((sent[0] as any).credential, undefined, 'no credential left the browser');

    const now = await api.instance(inst.id);
    assert.equal(now.keyPairName, 'rep-b');
    assert.ok(await logsIn(now, 'rep-b'), 'B logs in');
    assert.ok(!(await logsIn(now, 'rep-a')), 'A no longer does');

    const taskId = (await d.getByRole('link', { name: /^task / }).getAttribute('href'))!.split('/').pop();
    const q = new URLSearchParams({ action: 'keypair:UseEscrowedPrivateKey', resource: `instance/${inst.id}` });
    const { entries } = await api.call('GET', `/api/v1/audit?${q}`);
    assert.equal(entries.length, 1, JSON.stringify(entries));
    assert.ok(
      entries[0].resources.some((r: string) => r.endsWith('keypair/rep-a')),
      JSON.stringify(entries),
    );
    assert.equal(entries[0].stage, 'outcome');
    assert.equal(entries[0].taskId, taskId);
    await d.getByRole('button', { name: 'Close', exact: true }).click();
    assert.deepEqual(errors, []);
  });

  test('A not escrowed: the dialog says before sending that a credential is needed, offers no escrow, and checks the key given', async () => {
    const inst = await runningBoundTo('rep-on-c', 'rep-c', 'Replace-Pass-02');
    await bindLive('rep-b', ['rep-on-c']);
    const d = dialog();
    await keyRow('rep-c')
      .getByText(/private key not kept by keyfleet: give it, or the root password/)
      .waitFor();
    await d
      .getByTestId('credential-needed')
      .getByText(/this live change needs a credential/)
      .waitFor();
    assert.equal(await d.getByRole('radio', { name: /escrowed private key/ }).count(), 0);
    // Nothing is sent without one: the form names what is missing.
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/bindings')) sent.push(r.url());
    });
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Bind 1 instance' }).click();
    await d.getByText('Upload or paste the private key.').waitFor();
    // The browser checks a key given against the key pair the instance has now: B's is named wrong, unsent.
    await d.getByLabel('Private key', { exact: true }).fill(privateKeys['rep-b']!);
    await d.getByRole('button', { name: 'Bind 1 instance' }).click();
    await d
      .getByTestId('key-mismatch')
      .getByText(/does not match key pair rep-c/)
      .waitFor();
    assert.deepEqual(sent, []);
    assert.equal((await api.instance(inst.id)).keyPairName, 'rep-c');

    // C's own private key is the credential that logs in now: the replace goes through with it.
    await d.getByLabel('Private key', { exact: true }).fill(privateKeys['rep-c']!);
    await d.getByRole('button', { name: 'Bind 1 instance' }).click();
    await d.getByRole('heading', { name: 'Bind finished' }).waitFor({ timeout: 30_000 });
    assert.equal(sent.length, 1);
    assert.ok(await logsIn(inst, 'rep-b'), 'B logs in');
    assert.ok(!(await logsIn(inst, 'rep-c')), 'C no longer does');
    await d.getByRole('button', { name: 'Close', exact: true }).click();
  });

  test('a mix: per key pair which are escrowed; choosing escrow names the instances that would fail, and the result shows each', async () => {
    const onA = await runningBoundTo('rep-mix-a', 'rep-a', 'Replace-Pass-03');
    const onC = await runningBoundTo('rep-mix-c', 'rep-c', 'Replace-Pass-04');
    const bare = await runningBoundTo('rep-mix-none', null, 'Replace-Pass-05');
    await bindLive('rep-b', ['rep-mix-a', 'rep-mix-c', 'rep-mix-none']);
    const d = dialog();
    await keyRow('rep-a')
      .getByText(/1 instance · private key kept by keyfleet/)
      .waitFor();
    await keyRow('rep-c')
      .getByText(/1 instance · private key not kept by keyfleet/)
      .waitFor();
    await keyRow('')
      .getByText(/No key pair · 1 instance · no key to log in with/)
      .waitFor();

    await d.getByRole('radio', { name: /Log in with the escrowed private key of rep-a/ }).check();
    const warning = d.getByTestId('escrow-would-fail');
    await warning.getByText(/2 instances would fail \(Live\.CredentialRequired\)/).waitFor();
    assert.match(
      (await warning.locator(`li[data-instance="${onC.id}"]`).textContent())!,
      /keyfleet does not keep the private key of rep-c/,
    );
    assert.match((await warning.locator(`li[data-instance="${bare.id}"]`).textContent())!, /it has no key pair/);
    assert.equal(await warning.locator(`li[data-instance="${onA.id}"]`).count(), 0);

    // Sent anyway: the server's per-instance result is shown, A's instance changed, the others kept their keys.
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Bind 3 instances' }).click();
    await d.getByRole('heading', { name: /Bind finished/ }).waitFor({ timeout: 30_000 });
    await d.getByText('Live.CredentialRequired').first().waitFor();
    assert.equal((await api.instance(onA.id)).keyPairName, 'rep-b');
    assert.equal((await api.instance(onC.id)).keyPairName, 'rep-c');
    assert.equal((await api.instance(bare.id)).keyPairName, null);
    assert.ok(await logsIn(onA, 'rep-b'));
    assert.ok(await logsIn(onC, 'rep-c'), 'C still logs in where nothing could');
    assert.ok(!(await logsIn(onC, 'rep-b')));
    await d.getByRole('button', { name: 'Close', exact: true }).click();
  });

  test("the instance's own Bind dialog offers the escrowed key of the key pair it has now", async () => {
    const inst = await runningBoundTo('rep-single', 'rep-a', 'Replace-Pass-06');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Instances' }).click();
    await instanceRow(page, 'rep-single').waitFor();
    await page.getByRole('button', { name: 'Actions for rep-single' }).click();
    const menu = page.getByRole('menu', { name: 'Actions for rep-single' });
    await menu.getByRole('menuitem', { name: 'Bind Key Pair', exact: true }).click();
    const d = dialog();
    await d.getByLabel('Key pair', { exact: true }).selectOption('rep-b');
    await d.getByRole('radio', { name: /Now, live over SSH/ }).check();
    await keyRow('rep-a')
      .getByText(/private key kept by keyfleet \(escrowed\)/)
      .waitFor();
    await d.getByRole('radio', { name: 'Log in with the escrowed private key of rep-a (kept by keyfleet)' }).check();
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Bind', exact: true }).click();
    await d.getByText(/escrowed private key of key pair 'rep-a'/).waitFor({ timeout: 30_000 });
    assert.equal((await api.instance(inst.id)).keyPairName, 'rep-b');
    assert.ok(await logsIn(inst, 'rep-b'));
    assert.ok(!(await logsIn(inst, 'rep-a')));
    assert.deepEqual(errors, []);
  });
});
