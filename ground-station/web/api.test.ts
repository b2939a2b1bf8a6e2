/**
 * The HTTP API on a station started in-process: bearer auth (401 without it), create/list/get/cancel, validation
 * errors with the problems listed, and the open Prometheus endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { startTestStation, TEST_DEPOT, type TestStation } from '../test-support.js';

describe('station HTTP API', () => {
  let t: TestStation;
  beforeAll(async () => {
    t = await startTestStation({ postgres: true });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses every /api route without the bearer token, and with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/api/deliveries'],
      ['POST', '/api/deliveries'],
      ['GET', '/api/deliveries/ord_x'],
      ['POST', '/api/deliveries/ord_x/cancel'],
      ['GET', '/api/fleet'],
      ['GET', '/api/fleet/d1/events'],
      ['GET', '/api/metrics'],
      ['GET', '/api/alerts'],
      ['GET', '/api/experience/export'],
    ]) {
      const none = await t.api(path, { method, token: null });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      const wrong = await t.api(path, { method, token: 'nope' });
      expect(wrong.status, `${method} ${path}`).toBe(401);
    }
    expect((await t.api('/healthz', { token: null })).status).toBe(200);
  });

  it('creates an order from NE metres, answers its id, and shows it queued', async () => {
    const res = await t.api('/api/deliveries', {
      body: { drop: { northM: 120, eastM: -40 }, weightKg: 1.5, priority: 4, reference: 'parcel-9' },
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as Record<string, unknown>;
    expect(order.id).toMatch(/^ord_[0-9a-f]{16}$/);
    expect(res.headers.get('location')).toBe(`/api/deliveries/${order.id}`);
    expect(order).toMatchObject({ status: 'queued', weightKg: 1.5, priority: 4, reference: 'parcel-9', droneId: null });
    const expected = nedToGeo(TEST_DEPOT, { n: 120, e: -40, d: 0 });
    const drop = order.drop as { latDeg: number; lonDeg: number; northM: number; eastM: number };
    expect(drop.northM).toBe(120);
    expect(drop.latDeg).toBeCloseTo(expected.latDeg, 9);
    expect(drop.lonDeg).toBeCloseTo(expected.lonDeg, 9);

    const got = await t.api(`/api/deliveries/${order.id}`);
    expect(got.status).toBe(200);
    const body = (await got.json()) as { status: string; history: { status: string }[] };
    expect(body.status).toBe('queued');
    expect(body.history.map((h) => h.status)).toEqual(['queued']);
  });

  it('creates from lat/lon with an ISO deadline, lists by status, and pages', async () => {
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t.api('/api/deliveries', {
      body: { pickupDepot: 'main', drop: { latDeg: 47.3986, lonDeg: 8.5461 }, weightKg: 0.5, deadline },
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as { id: string; deadlineMs: number; priority: number };
    expect(order.deadlineMs).toBe(Date.parse(deadline));
    expect(order.priority).toBe(3);
    const list = (await (await t.api('/api/deliveries?status=queued')).json()) as { orders: { id: string }[] };
    expect(list.orders[0].id).toBe(order.id);
    expect(list.orders.length).toBeGreaterThanOrEqual(2);
    const page = (await (await t.api('/api/deliveries?limit=1')).json()) as { orders: { id: string }[] };
    expect(page.orders.map((o) => o.id)).toEqual([order.id]);
    const none = (await (await t.api('/api/deliveries?status=delivered')).json()) as { orders: unknown[] };
    expect(none.orders).toEqual([]);
  });

  it('answers 400 with the problems for bad bodies and queries', async () => {
    const cases: [unknown, string][] = [
      [{ drop: { northM: 10, eastM: 5 } }, 'weightKg'],
      [{ drop: { northM: 10 }, weightKg: 1 }, 'drop'],
      [{ drop: { latDeg: 95, lonDeg: 8 }, weightKg: 1 }, 'drop.latDeg'],
      [{ drop: { northM: 10, eastM: 5 }, weightKg: -1 }, 'weightKg'],
      [{ drop: { northM: 10, eastM: 5 }, weightKg: 1, priority: 9 }, 'priority'],
      [{ drop: { northM: 10, eastM: 5 }, weightKg: 1, color: 'red' }, '(body)'],
      [{ drop: { northM: 10, eastM: 5 }, weightKg: 1, pickupDepot: 'mars' }, 'pickupDepot'],
      [{ drop: { northM: 10, eastM: 5 }, weightKg: 1, deadlineMs: 5 }, 'deadlineMs'],
      [{ drop: { northM: 900_000, eastM: 0 }, weightKg: 1 }, 'drop'],
    ];
    for (const [body, path] of cases) {
      const res = await t.api('/api/deliveries', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = (await res.json()) as { error: string; message: string; issues: { path: string }[] };
      expect(err.error).toBe('invalid-request');
      expect(
        err.issues.map((i) => i.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const notJson = await t.api('/api/deliveries', { body: '{"drop":' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe('invalid-request');
    expect((await t.api('/api/deliveries?status=lost')).status).toBe(400);
    expect((await t.api('/api/deliveries?limit=0')).status).toBe(400);
    expect((await t.api('/api/metrics?window=forever')).status).toBe(400);
    expect((await t.api('/api/metrics?scope=planet:x')).status).toBe(400);
  });

  it('cancels a queued order once (409 after), and answers 404 for unknown ids', async () => {
    const created = (await (
      await t.api('/api/deliveries', { body: { drop: { northM: 50, eastM: 50 }, weightKg: 1 } })
    ).json()) as { id: string };
    const cancelled = await t.api(`/api/deliveries/${created.id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as { status: string }).status).toBe('cancelled');
    const again = await t.api(`/api/deliveries/${created.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { order: { status: string } }).order.status).toBe('cancelled');
    const history = (await (await t.api(`/api/deliveries/${created.id}`)).json()) as { history: { status: string }[] };
    expect(history.history.map((h) => h.status)).toEqual(['queued', 'cancelled']);
    expect((await t.api('/api/deliveries/ord_nope')).status).toBe(404);
    expect((await t.api('/api/deliveries/ord_nope/cancel', { method: 'POST' })).status).toBe(404);
  });

  it("serves a drone's stored events in pages, and 404 for a drone it does not know", async () => {
    const id = `${t.prefix}ev`;
    // What the MQTT handlers store (they are exercised end to end in test/integration/station-e2e-*).
    for (const [sessionId, seq] of [
      ['s1', 1],
      ['s1', 2],
      ['s2', 1],
    ] as const) {
      await t.station.store.insertDroneEvent({
        droneId: id,
        sessionId,
        seq,
        timeMs: 1000 + seq,
        receivedAtMs: 2000 + seq,
        kind: 'alert',
        payload: { kind: 'alert', seq, sessionId },
      });
    }
    const all = (await (await t.api(`/api/fleet/${id}/events`)).json()) as {
      events: { rowId: number; sessionId: string; seq: number; kind: string; event: { seq: number } }[];
    };
    expect(all.events.map((e) => [e.sessionId, e.seq, e.kind, e.event.seq])).toEqual([
      ['s1', 1, 'alert', 1],
      ['s1', 2, 'alert', 2],
      ['s2', 1, 'alert', 1],
    ]);
    const page = (await (
      await t.api(`/api/fleet/${id}/events?session=s1&after=${all.events[0].rowId}&limit=5`)
    ).json()) as {
      events: { seq: number }[];
    };
    expect(page.events.map((e) => e.seq)).toEqual([2]);
    expect((await t.api(`/api/fleet/${id}/events?limit=0`)).status).toBe(400);
    expect((await t.api(`/api/fleet/${t.prefix}nobody/events`)).status).toBe(404);
  });

  it('serves the fleet, metrics, alerts and the Prometheus text', async () => {
    // A shared Mosquitto may hold retained statuses of other runs' drones; the embedded broker starts empty.
    const fleet = (await (await t.api('/api/fleet')).json()) as { drones: { id: string }[] };
    if (t.externalMqtt) expect(fleet.drones.every((d) => !d.id.startsWith(t.prefix))).toBe(true);
    else expect(fleet).toEqual({ drones: [] });
    const m = (await (await t.api('/api/metrics?window=5m&scope=fleet')).json()) as { windowS: number };
    expect(m.windowS).toBe(300);
    const alerts = (await (await t.api('/api/alerts')).json()) as { firing: unknown[] };
    expect(alerts.firing).toEqual([]);
    expect((await t.api('/api/alerts/none/ack', { body: { by: 'alice' } })).status).toBe(404);
    const prom = await t.api('/metrics', { token: null });
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toContain('text/plain');
    const text = await prom.text();
    expect(text).toContain('# TYPE aerie_station_dropped_total counter');
    expect(text).toMatch(/aerie_drones\{state="online"\} \d+/);
    if (!t.externalMqtt) expect(text).toContain('aerie_drones{state="online"} 0');
  });
});
