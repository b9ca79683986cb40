/**
 * The instance and key pair detail pages (issue 20) in Chromium: links from the lists, the "Bound to" filter (an
 * exact key pair match, not a text search), the facts and the history from the audit trail, extending a binding's
 * expiry, the browser's check that a private key is the bound key pair's before a live unbind sends it, starting a
 * rotation, labels that say what is true, and two geometry checks (the transfer list takes the dialog's height; the
 * task page's progress bar fills its card).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, instanceRow, launch, signIn, watchErrors } from './support.js';

const PASSWORD = 'Detail-Pass-01';

describe('console: instance and key pair detail pages', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const ids: Record<string, string> = {};
  let webKey: { keyPair: any; privateKey: string };
  let otherKey: { keyPair: any; privateKey: string };

  const tasksTotal = async () => (await api.call('GET', '/api/v1/tasks?limit=1')).total as number;

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    webKey = await api.createKeyPair('web', 'ed25519');
    otherKey = await api.createKeyPair('other', 'ed25519');
    await api.createKeyPair('rot-a', 'ed25519');
    await api.createKeyPair('rot-b', 'ed25519');
    const withPassword = await api.run({ imageId: LINUX_IMAGE, amount: 2, name: 'web', password: PASSWORD });
    withPassword.forEach((id, n) => (ids[`web-00${n + 1}`] = id));
    const [bare] = await api.run({ imageId: LINUX_IMAGE, name: 'web-003' });
    ids['web-003'] = bare!;
    const [reset] = await api.run({ imageId: LINUX_IMAGE, name: 'resetme', password: PASSWORD });
    ids.resetme = reset!;
    await api.waitStatus(Object.values(ids), 'Running');
    // "web" is bound to web-002 only, live (with the root password), so the machine has it now.
    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'web',
      instanceIds: [ids['web-002']],
      mode: 'live',
      credential: { kind: 'password', password: PASSWORD },
    });
    assert.equal(bound.task.succeeded, 1, JSON.stringify(bound.items));
    await api.bind({ action: 'bind', keyPairName: 'rot-a', instanceIds: [ids['web-001']] });
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('a key pair\'s "N instances" link filters by the key pair, not by text: "web" lists web-002 only', async () => {
    await page.getByRole('link', { name: 'Key Pairs' }).first().click();
    const row = page.locator('tr[data-key-pair="web"]');
    await row.getByRole('link', { name: '1 instance' }).click();
    await page.getByTestId('bound-to-filter').getByText('web').waitFor();
    await instanceRow(page, 'web-002').waitFor();
    for (const other of ['web-001', 'web-003']) assert.equal(await instanceRow(page, other).count(), 0, other);
    assert.match(page.url(), /\/console\/instances\?keyPair=web$/);
    await page.getByRole('button', { name: 'Clear the Bound to web filter' }).click();
    await instanceRow(page, 'web-003').waitFor();
  });

  test('the key pair page: both fingerprints, escrow, the bound instances by filter, the tags slot, the history', async () => {
    await page.getByRole('link', { name: 'Key Pairs' }).first().click();
    await page.locator('tr[data-key-pair="web"]').getByRole('link', { name: 'web', exact: true }).click();
    const detail = page.getByTestId('key-pair-detail');
    await detail.waitFor();
    assert.match(page.url(), /\/console\/key-pairs\/web$/);
    assert.equal(await detail.getByTestId('fp-sha256').textContent(), webKey.keyPair.fingerprintSha256);
    assert.equal(await detail.getByTestId('fp-md5').textContent(), webKey.keyPair.fingerprintMd5);
    await detail
      .getByTestId('escrow-state')
      .getByText(/^Not escrowed/)
      .waitFor();
    // Escrow is managed from the page: its panel opens in a dialog.
    await detail.getByTestId('escrow-state').getByRole('button', { name: 'Escrow of web' }).click();
    await page.getByRole('dialog').getByRole('heading', { name: 'Escrow of web' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    const bound = detail.getByTestId('bound-instances');
    await bound.locator(`tr[data-instance-id="${ids['web-002']}"]`).waitFor();
    assert.equal(await bound.locator('tbody tr').count(), 1, 'web-001 and web-003 are not bound to web');
    // Its tags are edited on the page (the TagsEditor), and the API reads what was set.
    const tags = detail.locator('[data-slot="key-pair-tags"]');
    await tags.getByLabel('Tag key').fill('owner');
    await tags.getByLabel('Tag value').fill('web-team');
    await tags.getByRole('button', { name: 'Add tag' }).click();
    await tags.locator('li[data-tag="owner"]').waitFor();
    const listed = await api.call('GET', '/api/v1/regions/cn-hangzhou/key-pairs?tag=owner=web-team');
    assert.deepEqual(
      listed.keyPairs.map((k: any) => k.name),
      ['web'],
    );
    const bind = detail.locator('tr[data-stage="request"][data-result="success"]').filter({ hasText: 'Bind' });
    await bind.first().waitFor();
    assert.match((await bind.first().textContent())!, /admin.*Native API/s);

    // A link by id reaches the same page.
    await page.goto(`${kf.url}/console/key-pairs/${webKey.keyPair.id}`);
    await page.getByTestId('key-pair-detail').getByRole('heading', { name: 'web', level: 1 }).waitFor();
  });

  test('the instance page: binding, proof, SSH address, password state, and the history with who, face and result', async () => {
    await page.goto(`${kf.url}/console/instances`);
    await instanceRow(page, 'web-002').getByRole('link', { name: 'web-002' }).click();
    const detail = page.getByTestId('instance-detail');
    await detail.waitFor();
    assert.match(page.url(), new RegExp(`/console/instances/${ids['web-002']}$`));
    const inst = await api.instance(ids['web-002']!);
    await detail.getByTestId('fact-key-pair').getByText('· applied').waitFor();
    await detail
      .getByTestId('fact-verification')
      .getByText(/^Verified at/)
      .waitFor();
    assert.equal(await detail.getByTestId('fact-ssh').textContent(), `root@${inst.address}:${inst.sshPort}`);
    assert.equal(await detail.getByTestId('fact-password').textContent(), 'Password login off');
    assert.equal(await detail.getByTestId('fact-binding-mode').textContent(), 'Live over SSH');
    assert.equal(await detail.getByTestId('fact-expiry').textContent(), 'Never (until unbound)');
    const outcome = detail.locator('tr[data-stage="outcome"][data-result="success"]');
    await outcome.first().waitFor();
    assert.match((await outcome.first().textContent())!, /Bind: result on the machine.*admin.*Native API.*Success/s);
    // Its tags, on the page.
    const tags = detail.locator('[data-slot="instance-tags"]');
    await tags.getByLabel('Tag key').fill('role');
    await tags.getByLabel('Tag value').fill('frontend');
    await tags.getByRole('button', { name: 'Add tag' }).click();
    await tags.locator('li[data-tag="role"]').waitFor();
    assert.deepEqual((await api.instance(ids['web-002']!)).tags, [{ key: 'role', value: 'frontend' }]);
  });

  test('labels say what is true: no root password is not "Password login on"; a reset is a new password waiting', async () => {
    await page.goto(`${kf.url}/console/instances/${ids['web-003']}`);
    await page.getByTestId('fact-password').getByText('No root password: no password login').waitFor();
    await page.goto(`${kf.url}/console/instances`);
    assert.equal(
      await instanceRow(page, 'web-003').getByTestId('password-state').textContent(),
      'No root password: no password login',
    );
    assert.equal(await instanceRow(page, 'web-001').getByTestId('password-state').textContent(), 'Password login on');

    await api.call('POST', `/api/v1/instances/${ids.resetme}/reset-password`, { password: 'Another-Pass-02' });
    await page.reload();
    // rot-a's bind on web-001 waits too: two changes of different kinds.
    await page
      .getByText('2 instances have a login change (key pair or root password) waiting for a restart.')
      .waitFor();
    await page.goto(`${kf.url}/console/instances/${ids.resetme}`);
    await page
      .getByTestId('fact-password')
      .getByText('New root password set: takes effect at the next restart')
      .waitFor();
    const keyFact = page.getByTestId('fact-key-pair');
    await keyFact.getByText('Restart needed').waitFor();
    assert.match((await keyFact.textContent())!, /^None/, 'no key pair change waits, only the password');
  });

  test('extend the expiry of a live binding from the instance page: the key is checked, then the line rewritten', async () => {
    await page.goto(`${kf.url}/console/instances/${ids['web-002']}`);
    await page.getByRole('button', { name: 'Extend expiry' }).click();
    const d = page.getByTestId('extend-expiry-dialog');
    await d.getByLabel('New expiry').selectOption('30d');
    await d.getByLabel('Private key', { exact: true }).fill(otherKey.privateKey);
    const before = await tasksTotal();
    await d.getByRole('button', { name: 'Set expiry' }).click();
    const mismatch = d.getByTestId('key-mismatch');
    await mismatch.waitFor();
    const text = (await mismatch.textContent())!;
    assert.ok(text.includes(otherKey.keyPair.fingerprintSha256), text);
    assert.ok(text.includes(webKey.keyPair.fingerprintSha256), text);
    assert.equal(await tasksTotal(), before, 'nothing was sent');

    await d.getByLabel('Private key', { exact: true }).fill(webKey.privateKey);
    const asked = Date.now();
    await d.getByRole('button', { name: 'Set expiry' }).click();
    const result = d.getByTestId('extend-result');
    await result.getByText(/now ends .* \(rewritten live and proved\)\.$/).waitFor({ timeout: 30_000 });
    const inst = await api.instance(ids['web-002']!);
    // Thirty days from when the server took the request (whole seconds), which lies between the click and now.
    const THIRTY_DAYS = 30 * 86_400_000;
    const at = new Date(inst.keyExpiresAt).getTime();
    assert.ok(at >= asked + THIRTY_DAYS - 1000 && at <= Date.now() + THIRTY_DAYS + 1000, inst.keyExpiresAt);
    await d.getByRole('button', { name: 'Done' }).click();
    await page.getByTestId('fact-expiry').filter({ hasNotText: 'Never' }).waitFor();
  });

  test('a live unbind with the wrong private key is stopped in the browser, naming both fingerprints', async () => {
    await page.goto(`${kf.url}/console/instances/${ids['web-002']}`);
    await page.getByRole('toolbar', { name: 'Instance actions' }).getByRole('button', { name: 'Unbind' }).click();
    const d = page.getByTestId('instance-key-dialog');
    await d.getByText('Now, live over SSH').click();
    await d.getByLabel('Private key of the key pair to unbind').fill(otherKey.privateKey);
    await d.getByRole('checkbox').check();
    const before = await tasksTotal();
    await d.getByRole('button', { name: 'Unbind', exact: true }).click();
    const mismatch = d.getByTestId('key-mismatch');
    await mismatch.waitFor();
    const text = (await mismatch.textContent())!;
    assert.ok(text.includes(`the key given is ${otherKey.keyPair.fingerprintSha256}`), text);
    assert.ok(text.includes(`the key pair bound is ${webKey.keyPair.fingerprintSha256}`), text);
    assert.equal(await tasksTotal(), before, 'the wrong key was never sent');

    await d.getByLabel('Private key of the key pair to unbind').fill(webKey.privateKey);
    await d.getByRole('button', { name: 'Unbind', exact: true }).click();
    await page
      .getByTestId('instance-key-result')
      .getByText(/Key pair web is unbound from web-002/)
      .waitFor({ timeout: 30_000 });
    const inst = await api.instance(ids['web-002']!);
    assert.equal(inst.keyPairName, null, 'the right key unbound it');
  });

  test('start a rotation from the Rotations page', async () => {
    await page.goto(`${kf.url}/console/rotations`);
    await page.getByRole('button', { name: 'Start rotation' }).click();
    const d = page.getByTestId('start-rotation-dialog');
    await d.getByLabel('Replace key pair').selectOption('rot-a');
    await d.getByLabel('With key pair').selectOption('rot-b');
    await d.getByLabel('Wave size').fill('1');
    await d.getByText("At each machine's next restart").click();
    await d.getByRole('button', { name: 'Start rotation' }).click();
    await page.waitForURL(/\/console\/rotations\/[^/]+$/);
    const id = decodeURIComponent(page.url().split('/').pop()!);
    const r = (await api.call('GET', `/api/v1/rotations/${id}`)).rotation;
    assert.equal(r.fromKeyPairName, 'rot-a');
    assert.equal(r.toKeyPairName, 'rot-b');
    assert.equal(r.mode, 'on-restart');
    assert.equal(r.waveSize, 1);
    assert.equal(r.total, 1, 'the one instance bound to rot-a');
  });

  test("geometry at 1280×800: the transfer list takes the dialog's height; the task progress bar fills its card", async () => {
    await page.goto(`${kf.url}/console/key-pairs`);
    await page.getByRole('button', { name: 'Bind other', exact: true }).click();
    const d = page.getByTestId('transfer-dialog');
    await d.locator('.transfer-item').first().waitFor();
    const box = await d.evaluate((dialog) => {
      const list = dialog.querySelector('.transfer-list')!.getBoundingClientRect();
      const item = dialog.querySelector('.transfer-item')!.getBoundingClientRect();
      return { dialog: dialog.getBoundingClientRect().height, list: list.height, item: item.height };
    });
    assert.equal(Math.round(box.dialog), 800 - 32, 'the dialog takes the viewport less its margins');
    assert.ok(box.list / box.item >= 6, `room for at least 6 rows, not 3 (${JSON.stringify(box)})`);
    await d.getByRole('button', { name: 'Cancel' }).click();

    const { task } = await api.bind({ action: 'bind', keyPairName: 'other', instanceIds: [ids['web-003']] });
    await page.goto(`${kf.url}/console/tasks/${task.id}`);
    const bar = page.locator('.card').getByRole('progressbar');
    await bar.waitFor();
    const widths = await bar.evaluate((el) => {
      const card = el.closest('.card')!;
      const style = getComputedStyle(card);
      const inner = card.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
      return { bar: el.getBoundingClientRect().width, inner };
    });
    assert.ok(Math.abs(widths.bar - widths.inner) <= 1, `the bar fills the card (${JSON.stringify(widths)})`);
    assert.deepEqual(errors, []);
  });
});
