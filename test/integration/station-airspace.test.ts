/**
 * The fleet airspace from the operator to the drones, through a real broker (the embedded aedes, or Mosquitto when
 * MQTT_URL is set) and the real onboard uplink over its FakeRuntime: what the operator PUTs reaches the runtime's
 * safety filter in each drone's own home frame (and the drone says so in an `airspace-applied` event the station
 * stores), a drone that connects later gets it retained, a change reaches every drone, and a restarted station
 * publishes the stored airspace again at start.
 *
 * On a shared Mosquitto the retained airspace reaches other test files' drones too: it carries no geofence, only two
 * small zones by the test depot (far from every flying scenario), and is cleared at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStation, TEST_DEPOT, type TestStation, waitFor } from '../../ground-station/test-support.js';
import { FakeRuntime, tempDataDir, testConfig } from '../../onboard/uplink/test-support.js';
import { Uplink } from '../../onboard/uplink/uplink.js';
import { type Airspace, type GeoPoint, type NoFlyZone, nedToGeo } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';

const POND = { kind: 'cylinder', id: 'pond', centerNeM: { n: 60, e: 40 }, radiusM: 25 } as const;
const YARD = {
  kind: 'polygon',
  id: 'yard',
  polygonNeM: [
    { n: -30, e: -30 },
    { n: -30, e: -10 },
    { n: -50, e: -10 },
  ],
  floorM: 10,
  topM: 50,
} as const;

interface StoredEvent {
  event: { kind: string; code?: string; message?: string };
}

describe('the fleet airspace from the operator to the drones', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Best effort: the rest must still be released.
      }
    }
  });

  /** A drone: the real uplink over a FakeRuntime whose home is `home`. */
  async function drone(t: TestStation, name: string, home: GeoPoint) {
    const id = `${t.prefix}${name}`;
    const data = tempDataDir();
    const runtime = new FakeRuntime(home);
    const uplink = Uplink.open(testConfig(t.station.mqttUrl, data.dir, { id, mqttPassword: t.passwords[id] }), runtime);
    uplink.start();
    cleanups.push(async () => {
      await uplink.stop(0);
      data.cleanup();
      if (t.externalMqtt) {
        // Leave no retained death on the shared broker.
        const c = await mqtt.connectAsync(t.station.mqttUrl, { clientId: `aerie-${id}.cleanup`, reconnectPeriod: 0 });
        await c.publishAsync(topics.droneStatus(id), '', { qos: 1, retain: true });
        await c.endAsync();
      }
    });
    await waitFor(() => t.station.registry.get(id)?.online === true, `${id} online`);
    return { id, runtime };
  }

  async function start(db: string, droneIds: string[]): Promise<TestStation> {
    const t = await startTestStation({ droneIds, raw: { db, staleAfter: 120, roundInterval: 600 } });
    cleanups.push(async () => {
      if (t.externalMqtt) {
        const c = await mqtt.connectAsync(t.station.mqttUrl, { reconnectPeriod: 0 });
        await c.publishAsync(topics.fleetAirspace, '', { qos: 1, retain: true });
        await c.endAsync();
      }
    });
    cleanups.push(() => t.close());
    return t;
  }

  const put = async (t: TestStation, body: unknown) => {
    const res = await t.api('/api/airspace', { method: 'PUT', body });
    expect(res.status).toBe(200);
    return (await res.json()) as { version: number; changed: boolean };
  };

  /** The `airspace-applied` messages the station stored for a drone. */
  const applied = async (t: TestStation, id: string) => {
    await t.station.settle();
    const body = (await (await t.api(`/api/fleet/${id}/events`)).json()) as { events: StoredEvent[] };
    return body.events.filter((e) => e.event.code === 'airspace-applied').map((e) => e.event.message);
  };

  const zone = (airspace: Airspace, id: string): NoFlyZone => {
    const z = airspace.noFlyZones.find((x) => x.id === id);
    if (!z) throw new Error(`no zone ${id} in ${JSON.stringify(airspace)}`);
    return z;
  };

  it('what the operator puts reaches each drone in its own frame, late joiners and a restarted station included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-airspace-e2e-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = join(dir, 'station.db');
    let t = await start(db, ['a1', 'a2']);

    // A drone at the depot (the airspace origin): the zones land where the operator put them.
    const a1 = await drone(t, 'a1', TEST_DEPOT);
    expect(a1.runtime.airspaces).toEqual([]);
    expect(await put(t, { airspace: { noFlyZones: [POND, YARD] } })).toMatchObject({ version: 1, changed: true });
    await waitFor(() => a1.runtime.airspaces.length === 1, 'a1 applies v1');
    const first = a1.runtime.airspaces[0];
    expect(first.geofence).toBeNull();
    const pond = zone(first, 'pond');
    expect(pond.kind === 'cylinder' && pond.radiusM).toBe(25);
    if (pond.kind === 'cylinder') {
      expect(pond.centerNeM.n).toBeCloseTo(60, 3);
      expect(pond.centerNeM.e).toBeCloseTo(40, 3);
    }
    expect(zone(first, 'yard')).toMatchObject({ floorM: 10, topM: 50 });
    await waitFor(async () => (await applied(t, a1.id)).length === 1, 'a1 event stored');
    expect(await applied(t, a1.id)).toEqual(['fleet airspace v1 applied']);

    // A drone that joins later, 100 m north of the depot and 2 m higher: retained, in its own frame.
    const a2 = await drone(t, 'a2', nedToGeo(TEST_DEPOT, { n: 100, e: 0, d: -2 }));
    await waitFor(() => a2.runtime.airspaces.length === 1, 'a2 applies the retained v1');
    const late = a2.runtime.airspaces[0];
    const latePond = zone(late, 'pond');
    if (latePond.kind !== 'cylinder') throw new Error('pond is a cylinder');
    expect(latePond.centerNeM.n).toBeCloseTo(-40, 1);
    expect(latePond.centerNeM.e).toBeCloseTo(40, 1);
    const lateYard = zone(late, 'yard');
    expect(lateYard.floorM).toBeCloseTo(8, 6);
    expect(lateYard.topM).toBeCloseTo(48, 6);
    await waitFor(async () => (await applied(t, a2.id)).length === 1, 'a2 event stored');

    // A change reaches both; the same airspace again is no change (no new version to apply).
    expect(await put(t, { airspace: { noFlyZones: [{ ...POND, radiusM: 40 }] } })).toMatchObject({ version: 2 });
    expect(await put(t, { airspace: { noFlyZones: [{ ...POND, radiusM: 40 }] } })).toMatchObject({
      version: 2,
      changed: false,
    });
    await waitFor(() => a1.runtime.airspaces.length === 2 && a2.runtime.airspaces.length === 2, 'both apply v2');
    for (const r of [a1.runtime, a2.runtime]) {
      const v2 = r.airspaces[1];
      expect(v2.noFlyZones.map((z) => z.id)).toEqual(['pond']);
      expect(zone(v2, 'pond')).toMatchObject({ radiusM: 40 });
    }
    await waitFor(async () => (await applied(t, a2.id)).length === 2, 'a2 v2 event stored');
    expect(await applied(t, a2.id)).toEqual(['fleet airspace v1 applied', 'fleet airspace v2 applied']);
    // The station refuses orders the airspace forbids, with the reason.
    const refused = await t.api('/api/deliveries', { body: { drop: { northM: 70, eastM: 30 }, weightKg: 1 } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/inside no-fly zone pond \(airspace v2\)/);

    // Stop everything; a station restarted on the same database publishes the stored airspace at start.
    for (const c of cleanups.splice(2).reverse()) await c();
    t = await start(db, ['b1']);
    expect((await (await t.api('/api/airspace')).json()) as { version: number }).toMatchObject({ version: 2 });
    const b1 = await drone(t, 'b1', TEST_DEPOT);
    await waitFor(() => b1.runtime.airspaces.length === 1, 'b1 applies the stored v2');
    expect(zone(b1.runtime.airspaces[0], 'pond')).toMatchObject({ radiusM: 40 });
    await waitFor(async () => (await applied(t, b1.id)).length === 1, 'b1 event stored');
    expect(await applied(t, b1.id)).toEqual(['fleet airspace v2 applied']);
  });
});
