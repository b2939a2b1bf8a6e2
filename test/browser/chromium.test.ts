/**
 * The browser tests' launcher: without Chromium they fail with the way to install it (CI installs it; a skip would
 * hide a dashboard nobody tested), and with it they get a working headless browser.
 */
import { describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.js';

describe('launchChromium', () => {
  it('fails with the install command when Chromium is missing', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(/apt-get install chromium/);
  });

  it('starts a headless Chromium that renders a page', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="x">aerie</p>');
      expect(await page.locator('#x').textContent()).toBe('aerie');
    } finally {
      await browser.close();
    }
  });
});
