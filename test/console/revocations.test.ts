/**
 * The console's revocations page (issue 19) in a real browser against a real keyfleet with simulated instances: a
 * key someone added by hand to root's authorized_keys on one machine is planned by its pasted public key (the plan
 * names that machine and line, and changes nothing), applied with "also remove copies outside keyfleet's block",
 * and the report shows every machine refused, proven by a publickey query; real OpenSSH is refused afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, LINUX_IMAGE, startInProcess } from '../support/keyfleet.js';
import { sshKeygen, sshRun } from '../support/openssh.js';
import { type Browser, ensureConsoleBuilt, launch, signIn, watchErrors } from './support.js';

describe('console: revoke a key everywhere', () => {
  let kf: Keyfleet;
  let api: Api;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let ids: string[];
  let leaked: { privateKeyPath: string; publicKey: string };
  let akFile: string;
  let before_: string;

  before(async () => {
    ensureConsoleBuilt();
    ({ kf, api } = await startInProcess({ extra: { KEYFLEET_REVOKE_TICK_MS: '200' } }));
    leaked = await sshKeygen('ed25519', 'leaked');
    ids = await api.run({ imageId: LINUX_IMAGE, name: 'rv-console', amount: 2, password: 'Sim-Pass-0001' });
    await api.waitStatus(ids, 'Running');
    akFile = path.join(kf.config.dataDir, 'sim', 'instances', ids[0]!, 'root', '.ssh', 'authorized_keys');
    await fs.mkdir(path.dirname(akFile), { recursive: true });
    before_ = "# root's own\r\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther00 ops\n";
    await fs.writeFile(akFile, `${before_}${leaked.publicKey}\n`);
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, kf.url);
  });
  after(async () => {
    await browser?.close();
    await kf?.close();
  });

  test('plan by a pasted key, apply, and the report proves every machine refuses it', async () => {
    const inst = await api.instance(ids[0]!);
    const login = () =>
      sshRun({
        host: inst.address,
        port: inst.sshPort,
        user: 'root',
        identityFile: leaked.privateKeyPath,
        command: 'true',
      });
    assert.equal((await login()).code, 0, 'the hand-added key logs in before');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Revocations' }).click();
    await page.getByRole('heading', { name: 'Revocations', level: 1 }).waitFor();
    await page.getByLabel('Public key (pasted)').check();
    await page.getByLabel('Public key', { exact: true }).fill(leaked.publicKey);
    await page.getByRole('button', { name: 'Plan (changes nothing)' }).click();
    await page.getByRole('heading', { name: /^Revocation of ssh-ed25519 key/ }).waitFor();

    const row = (id: string) => page.locator(`table[aria-label="Machines"] tr[data-instance-id="${id}"]`);
    assert.match(await row(ids[0]!).innerText(), /root line 3/);
    assert.match(await row(ids[1]!).innerText(), /planned: no copy found/);
    assert.equal(await fs.readFile(akFile, 'utf8'), `${before_}${leaked.publicKey}\n`, 'the plan changes nothing');

    await page.getByLabel(/Also remove copies outside keyfleet's block/).check();
    await page.getByRole('button', { name: 'Apply the revocation' }).click();
    await page.getByRole('status').filter({ hasText: 'Refused everywhere' }).waitFor({ timeout: 60_000 });
    for (const id of ids) assert.match(await row(id).innerText(), /refused \(verified at \d{4}-/);

    assert.equal((await login()).code, 255, 'OpenSSH is refused with the key');
    assert.equal(await fs.readFile(akFile, 'utf8'), before_, 'every other line kept, byte for byte');
    assert.deepEqual(errors, []);
  });
});
