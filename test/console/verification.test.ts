/**
 * The console shows the proof of each machine's key state as text a screen reader reads out: "Verified at <time>"
 * (the time also as a `<time datetime>`) once a boot was proven, "Not verified: <why>" while a change waits for a
 * restart or when the proof failed, in the Instances list and in an instance's key dialog.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, instanceRow, launch, signIn, watchErrors } from './support.js';

describe('console: proof after boot', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const ids: Record<string, string> = {};

  before(async () => {
    ensureConsoleBuilt();
    let env: Record<string, string>;
    ({ kf, api, env } = await startInProcess());
    await api.createKeyPair('proof-key', 'ed25519');
    const made = await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'proof', password: 'Proof-Pass-0001' });
    made.forEach((id, n) => (ids[`proof-00${n + 1}`] = id));
    await api.waitStatus(made, 'Running');
    // proof-002's image reads authorized keys from elsewhere (a drop-in read before keyfleet's): the key is refused.
    const dropIn = path.join(env.KEYFLEET_DATA_DIR!, 'sim/instances', ids['proof-002']!, 'etc/ssh/sshd_config.d');
    fs.writeFileSync(path.join(dropIn, '00-central-keys.conf'), 'AuthorizedKeysFile /etc/ssh/authorized_keys/%u\n');
    await api.bind({ action: 'bind', keyPairName: 'proof-key', instanceIds: made });
    for (const name of ['proof-001', 'proof-002']) await api.restart(ids[name]!);
    await kf.core.instances.settle();
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('the Instances list says verified at a time, not verified while a restart waits, and why a proof failed', async () => {
    const proven = await api.instance(ids['proof-001']!);
    assert.equal(typeof proven.verifiedAt, 'string');
    const ok = instanceRow(page, 'proof-001');
    await ok.getByText(/^Verified at /).waitFor();
    const time = ok.locator('time');
    assert.equal(await time.getAttribute('datetime'), proven.verifiedAt);
    const line = ok.locator('[data-proof]');
    assert.match((await line.textContent())!, /^Verified at \S.*\d$/, 'the list shows the time');
    assert.equal(
      await line.getAttribute('title'),
      "key 'proof-key' accepted; password login off",
      'and what it showed',
    );

    await instanceRow(page, 'proof-002')
      .getByText("Not verified: proof failed: key 'proof-key' refused", { exact: true })
      .waitFor();
    assert.equal(await instanceRow(page, 'proof-002').locator('[data-proof]').getAttribute('data-proof'), 'failed');

    await instanceRow(page, 'proof-003')
      .getByText('Not verified: waiting for the next restart', { exact: true })
      .waitFor();
    assert.equal(await instanceRow(page, 'proof-003').locator('[data-proof]').getAttribute('data-proof'), 'waiting');
  });

  test("an instance's key dialog shows the proof with its other facts", async () => {
    await page.getByRole('button', { name: 'Actions for proof-001' }).click();
    const menu = page.getByRole('menu', { name: 'Actions for proof-001' });
    await menu.getByRole('menuitem', { name: 'Unbind Key Pair', exact: true }).click();
    const dialog = page.getByRole('dialog');
    const fact = dialog.locator('dt', { hasText: /^Proof$/ }).locator('xpath=following-sibling::dd');
    await fact.getByText(/^Verified at /).waitFor();
    assert.match((await fact.textContent())!, /key 'proof-key' accepted; password login off/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('a restart from the console: the row goes from waiting to verified without a reload', async () => {
    const row = instanceRow(page, 'proof-003');
    await page.getByRole('button', { name: 'Actions for proof-003' }).click();
    await page.getByRole('menu', { name: 'Actions for proof-003' }).getByRole('menuitem', { name: 'Restart' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Restart', exact: true }).click();
    await row.getByText(/^Verified at /).waitFor({ timeout: 20_000 });
    assert.equal(
      await row.locator('[data-proof]').getAttribute('title'),
      "key 'proof-key' accepted; password login off",
    );
    assert.deepEqual(errors, []);
  });
});
