/**
 * The station's fleet airspace: request validation (zod's reasons), the --airspace file in both shapes, which points
 * the airspace forbids, and the stored state (versions that only go up, identical airspaces not re-versioned, the
 * state shared through the store by a restart or a second station) on SQLite and, with DATABASE_URL, PostgreSQL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Result } from '../../shared/errors.js';
import { type GeoPoint, nedToGeo } from '../../shared/geo/index.js';
import { componentLogger } from '../../shared/log/index.js';
import { FLEET_AIRSPACE_SCHEMA, type FleetAirspace } from '../../shared/protocol/index.js';
import { type OpenedStore, storeBackends } from '../storage/test-support.js';
import {
  AIRSPACE_STATE_KEY,
  orderRefusal,
  parseAirspaceRequest,
  readAirspaceFile,
  StationAirspace,
} from './airspace.js';

const ORIGIN: GeoPoint = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };
const at = (n: number, e: number) => {
  const g = nedToGeo(ORIGIN, { n, e, d: 0 });
  return { latDeg: g.latDeg, lonDeg: g.lonDeg };
};

const AIRSPACE = {
  geofence: {
    polygonNeM: [
      { n: -500, e: -500 },
      { n: -500, e: 500 },
      { n: 500, e: 500 },
      { n: 500, e: -500 },
    ],
    ceilingM: 100,
  },
  noFlyZones: [
    { kind: 'cylinder', id: 'school', centerNeM: { n: 200, e: 0 }, radiusM: 50 },
    {
      kind: 'polygon',
      id: 'helipad',
      polygonNeM: [
        { n: -100, e: 100 },
        { n: -100, e: 200 },
        { n: -200, e: 200 },
      ],
      floorM: 0,
      topM: 60,
    },
  ],
};

describe('airspace requests', () => {
  it('accepts an airspace with or without an origin and fills the defaults', () => {
    const r = parseAirspaceRequest({ airspace: { noFlyZones: AIRSPACE.noFlyZones } });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.origin).toBeUndefined();
      expect(r.value.airspace.geofence).toBeNull();
      expect(r.value.airspace.altitudeFloorM).toBe(0);
    }
    const withOrigin = parseAirspaceRequest({ airspace: AIRSPACE, origin: ORIGIN });
    expect(withOrigin.ok && withOrigin.value.origin).toEqual(ORIGIN);
  });

  it("refuses bad input with zod's reason and the path it concerns", () => {
    const cases: [unknown, string, RegExp][] = [
      [{ airspace: { geofence: { polygonNeM: [{ n: 0, e: 0 }], ceilingM: 50 } } }, 'airspace.geofence.polygonNeM', /3/],
      [{ airspace: { noFlyZones: [{ kind: 'cube', id: 'x' }] } }, 'airspace.noFlyZones.0.kind', /./],
      [{ airspace: {}, origin: { latDeg: 95, lonDeg: 0, altAmslM: 0 } }, 'origin.latDeg', /90/],
      [{ airspace: {}, colour: 'red' }, '(body)', /colour/],
      [{ geofence: null }, '(body)', /./],
      [null, '(body)', /./],
    ];
    for (const [body, path, message] of cases) {
      const r = parseAirspaceRequest(body);
      expect(r.ok, JSON.stringify(body)).toBe(false);
      if (!r.ok) {
        expect(r.reason.map((i) => i.path)).toContain(path);
        expect(r.reason.map((i) => i.message).join(' ')).toMatch(message);
      }
    }
  });

  it('reads an --airspace file as a PUT body or a bare airspace, and names the problem in a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-airspace-'));
    try {
      const body = join(dir, 'body.json');
      writeFileSync(body, JSON.stringify({ airspace: AIRSPACE, origin: ORIGIN }));
      expect(readAirspaceFile(body).origin).toEqual(ORIGIN);
      const bare = join(dir, 'bare.json');
      writeFileSync(bare, JSON.stringify(AIRSPACE));
      const r = readAirspaceFile(bare);
      expect(r.origin).toBeUndefined();
      expect(r.airspace.noFlyZones.map((z) => z.id)).toEqual(['school', 'helipad']);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ geofence: { polygonNeM: [], ceilingM: -1 } }));
      expect(() => readAirspaceFile(bad)).toThrow(/bad\.json: airspace\.geofence\.polygonNeM/);
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{ nope');
      expect(() => readAirspaceFile(broken)).toThrow(/broken\.json/);
      expect(() => readAirspaceFile(join(dir, 'missing.json'))).toThrow(/missing\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('which orders the airspace forbids', () => {
  const msg = FLEET_AIRSPACE_SCHEMA.parse({ schema: '1.0', version: 3, timeMs: 1, origin: ORIGIN, airspace: AIRSPACE });
  const order = (dropN: number, dropE: number, pickup = at(0, 0)) => ({ pickupGeo: pickup, dropGeo: at(dropN, dropE) });

  it('allows drops inside the fence and clear of every zone', () => {
    expect(orderRefusal(msg, order(0, 300))).toBeNull();
    expect(orderRefusal(msg, order(260, 0))).toBeNull(); // 10 m outside the school's 50 m radius
    expect(orderRefusal(null, order(5000, 0))).toBeNull(); // no airspace: nothing forbidden
  });

  it('refuses a drop outside the geofence, in a cylinder or a polygon zone (whatever its band), naming it', () => {
    expect(orderRefusal(msg, order(600, 0))).toEqual({
      path: 'drop',
      message: 'drop point is outside the fleet geofence (airspace v3)',
    });
    expect(orderRefusal(msg, order(230, 10))?.message).toBe('drop point is inside no-fly zone school (airspace v3)');
    expect(orderRefusal(msg, order(-150, 170))?.message).toMatch(/inside no-fly zone helipad/);
  });

  it('refuses a pickup depot the airspace forbids', () => {
    expect(orderRefusal(msg, order(0, 100, at(200, 0)))).toMatchObject({ path: 'pickupDepot' });
  });

  it('measures from the airspace origin, not from the first depot', () => {
    const shifted = { ...msg, origin: nedToGeo(ORIGIN, { n: 1000, e: 0, d: 0 }) };
    // 200 m north of the shifted origin is 1200 m north of ORIGIN.
    expect(orderRefusal(shifted, order(1200, 0))?.message).toMatch(/school/);
    expect(orderRefusal(shifted, order(1000, 300, at(1000, 0)))).toBeNull();
  });
});

for (const backend of storeBackends()) {
  describe(`the station airspace state on ${backend.name}`, () => {
    let opened: OpenedStore | null = null;
    afterEach(async () => {
      await opened?.cleanup();
      opened = null;
    });

    function stationAirspace(store: OpenedStore['store'], published: FleetAirspace[], fail = false) {
      return new StationAirspace({
        store,
        publish: async (m): Promise<Result<void, string>> => {
          if (fail) return { ok: false, reason: 'link down' };
          published.push(m);
          return { ok: true, value: undefined };
        },
        defaultOrigin: ORIGIN,
        logger: componentLogger('airspace-test'),
      });
    }
    const request = (zones = AIRSPACE.noFlyZones) => {
      const r = parseAirspaceRequest({ airspace: { ...AIRSPACE, noFlyZones: zones } });
      if (!r.ok) throw new Error('bad test airspace');
      return r.value;
    };

    it('starts empty, versions every change, skips identical ones, and publishes each change', async () => {
      opened = await backend.open();
      const published: FleetAirspace[] = [];
      const a = stationAirspace(opened.store, published);
      expect(await a.load()).toBeNull();
      expect(await a.publish()).toBeNull();
      expect(published).toEqual([]);

      const first = await a.set(request(), 1000);
      expect(first.changed).toBe(true);
      expect(first.airspace).toMatchObject({ version: 1, timeMs: 1000, origin: ORIGIN });
      expect(FLEET_AIRSPACE_SCHEMA.safeParse(first.airspace).success).toBe(true);
      const same = await a.set(request(), 2000);
      expect(same).toEqual({ airspace: first.airspace, changed: false });
      const second = await a.set(request(AIRSPACE.noFlyZones.slice(0, 1)), 3000);
      expect(second.airspace.version).toBe(2);
      expect(published.map((m) => m.version)).toEqual([1, 2]);
      expect(a.current()).toEqual(second.airspace);
      expect(await opened.store.getState(AIRSPACE_STATE_KEY)).toEqual(second.airspace);
    });

    it('a restarted station (or a second one on the same database) goes on from the stored version', async () => {
      opened = await backend.open();
      const a = stationAirspace(opened.store, []);
      await a.set(request(), 1000);
      await a.set(request([]), 2000);
      const published: FleetAirspace[] = [];
      const b = stationAirspace(await opened.reopen(), published);
      expect((await b.load())?.version).toBe(2);
      await b.publish();
      expect(published.map((m) => m.version)).toEqual([2]);
      expect((await b.set(request(), 3000)).airspace.version).toBe(3);
      // The first station takes up the second's change at its next refresh (each round, each order check).
      expect(a.current()?.version).toBe(2);
      expect((await a.refresh())?.version).toBe(3);
      expect(a.orderRefusal({ pickupGeo: at(0, 0), dropGeo: at(200, 0) })?.message).toMatch(/school \(airspace v3\)/);
      // The first station's next change comes after the second's, even though it never saw it.
      expect((await a.set(request(AIRSPACE.noFlyZones.slice(1)), 4000)).airspace.version).toBe(4);
    });

    it('keeps a change it could not publish, counts the failure, and ignores an unreadable stored state', async () => {
      opened = await backend.open();
      const a = stationAirspace(opened.store, [], true);
      const r = await a.set(request(), 1000);
      expect(r.changed).toBe(true);
      expect(a.publishFailures).toBe(1);
      expect((await opened.store.getState(AIRSPACE_STATE_KEY)) as FleetAirspace).toMatchObject({ version: 1 });
      await opened.store.putState(AIRSPACE_STATE_KEY, { version: 'x' }, 2000);
      const b = stationAirspace(opened.store, []);
      expect(await b.load()).toBeNull();
      expect((await b.set(request(), 3000)).airspace.version).toBe(1);
    });

    it('equal airspaces written differently (key order, defaults spelled out) are the same version', async () => {
      opened = await backend.open();
      const a = stationAirspace(opened.store, []);
      await a.set(request(), 1000);
      const reordered = parseAirspaceRequest({
        airspace: { altitudeFloorM: 0, noFlyZones: AIRSPACE.noFlyZones, geofence: AIRSPACE.geofence },
        origin: ORIGIN,
      });
      if (!reordered.ok) throw new Error('bad test airspace');
      expect((await a.set(reordered.value, 2000)).changed).toBe(false);
      const moved = { ...reordered.value, origin: nedToGeo(ORIGIN, { n: 1, e: 0, d: 0 }) };
      expect((await a.set(moved, 3000)).changed).toBe(true);
    });
  });
}
