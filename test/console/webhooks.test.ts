/**
 * The console's webhooks page in a real browser (Debian's Chromium via playwright-core) against a real keyfleet:
 * an administrator adds an endpoint (the URL checked in the browser first) and sees its signing secret once,
 * which the API never shows again; disables it; rotates its secret (a new one, shown once); deletes it. A user
 * who is not an administrator is told that only administrators manage webhooks.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors, closeOpenDialog } from './support.js';

const HOOK = 'http://127.0.0.1:9/keyfleet-hook';

describe('console webhooks (account administrators)', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let other: Browser | undefined;
  let page: Page;
  let errors: string[];

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    await api.call('POST', '/api/v1/users', { name: 'hal', password: 'Hal-Pass-0001!' });
    // hal may do everything a policy can grant; webhooks are still for administrators only.
    await api.call('POST', '/api/v1/policies', {
      name: 'everything',
      document: { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    });
    await api.call('PUT', '/api/v1/users/hal/policies/everything');
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  afterEach(() => closeOpenDialog(page));
  after(async () => {
    await other?.close();
    await browser?.close();
    await kf?.close();
  });

  const dialog = () => page.getByRole('dialog');
  const row = () => page.locator('table[aria-label="Webhooks"] tbody tr');
  const secretShown = async () => (await dialog().getByTestId('webhook-secret-value').innerText()).trim();

  test('add: the URL is checked in the browser, then the secret is shown once and never by the API', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No webhooks' }).waitFor();
    await page.getByRole('button', { name: 'Add Webhook' }).first().click();
    await dialog().getByRole('button', { name: 'Add webhook' }).click();
    await dialog().getByText('Enter the URL keyfleet posts events to.').waitFor();
    await dialog().getByLabel('Endpoint URL').fill('ftp://example.com/x');
    await dialog().getByRole('button', { name: 'Add webhook' }).click();
    await dialog().getByText('Use an http:// or https:// URL.').waitFor();
    await dialog().getByLabel('Endpoint URL').fill(HOOK);
    await dialog()
      .getByRole('checkbox', { name: /drift\.found/ })
      .uncheck();
    await dialog()
      .getByLabel(/Description/)
      .fill('pager');
    await dialog().getByRole('button', { name: 'Add webhook' }).click();
    await dialog().getByRole('heading', { name: 'Webhook added' }).waitFor();
    const secret = await secretShown();
    assert.match(secret, /^whsec_[a-z0-9]{40}$/);
    await dialog().getByRole('button', { name: 'I have stored the secret' }).click();
    await dialog().waitFor({ state: 'detached' });
    await row().first().waitFor();
    assert.equal(await row().count(), 1);
    const text = await row().first().innerText();
    assert.match(text, /keyfleet-hook/);
    assert.match(text, /task\.finished/);
    assert.doesNotMatch(text, /drift\.found/);
    assert.match(text, /Enabled/);
    const listed = await api.call('GET', '/api/v1/webhooks');
    assert.deepEqual(listed.webhooks[0].events, ['task.finished', 'verification.failed']);
    assert.equal(JSON.stringify(listed).includes(secret), false);
    assert.equal((await page.content()).includes(secret), false, 'the secret left the page with its dialog');
  });

  test('disable, rotate the secret (a new one, shown once), delete', async () => {
    const before = (await api.call('GET', '/api/v1/webhooks')).webhooks[0];
    await row().first().getByRole('button', { name: 'Disable' }).click();
    await row().first().getByText('Disabled').waitFor();
    assert.equal((await api.call('GET', `/api/v1/webhooks/${before.id}`)).webhook.enabled, false);

    await row()
      .first()
      .getByRole('button', { name: /Rotate the secret/ })
      .click();
    await dialog().getByRole('button', { name: 'Rotate secret' }).click();
    await dialog().getByRole('heading', { name: 'New signing secret' }).waitFor();
    const fresh = await secretShown();
    assert.match(fresh, /^whsec_[a-z0-9]{40}$/);
    await dialog().getByRole('button', { name: 'I have stored the secret' }).click();
    await dialog().waitFor({ state: 'detached' });

    await row()
      .first()
      .getByRole('button', { name: /^Delete / })
      .click();
    await dialog().getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByRole('heading', { name: 'No webhooks' }).waitFor();
    assert.deepEqual((await api.call('GET', '/api/v1/webhooks')).webhooks, []);
    const audited = await api.call('GET', '/api/v1/audit?limit=20');
    const actions = (audited.entries ?? audited.items ?? []).map((e: { action: string }) => e.action);
    for (const a of ['webhook:Create', 'webhook:Update', 'webhook:RotateSecret', 'webhook:Delete'])
      assert.ok(actions.includes(a), `${a} audited: ${actions}`);
    assert.deepEqual(errors, []);
  });

  test('a user allowed everything by policy, not an administrator, has no Webhooks link and is told, at the address, that only administrators manage webhooks', async () => {
    other = await launch();
    const p = await other.context.newPage();
    await p.goto(`${kf.url}/console/`);
    await p.getByLabel('User name').fill('hal');
    await p.getByLabel('Password').fill('Hal-Pass-0001!');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).waitFor();
    assert.equal(await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count(), 0);
    await p.goto(`${kf.url}/console/webhooks`);
    await p.getByText('Only account administrators manage webhooks').waitFor();
  });
});
