/**
 * The console and bindings that expire (issue 19): the bind dialog offers when access ends, the Instances list
 * shows each binding's expiry, and a banner and a filter list the bindings that expire within a day.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, instanceRow, launch, signIn, watchErrors } from './support.js';

describe('console: bindings that expire', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const ids: Record<string, string> = {};

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    await api.createKeyPair('exp-key', 'ed25519');
    const made = await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'exp', password: 'Expiry-Pass-01' });
    made.forEach((id, n) => (ids[`exp-00${n + 1}`] = id));
    await api.waitStatus(made, 'Running');
    // exp-002: a week (not soon); exp-003: bound without an expiry.
    await api.bind({ action: 'bind', keyPairName: 'exp-key', instanceIds: [ids['exp-002']], expiresIn: '7d' });
    await api.bind({ action: 'bind', keyPairName: 'exp-key', instanceIds: [ids['exp-003']] });
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('bind with "After 8 hours": the row shows when it expires, and it is listed as expiring within 24 hours', async () => {
    await instanceRow(page, 'exp-001').waitFor();
    assert.equal(await page.getByTestId('expiring-soon').count(), 0, 'nothing expires within a day yet');
    await page.getByRole('button', { name: 'Actions for exp-001' }).click();
    const menu = page.getByRole('menu', { name: 'Actions for exp-001' });
    await menu.getByRole('menuitem', { name: 'Bind Key Pair', exact: true }).click();
    const d = page.getByRole('dialog');
    await d.getByLabel('Key pair').selectOption('exp-key');
    await d.getByLabel('Access ends').selectOption('8h');
    await d.getByText(/refuses the key after it even if keyfleet is down/).waitFor();
    await d.getByRole('button', { name: 'Bind', exact: true }).click();
    await d.getByText(/takes effect after a restart/).waitFor({ timeout: 20_000 });
    await d.getByRole('button', { name: 'Later', exact: true }).click();
    await d.waitFor({ state: 'detached' });

    const inst = await api.instance(ids['exp-001']!);
    assert.ok(inst.keyExpiresAt, 'bound with an expiry');
    const hours = (new Date(inst.keyExpiresAt).getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 7.9 && hours < 8.01, `about eight hours ahead (${hours})`);
    await instanceRow(page, 'exp-001')
      .locator('.key-expiry')
      .getByText(/^Expires /)
      .waitFor();
    await instanceRow(page, 'exp-002')
      .locator('.key-expiry')
      .getByText(/^Expires /)
      .waitFor();
    assert.equal(await instanceRow(page, 'exp-003').locator('.key-expiry').count(), 0, 'no expiry, none shown');

    const banner = page.getByTestId('expiring-soon');
    await banner.getByText('1 binding expires within 24 hours.').waitFor();
    await banner.getByRole('button', { name: 'Show them' }).click();
    assert.equal(await page.getByRole('checkbox', { name: 'Expiring within 24 h' }).isChecked(), true);
    await instanceRow(page, 'exp-002').waitFor({ state: 'detached' });
    await instanceRow(page, 'exp-001').waitFor();
    assert.equal(await instanceRow(page, 'exp-003').count(), 0);
    assert.deepEqual(errors, []);
  });
});
