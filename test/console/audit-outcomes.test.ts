/**
 * The console's audit page shows what a task came to (issue 16), in Debian's Chromium against a real keyfleet: a
 * console live unbind with the wrong private key is accepted (its request entry) and fails on the instance (its
 * outcome entry, with the code and the reason); the Stage and Task filters narrow the trail to one task, and the
 * task id links to the task's page.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshKeygen } from '../support/openssh.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

const REGION = 'cn-hangzhou';
const ROOT_PASSWORD = 'Audit-Console-01';

describe('web console: the audit page shows task outcomes', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let failedTaskId: string;
  let okTaskId: string;

  /** A live binding as the console sends it (face console), waiting for the result. */
  async function consoleBinding(body: Record<string, unknown>): Promise<{ task: any; items: any[] }> {
    const r = await api.raw(
      'POST',
      `/api/v1/regions/${REGION}/bindings`,
      { wait: true, mode: 'live', ...body },
      { 'x-keyfleet-client': 'console' },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess());
    const { privateKey } = await api.createKeyPair('audit-page-key', 'ed25519');
    const [id] = await api.run({ imageId: LINUX_IMAGE, password: ROOT_PASSWORD });
    await api.waitStatus([id!], 'Running');
    const bind = await consoleBinding({
      action: 'bind',
      keyPairName: 'audit-page-key',
      instanceIds: [id],
      credential: { kind: 'password', password: ROOT_PASSWORD },
    });
    assert.equal(bind.task.status, 'succeeded', JSON.stringify(bind.items));
    const wrongKey = fs.readFileSync((await sshKeygen('ed25519', 'wrong')).privateKeyPath, 'utf8');
    const unbind = (key: string) =>
      consoleBinding({
        action: 'unbind',
        keyPairName: 'audit-page-key',
        instanceIds: [id],
        credential: { kind: 'privateKey', privateKey: key },
      });
    const failed = await unbind(wrongKey);
    assert.equal(failed.task.status, 'failed');
    failedTaskId = failed.task.id;
    const ok = await unbind(privateKey);
    assert.equal(ok.task.status, 'succeeded', JSON.stringify(ok.items));
    okTaskId = ok.task.id;

    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  const table = () => page.getByRole('table', { name: 'Audit entries' });
  async function applyFilters(f: { stage?: string; result?: string; task?: string }): Promise<string[]> {
    await page.getByLabel('Stage').selectOption(f.stage ?? '');
    await page.getByLabel('Result').selectOption(f.result ?? '');
    await page.getByLabel('Task', { exact: true }).fill(f.task ?? '');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'GET' && /\/api\/v1\/audit\?/.test(r.url())),
      page.getByRole('button', { name: 'Apply' }).click(),
    ]);
    const ids: string[] = (await answer.json()).entries.map((e: { id: string }) => e.id);
    // The rows shown are those of this answer.
    await page.waitForFunction(
      (want) =>
        JSON.stringify(
          [...document.querySelectorAll('table[aria-label="Audit entries"] tbody tr')].map((tr) =>
            tr.getAttribute('data-audit-id'),
          ),
        ) === JSON.stringify(want),
      ids,
    );
    return table().locator('tbody tr').allTextContents();
  }

  test('the failed unbind: an outcome row with the code and the reason, next to its accepted request', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();

    const rows = await applyFilters({ task: failedTaskId });
    assert.equal(rows.length, 2, rows.join('\n'));
    const outcome = rows.find((r) => r.includes('task outcome'));
    const request = rows.find((r) => !r.includes('task outcome'));
    assert.match(outcome ?? '', /keypair:Unbind.*Failure.*Live\.CredentialRejected.*rejected the credential/s);
    assert.match(request ?? '', /console.*keypair:Unbind.*Success/s, 'the request itself was accepted');

    const failures = await applyFilters({ stage: 'outcome', result: 'failure' });
    assert.equal(failures.length, 1, failures.join('\n'));
    assert.ok(failures[0]!.includes(failedTaskId));

    const ok = await applyFilters({ stage: 'outcome', task: okTaskId });
    assert.equal(ok.length, 1, ok.join('\n'));
    assert.match(ok[0]!, /Success.*live unbind succeeded on 1 of 1 instance/s);

    // The task id leads to the task's page.
    await table().getByRole('link', { name: okTaskId }).click();
    await page.getByText(okTaskId).first().waitFor();
    assert.match(page.url(), new RegExp(`/tasks/${okTaskId}$`));
    assert.deepEqual(errors, []);
  });
});
