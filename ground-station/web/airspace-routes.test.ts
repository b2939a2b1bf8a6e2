/**
 * The fleet airspace over the HTTP API of a station started in-process: bearer auth, GET before and after, PUT
 * validated (400 with zod's reasons), versions, orders the airspace forbids refused at POST /api/deliveries, queued
 * orders failed when a new airspace forbids them, and the --airspace file at start (and across a restart).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStation, TEST_DEPOT, type TestStation } from '../test-support.js';

const FENCE = {
  polygonNeM: [
    { n: -1000, e: -1000 },
    { n: -1000, e: 1000 },
    { n: 1000, e: 1000 },
    { n: 1000, e: -1000 },
  ],
  ceilingM: 120,
};
/**
 * Always the embedded broker, even with MQTT_URL: these tests publish a retained geofence around the test depot, and
 * on a shared Mosquitto it would reach other test files' drones flying far outside it.
 */
const EMBEDDED = { mqttUrl: undefined };
const SCHOOL = { kind: 'cylinder', id: 'school', centerNeM: { n: 300, e: 0 }, radiusM: 80 };

interface AirspaceJson {
  version: number;
  timeMs: number;
  origin: { latDeg: number; lonDeg: number; altAmslM: number };
  airspace: { geofence: unknown; noFlyZones: { id: string }[]; altitudeFloorM: number };
  changed?: boolean;
}

