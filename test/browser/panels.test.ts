/**
 * The dashboard's rollouts and alerts panels in Chromium over the station's real API: a station in-process
 * (embedded broker, SQLite), a signed and evaluated candidate published to its registry, and light drones on the
 * broker whose candidate slot already holds it.
 * A staged rollout started over the API shows its steps and analysis, and the panel's Promote button completes it
 * (every drone on the candidate, history "promoted by dashboard"); a safety-violations alert reported by a drone
 * shows up firing and the Acknowledge button acknowledges it. Screenshots go to test-artifacts/browser/.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packFromFiles } from '../../ground-station/rollouts/policy-pack.js';
import { PASSING, policyFolder } from '../../ground-station/rollouts/test-support.js';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../../ground-station/test-support.js';
import { readPrivateKeyFile, signBundle } from '../../shared/bundle/index.js';
import { PROTOCOL_VERSION, topics } from '../../shared/protocol/index.js';
import { launchChromium, loginToDashboard, screenshot } from './chromium.js';

interface PolicyJson {
  version: string;
  sha256: string;
  state: string;
}

describe('rollouts and alerts panels in Chromium', () => {
  let browser: Browser;
  let t: TestStation;
  let page: Page;
  const drones: FakeDrone[] = [];
  let BASE = '';
  let CAND = '';

  beforeAll(async () => {
    browser = await launchChromium();
    const ids = ['r0', 'r1', 'r2', 'r3'];
    t = await startTestStation({ droneIds: ids, raw: { mqttUrl: undefined } });
    // The candidate goes into the station's registry as an operator would publish it: signed, with a passing report.
    const folder = policyFolder(PASSING);
    const packed = await packFromFiles({
      policyPath: folder.policyPath,
      evalReportPath: join(folder.dir, 'eval-report.json'),
    });
    const signed = signBundle(packed.bytes, readPrivateKeyFile(join(t.dir, 'keys', 'release.key')));
    const uploaded = await fetch(`${t.station.httpUrl}/api/policies`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer test-token' },
      body: signed,
    });
    if (uploaded.status !== 201) throw new Error(`candidate upload: ${uploaded.status} ${await uploaded.text()}`);
    const cand = (await uploaded.json()) as PolicyJson;
    const base = ((await (await t.api('/api/policies?state=active')).json()) as PolicyJson[])[0];
    BASE = base.version;
    CAND = cand.version;
    for (const id of ids) {
      const full = `${t.prefix}${id}`;
      const d = await FakeDrone.connect(t.station.mqttUrl, full, {
        password: t.passwords[full],
        capabilities: ['assign-delivery', 'activate-policy', 'install-policy', 'shadow-policy', 'revert-policy'],
      });
      drones.push(d);
      await d.birth({
        policyVersion: BASE,
        policy: {
          active: { version: BASE, sha256: base.sha256 },
          candidate: { version: CAND, sha256: cand.sha256 },
        },
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

  it('shows a firing safety alert and acknowledges it with its button', async () => {
    const d = drones[0];
    await d.client.publishAsync(
      topics.droneMetrics(d.id),
      JSON.stringify({
        schema: PROTOCOL_VERSION,
        id: d.id,
        sessionId: d.sessionId,
        seq: 1,
        timeMs: Date.now(),
        windowS: 10,
        episodes: 1,
        successes: 1,
        returnSum: 10,
        ticks: 200,
        policyTicks: 200,
        interventionsByLayer: { sanity: 0, box: 0, barrier: 3, shield: 0, monitor: 0 },
        violations: 1,
        policyFaults: 0,
        inferenceLatencyUs: { p50: 20, p99: 40 },
        policyVersion: CAND,
      }),
      { qos: 1 },
    );
    let alertId = '';
    await waitFor(async () => {
      await t.station.monitoring.evaluate(Date.now());
      const view = (await (await t.api('/api/alerts?state=firing')).json()) as {
        firing: { id: string; rule: string }[];
      };
      alertId = view.firing.find((a) => a.rule === 'safety-violations' && a.id.includes(d.id))?.id ?? '';
      return alertId !== '';
    }, 'the safety-violations alert firing').catch(async (err) => {
      const all = await (await t.api('/api/alerts')).text();
      throw new Error(`${(err as Error).message}: ${all} dropped ${JSON.stringify(t.station.drops.snapshot())}`);
    });
    const item = page.locator(`#alerts li[data-alert-id="${alertId}"]`);
    await item.waitFor({ timeout: 15_000 });
    expect(await item.getAttribute('data-state')).toBe('firing');
    expect(await item.textContent()).toContain('safety-violations');
    await item.scrollIntoViewIfNeeded();
    await screenshot(page, 'browser', 'alert-1-firing');
    await item.locator('button', { hasText: 'acknowledge' }).click();
    await expect.poll(() => item.textContent(), { timeout: 10_000 }).toContain('acknowledged by dashboard');
    const after = (await (await t.api('/api/alerts?state=firing')).json()) as {
      firing: { id: string; acknowledgedBy: string | null }[];
    };
    expect(after.firing.find((a) => a.id === alertId)?.acknowledgedBy).toBe('dashboard');
    await screenshot(page, 'browser', 'alert-2-acknowledged');

    // The charts compare policy versions: the candidate's window shows on its own line.
    await page.locator('#chart-scope').selectOption('versions');
    const success = page.locator('.chart[data-chart="success"]');
    await expect
      .poll(async () => Number(await success.getAttribute('data-points')), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await success.locator('.u-legend').textContent()).toContain(CAND.replace(/^sha256:/, '').slice(0, 10));
    await success.scrollIntoViewIfNeeded();
    await screenshot(page, 'browser', 'charts-per-version');
    await page.locator('#chart-scope').selectOption('fleet');
  }, 60_000);

  it('draws the fleet airspace on the map, and keeps the login across a reload', async () => {
    const put = await t.api('/api/airspace', {
      method: 'PUT',
      body: {
        airspace: {
          geofence: {
            polygonNeM: [
              { n: -400, e: -400 },
              { n: -400, e: 400 },
              { n: 400, e: 400 },
              { n: 400, e: -400 },
            ],
            ceilingM: 120,
          },
          noFlyZones: [{ kind: 'cylinder', id: 'school', centerNeM: { n: 100, e: 0 }, radiusM: 30 }],
        },
      },
    });
    expect(put.status).toBe(200);
    await page.reload();
    await page.locator('#stream-state.live').waitFor({ timeout: 15_000 });
    // Airspace shapes are the map's only SVG paths (drones, trails, depots and drops are on its canvas or DOM).
    await expect.poll(() => page.locator('#map svg path').count(), { timeout: 15_000 }).toBe(2);
    await page.locator('#map').scrollIntoViewIfNeeded();
    await screenshot(page, 'browser', 'airspace');
  }, 60_000);
});
