/**
 * The operator dashboard in Debian's Chromium against the whole system (`aerie demo`: simulated fleet, one onboard
 * runtime per drone, station with embedded broker and SQLite): the page refuses without the operator token and
 * loads with it; drones move on the map; an order created by clicking the map is delivered; the drone panel; the
 * emergency stop lands the fleet. (Rollouts: rollouts.test.ts.) Screenshots go to test-artifacts/browser/.
 * Chromium missing is a failure with the install command, not a skip (CI installs it).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loginToDashboard, screenshot } from './chromium.js';
import { type DemoSystem, eventually, startDemo } from './demo-harness.js';

interface FleetDrone {
  id: string;
  online: boolean;
  state: { armed: boolean; landed: boolean; mode: string } | null;
}

const DRONES = 3;

describe('operator dashboard in Chromium', () => {
  let browser: Browser;
  let demo: DemoSystem;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    demo = await startDemo({ drones: DRONES, speed: 2 });
    await eventually(
      async () =>
        (await demo.api<{ drones: FleetDrone[] }>('/api/fleet')).drones.filter((d) => d.state).length === DRONES,
      'every drone reporting telemetry',
      90_000,
    );
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
  }, 150_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await demo?.stop();
  }, 60_000);

  it('refuses the page without the operator token and loads it with the token', async () => {
    await page.goto(demo.url);
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    expect(await page.locator('#app').isVisible()).toBe(false);
    // The API refuses the page's calls without the token.
    const status = await page.evaluate(async () => (await fetch('/api/fleet')).status);
    expect(status).toBe(401);
    await page.locator('#login-token').fill('not-the-token');
    await page.locator('#login-form button[type=submit]').click();
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('not this station');
    expect(await page.locator('#app').isVisible()).toBe(false);
    await screenshot(page, 'browser', '01-login-refused');

    await loginToDashboard(page, demo.url, demo.token);
    await expect.poll(() => page.locator('.drone-icon[data-drone-id]').count(), { timeout: 15_000 }).toBe(DRONES);
    // The drone table is filled once it is on screen.
    await page.locator('#drones').scrollIntoViewIfNeeded();
    await expect.poll(() => page.locator('#drones tr').count(), { timeout: 15_000 }).toBe(DRONES);
    await page.locator('#map').scrollIntoViewIfNeeded();
    // The token is kept for the tab only.
    expect(await page.evaluate("sessionStorage.getItem('aerie.operatorToken')")).toBe(demo.token);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    await screenshot(page, 'browser', '02-logged-in');
  }, 60_000);

  it('delivers an order created by clicking the map, and the drone moves on the map meanwhile', async () => {
    const map = page.locator('#map');
    const box = (await map.boundingBox())!;
    // North-east of the depot, tens of metres away: a short trip.
    await page.mouse.click(box.x + box.width / 2 + 50, box.y + box.height / 2 - 40);
    const north = Number(await page.locator('#order-north').inputValue());
    const east = Number(await page.locator('#order-east').inputValue());
    expect(north).toBeGreaterThan(5);
    expect(east).toBeGreaterThan(5);
    await page.locator('#order-reference').fill('from-the-map');
    await page.locator('#order-form button[type=submit]').click();
    await expect.poll(() => page.locator('#order-result').getAttribute('data-order-id')).toMatch(/^ord_/);
    const orderId = (await page.locator('#order-result').getAttribute('data-order-id'))!;
    const order = await demo.api<{ drop: { northM: number; eastM: number }; reference: string }>(
      `/api/deliveries/${orderId}`,
    );
    expect(order.drop).toMatchObject({ northM: north, eastM: east });
    expect(order.reference).toBe('from-the-map');
    await screenshot(page, 'browser', '03-order-created');

    // The assigned drone's arrow moves across the map.
    let droneId = '';
    await eventually(
      async () => {
        droneId = (await demo.api<{ droneId: string | null }>(`/api/deliveries/${orderId}`)).droneId ?? '';
        return droneId !== '';
      },
      'the order assigned',
      60_000,
    );
    const marker = page.locator(`.drone-icon[data-drone-id="${droneId}"]`);
    const at = async () => ({
      n: Number(await marker.getAttribute('data-north')),
      e: Number(await marker.getAttribute('data-east')),
    });
    const start = await at();
    let moved = 0;
    await eventually(
      async () => {
        const now = await at();
        moved = Math.hypot(now.n - start.n, now.e - start.e);
        return moved > 10;
      },
      `${droneId} moving on the map`,
      90_000,
    );
    await screenshot(page, 'browser', '04-drone-moving');
    const batches = await page.evaluate<number>('window.aerieDashboard.batches');
    expect(batches).toBeGreaterThan(1);

    // Delivered: it shows in the page's history.
    await page
      .locator(`#history tr[data-order-id="${orderId}"][data-status="delivered"]`)
      .waitFor({ timeout: 150_000 });
    await screenshot(page, 'browser', '05-order-delivered');
  }, 330_000);

  it('opens a drone panel with its mode, battery, policy version and link', async () => {
    await page.locator('#drones tr').first().click();
    await page.locator('#drone-panel').waitFor({ state: 'visible' });
    expect(await page.locator('#dp-fields [data-field="mode"]').textContent()).toMatch(/\S/);
    expect(await page.locator('#dp-fields [data-field="battery"]').textContent()).toMatch(/\d+ %/);
    expect(await page.locator('#dp-fields [data-field="policy"]').textContent()).toMatch(/^sha256:/);
    expect(await page.locator('#dp-fields [data-field="link"]').textContent()).toContain('heartbeat');
    await screenshot(page, 'browser', '06-drone-panel');
    await page.locator('#dp-close').click();
    // Clicking a drone on the map opens its panel too.
    await page.locator('.drone-icon[data-drone-id="drone-2"]').dispatchEvent('click');
    await expect.poll(() => page.locator('#dp-id').textContent()).toBe('drone-2');
    expect(await page.locator('#drone-panel').isVisible()).toBe(true);
    await page.locator('#dp-close').click();
  }, 30_000);

  it('lands the whole fleet with the confirmed emergency stop', async () => {
    // Get drones into the air: one order per drone, a few hundred metres out.
    for (let i = 0; i < DRONES; i++) {
      const a = (i * 2 * Math.PI) / DRONES;
      await demo.api('/api/deliveries', {
        body: { drop: { northM: Math.round(180 * Math.cos(a)), eastM: Math.round(180 * Math.sin(a)) }, weightKg: 1 },
      });
    }
    const flying = async () =>
      (await demo.api<{ drones: FleetDrone[] }>('/api/fleet')).drones.filter((d) => d.state?.armed && !d.state.landed)
        .length;
    await eventually(async () => (await flying()) >= 2, 'two drones in the air', 120_000);
    await expect
      .poll(async () => Number(await page.locator('#fleet-summary').getAttribute('data-flying')), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);

    // Cancel first: nothing is sent.
    await page.locator('#estop').click();
    await page.locator('#estop-dialog button[value=cancel]').click();
    expect(await flying()).toBeGreaterThanOrEqual(1);

    await page.locator('#estop').click();
    await page.locator('#estop-reason').fill('browser test: stop everything');
    await screenshot(page, 'browser', '07-estop-confirm');
    await page.locator('#estop-confirm').click();
    await expect.poll(() => page.locator('#order-result').textContent()).toContain('Emergency stop sent');

    await eventually(
      async () => {
        const drones = (await demo.api<{ drones: FleetDrone[] }>('/api/fleet')).drones;
        return drones.every((d) => d.state?.landed === true);
      },
      'every drone landed',
      120_000,
    );
    await expect
      .poll(async () => Number(await page.locator('#fleet-summary').getAttribute('data-flying')), { timeout: 10_000 })
      .toBe(0);
    await screenshot(page, 'browser', '08-fleet-landed');
  }, 300_000);
});
