/**
 * The console's rotation pages in a real browser against a real keyfleet (issue 19): a rotation of simulated
 * instances (on restart, an hour between waves) is listed with its progress; its page shows the waves (the canary
 * done, each done wave linked to its task) and the result of every machine; Pause, Resume (the next wave starts at
 * once) and Cancel work from the page, and what it shows is what the API says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

describe('console rotations', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let rotationId: string;

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_ROTATION_POLL_MS: '100' } }));
    const ids = await api.run({ imageId: LINUX_IMAGE, amount: 6, name: 'cr' });
    await api.waitStatus(ids, 'Running');
    await api.createKeyPair('console-a', 'ed25519');
    await api.createKeyPair('console-b', 'ed25519');
    await api.bind({ action: 'bind', keyPairName: 'console-a', instanceIds: ids });
    const created = await api.call('POST', '/api/v1/regions/cn-hangzhou/rotations', {
      fromKeyPairName: 'console-a',
      toKeyPairName: 'console-b',
      mode: 'on-restart',
      canary: 2,
      waveSize: 2,
      pauseSeconds: 3600,
    });
    rotationId = created.rotation.id;
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  const wave = (n: number) => page.locator(`table[aria-label="Waves"] tr[data-wave="${n}"]`);

  test('the list, then the rotation page: waves, per-machine results, pause, resume and cancel', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rotations' }).click();
    await page.getByRole('heading', { name: 'Rotations', level: 1 }).waitFor();
    const row = page.locator(`tr[data-rotation-id="${rotationId}"]`);
    await row.getByText('console-a → console-b').waitFor();
    await row.getByText('2/6 replaced').waitFor();
    await row.getByRole('link').click();

    await page.getByRole('heading', { name: 'Rotation console-a → console-b' }).waitFor();
    await page.locator('tr[data-wave="1"][data-wave-status="done"]').waitFor();
    assert.match(await wave(1).innerText(), /1 \(canary\)/);
    const taskId = (await api.call('GET', `/api/v1/rotations/${rotationId}`)).waves[0].taskId;
    assert.equal(
      await wave(1).getByRole('link').getAttribute('href'),
      `/console/tasks/${taskId}`,
      'the wave links to its task',
    );
    assert.equal(await page.locator('tr[data-wave-status="pending"]').count(), 2);
    const machines = page.locator('table[aria-label="Result per machine"] tbody tr');
    await page.getByRole('button', { name: 'Replaced', exact: true }).click();
    await machines.first().getByText('Replaced').waitFor();
    assert.equal(await machines.count(), 2);

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('[data-rotation-status="paused"]').waitFor();
    assert.equal((await api.call('GET', `/api/v1/rotations/${rotationId}`)).rotation.status, 'paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('tr[data-wave="2"][data-wave-status="done"]').waitFor();
    await page.locator('[data-rotation-status="running"]').waitFor();
    await page.getByRole('button', { name: 'Cancel rotation' }).click();
    await page.locator('[data-rotation-status="cancelled"]').waitFor();
    await page.getByRole('button', { name: 'Skipped' }).click();
    await page.locator('table[aria-label="Result per machine"] tbody tr').first().getByText('Skipped').waitFor();
    assert.equal(await machines.count(), 2);
    const api2 = await api.call('GET', `/api/v1/rotations/${rotationId}/machines?status=skipped`);
    assert.equal(api2.total, 2);
    assert.deepEqual(errors, []);
  });
});
