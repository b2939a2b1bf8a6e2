/**
 * Fleet messages: conversions into this drone's frame (pure), and the uplink receiving estop, airspace and traffic
 * over a broker. Fleet topics reach every drone on a broker, so these run on a private embedded broker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type GeoPoint, geoToNed, nedToGeo } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';
import { airspaceToHomeFrame, trafficToNeighbours } from './fleet.js';
import {
  FakeRuntime,
  Subscriber,
  startBroker,
  type TestBroker,
  tempDataDir,
  testConfig,
  until,
} from './test-support.js';
import { Uplink } from './uplink.js';

const home: GeoPoint = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };
const at = (n: number, e: number, up: number, ref: GeoPoint = home) => nedToGeo(ref, { n, e, d: -up });

describe('trafficToNeighbours', () => {
  it('projects neighbours into the home frame and drops itself and stale entries', () => {
    const now = 1_000_000;
    const r = trafficToNeighbours(
      {
        drones: [
          { id: 'me', geo: at(0, 0, 10), velocityNedMS: { n: 0, e: 0, d: 0 }, timeMs: now },
          { id: 'near', geo: at(30, -40, 25), velocityNedMS: { n: 1, e: 2, d: -0.5 }, timeMs: now - 500 },
          { id: 'old', geo: at(10, 10, 10), velocityNedMS: { n: 0, e: 0, d: 0 }, timeMs: now - 5000 },
          { id: 'ahead', geo: at(-5, 5, 15), velocityNedMS: { n: 0, e: 0, d: 0 }, timeMs: now + 800 },
        ],
      },
      'me',
      home,
      now,
      3000,
    );
    expect(r.droppedStale).toBe(1);
    expect(r.neighbours.map((n) => n.id)).toEqual(['near', 'ahead']);
    const near = r.neighbours[0];
    expect(near.positionNedM.n).toBeCloseTo(30, 6);
    expect(near.positionNedM.e).toBeCloseTo(-40, 6);
    expect(near.positionNedM.d).toBeCloseTo(-25, 6);
    expect(near.velocityNedMS).toEqual({ n: 1, e: 2, d: -0.5 });
    expect(near.ageMs).toBe(500);
    // A clock ahead of ours is not a negative age.
    expect(r.neighbours[1].ageMs).toBe(0);
  });
});

describe('airspaceToHomeFrame', () => {
  const origin: GeoPoint = at(200, -100, -12); // the fleet's origin: 200 m north, 100 m west, 12 m below home
  it('moves every point and altitude from the origin frame to the home frame', () => {
    const r = airspaceToHomeFrame(
      {
        geofence: {
          polygonNeM: [
            { n: -500, e: -500 },
            { n: 500, e: -500 },
            { n: 500, e: 500 },
          ],
          ceilingM: 100,
        },
        noFlyZones: [
          { kind: 'cylinder', id: 'c', centerNeM: { n: 0, e: 0 }, radiusM: 30, floorM: 20, topM: 80 },
          {
            kind: 'polygon',
            id: 'p',
            polygonNeM: [
              { n: 0, e: 0 },
              { n: 10, e: 0 },
              { n: 0, e: 10 },
            ],
          },
        ],
        altitudeFloorM: 15,
      },
      origin,
      home,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const a = r.value;
    const c = a.noFlyZones[0] as { centerNeM: { n: number; e: number }; floorM: number; topM: number; radiusM: number };
    expect(c.centerNeM.n).toBeCloseTo(200, 3);
    expect(c.centerNeM.e).toBeCloseTo(-100, 3);
    expect(c.radiusM).toBe(30);
    expect(c.floorM).toBeCloseTo(8, 6);
    expect(c.topM).toBeCloseTo(68, 6);
    expect(a.geofence?.ceilingM).toBeCloseTo(88, 6);
    // Flat-earth frames at two latitudes differ by centimetres over hundreds of metres.
    expect(a.geofence?.polygonNeM[0].n).toBeCloseTo(-300, 1);
    expect(a.geofence?.polygonNeM[0].e).toBeCloseTo(-600, 1);
    expect(a.altitudeFloorM).toBeCloseTo(3, 6);
    // Check one point against the geodesy directly.
    const zone = a.noFlyZones[1];
    const p = zone.kind === 'polygon' ? zone.polygonNeM[1] : { n: Number.NaN, e: Number.NaN };
    const expected = geoToNed(home, nedToGeo(origin, { n: 10, e: 0, d: 0 }));
    expect(p.n).toBeCloseTo(expected.n, 9);
  });

  it('refuses an airspace whose ceiling ends at or below home', () => {
    const high: GeoPoint = { ...home, altAmslM: home.altAmslM + 200 };
    const r = airspaceToHomeFrame(
      {
        geofence: {
          polygonNeM: [
            { n: 0, e: 0 },
            { n: 1, e: 0 },
            { n: 0, e: 1 },
          ],
          ceilingM: 50,
        },
        noFlyZones: [],
        altitudeFloorM: 0,
      },
      home,
      high,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/ceilingM/);
  });
});

describe('fleet topics through a broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker({ privateBroker: true });
  });
  afterAll(async () => {
    await broker.close();
  });
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function rig() {
    const data = tempDataDir();
    const runtime = new FakeRuntime(home);
    const config = testConfig(broker.url, data.dir);
    const station = await Subscriber.connect(broker.url, [`aerie/v1/drones/${config.id}/#`]);
    const uplink = Uplink.open(config, runtime);
    cleanups.push(
      data.cleanup,
      () => station.close(),
      () => uplink.stop(0),
    );
    uplink.start();
    await until(() => uplink.isOnline, 10_000, 'online');
    return { id: config.id, runtime, station, uplink };
  }

  it('stops on a fleet estop and answers it on its acks topic', async () => {
    const { id, runtime, station } = await rig();
    await station.publish(
      topics.fleetEstop,
      JSON.stringify({ schema: '1.0', commandId: 'all-stop', timeMs: Date.now(), reason: 'drill' }),
    );
    await until(() => runtime.estops === 1, 5000, 'estop');
    await station.waitFor(
      (all) => all.some((m) => m.topic === topics.droneAcks(id) && m.json?.commandId === 'all-stop'),
      5000,
      'ack',
    );
    expect(station.on(topics.droneAcks(id))[0].json).toMatchObject({ result: 'accepted', kind: 'emergency-stop' });
    // A repeat of the same estop is answered again but applied once.
    await station.publish(
      topics.fleetEstop,
      JSON.stringify({ schema: '1.0', commandId: 'all-stop', timeMs: Date.now(), reason: 'drill' }),
    );
    await station.waitFor(() => station.on(topics.droneAcks(id)).length === 2, 5000, 'second ack');
    expect(runtime.estops).toBe(1);
  });

  it('applies the retained fleet airspace once per version, in its home frame', async () => {
    const origin = at(100, 0, 0);
    const airspace = {
      geofence: null,
      noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0, e: 0 }, radiusM: 10 }],
      altitudeFloorM: 0,
    };
    const msg = (version: number) => JSON.stringify({ schema: '1.0', version, timeMs: Date.now(), origin, airspace });
    // Retained before the drone connects: it gets it on subscribing.
    const admin = await Subscriber.connect(broker.url, []);
    cleanups.push(async () => {
      await admin.publish(topics.fleetAirspace, '', true);
      await admin.close();
    });
    await admin.publish(topics.fleetAirspace, msg(1), true);
    const { runtime, station, id } = await rig();
    await until(() => runtime.airspaces.length === 1, 5000, 'airspace');
    const zone = runtime.airspaces[0].noFlyZones[0] as { centerNeM: { n: number } };
    expect(zone.centerNeM.n).toBeCloseTo(100, 3);
    await admin.publish(topics.fleetAirspace, msg(1), true);
    await admin.publish(topics.fleetAirspace, msg(2), true);
    await until(() => runtime.airspaces.length === 2, 5000, 'second version');
    await station.waitFor(
      () => station.on(topics.droneEvents(id)).filter((m) => m.json?.code === 'airspace-applied').length === 2,
      5000,
      'applied events',
    );
    // A malformed airspace is refused and reported; the last good one stays.
    await admin.publish(
      topics.fleetAirspace,
      JSON.stringify({ schema: '1.0', version: 3, timeMs: 1, origin, airspace: { geofence: 7 } }),
      true,
    );
    await station.waitFor(
      () => station.on(topics.droneEvents(id)).some((m) => m.json?.code === 'airspace-refused'),
      5000,
      'refusal',
    );
    expect(runtime.airspaces).toHaveLength(2);
  });

  it('turns traffic into neighbours and lets them go stale when traffic stops', async () => {
    const { id, runtime, station, uplink } = await rig();
    const now = Date.now();
    await station.publish(
      topics.fleetTraffic,
      JSON.stringify({
        schema: '1.0',
        timeMs: now,
        drones: [
          { id, geo: at(0, 0, 10), velocityNedMS: { n: 0, e: 0, d: 0 }, timeMs: now },
          { id: 'other', geo: at(20, 0, 10), velocityNedMS: { n: -1, e: 0, d: 0 }, timeMs: now },
        ],
      }),
    );
    await until(() => runtime.neighbours.some((n) => n.length === 1), 5000, 'neighbours');
    const first = runtime.neighbours.find((n) => n.length === 1)?.[0];
    expect(first?.id).toBe('other');
    expect(first?.positionNedM.n).toBeCloseTo(20, 6);
    // Garbage on the traffic topic changes nothing and crashes nothing.
    await station.publish(topics.fleetTraffic, '{"schema":"1.0","drones":"many"}');
    await until(() => uplink.counters.fleetRefused === 1, 5000, 'refused traffic');
    // No more traffic: the neighbour ages out (trafficMaxAgeMs 3 s) and is removed.
    await until(() => runtime.neighbours.at(-1)?.length === 0, 8000, 'stale neighbours removed');
    expect(uplink.counters.trafficUpdates).toBe(1);
  });
});
