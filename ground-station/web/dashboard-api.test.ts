/**
 * The dashboard's side of the station API on a real station (embedded broker - a fleet estop on a shared broker
 * would reach other tests' drones): the page and its libraries load without a token but carry no fleet data, the
 * live stream refuses without the token and streams batched fleet deltas with it, and the fleet emergency stop
 * needs an explicit confirmation and reaches the drones on the fleet estop channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';
import { FakeDrone, startTestStation, TEST_DEPOT, type TestStation, waitFor } from '../test-support.js';

/** Read SSE events from a fetch response body until `until` says stop. */
async function readEvents(
  res: Response,
  until: (events: { event: string; data: unknown }[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ event: string; data: unknown }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`stream: condition not met; got ${events.map((e) => e.event)}`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const m = /^event: (\w+)\ndata: (.*)$/m.exec(block);
        if (m) events.push({ event: m[1], data: JSON.parse(m[2]) });
        cut = buffer.indexOf('\n\n');
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

describe('dashboard routes', () => {
  let t: TestStation;
  let drone: FakeDrone;
  const estops: unknown[] = [];

  beforeAll(async () => {
    t = await startTestStation({ droneIds: ['d1'], raw: { mqttUrl: undefined } });
    const id = `${t.prefix}d1`;
    drone = await FakeDrone.connect(t.station.mqttUrl, id, { password: t.passwords[id] });
    drone.client.on('message', (topic, payload) => {
      if (topic === topics.fleetEstop) estops.push(JSON.parse(payload.toString('utf8')));
    });
    await drone.client.subscribeAsync(topics.fleetEstop, { qos: 1 });
    await drone.birth();
    await drone.telemetry({ geo: nedToGeo(TEST_DEPOT, { n: 50, e: -20, d: -30 }), yawRad: Math.PI });
    await waitFor(() => t.station.registry.get(id)?.telemetry !== null, 'first telemetry');
  });
  afterAll(async () => {
    await drone?.close();
    await t?.close();
  });

  it('serves the page and its libraries without a token, with no fleet data in them', async () => {
    const page = await t.api('/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('/ui/main.js');
    expect(html).not.toContain(t.prefix);
    expect(html).not.toContain('test-token');
    for (const path of [
      '/ui/main.js',
      '/ui/app.css',
      '/vendor/leaflet/leaflet-src.esm.js',
      '/vendor/uplot/uPlot.esm.js',
    ]) {
      const res = await t.api(path, { token: null });
      expect(res.status, path).toBe(200);
      expect(await res.text()).not.toContain(t.prefix);
    }
    for (const path of [
      '/ui/../assets.ts',
      '/ui/%2e%2e/%2e%2e/server.ts',
      '/vendor/leaflet/../package.json',
      '/vendor/fs/x.js',
      '/ui/nope.js',
    ]) {
      expect((await t.api(path, { token: null })).status, path).toBe(404);
    }
  });

  it('refuses the stream without the token, and takes it as a header or ?access_token=', async () => {
    expect((await t.api('/api/stream', { token: null })).status).toBe(401);
    expect((await t.api('/api/stream?access_token=wrong', { token: null })).status).toBe(401);
    // The query token opens the stream only, not the rest of the API.
    expect((await t.api('/api/fleet?access_token=test-token', { token: null })).status).toBe(401);
    const res = await t.api('/api/stream?access_token=test-token', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    await res.body?.cancel();
  });

  it('streams the fleet as a full frame, then deltas when a drone moves', async () => {
    const id = `${t.prefix}d1`;
    const res = await t.api('/api/stream');
    const first = await readEvents(res, (ev) => ev.some((e) => e.event === 'alerts'));
    expect(first.map((e) => e.event)).toEqual(['setup', 'fleet', 'alerts']);
    expect(first[0].data).toMatchObject({ origin: TEST_DEPOT, depots: [{ northM: 0, eastM: 0 }] });
    const full = first[1].data as { full: boolean; upsert: Record<string, unknown>[] };
    expect(full.full).toBe(true);
    expect(full.upsert.find((f) => f.id === id)).toMatchObject({ northM: 50, eastM: -20, altM: 30, headingDeg: 180 });

    const res2 = await t.api('/api/stream');
    const moving = drone.telemetry({ geo: nedToGeo(TEST_DEPOT, { n: 60, e: -20, d: -30 }), yawRad: Math.PI });
    const events = await readEvents(res2, (ev) =>
      ev.some(
        (e) =>
          e.event === 'fleet' &&
          (e.data as { upsert: { id: string; northM: number }[] }).upsert.some((f) => f.id === id && f.northM === 60),
      ),
    );
    await moving;
    const delta = events.filter((e) => e.event === 'fleet').at(-1)!.data as { full: boolean };
    expect(delta.full).toBe(false);
  });

  it('sends the fleet emergency stop only when confirmed', async () => {
    const unconfirmed = await t.api('/api/fleet/estop', { body: { reason: 'test' } });
    expect(unconfirmed.status).toBe(400);
    expect(estops).toHaveLength(0);
    expect((await t.api('/api/fleet/estop', { body: { confirm: true }, token: null })).status).toBe(401);

    const res = await t.api('/api/fleet/estop', { body: { confirm: true, reason: 'intruder aircraft' } });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { commandId: string };
    await waitFor(() => estops.length > 0, 'estop on the fleet channel');
    expect(estops[0]).toMatchObject({ commandId: body.commandId, reason: 'intruder aircraft' });
  });
});
