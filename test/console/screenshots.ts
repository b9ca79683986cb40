/**
 * Screenshots of every console page for docs/screenshots (run on demand: `npm run screenshots:console`):
 * a light scene (a few instances, key pairs, tasks) and a fleet of 1,000 instances, at 1280 px and at phone
 * width (390 px). Uses Debian's Chromium like the browser tests.
 *
 *   node --import tsx test/console/screenshots.ts [outDir]     (default docs/screenshots)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { LINUX_IMAGE, startInProcess, WINDOWS_IMAGE } from '../support/keyfleet.js';
import { sshKeygen } from '../support/openssh.js';
import { allowRootLogin, startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';
import { ensureConsoleBuilt, instanceRow, launch, signIn } from './support.js';

const OUT = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '../../docs/screenshots'));
const PASSWORD = 'Passw0rd!x';

ensureConsoleBuilt();
fs.mkdirSync(OUT, { recursive: true });
const { kf, api } = await startInProcess({ bootMs: 60 });
const shots: string[] = [];
let hosts: TestHost[] = [];

try {
  // ---- light scene (cn-hangzhou) ----------------------------------------------------------------------------
  const web = await api.run({ imageId: LINUX_IMAGE, amount: 3, name: 'web', password: PASSWORD });
  const db = await api.run({
    imageId: 'debian_12_6_x64_20G_alibase_20240823.vhd',
    amount: 2,
    name: 'db',
    password: PASSWORD,
  });
  await api.run({ imageId: WINDOWS_IMAGE, amount: 1, name: 'win-build' });
  await api.run({ imageId: LINUX_IMAGE, amount: 1, name: 'legacy', instanceType: 'ecs.t1.small' });
  await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', {
    name: 'ops-laptop',
    type: 'ed25519',
    description: 'Operations team laptop',
  });
  await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', {
    name: 'deploy-rsa',
    type: 'rsa',
    description: 'CI deploy key',
  });
  const imported = await sshKeygen('ed25519', 'alice@workstation');
  await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', { name: 'alice', publicKey: imported.publicKey });
  await api.waitStatus([...web, ...db], 'Running');
  await api.bind({ action: 'bind', keyPairName: 'ops-laptop', instanceIds: [web[0], web[1]] });
  await api.restart(web[0]!);
  await api.bind({ action: 'bind', keyPairName: 'deploy-rsa', instanceIds: [db[0], db[1]] });
  await api.call('POST', `/api/v1/instances/${db[1]}/stop`);
  const winId = (await api.call('GET', '/api/v1/regions/cn-hangzhou/instances?search=win-build')).instances[0].id;
  await api.bind({ action: 'bind', keyPairName: 'alice', instanceIds: [web[2], winId] });
  await api.waitStatus([db[1]!], 'Stopped');

  const b = await launch({ width: 1280, height: 800 });
  const page = await b.context.newPage();
  const shot = async (name: string, p: Page = page) => {
    await p.waitForTimeout(250);
    const file = path.join(OUT, `${name}.png`);
    await p.screenshot({ path: file });
    shots.push(file);
  };
  const go = async (p: Page, where: string, heading: string) => {
    await p.goto(`${kf.url}/console${where}`);
    await p.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await p
      .locator('.state-loading')
      .waitFor({ state: 'detached' })
      .catch(() => undefined);
  };

  await page.goto(`${kf.url}/console/`);
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
  await shot('sign-in-1280');
  await signIn(page, kf.url);
  await instanceRow(page, 'web-001').waitFor();
  await shot('instances-1280');
  await instanceRow(page, 'web-002').getByText('Restart needed').hover();
  await page.locator('.tooltip').waitFor();
  await shot('instances-restart-needed-tooltip-1280');
  await page.mouse.move(0, 0);
  await page.getByRole('button', { name: 'Actions for win-build' }).click();
  await page.getByRole('menu').waitFor();
  await shot('instances-actions-menu-windows-1280');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Actions for web-002' }).click();
  await page.getByRole('menuitem', { name: 'Unbind Key Pair', exact: true }).click();
  await page.getByRole('radio', { name: /Now, live over SSH/ }).check();
  await shot('instances-unbind-live-1280');
  await page.getByRole('radio', { name: /At the next restart/ }).check();
  await page.getByRole('button', { name: 'Unbind', exact: true }).click();
  await page.getByRole('button', { name: 'Restart now' }).waitFor();
  await shot('instances-unbind-restart-notice-1280');
  await page.getByRole('button', { name: 'Later' }).click();

  await go(page, '/key-pairs', 'Key Pairs');
  await page
    .locator('tr[data-key-pair="alice"]')
    .getByText(/instance/)
    .waitFor();
  await shot('key-pairs-1280');
  await page.getByRole('button', { name: 'Create Key Pair' }).first().click();
  await page.getByRole('dialog').getByLabel('Name').fill('new-laptop');
  await shot('key-pairs-create-1280');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Import Key Pair' }).first().click();
  await page.getByRole('dialog').getByLabel('Name').fill('bob');
  await page
    .getByRole('dialog')
    .getByLabel('Public key', { exact: true })
    .fill((await sshKeygen('ed25519', 'bob@laptop')).publicKey);
  await page
    .getByRole('dialog')
    .getByText(/Valid ED25519/)
    .waitFor();
  await shot('key-pairs-import-1280');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Bind ops-laptop', exact: true }).click();
  const d = page.getByRole('dialog');
  const src = d.getByRole('list', { name: 'Instances to choose from' });
  await src.locator('li', { hasText: 'win-build' }).waitFor();
  await src.locator('li', { hasText: 'db-001' }).getByRole('checkbox').check();
  await src.locator('li', { hasText: 'web-003' }).getByRole('checkbox').check();
  await d.getByRole('button', { name: 'Move checked instances to Selected' }).click();
  await src.locator('li', { hasText: 'db-002' }).getByRole('checkbox').check();
  await shot('key-pairs-bind-transfer-1280');
  await d.getByRole('button', { name: /^Bind 2 instances/ }).click();
  await d.getByRole('heading', { name: 'Bind finished' }).waitFor();
  await shot('key-pairs-bind-result-1280');
  await d.getByRole('button', { name: 'Restart later' }).click();
  await page.getByRole('button', { name: 'Delete deploy-rsa', exact: true }).click();
  await page
    .getByRole('dialog')
    .getByText(/unbind it first/)
    .waitFor();
  await shot('key-pairs-delete-refused-1280');
  await page.keyboard.press('Escape');

  await go(page, '/tasks', 'Tasks');
  await page.locator('tbody tr').first().waitFor();
  await shot('tasks-1280');
  await page.locator('tbody tr', { hasText: 'Bind alice' }).getByRole('link').click();
  await page.getByRole('table', { name: 'Result per instance' }).waitFor();
  await shot('task-detail-failed-1280');
  await go(page, '/audit', 'Audit');
  await page.locator('.state-error, table[aria-label="Audit entries"]').first().waitFor();
  await shot('audit-1280');

  // Detail pages, the "Bound to" filter, extend expiry, start rotation (issue 20).
  await go(page, '/key-pairs', 'Key Pairs');
  await page.locator('tr[data-key-pair="ops-laptop"]').getByRole('link', { name: 'ops-laptop', exact: true }).click();
  await page.getByTestId('bound-instances').waitFor();
  await page.locator('table[aria-label="History of this key pair"]').waitFor();
  await shot('key-pair-detail-1280');
  await page.getByRole('link', { name: 'Show them on the Instances page' }).click();
  await page.getByTestId('bound-to-filter').waitFor();
  await instanceRow(page, 'web-001').waitFor();
  await shot('instances-bound-to-1280');
  await instanceRow(page, 'web-001').getByRole('link', { name: 'web-001' }).click();
  await page.getByTestId('instance-detail').waitFor();
  await page.locator('table[aria-label="History of this instance"]').waitFor();
  await shot('instance-detail-1280');
  await page.getByRole('button', { name: 'Extend expiry' }).click();
  await page.getByTestId('extend-expiry-dialog').waitFor();
  await shot('instance-extend-expiry-1280');
  await page.keyboard.press('Escape');
  await go(page, '/rotations', 'Rotations');
  await page.getByRole('button', { name: 'Start rotation' }).click();
  const rot = page.getByTestId('start-rotation-dialog');
  await rot.getByLabel('Replace key pair').selectOption('ops-laptop');
  await rot.getByLabel('With key pair').selectOption('alice');
  await shot('rotations-start-1280');
  await page.keyboard.press('Escape');

  // Tags, resource groups and escrow (issue 20).
  await api.call('POST', '/api/v1/regions/cn-hangzhou/tags', {
    resourceType: 'keypair',
    resourceIds: ['ops-laptop'],
    tags: [
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'ops' },
    ],
  });
  await api.call('POST', '/api/v1/regions/cn-hangzhou/tags', {
    resourceType: 'instance',
    resourceIds: [web[0], web[1]],
    tags: [{ key: 'role', value: 'web' }],
  });
  for (const name of ['payments', 'web-tier']) await api.call('POST', '/api/v1/resource-groups', { name });
  await api.call('POST', '/api/v1/regions/cn-hangzhou/key-pairs', {
    name: 'ci-escrowed',
    type: 'ed25519',
    escrow: true,
    description: 'CI key, private key kept sealed',
  });
  await go(page, '/key-pairs', 'Key Pairs');
  await page.locator('tr[data-key-pair="ops-laptop"] .tag-pills [data-tag="env"]').waitFor();
  await page.locator('tr[data-key-pair="ops-laptop"]').getByRole('button', { name: 'Tags of ops-laptop' }).click();
  await page.getByRole('dialog').locator('li[data-tag="team"]').waitFor();
  await shot('key-pairs-tags-1280');
  await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Manage groups' }).click();
  await page.getByRole('dialog').locator('tr[data-group="web-tier"]').waitFor();
  await shot('resource-groups-1280');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Move alice to a resource group' }).click();
  await page.getByTestId('move-to-group').waitFor();
  await shot('key-pairs-move-group-1280');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Escrow of ci-escrowed' }).click();
  await page
    .getByTestId('escrow-panel')
    .getByText(/keyfleet keeps this key pair’s private key/)
    .waitFor();
  await shot('key-pairs-escrow-1280');
  await page.keyboard.press('Escape');

  // A registered host (an OpenSSH sshd of the harness) with a hand-added key: the host row, drift, its page.
  hosts = await startHosts(1, { user: 'kfshot', addressPrefix: '127.44' });
  const host = hosts[0]!;
  const mgmt = await sshKeygen('ed25519', 'keyfleet-management');
  await allowRootLogin(host, mgmt.publicKey);
  // The login user's own keys: one added by hand (drift: a key keyfleet did not write).
  const sshDir = path.join(host.home, '.ssh');
  const keysFile = path.join(sshDir, 'authorized_keys');
  fs.mkdirSync(sshDir, { mode: 0o700 });
  fs.writeFileSync(keysFile, `${(await sshKeygen('ed25519', 'added-by-hand')).publicKey}\n`, { mode: 0o600 });
  fs.chownSync(sshDir, host.uid, host.gid);
  fs.chownSync(keysFile, host.uid, host.gid);
  const registered = await api.call('POST', '/api/v1/regions/cn-hangzhou/hosts', {
    name: 'bastion',
    address: host.address,
    port: host.port,
    loginUser: host.user,
    homeDir: host.home,
    managementUser: 'root',
    managementPrivateKey: fs.readFileSync(mgmt.privateKeyPath, 'utf8'),
    passwordLogin: 'unmanaged',
  });
  const hostBind = await api.bind({
    action: 'bind',
    keyPairName: 'ops-laptop',
    instanceIds: [registered.instance.id],
    mode: 'live',
  });
  if (hostBind.items[0].status !== 'succeeded') throw new Error(`host bind: ${JSON.stringify(hostBind.items[0])}`);
  await go(page, '/instances', 'Instances');
  await instanceRow(page, 'bastion').waitFor();
  await shot('instances-host-1280');
  await page.getByRole('button', { name: 'Actions for bastion' }).click();
  await page.getByRole('menuitem', { name: 'Check drift' }).click();
  await page.getByRole('dialog').getByRole('heading', { name: 'Drift check' }).waitFor();
  await page.locator(`[data-instance-id="${registered.instance.id}"][data-drift]`).first().waitFor({ timeout: 30_000 });
  await shot('host-drift-1280');
  await page.keyboard.press('Escape');
  await page.goto(`${kf.url}/console/instances/${registered.instance.id}`);
  await page.getByTestId('instance-detail').waitFor();
  await page.locator('table[aria-label="History of this instance"]').waitFor();
  await shot('host-detail-1280');

  // A live dry run on the host: the unified diffs and the risks, before anything is sent for real.
  await go(page, '/key-pairs', 'Key Pairs');
  await page.getByRole('button', { name: 'Unbind ops-laptop', exact: true }).click();
  const ud = page.getByRole('dialog');
  await ud
    .getByRole('list', { name: 'Instances to choose from' })
    .locator('li', { hasText: 'bastion' })
    .getByRole('checkbox')
    .check();
  await ud.getByRole('button', { name: 'Move checked instances to Selected' }).click();
  await ud.getByRole('radio', { name: /Now, live over SSH/ }).check();
  await ud.getByRole('checkbox', { name: /I have read and agree/ }).check();
  await ud.getByRole('button', { name: 'Preview changes (dry run)' }).click();
  const preview = ud.getByTestId('dry-run-diff').locator(`section[data-instance="${registered.instance.id}"]`);
  await preview.waitFor();
  await preview.scrollIntoViewIfNeeded();
  await shot('key-pairs-unbind-dry-run-1280');
  await page.keyboard.press('Escape');

  // Phone width.
  const phone = await b.context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await go(phone, '/instances', 'Instances');
  await instanceRow(phone, 'web-001').waitFor();
  await shot('instances-390', phone);
  await phone.getByRole('button', { name: 'Navigation' }).click();
  await phone.waitForTimeout(250);
  await shot('navigation-390', phone);
  await phone.keyboard.press('Escape');
  await go(phone, '/key-pairs', 'Key Pairs');
  await phone.locator('tr[data-key-pair="alice"]').waitFor();
  await shot('key-pairs-390', phone);
  await phone.getByRole('button', { name: 'Unbind ops-laptop', exact: true }).click();
  await phone
    .getByRole('dialog')
    .getByRole('list', { name: 'Instances to choose from' })
    .locator('li')
    .first()
    .waitFor();
  await shot('key-pairs-unbind-transfer-390', phone);
  await phone.keyboard.press('Escape');
  await go(phone, '/tasks', 'Tasks');
  await phone.locator('tbody tr').first().waitFor();
  await shot('tasks-390', phone);
  await go(phone, '/audit', 'Audit');
  await shot('audit-390', phone);
  await phone.close();

  // ---- a fleet of 1,000 instances (cn-shanghai) ----------------------------------------------------------------
  const fleet = await api.run({ imageId: LINUX_IMAGE, amount: 1000, name: 'node', password: PASSWORD }, 'cn-shanghai');
  await api.run({ imageId: WINDOWS_IMAGE, amount: 20, name: 'winsrv', start: false }, 'cn-shanghai');
  await api.call('POST', '/api/v1/regions/cn-shanghai/key-pairs', { name: 'fleet-2026', type: 'ed25519' });
  await api.waitStatus(fleet, 'Running', 120_000);
  await api.bind({ action: 'bind', keyPairName: 'fleet-2026', instanceIds: fleet }, 'cn-shanghai');
  for (const id of fleet.slice(0, 400)) await api.call('POST', `/api/v1/instances/${id}/restart`);
  await api.waitStatus(fleet.slice(0, 400), 'Running', 120_000);

  await page.getByRole('combobox', { name: 'Region' }).selectOption('cn-shanghai');
  await go(page, '/instances', 'Instances');
  await page.getByText('1,020 instances').waitFor();
  await page.getByLabel('Per page').selectOption('50');
  await page.getByText('1–50 of 1,020').waitFor();
  await shot('fleet-instances-1280');
  await page.getByRole('checkbox', { name: 'Restart needed only' }).check();
  await page.getByLabel('Search instances').fill('node-9');
  await page.getByLabel('Search instances').press('Enter');
  await page.getByText('1–50 of 100', { exact: true }).waitFor();
  await shot('fleet-instances-search-1280');
  await go(page, '/tasks', 'Tasks');
  await page.locator('tbody tr').first().waitFor();
  await shot('fleet-tasks-1280');
  await page.locator('tbody tr', { hasText: 'Bind fleet-2026' }).getByRole('link').click();
  await page.getByRole('table', { name: 'Result per instance' }).waitFor();
  await shot('fleet-task-detail-1280');
  await go(page, '/key-pairs', 'Key Pairs');
  await page.getByRole('button', { name: 'Unbind fleet-2026', exact: true }).click();
  await page.getByRole('dialog').getByText('1,000 found').waitFor();
  await shot('fleet-unbind-transfer-1280');
  await page.keyboard.press('Escape');
  await b.close();
  console.log(shots.map((s) => path.relative(process.cwd(), s)).join('\n'));
} finally {
  await kf.close();
  await stopHosts(hosts);
}
