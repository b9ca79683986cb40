/**
 * Tags and resource groups in the console, in a real browser (Debian's Chromium via playwright-core) against a
 * real keyfleet (issue 20): a key pair's tags are added and removed in its Tags dialog and shown on its row; the key
 * pair and instance lists filter by a tag; the top bar's "Manage groups" creates a group that the selector then
 * lists, renames it, refuses to delete it while it holds a key pair (the server's reason shown), and deletes it
 * once empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

const REGION = 'cn-hangzhou';

describe('console tags and resource groups', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let instances: string[];

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    for (const name of ['tagged-web', 'tagged-db'])
      await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name, type: 'ed25519' });
    instances = (
      await api.call('POST', `/api/v1/regions/${REGION}/instances`, { imageId: LINUX_IMAGE, amount: 2, name: 'tagvm' })
    ).instanceIds;
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  const nav = async (name: string) => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  };
  const kpRow = (name: string) => page.locator(`tr[data-key-pair="${name}"]`);
  const dialog = () => page.getByRole('dialog');

  test('a key pair’s tags are added and removed in its Tags dialog, and the list filters by a tag', async () => {
    await nav('Key Pairs');
    await kpRow('tagged-web').getByRole('button', { name: 'Tags of tagged-web' }).click();
    await dialog().getByRole('heading', { name: 'Tags of tagged-web' }).waitFor();
    // The browser checks the rules first: a reserved prefix is refused before anything is sent.
    await dialog().getByLabel('Tag key').fill('aliyun-x');
    await dialog().getByRole('button', { name: 'Add tag' }).click();
    await dialog().getByText("A tag key cannot start with 'aliyun' or 'acs:'.").waitFor();
    for (const [k, v] of [
      ['env', 'prod'],
      ['team', 'web'],
    ]) {
      await dialog().getByLabel('Tag key').fill(k!);
      await dialog().getByLabel('Tag value').fill(v!);
      await dialog().getByRole('button', { name: 'Add tag' }).click();
      await dialog().locator(`li[data-tag="${k}"]`).waitFor();
    }
    await dialog().getByRole('button', { name: 'Remove tag team' }).click();
    await dialog().locator('li[data-tag="team"]').waitFor({ state: 'detached' });
    await dialog().getByRole('button', { name: 'Done' }).click();

    const kp = await api.call('GET', `/api/v1/regions/${REGION}/key-pairs/tagged-web`);
    assert.deepEqual(
      kp.keyPair?.tags ?? kp.tags,
      [{ key: 'env', value: 'prod' }],
      'the server has what the dialog showed',
    );
    await kpRow('tagged-web').locator('.tag-pills [data-tag="env"]').waitFor();

    await page.getByLabel('Filter by tag (key=value)').fill('env=prod');
    await page.getByLabel('Filter by tag (key=value)').press('Enter');
    await kpRow('tagged-db').waitFor({ state: 'detached' });
    assert.equal(await kpRow('tagged-web').count(), 1);
    await page.getByLabel('Filter by tag (key=value)').fill('');
    await kpRow('tagged-db').waitFor();
  });

  test('the instance list filters by a tag', async () => {
    await api.call('POST', `/api/v1/regions/${REGION}/tags`, {
      resourceType: 'instance',
      resourceIds: [instances[0]],
      tags: [{ key: 'role', value: 'edge' }],
    });
    await nav('Instances');
    const rows = page.locator('table tbody tr');
    await page.getByLabel('Filter by tag (key=value)').fill('role');
    await page.getByLabel('Filter by tag (key=value)').press('Enter');
    await page.locator('table tbody tr', { hasText: instances[1]! }).waitFor({ state: 'detached' });
    await page.locator('table tbody tr', { hasText: instances[0]! }).waitFor();
    assert.equal(await rows.count(), 1);
  });

  test('resource groups: created (the selector lists it), renamed, refused deletion while not empty, deleted', async () => {
    await page.getByRole('button', { name: 'Manage groups' }).click();
    await dialog().getByRole('heading', { name: 'Resource groups' }).waitFor();
    await dialog().getByLabel('New resource group name').fill('payments');
    await dialog().getByRole('button', { name: 'Create group' }).click();
    await dialog().locator('tr[data-group="payments"]').waitFor();
    assert.ok(
      (await page.getByLabel('Resource group').locator('option').allInnerTexts()).includes('payments'),
      'the selector lists the new group',
    );
    await dialog().getByRole('button', { name: 'Rename payments' }).click();
    await dialog().getByLabel('New name for payments').fill('payments-eu');
    await dialog().getByRole('button', { name: 'Save' }).click();
    await dialog().locator('tr[data-group="payments-eu"]').waitFor();

    const groups = (await api.call('GET', '/api/v1/resource-groups')).resourceGroups as Array<{
      id: string;
      name: string;
    }>;
    const group = groups.find((g) => g.name === 'payments-eu')!;
    await api.call('POST', `/api/v1/resource-groups/${group.id}/members`, {
      regionId: REGION,
      resourceType: 'keypair',
      resourceId: 'tagged-db',
    });
    await dialog().getByRole('button', { name: 'Delete payments-eu' }).click();
    await dialog()
      .getByRole('alert')
      .filter({ hasText: /still holds 1 key pair/ })
      .waitFor();
    assert.equal(await dialog().locator('tr[data-group="payments-eu"]').count(), 1, 'a refused delete removes nothing');

    const def = groups.find((g) => g.name === 'default')!;
    await api.call('POST', `/api/v1/resource-groups/${def.id}/members`, {
      regionId: REGION,
      resourceType: 'keypair',
      resourceId: 'tagged-db',
    });
    await dialog().getByRole('button', { name: 'Delete payments-eu' }).click();
    await dialog().locator('tr[data-group="payments-eu"]').waitFor({ state: 'detached' });
    assert.ok(!(await page.getByLabel('Resource group').locator('option').allInnerTexts()).includes('payments-eu'));
    await dialog().getByRole('button', { name: 'Done' }).click();
    assert.deepEqual(errors, []);
  });
});
