/**
 * Moving key pairs and instances between resource groups from the console, and an instance's tags from its row, in
 * a real browser (Debian's Chromium via playwright-core) against a real keyfleet (issue 20). A group is created with
 * Manage groups; a key pair (from its row) and an instance (from its Actions menu) are moved into it; the native API
 * then reports the new group, and the top bar's group scope shows them in the new group and no longer in the old
 * one (an instance moved while the list is scoped to its old group leaves the list). Both detail pages move them back.
 * A user whose policy allows the move only into one group is refused by the server for another: the refusal is shown
 * in the dialog and nothing moved; the same user's move into the allowed group goes through. An instance's Tags
 * action adds and removes tags, and the row shows them.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import {
  type Browser,
  ensureConsoleBuilt,
  instanceRow,
  launch,
  signIn,
  watchErrors,
  closeOpenDialog,
} from './support.js';

const REGION = 'cn-hangzhou';
const KEY = 'mover-key';
const GROUP = 'blue';
const VAULT = 'vault';
const USER = 'mallory';
const USER_PASSWORD = 'Mallory-Pass-0001';
const USER_KEY = 'mallory-key';

describe('console: move to a resource group, and tags on instance rows', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let other: Browser | undefined;
  let page: Page;
  let errors: string[];
  /** [name, id] of the two instances. */
  let vms: Array<{ id: string; name: string }>;
  let groupIds: Record<string, string>;

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    await api.createKeyPair(KEY, 'ed25519');
    const ids = await api.run({ imageId: LINUX_IMAGE, amount: 2, name: 'movevm' });
    vms = await Promise.all(ids.map(async (id) => ({ id, name: (await api.instance(id)).name as string })));
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
  const nav = async (p: Page, name: string) => {
    await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
    await p.getByRole('heading', { name, level: 1 }).waitFor();
  };
  const scopeTo = (p: Page, group: string) =>
    p.getByLabel('Resource group', { exact: true }).selectOption({ label: group });
  const kpRow = (p: Page, name: string) => p.locator(`tr[data-key-pair="${name}"]`);
  const groupOfKeyPair = async (name: string) =>
    (await api.call('GET', `/api/v1/regions/${REGION}/key-pairs/${name}`)).keyPair.resourceGroupId as string;
  const groupOfInstance = async (id: string) => (await api.instance(id)).resourceGroupId as string;
  const readGroups = async () => {
    const list = (await api.call('GET', '/api/v1/resource-groups')).resourceGroups as Array<{
      id: string;
      name: string;
    }>;
    groupIds = Object.fromEntries(list.map((g) => [g.name, g.id]));
  };

  test('a group is created with Manage groups; a key pair is moved into it from its row', async () => {
    await page.getByRole('button', { name: 'Manage groups' }).click();
    for (const name of [GROUP, VAULT]) {
      await dialog().getByLabel('New resource group name').fill(name);
      await dialog().getByRole('button', { name: 'Create group' }).click();
      await dialog().locator(`tr[data-group="${name}"]`).waitFor();
    }
    await dialog().getByRole('button', { name: 'Done' }).click();
    await readGroups();
    assert.equal(await groupOfKeyPair(KEY), groupIds.default);

    await nav(page, 'Key Pairs');
    // Scoped to its group: the list (which does not poll) drops the row only because the dialog has it read again.
    await scopeTo(page, 'default');
    await kpRow(page, KEY)
      .getByRole('button', { name: `Move ${KEY} to a resource group` })
      .click();
    await dialog()
      .getByRole('heading', { name: `Move ${KEY} to a resource group` })
      .waitFor();
    assert.match(await dialog().getByTestId('current-group').innerText(), /is in default/);
    // The dialog offers the selector's groups, the current one marked; moving to where it is cannot be asked.
    assert.deepEqual(await dialog().getByLabel('Move to').locator('option').allInnerTexts(), [
      'default (current)',
      GROUP,
      VAULT,
    ]);
    await dialog().getByLabel('Move to').selectOption({ label: 'default (current)' });
    await dialog().getByText('It is already in this group.').waitFor();
    assert.equal(await dialog().getByRole('button', { name: 'Move', exact: true }).isDisabled(), true);

    await dialog().getByLabel('Move to').selectOption({ label: GROUP });
    await dialog().getByRole('button', { name: 'Move', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page
      .getByRole('status')
      .filter({ hasText: `${KEY} moved to ${GROUP}` })
      .waitFor();
    assert.equal(await groupOfKeyPair(KEY), groupIds[GROUP], 'the native API reports the new group');
    await page.getByRole('heading', { name: /No key pairs/ }).waitFor();
    assert.equal(await kpRow(page, KEY).count(), 0, 'no longer in default');

    // Scoped to the new group it is listed, and with every group.
    await scopeTo(page, GROUP);
    await kpRow(page, KEY).waitFor();
    await scopeTo(page, 'All resource groups');
    await kpRow(page, KEY).waitFor();
  });

  test('an instance is moved from its Actions menu while the list is scoped to its group: it leaves the list', async () => {
    const [vm, stay] = vms as [(typeof vms)[0], (typeof vms)[0]];
    await nav(page, 'Instances');
    await scopeTo(page, 'default');
    await instanceRow(page, vm.name).waitFor();
    await instanceRow(page, stay.name).waitFor();
    await page.getByRole('button', { name: `Actions for ${vm.name}` }).click();
    await page
      .getByRole('menu', { name: `Actions for ${vm.name}` })
      .getByRole('menuitem', { name: 'Move to group' })
      .click();
    assert.match(await dialog().getByTestId('current-group').innerText(), /Instance .* is in default/);
    await dialog().getByLabel('Move to').selectOption({ label: GROUP });
    await dialog().getByRole('button', { name: 'Move', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await instanceRow(page, vm.name).waitFor({ state: 'detached' });
    assert.equal(await instanceRow(page, stay.name).count(), 1, 'the other instance stays');
    assert.equal(await groupOfInstance(vm.id), groupIds[GROUP]);
    assert.equal(await groupOfInstance(stay.id), groupIds.default);

    await scopeTo(page, GROUP);
    await instanceRow(page, vm.name).waitFor();
    await instanceRow(page, stay.name).waitFor({ state: 'detached' });
    await scopeTo(page, 'All resource groups');
    await instanceRow(page, stay.name).waitFor();
  });

  test('the detail pages show the group and move the instance and the key pair back', async () => {
    const vm = vms[0]!;
    await instanceRow(page, vm.name).getByRole('link', { name: vm.name }).click();
    await page.getByTestId('instance-detail').waitFor();
    await page
      .getByTestId('fact-resource-group')
      .filter({ hasText: new RegExp(`^${GROUP} `) })
      .waitFor();
    await page
      .getByRole('toolbar', { name: 'Instance actions' })
      .getByRole('button', { name: 'Move to group' })
      .click();
    assert.match(await dialog().getByTestId('current-group').innerText(), new RegExp(`is in ${GROUP}`));
    await dialog().getByLabel('Move to').selectOption({ label: 'default' });
    await dialog().getByRole('button', { name: 'Move', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page
      .getByTestId('fact-resource-group')
      .filter({ hasText: /^default / })
      .waitFor();
    assert.equal(await groupOfInstance(vm.id), groupIds.default);

    await page.goto(`${kf.url}/console/key-pairs/${KEY}`);
    await page.getByTestId('key-pair-detail').waitFor();
    await page
      .getByTestId('fact-resource-group')
      .filter({ hasText: new RegExp(`^${GROUP} `) })
      .waitFor();
    await page
      .getByRole('toolbar', { name: 'Key pair actions' })
      .getByRole('button', { name: 'Move to group' })
      .click();
    await dialog().getByLabel('Move to').selectOption({ label: 'default' });
    await dialog().getByRole('button', { name: 'Move', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
    await page
      .getByTestId('fact-resource-group')
      .filter({ hasText: /^default / })
      .waitFor();
    assert.equal(await groupOfKeyPair(KEY), groupIds.default);

    await scopeTo(page, 'default');
    await nav(page, 'Key Pairs');
    await kpRow(page, KEY).waitFor();
    await scopeTo(page, 'All resource groups');
  });

  test('Tags on an instance row: tags added and removed, the row shows them, the native API has them', async () => {
    const vm = vms[1]!;
    await nav(page, 'Instances');
    await page.getByRole('button', { name: `Actions for ${vm.name}` }).click();
    await page
      .getByRole('menu', { name: `Actions for ${vm.name}` })
      .getByRole('menuitem', { name: 'Tags' })
      .click();
    await dialog()
      .getByRole('heading', { name: `Tags of ${vm.name}` })
      .waitFor();
    for (const [k, v] of [
      ['role', 'edge'],
      ['team', 'ops'],
    ] as const) {
      await dialog().getByLabel('Tag key').fill(k);
      await dialog().getByLabel('Tag value').fill(v);
      await dialog().getByRole('button', { name: 'Add tag' }).click();
      await dialog().locator(`li[data-tag="${k}"]`).waitFor();
    }
    await dialog().getByRole('button', { name: 'Remove tag team' }).click();
    await dialog().locator('li[data-tag="team"]').waitFor({ state: 'detached' });
    await dialog().getByRole('button', { name: 'Done' }).click();
    await dialog().waitFor({ state: 'detached' });

    assert.deepEqual((await api.instance(vm.id)).tags, [{ key: 'role', value: 'edge' }]);
    const listed = await api.call('GET', `/api/v1/regions/${REGION}/tags?resourceType=instance&resourceId=${vm.id}`);
    assert.deepEqual(
      listed.tags.map((t: { key: string; value: string }) => `${t.key}=${t.value}`),
      ['role=edge'],
    );
    const row = instanceRow(page, vm.name);
    await row.locator('.tag-pills [data-tag="role"]').waitFor();
    assert.equal(await row.locator('.tag-pills [data-tag="team"]').count(), 0);
    assert.equal(await instanceRow(page, vms[0]!.name).locator('.tag-pills').count(), 0, 'the other has none');

    // The list's tag filter finds it by the tag added in the dialog.
    await page.getByLabel('Filter by tag (key=value)').fill('role=edge');
    await page.getByLabel('Filter by tag (key=value)').press('Enter');
    await instanceRow(page, vms[0]!.name).waitFor({ state: 'detached' });
    assert.equal(await row.count(), 1);
    await page.getByLabel('Filter by tag (key=value)').fill('');
    await instanceRow(page, vms[0]!.name).waitFor();
    assert.deepEqual(errors, []);
  });

  test('a user whose policy allows the move into one group only: the server’s refusal is shown, nothing moved', async () => {
    await api.createKeyPair(USER_KEY, 'ed25519');
    await api.call('POST', '/api/v1/users', { name: USER, password: USER_PASSWORD });
    await api.call('POST', '/api/v1/policies', {
      name: 'move-into-blue',
      description: 'list key pairs; move them into blue only',
      document: {
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ecs:DescribeRegions', 'ecs:DescribeKeyPairs', 'ecs:DescribeInstances'],
            Resource: '*',
          },
          {
            Effect: 'Allow',
            Action: ['ecs:JoinResourceGroup'],
            Resource: ['acs:ecs:*:*:keypair/*', `acs:ecs:*:*:resourcegroup/${groupIds[GROUP]}`],
          },
        ],
      },
    });
    await api.call('PUT', `/api/v1/users/${USER}/policies/move-into-blue`);

    other = await launch();
    const p = await other.context.newPage();
    const otherErrors = watchErrors(p);
    await p.goto(`${kf.url}/console/`);
    await p.getByLabel('User name').fill(USER);
    await p.getByLabel('Password').fill(USER_PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
    await nav(p, 'Key Pairs');
    const d = p.getByRole('dialog');
    await kpRow(p, USER_KEY)
      .getByRole('button', { name: `Move ${USER_KEY} to a resource group` })
      .click();
    await d.getByLabel('Move to').selectOption({ label: VAULT });
    await d.getByRole('button', { name: 'Move', exact: true }).click();
    const refusal = d.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /Auth\.Forbidden/, 'the server’s code, as it answered');
    assert.equal(await d.isVisible(), true, 'the dialog stays open to choose another group');
    assert.equal(await groupOfKeyPair(USER_KEY), groupIds.default, 'nothing moved');

    // The same dialog, the group the policy allows: it moves.
    await d.getByLabel('Move to').selectOption({ label: GROUP });
    await d.getByRole('button', { name: 'Move', exact: true }).click();
    await d.waitFor({ state: 'detached' });
    assert.equal(await groupOfKeyPair(USER_KEY), groupIds[GROUP]);

    const audit = await api.call(
      'GET',
      `/api/v1/audit?userName=${USER}&action=${encodeURIComponent('resourcegroup:Join')}&limit=10`,
    );
    assert.deepEqual(audit.entries.map((e: { result: string; face: string }) => `${e.result} ${e.face}`).reverse(), [
      'denied console',
      'success console',
    ]);
    assert.deepEqual(otherErrors, []);
  });
});
