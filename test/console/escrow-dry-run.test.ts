/**
 * The console's escrow and dry-run flows in Chromium (issue 20): opt in to escrow in the Create Key Pair dialog;
 * the Escrow panel downloads the kept key, stops keeping it and keeps an uploaded one again; the bind/unbind
 * dialog previews a live change as per-machine diffs with their risks, changing nothing, and an on-restart one as
 * what each instance's next boot would write.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

const KP = '/api/v1/regions/cn-hangzhou/key-pairs';

describe('console: escrow and dry-run diffs', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let createdKey = '';
  const dialog = () => page.getByRole('dialog');

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key Pairs' }).click();
    await page.getByRole('heading', { name: 'Key Pairs', level: 1 }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('create with the escrow box ticked: the key is downloaded and kept', async () => {
    await page.getByRole('button', { name: 'Create Key Pair' }).first().click();
    const d = dialog();
    await d.getByLabel('Name', { exact: true }).fill('esc-ui');
    await d.getByRole('checkbox', { name: /Also keep the private key in keyfleet/ }).check();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      d.getByRole('button', { name: 'Create and download' }).click(),
    ]);
    createdKey = fs.readFileSync((await download.path())!, 'utf8');
    await d.getByText(/keyfleet also keeps the private key, sealed/).waitFor();
    await d.getByRole('button', { name: 'Done' }).click();
    const shown = await api.call('GET', `${KP}/esc-ui`);
    assert.equal(shown.keyPair.privateKeyEscrowed, true);
    assert.equal((await api.call('POST', `${KP}/esc-ui/escrow/export`)).privateKey, createdKey);
  });

  test('the Escrow panel: download the kept key, stop keeping it, keep it again from the file', async () => {
    await page.getByRole('button', { name: 'Escrow of esc-ui' }).click();
    const d = dialog();
    const panel = d.getByTestId('escrow-panel');
    await panel.getByText(/keyfleet keeps this key pair’s private key/).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('button', { name: 'Download private key' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'esc-ui.pem');
    assert.equal(fs.readFileSync((await download.path())!, 'utf8'), createdKey);

    await panel.getByRole('button', { name: 'Stop keeping the private key…' }).click();
    await panel.getByRole('button', { name: 'Stop keeping it' }).click();
    await panel.getByText(/keyfleet does not keep this key pair’s private key/).waitFor();
    assert.equal((await api.call('GET', `${KP}/esc-ui`)).keyPair.privateKeyEscrowed, false);

    // A key that does not match is refused by the server and said so; the right one is kept.
    const other = await api.call('POST', KP, { name: 'esc-other', type: 'ed25519' });
    await panel.getByLabel(/Private key to keep/).fill(other.privateKey);
    await panel.getByRole('button', { name: 'Keep this private key' }).click();
    await panel.getByText(/does not belong to the key pair/).waitFor();
    assert.equal((await api.call('GET', `${KP}/esc-ui`)).keyPair.privateKeyEscrowed, false);
    await panel.getByLabel(/Private key to keep/).fill(createdKey);
    await panel.getByRole('button', { name: 'Keep this private key' }).click();
    await panel.getByText('The private key is kept, sealed.').waitFor();
    assert.equal((await api.call('GET', `${KP}/esc-ui`)).keyPair.privateKeyEscrowed, true);
    await d.getByRole('button', { name: 'Done' }).click();
  });

  test('unbind dialog: "Preview changes" shows the diffs and the last-key risk, changing nothing; then the unbind logs in with the escrowed key', async () => {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'dry-001', password: 'Dry-Run-Pass-02' });
    await api.waitStatus([id!], 'Running');
    const bound = await api.bind({
      action: 'bind',
      keyPairName: 'esc-ui',
      instanceIds: [id],
      mode: 'live',
      credential: { kind: 'password', password: 'Dry-Run-Pass-02' },
    });
    assert.equal(bound.task.status, 'succeeded', JSON.stringify(bound.items));

    await page.getByRole('button', { name: 'Unbind esc-ui', exact: true }).click();
    const d = dialog();
    const source = d.getByRole('list', { name: 'Instances to choose from' });
    await source.locator('li', { hasText: 'dry-001' }).getByRole('checkbox').check();
    await d.getByRole('button', { name: 'Move checked instances to Selected' }).click();
    await d.getByRole('radio', { name: /Now, live over SSH/ }).check();
    await d.getByLabel(/Private key of the key pair to unbind/).fill(createdKey);
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Preview changes (dry run)' }).click();

    const diff = d.getByTestId('dry-run-diff').locator(`section[data-instance="${id}"]`);
    await diff.waitFor({ timeout: 20_000 });
    await diff.locator('[data-risk="RemovesLastKey"]').waitFor();
    assert.match((await diff.locator('[data-risk]').allTextContents()).join(' '), /removes the last key/i);
    const removed = await diff.locator('[data-line="del"]').allTextContents();
    assert.ok(
      removed.some((l) => l.startsWith('-ssh-ed25519 ')),
      `the key line is shown removed: ${removed}`,
    );
    const added = await diff.locator('[data-line="add"]').allTextContents();
    assert.ok(added.includes('+PasswordAuthentication yes'), `the drop-in turns password login on: ${added}`);
    assert.match((await diff.textContent())!, /--- a\/root\/.ssh\/authorized_keys/);

    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, 'esc-ui', 'the preview changed nothing');
    assert.equal(inst.passwordLogin, false);

    // The key pair is escrowed: the unbind itself may log in with the kept key, sending no credential.
    await d.getByRole('radio', { name: /Log in with the escrowed private key of esc-ui/ }).check();
    await d.getByRole('button', { name: 'Unbind 1 instance' }).click();
    await d.getByRole('heading', { name: 'Unbind finished' }).waitFor({ timeout: 20_000 });
    await d.getByText(/escrowed private key of key pair 'esc-ui'/).waitFor();
    assert.equal((await api.instance(id!)).keyPairName, null, 'unbound with the escrowed key');
    assert.deepEqual(errors, []);
  });

  test('bind dialog, at the next restart: "Preview changes" shows what the boot would write and the risk, recording nothing', async () => {
    const [id] = await api.run({ imageId: LINUX_IMAGE, name: 'dry-002', password: 'Dry-Run-Pass-03' });
    await api.waitStatus([id!], 'Running');
    // The live unbind above left its result open.
    await dialog().getByRole('button', { name: 'Close', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Bind esc-ui', exact: true }).click();
    const d = dialog();
    const source = d.getByRole('list', { name: 'Instances to choose from' });
    await source.locator('li', { hasText: 'dry-002' }).getByRole('checkbox').check();
    await d.getByRole('button', { name: 'Move checked instances to Selected' }).click();
    assert.equal(await d.getByRole('radio', { name: /At the next restart/ }).isChecked(), true);
    await d.getByRole('button', { name: 'Preview changes (dry run)' }).click();

    const diff = d.getByTestId('dry-run-diff').locator(`section[data-instance="${id}"]`);
    await diff.waitFor({ timeout: 20_000 });
    const risk = diff.locator('[data-risk="PasswordOffBeforeKeyProven"]');
    await risk.waitFor();
    assert.match((await risk.textContent())!, /turned off at its next restart/);
    const added = await diff.locator('[data-line="add"]').allTextContents();
    assert.ok(
      added.some((l) => l.startsWith('+ssh-ed25519 ')),
      `the key line is shown added: ${added}`,
    );
    assert.ok(added.includes('+PasswordAuthentication no'), `the drop-in turns password login off: ${added}`);
    const inst = await api.instance(id!);
    assert.equal(inst.keyPairName, null, 'the preview recorded nothing');
    assert.equal(inst.pendingRestart, false);
    await d.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(errors, []);
  });
});
