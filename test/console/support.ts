/**
 * Browser tests of the web console: Debian's Chromium driven by playwright-core (never a downloaded browser), a
 * fresh profile per launch, and helpers to sign in and wait for what the page shows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { ADMIN_PASSWORD } from '../support/keyfleet.js';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(import.meta.dirname, '../..');
export const DIST = path.join(ROOT, 'dist/console');

/** Builds the console when dist/console is missing (npm test builds it before the tests). */
export function ensureConsoleBuilt(): void {
  if (fs.existsSync(path.join(DIST, 'index.html'))) return;
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'src/console/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

export interface Browser {
  context: BrowserContext;
  downloads: string;
  close(): Promise<void>;
}

/** Launches Debian's Chromium; a missing browser is a failure (scripts/test-deps.sh installs it), never a skip. */
export async function launch(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/test-deps.sh does it as root).`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-chromium-'));
  const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-downloads-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    acceptDownloads: true,
    downloadsPath: downloads,
    locale: 'en-US',
    timezoneId: 'UTC',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    downloads,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
      fs.rmSync(downloads, { recursive: true, force: true });
    },
  };
}

/** Opens the console and signs in as the admin through the sign-in page. */
export async function signIn(page: Page, url: string, password = ADMIN_PASSWORD): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
}

/** The table row of an instance, found by its name. */
export function instanceRow(page: Page, name: string) {
  return page
    .locator('table tbody tr')
    .filter({ has: page.locator('.cell-main', { hasText: new RegExp(`^${name}$`) }) });
}

/** Collects page errors and failed console messages so a test can assert that none happened. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (
      m.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of (4\d\d|503)/.test(m.text())
    )
      errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** After a test: a failed step must not leave a dialog over the page for the next test (Escape closes it). */
export async function closeOpenDialog(page: Page | undefined): Promise<void> {
  if (
    await page
      ?.getByRole('dialog')
      .isVisible()
      .catch(() => false)
  )
    await page!.keyboard.press('Escape');
}
