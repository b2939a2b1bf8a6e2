/**
 * The drones lose the broker mid-flight: two compiled `aerie onboard` child processes reach the broker (Mosquitto
 * when MQTT_URL is set, else the station's embedded one) through a TCP proxy that is stopped for about 5 s while
 * both are on their cruise leg, then started again on the same port. The flights must go on under the onboard
 * runtime (judged on the simulated vehicles), the station must see the drones go offline and come back in the same
 * session, the deliveries must end `delivered` once it hears again, and nothing the drones said while cut off may be
 * lost or counted twice: the stored events and experience batches of each session run 1..N without a gap, and each
 * drone's metrics count its one episode once.
 *
 * The children run the compiled dist/: `npm test` builds first; run `npm run build` before running this file alone.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../onboard/uplink/outbox.js';
import type { TcpProxy } from '../../onboard/uplink/test-broker.js';
import { requireFreshBuild } from '../support/onboard-cli.js';
import { eventually, type StationFleet, startStationFleet } from '../support/station-fleet.js';
import { type DroneViewJson, type OrderJson, type StoredEventJson, sequenceGaps } from '../support/station-views.js';

const SPEED = 4;
/** How long the broker is away, wall seconds (20 s of simulated flight at SPEED). */
const OUTAGE_MS = 5000;
/** Long legs, so the cut lands on the cruise and the release may come while the drones are cut off. */
const DROPS = [
  { northM: 110, eastM: 0 },
  { northM: -80, eastM: -75 },
];

let f: StationFleet | null = null;
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  await f?.close();
  f = null;
});

