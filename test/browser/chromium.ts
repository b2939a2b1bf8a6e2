/**
 * Debian's Chromium driven by playwright-core (no browser downloads): launch headless, log in to the dashboard,
 * save screenshots under test-artifacts/. Used by the browser tests and the dashboard benchmark.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from '../fixtures/index.js';

/** AERIE_CHROMIUM overrides; Debian's package installs /usr/bin/chromium. */
export const CHROMIUM_PATH = process.env.AERIE_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts');

/** Launch Chromium headless; a missing browser is an error that says how to install it (never a skip). */
export async function launchChromium(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: the dashboard's browser tests need Debian's chromium ` +
        '(`apt-get install chromium`; .ci/run installs it), or set AERIE_CHROMIUM to another Chromium binary',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** Open the dashboard and log in with the operator token; resolves once the live stream is up. */
export async function loginToDashboard(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.locator('#login-token').fill(token);
  await page.locator('#login-form button[type=submit]').click();
  await page.locator('#app').waitFor({ state: 'visible' });
  await page.locator('#stream-state.live').waitFor({ timeout: 15_000 });
}

/** Save a full-page screenshot as test-artifacts/<folder>/<name>.png and return its path. */
export async function screenshot(page: Page, folder: string, name: string): Promise<string> {
  const dir = join(ARTIFACTS_DIR, folder);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
