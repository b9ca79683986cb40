/**
 * The console's user groups in a real browser (Debian's Chromium via playwright-core) against a real keyfleet: an
 * account administrator creates a group (checked in the browser first), adds a user with no policy of its own and
 * attaches a policy to the group; that user, signed in in a second browser, lists key pairs through the group; the
 * user's page shows the group; removing the member and detaching the policy take it away; the group is deleted.
 * Every change is recorded in the audit trail with the console as the face.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { Api, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors, closeOpenDialog } from './support.js';

const USER = 'grace';
const USER_PASSWORD = 'Grace-Pass-0001';
const POLICY = 'console-reader';
const GROUP = 'readers';
const KEY = 'group-key';

describe('console user groups (account administrators)', () => {
  let kf: Keyfleet;
  let api: Api;
  let url: string;
  let admin: Browser;
  let other: Browser | undefined;
  let page: Page;
  let errors: string[];
  let grace: Api;

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess({ bootMs: 40 }));
    url = kf.url;
    await api.createKeyPair(KEY, 'ed25519');
    await api.call('POST', '/api/v1/users', { name: USER, password: USER_PASSWORD });
    await api.call('POST', '/api/v1/policies', {
      name: POLICY,
      description: 'regions and key pairs',
      document: {
        Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeRegions', 'ecs:DescribeKeyPairs'], Resource: '*' }],
      },
    });
    grace = new Api(url);
    await grace.signIn({ userName: USER, password: USER_PASSWORD });
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
  const graceLists = async () => (await grace.raw('GET', '/api/v1/regions/cn-hangzhou/key-pairs')).status;

  test('Groups is in the navigation and the Identity tabs; a group is checked in the browser, then created', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    assert.equal(
      await page
        .getByRole('navigation', { name: 'Identity' })
        .getByRole('link', { name: 'Groups' })
        .getAttribute('aria-current'),
      'page',
    );
    await page.getByRole('heading', { name: 'No groups' }).waitFor();
    await page.getByRole('button', { name: 'Create Group' }).first().click();
    await dialog().getByRole('button', { name: 'Create group' }).click();
    await dialog().getByText('Enter a group name.').waitFor();
    await dialog().getByLabel('Group name').fill('bad name!');
    await dialog().getByRole('button', { name: 'Create group' }).click();
    await dialog()
      .getByText(/1-64 letters/)
      .waitFor();
    await dialog().getByLabel('Group name').fill(GROUP);
    await dialog()
      .getByLabel(/Description/)
      .fill('may list key pairs');
    await dialog().getByRole('button', { name: 'Create group' }).click();
    await dialog().waitFor({ state: 'detached' });
    const row = page.locator(`tr[data-group="${GROUP}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /may list key pairs/);
    // a duplicate is refused by the server, and its code is shown
    await page.getByRole('button', { name: 'Create Group' }).first().click();
    await dialog().getByLabel('Group name').fill(GROUP);
    await dialog().getByRole('button', { name: 'Create group' }).click();
    const alert = dialog().getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Group\.AlreadyExists/);
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached' });
  });

  test('a member is added and a policy attached on the group page: the user gets the permission through the group', async () => {
    assert.equal(await graceLists(), 403, 'no policy of its own');
    await page.getByRole('link', { name: `Manage group ${GROUP}` }).click();
    await page.getByRole('heading', { name: GROUP, level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'No members' }).waitFor();
    await page.getByRole('heading', { name: 'No policies attached' }).waitFor();

    await page.getByRole('button', { name: 'Add member' }).click();
    await dialog().getByLabel('User').selectOption(USER);
    await dialog().getByRole('button', { name: 'Add', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.locator(`table[aria-label="Members of ${GROUP}"] tr[data-member="${USER}"]`).waitFor();

    await page.getByRole('button', { name: 'Attach policy' }).click();
    await dialog().getByLabel('Policy').selectOption(POLICY);
    await dialog().getByRole('button', { name: 'Attach' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.locator(`table[aria-label="Policies of group ${GROUP}"] tr[data-policy="${POLICY}"]`).waitFor();
    assert.equal(await graceLists(), 200, 'the same session, on its next request');

    // the user, in another browser, opens the console and lists key pairs: all through the group
    other = await launch();
    const p = await other.context.newPage();
    const otherErrors = watchErrors(p);
    await p.goto(`${url}/console/`);
    await p.getByLabel('User name').fill(USER);
    await p.getByLabel('Password').fill(USER_PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key Pairs' }).click();
    await p.locator(`tr[data-key-pair="${KEY}"]`).waitFor();
    assert.deepEqual(otherErrors, []);

    // the user's page lists the group, and shows no policy of its own
    await page.getByRole('link', { name: USER }).click();
    await page.getByRole('heading', { name: USER, level: 1 }).waitFor();
    await page.locator(`table[aria-label="Groups of ${USER}"] tr[data-group="${GROUP}"]`).waitFor();
    await page.getByRole('heading', { name: 'No policies attached' }).waitFor();
  });

  test('removing the member and detaching the policy take the permission away at once', async () => {
    await page.locator(`table[aria-label="Groups of ${USER}"]`).getByRole('link', { name: GROUP }).click();
    await page.getByRole('heading', { name: GROUP, level: 1 }).waitFor();
    await page.getByRole('button', { name: `Remove ${USER} from ${GROUP}` }).click();
    await dialog().getByRole('button', { name: 'Remove' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No members' }).waitFor();
    assert.equal(await graceLists(), 403, 'removed from the group');

    await page.getByRole('button', { name: 'Add member' }).click();
    await dialog().getByLabel('User').selectOption(USER);
    await dialog().getByRole('button', { name: 'Add', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.locator(`tr[data-member="${USER}"]`).waitFor();
    assert.equal(await graceLists(), 200, 'a member again');

    await page.getByRole('button', { name: `Detach ${POLICY} from ${GROUP}` }).click();
    await dialog().getByRole('button', { name: 'Detach' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No policies attached' }).waitFor();
    assert.equal(await graceLists(), 403, 'the policy detached from the group');
  });

  test('the group is deleted from the list; every change was audited with the console as the face', async () => {
    await page.getByRole('navigation', { name: 'Identity' }).getByRole('link', { name: 'Groups' }).click();
    const row = page.locator(`tr[data-group="${GROUP}"]`);
    await row.waitFor();
    assert.deepEqual(
      [await row.getByTestId('member-count').innerText(), await row.getByTestId('policy-count').innerText()],
      ['1', '0'],
      'one member, the policy detached',
    );
    await page.getByRole('button', { name: `Delete group ${GROUP}` }).click();
    await dialog().getByRole('button', { name: 'Delete group' }).click();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'No groups' }).waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: `Group ${GROUP} deleted` })
      .waitFor();
    assert.deepEqual((await api.call('GET', `/api/v1/users/${USER}/groups`)).groups, []);

    const audit = await api.call('GET', `/api/v1/audit?resource=${encodeURIComponent(`*/group/${GROUP}`)}&limit=100`);
    const seen = audit.entries
      .map((e: any) => `${e.action} ${e.result}${e.errorCode ? ` ${e.errorCode}` : ''} ${e.face}`)
      .reverse();
    assert.deepEqual(seen, [
      'iam:CreateGroup success console',
      'iam:CreateGroup failure Group.AlreadyExists console',
      'iam:AddUserToGroup success console',
      'iam:AttachPolicyToGroup success console',
      'iam:RemoveUserFromGroup success console',
      'iam:AddUserToGroup success console',
      'iam:DetachPolicyFromGroup success console',
      'iam:DeleteGroup success console',
    ]);
    assert.deepEqual(errors, []);
  });
});
