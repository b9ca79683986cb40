/**
 * The console's Accounts page in a real browser (Debian's Chromium via playwright-core) against a real keyfleet:
 * the administrator of the default account (`admin`, the system administrator) sees Accounts, creates account
 * team-b, sees its administrator's access key secret and generated password once, and that key signs in to team-b;
 * an administrator of the default account who is not the system administrator does not see Accounts.
 * With KEYFLEET_SCREENSHOTS=1 it also writes docs/screenshots/identity-accounts-1280.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

const ACCOUNT = 'team-b';
const OTHER_ADMIN = 'ops-admin';
const OTHER_PASSWORD = 'Ops-Admin-Pass-01';
const SHOTS =
  process.env.KEYFLEET_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : null;

describe('console accounts (the system administrator)', () => {
  let kf: Keyfleet;
  let api: Api;
  let url: string;
  let admin: Browser;
  let other: Browser | undefined;
  let page: Page;
  let errors: string[];

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess({ bootMs: 40 }));
    url = kf.url;
    admin = await launch();
    page = await admin.context.newPage();
    errors = watchErrors(page);
    await signIn(page, url);
  });

  after(async () => {
    await other?.close();
    await admin?.close();
    await kf?.close();
  });

  test('the system administrator creates an account; the secret is shown once and signs in to that account', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
    await page.locator('tr[data-account]').first().waitFor();
    assert.equal(await page.locator(`tr[data-account="${ACCOUNT}"]`).count(), 0);

    await page.getByRole('button', { name: 'Create Account' }).first().click();
    const form = page.getByTestId('create-account');
    await form.getByRole('button', { name: 'Create account' }).click();
    await form.getByText('Enter an account name.').waitFor(); // checked in the browser first
    await form.getByLabel('Account name').fill(ACCOUNT);
    await form.getByRole('button', { name: 'Create account' }).click();

    const d = page.getByTestId('account-created');
    await d.waitFor();
    await d.getByText(/This is the only time the secret and the password are shown/).waitFor();
    assert.equal((await d.getByTestId('account-admin-name').innerText()).trim(), 'admin');
    const accessKeyId = (await d.getByTestId('account-access-key-id').innerText()).trim();
    const accessKeySecret = (await d.getByTestId('account-secret-value').innerText()).trim();
    const password = (await d.getByTestId('account-password-value').innerText()).trim();
    assert.ok(accessKeyId.length > 8 && accessKeySecret.length > 16 && password.length > 8);
    assert.ok(
      await d.getByRole('button', { name: 'Copy secret' }).evaluate((b) => b === document.activeElement),
      'focus starts on Copy secret',
    );
    await d.getByRole('button', { name: 'Copy password' }).waitFor();
    if (SHOTS) {
      await page.evaluate(() =>
        document.querySelector<HTMLElement>('.toasts')?.style.setProperty('visibility', 'hidden'),
      );
      await page.screenshot({ path: path.join(SHOTS, 'identity-accounts-1280.png') });
      await page.evaluate(() => document.querySelector<HTMLElement>('.toasts')?.style.removeProperty('visibility'));
    }

    // the new administrator's key signs API calls in team-b
    const teamB = new Api(url);
    await teamB.signIn({ accessKeyId, accessKeySecret });
    const who = await teamB.raw('GET', '/api/v1/whoami');
    assert.equal(who.status, 200);
    assert.equal(who.body.accountName, ACCOUNT);
    assert.equal(who.body.userName, 'admin');
    assert.equal(who.body.isAccountAdmin, true);

    await d.getByRole('button', { name: 'I have stored the secrets' }).click();
    await d.waitFor({ state: 'detached' });
    await page.locator(`tr[data-account="${ACCOUNT}"]`).waitFor();
    assert.ok(!(await page.content()).includes(accessKeySecret), 'the secret is gone from the page');
    assert.ok(!(await page.content()).includes(password), 'and so is the password');
    await page.reload();
    await page.locator(`tr[data-account="${ACCOUNT}"]`).waitFor();
    assert.ok(!(await page.content()).includes(accessKeySecret), 'and is not shown again after a reload');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    assert.ok(!stored.includes(accessKeySecret) && !stored.includes(password), 'neither storage keeps a secret');

    // a second account of the same name is refused with the server's message
    await page.getByRole('button', { name: 'Create Account' }).first().click();
    await form.getByLabel('Account name').fill(ACCOUNT);
    await form.getByRole('button', { name: 'Create account' }).click();
    const alert = form.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Account\.AlreadyExists/);
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
  });

  test('an account administrator who is not the system administrator sees no Accounts', async () => {
    await api.call('POST', '/api/v1/users', { name: OTHER_ADMIN, password: OTHER_PASSWORD, isAccountAdmin: true });
    other = await launch();
    const p = await other.context.newPage();
    const otherErrors = watchErrors(p);
    await p.goto(`${url}/console/`);
    await p.getByLabel('User name').fill(OTHER_ADMIN);
    await p.getByLabel('Password').fill(OTHER_PASSWORD);
    const probe = p.waitForResponse((r) => r.url().endsWith('/api/v1/accounts') && r.request().method() === 'GET');
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
    assert.equal((await probe).status(), 403, 'the console asks GET /accounts and is refused');
    const nav = p.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Users' }).waitFor(); // an account administrator: Identity is there
    assert.equal(await nav.getByRole('link', { name: 'Accounts' }).count(), 0, 'no Accounts for a non-system user');

    await nav.getByRole('link', { name: 'Users' }).click();
    await p.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    assert.equal(
      await p.getByRole('navigation', { name: 'Identity' }).getByRole('link', { name: 'Accounts' }).count(),
      0,
      'no Accounts tab either',
    );

    // typed in by hand, the page says who may use it
    await p.goto(`${url}/console/identity/accounts`);
    await p.getByRole('heading', { name: 'Only the system administrator manages accounts' }).waitFor();
    assert.deepEqual(otherErrors, []);
  });
});