describe('the fleet airspace API', () => {
  let t: TestStation | null = null;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.close();
    t = null;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const put = (body: unknown) => t!.api('/api/airspace', { method: 'PUT', body });
  const order = (northM: number, eastM: number) =>
    t!.api('/api/deliveries', { body: { drop: { northM, eastM }, weightKg: 1 } });

  it('needs the bearer token, answers 404 before any airspace, refuses bad input with the reasons', async () => {
    t = await startTestStation({ postgres: true, raw: EMBEDDED });
    for (const method of ['GET', 'PUT']) {
      expect((await t.api('/api/airspace', { method, token: null })).status).toBe(401);
      const body = method === 'PUT' ? { airspace: {} } : undefined;
      expect((await t.api('/api/airspace', { method, token: 'wrong', body })).status).toBe(401);
    }
    expect((await t.api('/api/airspace')).status).toBe(404);

    const bad = await put({ airspace: { geofence: { polygonNeM: [{ n: 0, e: 0 }], ceilingM: 50 } } });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; message: string; issues: { path: string; message: string }[] };
    expect(body.error).toBe('invalid-request');
    expect(body.issues[0].path).toBe('airspace.geofence.polygonNeM');
    expect(body.message).toMatch(/airspace\.geofence\.polygonNeM: .*3/);
    const zone = await put({ airspace: { noFlyZones: [{ ...SCHOOL, radiusM: -5 }] } });
    expect(zone.status).toBe(400);
    expect(((await zone.json()) as typeof body).issues[0].path).toBe('airspace.noFlyZones.0.radiusM');
    expect((await put('not json')).status).toBe(400);
    expect((await t.api('/api/airspace')).status).toBe(404);
  });

  it('sets the airspace (version 1, the first depot as origin), keeps the version for an identical one', async () => {
    t = await startTestStation({ postgres: true, raw: EMBEDDED });
    const res = await put({ airspace: { geofence: FENCE, noFlyZones: [SCHOOL] } });
    expect(res.status).toBe(200);
    const set = (await res.json()) as AirspaceJson;
    expect(set).toMatchObject({ version: 1, changed: true, origin: TEST_DEPOT });
    expect(set.airspace.noFlyZones.map((z) => z.id)).toEqual(['school']);
    const got = (await (await t.api('/api/airspace')).json()) as AirspaceJson;
    expect(got).toEqual({ ...set, changed: undefined });

    const again = (await (await put({ airspace: { geofence: FENCE, noFlyZones: [SCHOOL] } })).json()) as AirspaceJson;
    expect(again).toMatchObject({ version: 1, changed: false });
    const next = (await (await put({ airspace: { noFlyZones: [SCHOOL] } })).json()) as AirspaceJson;
    expect(next).toMatchObject({ version: 2, changed: true });
    expect(next.airspace.geofence).toBeNull();
  });

  it('refuses orders that drop outside the geofence or inside a no-fly zone, and fails queued ones it forbids', async () => {
    t = await startTestStation({ postgres: true, raw: { ...EMBEDDED, roundInterval: 600 } });
    // Queued before any airspace (no drones: it stays queued).
    const early = await order(310, 10);
    expect(early.status).toBe(201);
    const earlyId = ((await early.json()) as { id: string }).id;

    expect((await put({ airspace: { geofence: FENCE, noFlyZones: [SCHOOL] } })).status).toBe(200);
    const inZone = await order(320, -20);
    expect(inZone.status).toBe(400);
    const zoneBody = (await inZone.json()) as { message: string; issues: { path: string; message: string }[] };
    expect(zoneBody.issues).toEqual([
      { path: 'drop', message: 'drop point is inside no-fly zone school (airspace v1)' },
    ]);
    const outside = await order(0, 1500);
    expect(outside.status).toBe(400);
    expect(((await outside.json()) as { message: string }).message).toMatch(/drop: drop point is outside the fleet/);
    const fine = await order(100, 100);
    expect(fine.status).toBe(201);
    const fineId = ((await fine.json()) as { id: string }).id;

    // The order queued before the airspace forbade its drop point fails at the next round, with the reason.
    await t.station.runRound();
    const failed = (await (await t.api(`/api/deliveries/${earlyId}`)).json()) as { status: string; reason: string };
    expect(failed.status).toBe('failed');
    expect(failed.reason).toBe('not flyable: drop point is inside no-fly zone school (airspace v1)');
    const kept = (await (await t.api(`/api/deliveries/${fineId}`)).json()) as { status: string };
    expect(kept.status).toBe('queued');

    // Lifting the zone lets the same drop point in again.
    expect((await put({ airspace: { geofence: FENCE } })).status).toBe(200);
    expect((await order(320, -20)).status).toBe(201);
  });

  it('loads --airspace at start, keeps its version across a restart, and versions a changed file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-airspace-api-'));
    dirs.push(dir);
    const file = join(dir, 'airspace.json');
    const db = join(dir, 'station.db');
    writeFileSync(file, JSON.stringify({ geofence: FENCE, noFlyZones: [SCHOOL] }));
    t = await startTestStation({ raw: { ...EMBEDDED, airspace: file, db } });
    const first = (await (await t.api('/api/airspace')).json()) as AirspaceJson;
    expect(first).toMatchObject({ version: 1, origin: TEST_DEPOT });
    expect((await order(300, 0)).status).toBe(400);
    await t.close();

    t = await startTestStation({ raw: { ...EMBEDDED, airspace: file, db } });
    expect(await (await t.api('/api/airspace')).json()).toEqual(first);
    await t.close();

    // An operator's PUT is kept across a restart without the file.
    t = await startTestStation({ raw: { ...EMBEDDED, db } });
    expect(await (await t.api('/api/airspace')).json()).toEqual(first);
    await put({ airspace: { noFlyZones: [] } });
    await t.close();

    writeFileSync(file, JSON.stringify({ airspace: { noFlyZones: [{ ...SCHOOL, radiusM: 10 }] } }));
    t = await startTestStation({ raw: { ...EMBEDDED, airspace: file, db } });
    const changed = (await (await t.api('/api/airspace')).json()) as AirspaceJson;
    expect(changed.version).toBe(3);
    expect((await order(300, 20)).status).toBe(201);
  });

  it('refuses to start on a bad --airspace file, naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-airspace-api-'));
    dirs.push(dir);
    const file = join(dir, 'airspace.json');
    writeFileSync(file, JSON.stringify({ noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0 } }] }));
    await expect(startTestStation({ raw: { ...EMBEDDED, airspace: file } })).rejects.toThrow(
      /airspace\.json: airspace\.noFlyZones\.0\.centerNeM\.e/,
    );
  });
});
