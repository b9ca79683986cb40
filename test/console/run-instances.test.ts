/**
 * Running instances from the web console in Chromium: the image and type lists say which cannot take a key pair
 * (the server's rule), a weak root password is refused in the browser, and instances created with a password let
 * root log in with it over real OpenSSH.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { sshRun } from '../support/openssh.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

const PASSWORD = 'Console-Run-01';

describe('web console: run instances with a root password', () => {
  let kf: Keyfleet;
  let api: Api;
  let sshPort: number;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async () => {
    ensureConsoleBuilt();
    const started = await startInProcess();
    ({ kf, api } = started);
    sshPort = Number(started.env.KEYFLEET_SIM_SSH_PORT);
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('the dialog marks what cannot take a key pair, checks the password, and the password logs in', async () => {
    await page.getByRole('button', { name: 'Run instances' }).click();
    const d = page.getByRole('dialog');
    await d.getByRole('heading', { name: 'Run instances' }).waitFor();
    const image = d.getByLabel('Image');
    await image.locator('option').first().waitFor({ state: 'attached' });
    const imageOptions = await image.locator('option').allTextContents();
    assert.ok(
      imageOptions.some((o) => /Windows.*no key pairs: Windows/.test(o)),
      imageOptions.join(' | '),
    );
    assert.ok(
      imageOptions.some((o) => !/no key pairs/.test(o)),
      'a Linux image can',
    );
    assert.doesNotMatch(
      (await image.locator('option:checked').textContent()) ?? '',
      /no key pairs/,
      'a Linux image is preselected',
    );
    const typeOptions = await d.getByLabel('Instance type').locator('option').allTextContents();
    assert.ok(
      typeOptions.some((o) => /no key pairs: non-I\/O-optimized/.test(o)),
      typeOptions.join(' | '),
    );

    await d.getByLabel('How many').fill('2');
    await d.getByLabel('Name (optional)').fill('console-pw');
    await d.getByLabel('Root password (optional)').fill('short');
    await d.getByRole('button', { name: 'Run', exact: true }).click();
    await d.locator('.field-error').first().waitFor();
    assert.equal((await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?search=console-pw')).total, 0);

    await d.getByLabel('Root password (optional)').fill(PASSWORD);
    await d.getByRole('button', { name: 'Run', exact: true }).click();
    await d.waitFor({ state: 'detached' });
    await page.getByText('2 instances created').waitFor();

    const created = (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?search=console-pw')).instances;
    assert.equal(created.length, 2);
    await api.waitStatus(
      created.map((i: { id: string }) => i.id),
      'Running',
    );
    const login = await sshRun({ host: created[0].address, port: sshPort, password: PASSWORD, command: 'whoami' });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'root\n');
    assert.deepEqual(errors, []);
  });
});
