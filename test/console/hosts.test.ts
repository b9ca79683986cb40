/**
 * Registered real hosts in the web console (ADR 9) — Debian's Chromium against a real keyfleet and two real Debian
 * OpenSSH sshd hosts from the harness: register a host through the dialog by pasting the management key (a wrong
 * fingerprint given up front is refused with Live.HostKeyChanged and registers nothing; without one the key seen is
 * pinned and shown, equal to the harness host's), import an INI inventory with the second host and an unreachable
 * address (one success row with the pinned fingerprint, one failure row with its code; the inventory goes to the
 * server once, as text, and a line the server refuses is listed), and see both hosts in the
 * instances table marked "host", whose Actions offer live key changes only.
 *
 * Registration only logs in (no sshd reload), so the harness's reload agent is not needed here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Keyfleet } from '../../src/app/keyfleet.js';
import { type Api, startInProcess } from '../support/keyfleet.js';
import { sshKeygen } from '../support/openssh.js';
import { startHosts, stopHosts, type TestHost } from '../support/sshd-harness.js';
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
/** Nothing listens there: 127.31.250.x is above the harness's slots (at most 200), and port 1 is closed. */
const UNREACHABLE = { address: '127.31.250.250', port: 1 };

describe('web console: registered real hosts', () => {
  let kf: Keyfleet;
  let api: Api;
  let url: string;
  let hosts: TestHost[] = [];
  let host1: TestHost, host2: TestHost;
  let mgmtKey = '';
  let browser: Browser;
  let page: Page;
  let errors: string[];

  /** What the management user's authorized_keys holds on a real host before registration. */
  async function authorize(h: TestHost, publicKey: string): Promise<void> {
    const sshDir = path.join(h.home, '.ssh');
    const ak = path.join(sshDir, 'authorized_keys');
    await fs.mkdir(sshDir, { mode: 0o700 });
    await fs.writeFile(ak, `${publicKey}\n`, { mode: 0o600 });
    await fs.chown(sshDir, h.uid, h.gid);
    await fs.chown(ak, h.uid, h.gid);
  }

  async function instancesAt(address: string): Promise<any[]> {
    const r = await api.call(
      'GET',
      `/api/v1/regions/${REGION}/instances?search=${encodeURIComponent(address)}&limit=100`,
    );
    return r.instances.filter((i: any) => i.address === address);
  }

  before(async () => {
    ensureConsoleBuilt();
    hosts = await startHosts(2);
    [host1, host2] = hosts as [TestHost, TestHost];
    const m = await sshKeygen('ed25519', 'keyfleet-management');
    mgmtKey = await fs.readFile(m.privateKeyPath, 'utf8');
    for (const h of hosts) await authorize(h, m.publicKey);
    ({ kf, api } = await startInProcess());
    url = kf.url;
    browser = await launch();
    page = await browser.context.newPage();
    errors = watchErrors(page);
    await signIn(page, url);
  });

  afterEach(() => closeOpenDialog(page));

  after(async () => {
    await browser?.close();
    await kf?.close();
    await stopHosts(hosts);
  });

  const dialog = () => page.getByRole('dialog');

  async function openRegister() {
    await page.getByRole('button', { name: 'Register host' }).click();
    const d = dialog();
    await d.getByRole('heading', { name: 'Register host' }).waitFor();
    return d;
  }

  async function fillHost(d: ReturnType<typeof dialog>, h: TestHost, name: string) {
    await d.getByLabel('Name', { exact: true }).fill(name);
    await d.getByLabel('Address', { exact: true }).fill(h.address);
    assert.equal(await d.getByLabel('SSH port').inputValue(), '22', 'the SSH port defaults to 22');
    assert.equal(await d.getByLabel('Login user').inputValue(), 'root', 'the login user defaults to root');
    await d.getByLabel('SSH port').fill(String(h.port));
    await d.getByLabel('Login user').fill(h.user);
    await d.getByLabel('Home directory').fill(h.home);
    await d.getByLabel('Management private key', { exact: true }).fill(mgmtKey);
  }

  test('a wrong host key fingerprint given up front is refused with its code, and nothing is registered', async () => {
    const d = await openRegister();
    await d.getByText(/never shown again/).waitFor();
    // Browser checks first: a malformed fingerprint never reaches the host.
    await fillHost(d, host1, 'web-a');
    await d.getByLabel('Host key fingerprint').fill('SHA256:short');
    await d.getByRole('button', { name: 'Register', exact: true }).click();
    await d.getByText(/'SHA256:' and 43 base64 characters/).waitFor();
    // The key of another host: well-formed, but not what host1 presents.
    assert.notEqual(host2.hostKeySha256, host1.hostKeySha256);
    await d.getByLabel('Host key fingerprint').fill(host2.hostKeySha256);
    await d.getByRole('button', { name: 'Register', exact: true }).click();
    const alert = d.getByRole('alert').filter({ hasText: 'Live.HostKeyChanged' });
    await alert.waitFor();
    assert.equal(
      await d.getByRole('heading', { name: 'Register host' }).isVisible(),
      true,
      'the dialog stays open on the form',
    );
    assert.deepEqual(await instancesAt(host1.address), [], 'nothing is registered');
    await d.getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'detached' });
    assert.equal(await instanceRow(page, 'web-a').count(), 0);
  });

  test("register a host by pasting the management key: the pinned fingerprint is the host's, with how to compare it", async () => {
    const d = await openRegister();
    await fillHost(d, host1, 'web-a');
    await d.getByRole('button', { name: 'Register', exact: true }).click();
    await d.getByRole('heading', { name: 'Host registered' }).waitFor({ timeout: 30_000 });
    const shown = (await d.getByTestId('pinned-host-key').textContent())!.trim();
    assert.equal(shown, host1.hostKeySha256, 'the console shows the host key sshd serves');
    await d.getByText('Pinned on first use: compare it with the host.').waitFor();
    await d.getByText('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub').waitFor();
    const [registered] = await instancesAt(host1.address);
    assert.ok(registered, 'the host is an instance now');
    assert.equal(registered.backend, 'host');
    assert.equal(registered.hostKeySha256, host1.hostKeySha256);
    assert.equal(registered.sshPort, host1.port);
    assert.equal(registered.host.homeDir, host1.home);
    assert.equal(registered.host.hasManagementKey, true);
    assert.ok((await d.textContent())!.includes(registered.id));
    // The management key is not on the page nor in the browser's storage.
    const keyBody = mgmtKey.split('\n')[1]!;
    assert.ok(!(await page.content()).includes(keyBody), 'the key is not in the DOM after registration');
    const stored = await page.evaluate(() =>
      JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }),
    );
    assert.ok(!stored.includes('PRIVATE KEY'), 'the key is not stored by the browser');
    await d.getByRole('button', { name: 'Done' }).click();
    await dialog().waitFor({ state: 'detached' });
    await instanceRow(page, 'web-a').waitFor();
  });

  test('import an INI inventory: preview, a success row with the fingerprint and a failure row with its code', async () => {
    await page.getByRole('button', { name: 'Import inventory' }).click();
    const d = dialog();
    await d.getByRole('heading', { name: 'Import inventory' }).waitFor();
    const ini = [
      '# two hosts, one of them unreachable',
      '[web]',
      `web-b ansible_host=${host2.address} ansible_port=${host2.port} ansible_user=${host2.user}`,
      `ghost ansible_host=${UNREACHABLE.address} ansible_port=${UNREACHABLE.port}`,
      '[web:vars]',
      'ansible_user=ignored',
    ].join('\n');
    // A bad port is reported with its line before anything is sent.
    await d.getByLabel('Inventory', { exact: true }).fill('web-x ansible_host=10.0.0.1 ansible_port=99999');
    await d.getByText("line 1: '99999' is not a valid port").waitFor();
    assert.equal(await d.getByRole('button', { name: /^Register/ }).isDisabled(), true);

    await d.getByLabel('Inventory', { exact: true }).fill(ini);
    await d.getByText('2 hosts read as INI').waitFor();
    const preview = d.getByRole('table', { name: 'Hosts to register' });
    const rows = await preview
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(rows, [
      ['web-b', host2.address, String(host2.port), host2.user],
      ['ghost', UNREACHABLE.address, String(UNREACHABLE.port), 'root'],
    ]);
    // The key is required once for all hosts.
    await d.getByRole('button', { name: 'Register 2 hosts' }).click();
    await d.getByText('Upload or paste the private key.').waitFor();
    await d.getByLabel('Management private key (the same for every host)', { exact: true }).fill(mgmtKey);
    await d.getByRole('button', { name: 'Register 2 hosts' }).click();

    await d.getByRole('heading', { name: 'Import finished' }).waitFor({ timeout: 60_000 });
    const progress = d.getByRole('progressbar', { name: 'Import progress' });
    assert.equal(await progress.getAttribute('aria-valuenow'), '2');
    assert.equal(await progress.getAttribute('aria-valuemax'), '2');
    await d.getByText('2 of 2 done · 1 registered · 1 failed').waitFor();
    const results = d.getByRole('table', { name: 'Result per host' });
    const ok = results.locator('tr[data-host="web-b"]');
    assert.equal(await ok.getAttribute('data-result'), 'ok');
    const okText = (await ok.textContent())!;
    assert.match(okText, /Registered/);
    assert.ok(okText.includes(host2.hostKeySha256), `the success row shows the pinned fingerprint (${okText})`);
    const bad = results.locator('tr[data-host="ghost"]');
    assert.equal(await bad.getAttribute('data-result'), 'failed');
    assert.match((await bad.textContent())!, /Failed\s*Live\.Unreachable.*127\.31\.250\.250:1/s);
    await d.getByText('Pinned on first use: compare it with the host.').waitFor();

    const [b] = await instancesAt(host2.address);
    assert.equal(b?.hostKeySha256, host2.hostKeySha256, 'the imported host is registered with its own key pinned');
    assert.deepEqual(await instancesAt(UNREACHABLE.address), [], 'the unreachable host is not registered');
    await d.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  test('an import is one request carrying the inventory text, followed as a task; a line the server refuses is listed and nothing is sent per host', async () => {
    // Count what the browser sends: the import itself, and (none expected) single registrations.
    const imports: any[] = [];
    let singles = 0;
    const onRequest = (req: { url(): string; method(): string; postDataJSON(): any }) => {
      if (req.method() !== 'POST') return;
      if (/\/api\/v1\/hosts\/imports$/.test(req.url())) imports.push(req.postDataJSON());
      if (/\/api\/v1\/regions\/[^/]+\/hosts$/.test(req.url())) singles++;
    };
    page.on('request', onRequest);
    try {
      await page.getByRole('button', { name: 'Import inventory' }).click();
      const d = dialog();
      const dead = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `dead-${n},127.31.250.${240 + n},1,root`);
      // The same address twice reads fine in the browser; the server refuses the whole inventory and says where.
      await d
        .getByLabel('Inventory', { exact: true })
        .fill(['name,address,port,user', ...dead, 'dead-again,127.31.250.241,1,root'].join('\n'));
      await d.getByText('10 hosts read as CSV').waitFor();
      await d.getByLabel('Management private key (the same for every host)', { exact: true }).fill(mgmtKey);
      await d.getByRole('button', { name: 'Register 10 hosts' }).click();
      await d.getByText(/line 11 \(dead-again\): 127\.31\.250\.241:1 is already on line 2/).waitFor();
      assert.equal(imports.length, 1);
      assert.equal(await d.getByRole('heading', { name: 'Import inventory' }).count(), 1, 'the form stays open');

      const csv = ['name,address,port,user', ...dead].join('\n');
      await d.getByLabel('Inventory', { exact: true }).fill(csv);
      await d.getByText('9 hosts read as CSV').waitFor();
      await d.getByRole('button', { name: 'Register 9 hosts' }).click();
      await d.getByRole('heading', { name: 'Import finished' }).waitFor({ timeout: 60_000 });
      assert.equal(imports.length, 2, 'one request for the whole inventory');
      assert.equal(imports[1].inventory, csv, 'the inventory is sent as text, read by the server');
      assert.equal(imports[1].format, 'csv');
      assert.equal(singles, 0, 'no registration per host from the browser');
      await d.getByText('9 of 9 done · 0 registered · 9 failed').waitFor();
      const rows = d.getByRole('table', { name: 'Result per host' }).locator('tbody tr');
      assert.deepEqual(
        await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-result'))),
        Array(9).fill('failed'),
      );
      assert.match((await rows.first().textContent())!, /Failed\s*Live\.Unreachable/);
      await d.getByRole('button', { name: 'Close', exact: true }).click();
      await dialog().waitFor({ state: 'detached' });
    } finally {
      page.off('request', onRequest);
    }
  });

  test('the instances table marks both hosts "host" with their address:port; Actions offer live key changes only', async () => {
    await page.getByRole('button', { name: 'Refresh instances' }).click();
    for (const [name, h] of [
      ['web-a', host1],
      ['web-b', host2],
    ] as const) {
      const row = instanceRow(page, name);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-backend'), 'host');
      const badge = row.locator('.badge-host');
      assert.equal(await badge.count(), 1, `${name} has the host badge`);
      assert.match((await badge.textContent())!, /^host/);
      assert.ok(
        (await row.locator('.host-line').textContent())!.includes(`${h.address}:${h.port}`),
        `${name} shows its address:port`,
      );
    }
    assert.equal(await instanceRow(page, 'ghost').count(), 0);

    await page.getByRole('button', { name: 'Actions for web-a' }).click();
    const menu = page.getByRole('menu', { name: 'Actions for web-a' });
    await menu.waitFor();
    const labels = (await menu.getByRole('menuitem').allTextContents()).map((t) => t.trim());
    for (const power of ['Start', 'Stop', 'Restart', 'Reset Password'])
      assert.ok(!labels.some((l) => l.startsWith(power)), `no ${power} for a host (${labels.join(', ')})`);
    await menu.getByRole('menuitem', { name: /^Bind Key Pair/ }).click();
    const d = dialog();
    await d.getByRole('heading', { name: 'Bind Key Pair' }).waitFor();
    await d
      .getByText('Not for a registered host: keyfleet never restarts it, so a change is applied live only.')
      .waitFor();
    assert.equal(
      await d.getByRole('radio', { name: /At the next restart/ }).isDisabled(),
      true,
      'at the next restart is not offered',
    );
    assert.equal(await d.getByRole('radio', { name: /Now, live over SSH/ }).isChecked(), true, 'live is the mode');
    assert.equal(
      await d.getByRole('radio', { name: /management key \(held by keyfleet\)/ }).isChecked(),
      true,
      "the host's management key is the default credential",
    );
    assert.match(
      (await d.textContent())!,
      new RegExp(`${host1.home.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/\\.ssh/authorized_keys`),
    );
    await d.getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  test("a key pair's transfer dialog with only hosts selected logs in with their held management keys, each on its own port: the live dry run reads both", async () => {
    await api.call('POST', `/api/v1/regions/${REGION}/key-pairs`, { name: 'hosts-kp', type: 'ed25519' });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Key Pairs' }).click();
    await page.getByRole('heading', { name: 'Key Pairs', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Bind hosts-kp', exact: true }).click();
    const d = dialog();
    const source = d.getByRole('list', { name: 'Instances to choose from' });
    for (const name of ['web-a', 'web-b']) await source.locator('li', { hasText: name }).getByRole('checkbox').check();
    await d.getByRole('button', { name: 'Move checked instances to Selected' }).click();
    await d.getByRole('radio', { name: /Now, live over SSH/ }).check();
    // The two hosts listen on different ports: none is guessed, each host's own port on record is used.
    assert.notEqual(host1.port, host2.port);
    assert.equal(await d.getByLabel('SSH port').inputValue(), '');
    await d.getByText(/Empty: each instance's own port on record/).waitFor();
    assert.equal(
      await d.getByRole('radio', { name: /management key \(held by keyfleet\)/ }).isChecked(),
      true,
      'the held management keys are the default credential',
    );
    await d.getByRole('checkbox', { name: /I have read and agree/ }).check();
    await d.getByRole('button', { name: 'Preview changes (dry run)' }).click();
    const kp = await api.call('GET', `/api/v1/regions/${REGION}/key-pairs/hosts-kp`);
    const body = kp.keyPair.publicKey.split(' ')[1];
    for (const h of [host1, host2]) {
      const [inst] = await instancesAt(h.address);
      const section = d.getByTestId('dry-run-diff').locator(`section[data-instance="${inst.id}"]`);
      await section.locator('[data-line="add"]').first().waitFor();
      assert.match((await section.locator('h4').textContent())!, new RegExp(`^${inst.name} ${inst.id}$`));
      const added = (await section.locator('[data-line="add"]').allTextContents()).join('\n');
      assert.ok(added.includes(body), `the dry run on ${h.address} adds the key pair's key`);
    }
    // A dry run writes nothing: neither host has the key.
    for (const h of [host1, host2])
      assert.ok(!(await fs.readFile(path.join(h.home, '.ssh/authorized_keys'), 'utf8')).includes(body));
    await d.getByRole('button', { name: 'Cancel' }).click();
    await dialog().waitFor({ state: 'detached' });
  });

  test('no script errors', () => {
    assert.deepEqual(errors, []);
  });
});
