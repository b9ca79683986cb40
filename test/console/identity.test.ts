/**
 * The console's Identity area in a real browser (Debian's Chromium via playwright-core) against a real keyfleet:
 * an account administrator creates a user with a console password, an access key whose secret is shown once, and
 * a policy allowing ecs:DescribeKeyPairs attached to the user; that user, signed in in a second browser, sees the
 * Key Pairs list but Auth.Forbidden on Instances; the administrator disables the key and deletes the policy.
 * With KEYFLEET_SCREENSHOTS=1 it also writes docs/screenshots/identity-*-1280.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors, closeOpenDialog } from './support.js';

const USER = 'dev-ops';
const USER_PASSWORD = 'Dev-Ops-Pass-01';
const POLICY = 'describe-key-pairs';
const KEY = 'shared-key';
const SHOTS =
  process.env.KEYFLEET_SCREENSHOTS === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshots') : null;

describe('console identity (account administrators)', () => {
  let kf: Keyfleet;
  let api: Api;
  let url: string;
  let admin: Browser;
  let other: Browser | undefined;
  let page: Page;
  let errors: string[];
  let accessKeyId = '';
  let accessKeySecret = '';

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess({ bootMs: 40 }));
    url = kf.url;
    await api.createKeyPair(KEY, 'ed25519');
    admin = await launch();
    page = await admin.context.newPage();
    errors = watchErrors(page);
    await signIn(page, url);
  });

  afterEach(() => closeOpenDialog(page));

  after(async () => {
    await other?.close();
    await admin?.close();
    await kf?.close();
  });

  const dialog = () => page.getByRole('dialog');
  const shot = async (name: string) => {
    if (!SHOTS) return;
    // the toasts of earlier steps would cover the picture
    await page.evaluate(() =>
      document.querySelector<HTMLElement>('.toasts')?.style.setProperty('visibility', 'hidden'),
    );
    await page.screenshot({ path: path.join(SHOTS, name) });
    await page.evaluate(() => document.querySelector<HTMLElement>('.toasts')?.style.removeProperty('visibility'));
  };

  test('an administrator sees Identity in the navigation and creates a user with a console password', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.locator('tr[data-user="admin"]').waitFor();
    assert.match(await page.locator('tr[data-user="admin"]').innerText(), /Administrator/);

    await page.getByRole('button', { name: 'Create User' }).first().click();
    await dialog().getByRole('button', { name: 'Create user' }).click();
    await dialog().getByText('Enter a user name.').waitFor(); // checked in the browser first
    await dialog().getByLabel('User name').fill(USER);
    await dialog()
      .getByLabel(/Console password/)
      .fill(USER_PASSWORD);
    await dialog().getByRole('button', { name: 'Create user' }).click();
    await dialog().waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-user="${USER}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /User\s+Password set/);
  });

  test('an access key is created and its secret is shown once, then only its ID is listed', async () => {
    await page.getByRole('link', { name: `Manage ${USER}` }).click();
    await page.getByRole('heading', { name: USER, level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No access keys' }).waitFor();
    await page.getByRole('heading', { name: 'No policies attached' }).waitFor();

    await page.getByRole('button', { name: 'Create AccessKey' }).click();
    const d = page.getByTestId('access-key-secret');
    await d.waitFor();
    await d.getByText('This is the only time the secret is shown.').waitFor();
    accessKeyId = (await d.getByTestId('access-key-id').innerText()).trim();
    accessKeySecret = (await d.getByTestId('access-key-secret-value').innerText()).trim();
    assert.ok(accessKeyId.length > 8 && accessKeySecret.length > 16);
    assert.ok(
      await d.getByRole('button', { name: 'Copy secret' }).evaluate((b) => b === document.activeElement),
      'focus starts on Copy secret',
    );
    await shot('identity-access-key-secret-1280.png');
    // the key works: it signs API calls
    const keyApi = new Api(url);
    await keyApi.signIn({ accessKeyId, accessKeySecret });

    await d.getByRole('button', { name: 'I have stored the secret' }).click();
    await d.waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-access-key="${accessKeyId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Active/);
    assert.ok(!(await page.content()).includes(accessKeySecret), 'the secret is gone from the page');
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(accessKeySecret), 'and is not shown again after a reload');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    assert.ok(!stored.includes(accessKeySecret) && !stored.includes(USER_PASSWORD), 'neither storage keeps a secret');
  });

  test('a policy is checked in the browser and by the server, created, and attached to the user', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No policies' }).waitFor();
    await page.getByRole('button', { name: 'Create Policy' }).first().click();
    const doc = dialog().getByLabel('Policy document (JSON)');
    assert.match(await doc.inputValue(), /"Statement"/); // the template
    await dialog().getByLabel('Policy name').fill(POLICY);
    await doc.fill('{ "Statement": [ { "Effect": "Allow", ');
    await dialog().getByRole('button', { name: 'Create policy' }).click();
    await dialog()
      .getByText(/^Not valid JSON/)
      .waitFor();
    // (the console itself needs ecs:DescribeRegions to load its region list)
    // valid JSON the server refuses: its Policy.Malformed message is shown
    await doc.fill(JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'ecs:NoSuchAction', Resource: '*' }] }));
    await dialog().getByRole('button', { name: 'Create policy' }).click();
    const alert = dialog().getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Policy\.Malformed/);
    assert.match(await alert.innerText(), /The policy document is not valid/);
    await doc.fill(
      JSON.stringify(
        {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeRegions', 'ecs:DescribeKeyPairs'], Resource: '*' }],
        },
        null,
        2,
      ),
    );
    await dialog()
      .getByLabel(/Description/)
      .fill('List key pairs only');
    await dialog().getByRole('button', { name: 'Create policy' }).click();
    await dialog().waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-policy="${POLICY}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Allow ecs:DescribeRegions, ecs:DescribeKeyPairs/);
    await shot('identity-policies-1280.png');

    await page.getByRole('navigation', { name: 'Identity' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: `Manage ${USER}` }).click();
    await page.getByRole('button', { name: 'Attach policy' }).click();
    await dialog().getByLabel('Policy').selectOption(POLICY);
    await dialog().getByRole('button', { name: 'Attach' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.locator(`table[aria-label="Policies of ${USER}"] tr[data-policy="${POLICY}"]`).waitFor();
    await shot('identity-users-1280.png');
  });

  test('the user, signed in in another browser, lists key pairs but is refused the instances, without Identity', async () => {
    other = await launch();
    const p = await other.context.newPage();
    const otherErrors = watchErrors(p);
    await p.goto(`${url}/console/`);
    await p.getByLabel('User name').fill(USER);
    await p.getByLabel('Password').fill(USER_PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
    const err = p.getByRole('alert').filter({ hasText: 'Cannot load instances' });
    await err.waitFor();
    assert.match(await err.innerText(), /not allowed to perform 'instance:Describe'/);
    assert.match(await err.innerText(), /Auth\.Forbidden/);
    assert.equal(
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count(),
      0,
      'no Identity area for a non-admin',
    );
    assert.equal(
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count(),
      0,
      'no Webhooks link for a non-admin (the API refuses them)',
    );

    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key Pairs' }).click();
    await p.getByRole('heading', { name: 'Key Pairs', level: 1 }).waitFor();
    await p.locator(`tr[data-key-pair="${KEY}"]`).waitFor();

    // typed in by hand, the Identity pages say who may use them
    await p.goto(`${url}/console/identity/users`);
    await p.getByRole('heading', { name: 'Only account administrators manage identity' }).waitFor();
    assert.deepEqual(otherErrors, []);
  });

  test('at phone width the Identity pages fit the screen and open from the navigation drawer', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      await page.getByRole('button', { name: 'Navigation' }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await page.getByRole('link', { name: `Manage ${USER}` }).click();
      const row = page.locator(`tr[data-access-key="${accessKeyId}"]`);
      await row.waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px too wide)`);
      assert.equal(await row.getByRole('button', { name: `Disable access key ${accessKeyId}` }).isVisible(), true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  test('the administrator disables the access key (then it signs nothing) and deletes the policy', async () => {
    await page.getByRole('button', { name: `Disable access key ${accessKeyId}` }).click();
    const row = page.locator(`tr[data-access-key="${accessKeyId}"]`);
    await row.getByText('Inactive').waitFor();
    await page.getByRole('button', { name: `Enable access key ${accessKeyId}` }).waitFor();
    await assert.rejects(new Api(url).signIn({ accessKeyId, accessKeySecret }));

    await page.getByRole('navigation', { name: 'Identity' }).getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('button', { name: `Delete ${POLICY}` }).click();
    // Still attached to the user: refused, with who has it; ticking "detach" deletes it.
    await dialog().getByRole('button', { name: 'Delete policy' }).click();
    await dialog()
      .getByText(new RegExp(`attached to 1 user \\(${USER}\\)`))
      .waitFor();
    await page.getByRole('navigation', { name: 'Identity' }).waitFor();
    assert.equal(await page.locator(`tr[data-policy="${POLICY}"]`).count(), 1, 'nothing deleted');
    await dialog()
      .getByRole('checkbox', { name: /Detach it from every user and group/ })
      .check();
    await dialog().getByRole('button', { name: 'Delete policy' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No policies' }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: `Policy ${POLICY} deleted` })
      .waitFor();
    assert.deepEqual(errors, []);
  });
});
