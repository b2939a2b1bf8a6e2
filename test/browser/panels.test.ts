/**
 * The dashboard's rollouts panel in Chromium over the station's real rollouts API: a station in-process (embedded
 * broker, SQLite) with light drones on the broker whose candidate slot already holds the new version; a staged
 * rollout started over the API shows its steps and analysis, and the panel's Promote button completes it (every
 * drone on the candidate, history "promoted by dashboard"). Screenshots go to test-artifacts/browser/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../../ground-station/test-support.js';
import { launchChromium, loginToDashboard, screenshot } from './chromium.js';

const BASE = 'base-v1';
const CAND = 'cand-v2';
const SHA = 'cd'.repeat(32);

describe('rollouts panel in Chromium', () => {
  let browser: Browser;
  let t: TestStation;
  let page: Page;
  const drones: FakeDrone[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    const ids = ['r0', 'r1', 'r2', 'r3'];
    t = await startTestStation({ droneIds: ids, raw: { mqttUrl: undefined } });
    for (const id of ids) {
      const full = `${t.prefix}${id}`;
      const d = await FakeDrone.connect(t.station.mqttUrl, full, {
        password: t.passwords[full],
        capabilities: ['assign-delivery', 'activate-policy', 'install-policy', 'shadow-policy', 'revert-policy'],
      });
      drones.push(d);
      await d.birth({
        policyVersion: BASE,
        policy: { active: { version: BASE, sha256: SHA }, candidate: { version: CAND, sha256: SHA } },
      });
      await d.telemetry({ policyVersion: BASE, landed: true, armed: false });
    }
    await waitFor(() => t.station.registry.onlineCount() === ids.length, 'drones online');
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await loginToDashboard(page, t.station.httpUrl, 'test-token');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const d of drones) await d.close().catch(() => undefined);
    await t?.close();
  }, 30_000);

  it('shows a staged rollout and completes it with the Promote button', async () => {
    const res = await t.api('/api/rollouts', {
      body: { candidate: CAND, mode: 'staged', steps: [0.5, 1], shadowMinTicks: 0 },
    });
    expect(res.status).toBe(201);
    const started = (await res.json()) as { id: string; state: string };
    const card = page.locator(`.rollout[data-rollout-id="${started.id}"]`);
    await card.waitFor({ timeout: 15_000 });
    await card.scrollIntoViewIfNeeded();
    expect(await card.locator('.step').allTextContents()).toEqual(['50 %', '100 %']);
    expect(await card.locator('.step.current').textContent()).toBe('50 %');
    expect(await card.textContent()).toContain(`${CAND} over ${BASE}`);
    expect(await card.locator('table').textContent()).toContain('success rate');
    await screenshot(page, 'browser', 'rollout-1-started');

    await card.locator('button[data-action="promote"]').click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('completed');
    const done = (await (await t.api(`/api/rollouts/${started.id}`)).json()) as {
      state: string;
      drones: Record<string, string>;
      history: { reason: string }[];
    };
    expect(done.state).toBe('completed');
    expect(Object.values(done.drones).every((a) => a === 'candidate')).toBe(true);
    expect(done.history.at(-1)?.reason).toBe('promoted by dashboard');
    // A finished rollout's buttons are disabled.
    expect(await card.locator('button[data-action="promote"]').isDisabled()).toBe(true);
    await screenshot(page, 'browser', 'rollout-2-promoted');
  }, 60_000);
});
