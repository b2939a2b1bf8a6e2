/**
 * Orders flown by fake drones through a station: the assignment round sends assign-delivery to the right drone,
 * acks and mission events move the order, rejections and lost drones re-plan per the dispatcher's policy, and
 * cancelling a flying order sends an abort. Against Mosquitto when MQTT_URL is set, else the embedded broker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { geoToNed, nedToGeo } from '../../shared/geo/index.js';
import type { AssignDelivery } from '../../shared/protocol/index.js';
import { parseStationConfig } from '../config.js';
import { type StationHandle, startStation } from '../station.js';
import { FakeDrone, startTestStation, TEST_DEPOT, type TestStation, waitFor } from '../test-support.js';

interface OrderJson {
  id: string;
  status: string;
  droneId: string | null;
  reason: string | null;
  attempts: number;
  history: { status: string; droneId: string | null; reason: string | null }[];
}

describe('deliveries through the station', () => {
  let t: TestStation;
  const drones: FakeDrone[] = [];
  afterEach(async () => {
    await Promise.all(drones.splice(0).map((d) => d.close().catch(() => undefined)));
    await t?.close();
  });

  async function setup(raw: Record<string, unknown> = {}) {
    t = await startTestStation({
      droneIds: ['near', 'far'],
      raw: { roundInterval: 0.2, staleAfter: 120, rejectCooldown: 60, ...raw },
    });
  }

  /** A drone idle on the ground `northM` north of the depot, born and reporting. */
  async function idleDrone(name: string, northM: number, ackPolicy: 'accept' | 'reject' | 'silent' = 'accept') {
    const id = t.prefix + name;
    const home = nedToGeo(TEST_DEPOT, { n: northM, e: 0, d: 0 });
    const d = await FakeDrone.connect(t.station.mqttUrl, id, { password: t.passwords[id], home, ackPolicy });
    drones.push(d);
    await d.birth();
    await d.telemetry();
    await waitFor(() => t.station.registry.get(id)?.telemetry !== null, `${id} telemetry`);
    return d;
  }

  async function order(body: Record<string, unknown> = {}): Promise<string> {
    const res = await t.api('/api/deliveries', { body: { drop: { northM: 300, eastM: 100 }, weightKg: 1, ...body } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  const get = async (id: string) => (await (await t.api(`/api/deliveries/${id}`)).json()) as OrderJson;
  const statusIs = (id: string, status: string) => async () => (await get(id)).status === status;

  it('sends the order to the better-placed drone only, and follows it to delivered', async () => {
    await setup();
    const near = await idleDrone('near', 0);
    const far = await idleDrone('far', 3000);
    const id = await order();
    await waitFor(() => near.commands.length > 0, 'assign-delivery to the near drone');
    const cmd = near.commands[0] as AssignDelivery;
    expect(cmd).toMatchObject({
      kind: 'assign-delivery',
      taskId: id,
      target: near.id,
      cruiseAltM: 30,
      releaseBy: 'hover',
    });
    const drop = nedToGeo(TEST_DEPOT, { n: 300, e: 100, d: 0 });
    expect(cmd.dropGeo?.latDeg).toBeCloseTo(drop.latDeg, 9);
    const expectedNe = geoToNed(near.home, { ...drop, altAmslM: near.home.altAmslM });
    expect(cmd.dropNeM?.[0]).toBeCloseTo(expectedNe.n, 1);
    expect(cmd.dropNeM?.[1]).toBeCloseTo(expectedNe.e, 1);
    // The fake acks 'accepted' at once: in flight.
    await waitFor(statusIs(id, 'in-flight'), 'in-flight after the accepted ack');
    expect((await get(id)).droneId).toBe(near.id);
    const fleet = (await (await t.api('/api/fleet')).json()) as { drones: { id: string; task: string | null }[] };
    expect(fleet.drones.find((d) => d.id === near.id)?.task).toBe(id);
    expect(fleet.drones.find((d) => d.id === far.id)?.task).toBeNull();

    await near.mission('phase', { phase: 'cruise-out' });
    await near.mission('released');
    await waitFor(statusIs(id, 'delivered'), 'delivered after release');
    const done = await get(id);
    expect(done.history.map((h) => h.status)).toEqual(['queued', 'assigned', 'in-flight', 'delivered']);
    expect(far.commands).toEqual([]);
    expect(t.station.dispatcher.stats.delivered).toBe(1);
  });

  it('re-queues a rejected order and gives it to the other drone', async () => {
    await setup();
    const near = await idleDrone('near', 0, 'reject');
    const far = await idleDrone('far', 500);
    const id = await order();
    await waitFor(() => far.commands.length > 0, 'assign-delivery to the other drone after the rejection');
    expect(near.commands.length).toBe(1);
    await waitFor(statusIs(id, 'in-flight'), 'in flight with the second drone');
    const o = await get(id);
    expect(o).toMatchObject({ droneId: far.id, attempts: 2 });
    expect(o.history.map((h) => h.status)).toEqual(['queued', 'assigned', 'queued', 'assigned', 'in-flight']);
    expect(o.history[2].reason).toContain('rejected: busy charging');
  });

  it('re-queues at once when the drone drops before accepting', async () => {
    await setup();
    const near = await idleDrone('near', 0, 'silent');
    const id = await order();
    await waitFor(() => near.commands.length > 0, 'assign-delivery');
    expect((await get(id)).status).toBe('assigned');
    near.dropConnection();
    await waitFor(statusIs(id, 'queued'), 're-queued after the will');
    expect((await get(id)).reason).toContain('went offline before accepting');
    // Another drone comes up: the order goes to it.
    const far = await idleDrone('far', 200);
    await waitFor(statusIs(id, 'in-flight'), 'in flight with the new drone');
    expect((await get(id)).droneId).toBe(far.id);
  });

  it('fails an in-flight order whose drone stays lost past the grace', async () => {
    await setup({ inFlightOfflineGrace: 0.3 });
    const near = await idleDrone('near', 0);
    const id = await order();
    await waitFor(statusIs(id, 'in-flight'), 'in flight');
    near.dropConnection();
    await waitFor(statusIs(id, 'failed'), 'failed after the grace');
    const o = await get(id);
    expect(o.reason).toContain('lost in flight');
    expect(o.droneId).toBe(near.id);
  });

  it('fails an order whose mission ends badly, and goes back to idle drones for the next', async () => {
    await setup();
    const near = await idleDrone('near', 0);
    const id = await order();
    await waitFor(statusIs(id, 'in-flight'), 'in flight');
    await near.mission('outcome', { outcome: 'aborted', phase: 'cruise-out', detail: 'geofence' });
    await waitFor(statusIs(id, 'failed'), 'failed');
    expect((await get(id)).reason).toBe('mission aborted in cruise-out: geofence');
    near.taskId = null;
    await near.telemetry();
    const next = await order({ priority: 5 });
    await waitFor(statusIs(next, 'in-flight'), 'next order in flight');
  });

  it('sends an abort when an in-flight order is cancelled', async () => {
    await setup();
    const near = await idleDrone('near', 0);
    const id = await order();
    await waitFor(statusIs(id, 'in-flight'), 'in flight');
    const res = await t.api(`/api/deliveries/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('cancelled');
    await waitFor(() => near.commands.some((c) => c.kind === 'abort'), 'abort command');
    const abort = near.commands.find((c) => c.kind === 'abort');
    expect(abort).toMatchObject({ target: near.id, reason: `order ${id} cancelled` });
    // A late 'released' must not resurrect a cancelled order.
    await near.mission('released', { taskId: id });
    await t.station.settle();
    await new Promise((r) => setTimeout(r, 50));
    await t.station.settle();
    expect((await get(id)).status).toBe('cancelled');
  });

  it('re-queues on no ack, then fails after the last attempt', async () => {
    await setup({ ackTimeout: 0.2, rejectCooldown: 0, maxAttempts: 2 });
    const near = await idleDrone('near', 0, 'silent');
    const id = await order();
    await waitFor(statusIs(id, 'failed'), 'failed after two unanswered hand-outs');
    const o = await get(id);
    expect(o.attempts).toBe(2);
    expect(o.reason).toContain('gave up after 2 attempts');
    expect(near.commands.length).toBe(2);
  });

  it('fails a queued order whose deadline passes before any drone can take it', async () => {
    await setup();
    const id = await order({ deadlineMs: Date.now() + 300 });
    await waitFor(statusIs(id, 'failed'), 'failed at the deadline');
    expect((await get(id)).reason).toContain('deadline');
  });
});

describe('a station restart', () => {
  it('keeps the queue, the orders in flight and the fleet it knew', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-restart-'));
    const config = parseStationConfig({
      mqttPort: 0,
      httpPort: 0,
      db: join(dir, 'station.db'),
      credentials: join(dir, 'none.json'),
      operatorToken: 'tok',
      trafficRate: 0,
    });
    const api = (s: StationHandle, path: string, body?: unknown) =>
      fetch(`${s.httpUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    try {
      const first = await startStation(config);
      const created = (await (
        await api(first, '/api/deliveries', { drop: { northM: 10, eastM: 10 }, weightKg: 1 })
      ).json()) as {
        id: string;
      };
      await first.store.saveDrones([
        {
          id: 'd-known',
          online: true,
          sessionId: 's1',
          policyVersion: 'p',
          home: null,
          capabilities: [],
          lastState: null,
          birthAtMs: 1,
          lastSeenMs: 1,
          updatedAtMs: 1,
        },
      ]);
      await first.close();
      const second = await startStation(config);
      try {
        const got = (await (await api(second, `/api/deliveries/${created.id}`)).json()) as { status: string };
        expect(got.status).toBe('queued');
        const fleet = (await (await api(second, '/api/fleet')).json()) as { drones: { id: string; online: boolean }[] };
        // Known from the database, offline until its retained birth comes again.
        expect(fleet.drones).toEqual([expect.objectContaining({ id: 'd-known', online: false })]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