describe('a broker outage mid-flight (aerie onboard child processes behind a TCP proxy)', () => {
  it('flights go on, the station hears everything after reconnection, and the deliveries end delivered', async () => {
    f = await startStationFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: -60, e: 60 },
      drones: 2,
      speed: SPEED,
      viaProxy: true,
    });
    const fl = f;
    const proxy = fl.proxy as TcpProxy;
    const mine = async () =>
      (await fl.api<{ drones: DroneViewJson[] }>('/api/fleet')).body.drones.filter((d) => fl.ids.includes(d.id));
    const order = async (id: string) => (await fl.api<OrderJson>(`/api/deliveries/${id}`)).body;

    await eventually(
      async () => {
        const drones = await mine();
        const up = drones.filter((d) => d.online && d.home && d.state && ['ok', 'warning'].includes(d.health.level));
        return up.length === fl.ids.length ? true : undefined;
      },
      'both drones online, homed and reporting',
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    const orderIds: string[] = [];
    for (const drop of DROPS) {
      const res = await fl.api<OrderJson>('/api/deliveries', { drop, weightKg: 1 });
      expect(res.status).toBe(201);
      orderIds.push(res.body.id);
    }

    // Both on their cruise leg, as the station sees them: then the drones' path to the broker goes away.
    const before = await eventually(
      async () => {
        const drones = await mine();
        return drones.length === 2 && drones.every((d) => d.task && d.state?.missionPhase === 'cruise-out')
          ? drones
          : undefined;
      },
      'both drones on the cruise leg',
      60_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    const sessions = new Map(before.map((d) => [d.id, d.sessionId]));
    const atCut = fl.watches.map((w) => w.latest());
    const cutAtMs = Date.now();
    await proxy.stop();

    // The broker noticed (the wills): offline, connection lost. The orders wait: the parcels are on board.
    await eventually(
      () => (fl.ids.every((id) => fl.t.station.registry.get(id)?.online === false) ? true : undefined),
      'both drones offline at the station',
      OUTAGE_MS,
      50,
    );
    for (const id of fl.ids) expect(fl.t.station.registry.get(id)?.deathReason).toBe('connection lost');
    await new Promise((r) => setTimeout(r, Math.max(0, cutAtMs + OUTAGE_MS - Date.now())));
    for (const id of orderIds) expect((await order(id)).status).toBe('in-flight');
    const atRestore = fl.watches.map((w) => w.latest());
    const restoredAtMs = Date.now();
    await proxy.start();

    // Meanwhile the vehicles flew on, in OFFBOARD under the runtime, with no failsafe of PX4's.
    for (const [i, w] of fl.watches.entries()) {
      const flown = w.between(atCut[i].timeS, atRestore[i].timeS);
      const moved = Math.hypot(
        atRestore[i].positionNedM[0] - atCut[i].positionNedM[0],
        atRestore[i].positionNedM[1] - atCut[i].positionNedM[1],
      );
      expect(moved, `${fl.ids[i]} moved while cut off\n${fl.log()}`).toBeGreaterThan(15);
      expect(flown.every((s) => s.failsafe === 'none')).toBe(true);
      expect(flown.filter((s) => s.armed).every((s) => s.mode === 'OFFBOARD')).toBe(true);
    }

    // Back in the same session; the orders end delivered, by the drones that had them, at their drops.
    const finals = await eventually(
      async () => {
        const orders = await Promise.all(orderIds.map(order));
        return orders.every((o) => ['delivered', 'failed', 'cancelled'].includes(o.status)) ? orders : undefined;
      },
      'both orders to end',
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    for (const o of finals) {
      expect(o, fl.log()).toMatchObject({ status: 'delivered', reason: null, attempts: 1 });
      expect(o.history?.map((h) => h.status)).toEqual(['queued', 'assigned', 'in-flight', 'delivered']);
      const i = fl.indexOf(o.droneId as string);
      expect(fl.closestApproachM(i, o.drop)).toBeLessThan(4);
    }
    await eventually(
      async () => {
        const drones = await mine();
        return drones.length === 2 && drones.every((d) => d.online && d.task === null && d.state?.landed)
          ? drones
          : undefined;
      },
      'both drones back online, landed and idle',
      60_000,
    );
    for (const d of await mine()) {
      expect(d.sessionId, 'the same session as before the outage').toBe(sessions.get(d.id));
      expect(d.eventsMissed).toBe(0);
    }

    // Every event is stored once, 1..N per session, including what happened while the drones were cut off.
    const quiet = async () => {
      for (const id of fl.ids) {
        const events = (await fl.api<{ events: StoredEventJson[] }>(`/api/fleet/${id}/events?limit=1000`)).body.events;
        if (!events.some((e) => e.event.missionEvent === 'outcome')) return undefined;
      }
      return true;
    };
    await eventually(quiet, 'each mission outcome to be stored', 20_000);
    let replayed = 0;
    for (const id of fl.ids) {
      const events = (await fl.api<{ events: StoredEventJson[] }>(`/api/fleet/${id}/events?limit=1000`)).body.events;
      expect(sequenceGaps(events), id).toEqual([]);
      expect(new Set(events.map((e) => e.sessionId))).toEqual(new Set([sessions.get(id)]));
      const task = finals.find((o) => o.droneId === id)?.id;
      const story = events.filter((e) => e.kind === 'mission' && e.event.taskId === task).map((e) => e.event);
      expect(story.map((e) => e.missionEvent)).toEqual(expect.arrayContaining(['assigned', 'released', 'outcome']));
      expect(story.find((e) => e.missionEvent === 'outcome')).toMatchObject({ outcome: 'delivered' });
      // Made while cut off (drone clock), stored after the way back opened: replayed from the drone's outbox.
      replayed += events.filter(
        (e) => e.timeMs > cutAtMs && e.timeMs < restoredAtMs && e.receivedAtMs >= restoredAtMs,
      ).length;
    }
    expect(replayed, 'events made during the outage, delivered after it').toBeGreaterThan(0);

    // Experience too: every batch each drone sent is stored once, 1..M per session, some of it from the outage.
    let replayedBatches = 0;
    for (const id of fl.ids) {
      const batches = await fl.t.station.store.listExperienceBatches({ droneId: id, limit: 10_000 });
      expect(batches.length, `${id} experience batches`).toBeGreaterThan(0);
      expect(sequenceGaps(batches), id).toEqual([]);
      expect(new Set(batches.map((b) => b.sessionId))).toEqual(new Set([sessions.get(id)]));
      replayedBatches += batches.filter(
        (b) => b.timeMs > cutAtMs && b.timeMs < restoredAtMs && b.receivedAtMs >= restoredAtMs,
      ).length;
    }
    expect(replayedBatches, 'experience made during the outage, stored after it').toBeGreaterThan(0);

    // Metrics windows made while cut off came later, each counted once: one episode, one success per drone.
    await eventually(
      async () => {
        for (const id of fl.ids) {
          const s = (await fl.api<{ summary: { episodes: number } }>(`/api/metrics?window=5m&scope=drone:${id}`)).body;
          if (s.summary.episodes < 1) return undefined;
        }
        return true;
      },
      'each drone to report its episode',
      20_000,
    );
    for (const id of fl.ids) {
      const s = (await fl.api<{ summary: Record<string, number> }>(`/api/metrics?window=5m&scope=drone:${id}`)).body;
      expect(s.summary, id).toMatchObject({ episodes: 1, successes: 1 });
    }

    // A clean stop leaves nothing behind in the drones' outboxes: the broker acknowledged every record.
    const exits = await fl.stopDrones();
    expect(
      exits.map((e) => e.code),
      fl.log(),
    ).toEqual([0, 0]);
    for (const [i, id] of fl.ids.entries()) {
      const outbox = Outbox.open(fl.dataDirs[i], { maxBytes: 1 << 20, segmentBytes: 1 << 16 });
      expect(outbox.stats().queuedRecords, id).toBe(0);
      outbox.close();
    }
  }, 240_000);
});
