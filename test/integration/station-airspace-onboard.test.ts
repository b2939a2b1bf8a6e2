/**
 * The fleet airspace with a real drone: a station started with `--airspace FILE` (a no-fly zone across the straight
 * line from the pad to a drop point) publishes it retained; a compiled `aerie onboard` process flying a simulated
 * vehicle (aerie sitl) applies it (its `airspace-applied` event reaches the station) and its safety filter keeps the
 * vehicle out of the zone on the way to the drop - judged on the simulated vehicle's true track - while the order
 * is delivered. An order dropping inside the zone is refused at the API.
 *
 * On a shared Mosquitto (MQTT_URL) the retained airspace reaches other test files' drones too: it holds one small
 * zone by this scenario's depot, tens of kilometres from every other scenario, and is cleared at the end.
 *
 * The child runs the compiled dist/: `npm test` builds first; run `npm run build` before running this file alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { topics } from '../../shared/protocol/index.js';
import { requireFreshBuild } from '../support/onboard-cli.js';
import { eventually, type StationFleet, startStationFleet } from '../support/station-fleet.js';
import type { DroneViewJson, OrderJson, StoredEventJson } from '../support/station-views.js';

const SPEED = 4;
const READY_MS = 60_000;
const FLIGHT_MS = 150_000;
/** The pad of drone 0 is 10 m north of the depot; the drop 80 m north: the straight line passes 5 m from the centre. */
const ZONE = { kind: 'cylinder', id: 'pond', centerNeM: { n: 45, e: 5 }, radiusM: 8 } as const;
const DROP = { northM: 80, eastM: 0 };

let f: StationFleet | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  await f?.close();
  f = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the fleet airspace with an aerie onboard process (SITL, MQTT)', () => {
  it('is applied by the drone, whose safety filter keeps it out of the no-fly zone on a delivery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-airspace-onboard-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'airspace.json');
    writeFileSync(file, JSON.stringify({ noFlyZones: [ZONE] }));
    f = await startStationFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: -60, e: -60 },
      drones: 1,
      speed: SPEED,
      station: { airspace: file },
    });
    const fl = f;
    if (fl.t.externalMqtt) {
      const url = fl.t.station.mqttUrl;
      cleanups.push(async () => {
        const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
        await c.publishAsync(topics.fleetAirspace, '', { qos: 1, retain: true });
        await c.endAsync();
      });
    }
    const id = fl.ids[0];
    const zoneCentre = nedToGeo(fl.depot, { n: ZONE.centerNeM.n, e: ZONE.centerNeM.e, d: 0 });

    await eventually(
      async () => {
        const d = (await fl.api<DroneViewJson>(`/api/fleet/${id}`)).body;
        return d.online && d.home !== null && d.state !== null && d.state.gpsFixType >= 3 ? d : undefined;
      },
      'the drone online, homed and reporting',
      READY_MS,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    const applied = await eventually(
      async () => {
        const { events } = (await fl.api<{ events: StoredEventJson[] }>(`/api/fleet/${id}/events`)).body;
        return events.find((e) => e.event.code === 'airspace-applied');
      },
      'the airspace-applied event',
      READY_MS,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    expect(applied.event.message).toBe('fleet airspace v1 applied');
    const { body: airspace } = await fl.api<{ version: number; origin: unknown }>('/api/airspace');
    expect(airspace).toMatchObject({ version: 1, origin: fl.depot });

    // A drop inside the zone is refused; one beyond it is flown around the zone.
    const refused = await fl.api<{ message: string }>('/api/deliveries', {
      drop: { northM: 46, eastM: 3 },
      weightKg: 1,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/inside no-fly zone pond/);
    const created = await fl.api<OrderJson>('/api/deliveries', { drop: DROP, weightKg: 1 });
    expect(created.status).toBe(201);
    const done = await eventually(
      async () => {
        const o = (await fl.api<OrderJson>(`/api/deliveries/${created.body.id}`)).body;
        return ['delivered', 'failed', 'cancelled'].includes(o.status) ? o : undefined;
      },
      'the order to end',
      FLIGHT_MS,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    const log = fl.log();
    expect(done, log).toMatchObject({ status: 'delivered', droneId: id });
    expect(fl.closestApproachM(0, done.drop), `at the drop\n${log}`).toBeLessThan(4);
    // The true track never entered the zone (half a metre for the simulated vehicle's tracking error).
    expect(fl.closestApproachM(0, zoneCentre), `clear of the zone\n${log}`).toBeGreaterThan(ZONE.radiusM - 0.5);
  });
});
