/**
 * Hostile and broken clients next to a real drone: raw mqtt.js clients send the station garbage JSON, a payload of
 * another schema major, payloads over the size limits, bytes that are not UTF-8, an unknown event kind, telemetry and
 * a birth naming another drone, telemetry on the real drone's topic, commands, and valid messages twice, while a
 * compiled `aerie onboard` process flies a simulated vehicle. Every bad message must be refused and every repeat
 * taken once, each counted by reason (drop counters and /metrics); the real drone's state must stay its own, and the
 * station must go on serving: the API answers and the real drone is then given an order and delivers it.
 *
 * On the embedded broker the drones log in and the ACL stops a drone publishing on another's topics or sending
 * commands (the broker refuses, counts and disconnects it), taking another drone's client id, or reading another
 * drone's commands. Mosquitto at MQTT_URL is anonymous here, without the ACL file `aerie station mosquitto-config`
 * writes: any client may publish anywhere and nothing tells the station who published. There the station can
 * still guarantee what it checks itself - each payload's id against its topic, telemetry's session against the
 * drone's live session, sizes, versions and fields - and that is what this asserts; a client that copies a drone's
 * live session id from its retained birth, or sends a drone commands, is stopped only by the broker's ACL.
 *
 * The child runs the compiled dist/: `npm test` builds first; run `npm run build` before running this file alone.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { examplePayloads, topics } from '../../shared/protocol/index.js';
import { requireFreshBuild } from '../support/onboard-cli.js';
import { eventually, type StationFleet, startStationFleet } from '../support/station-fleet.js';
import { type DroneViewJson, type OrderJson, promSample, type StoredEventJson } from '../support/station-views.js';

const SPEED = 4;
/** The victim's drop: a short leg, the point is that the station still serves it. */
const DROP = { northM: 35, eastM: 20 };

let f: StationFleet | null = null;
const clients: MqttClient[] = [];
beforeAll(() => requireFreshBuild());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  await f?.close();
  f = null;
});

describe('malformed payloads and an impersonating drone (station + aerie onboard + raw MQTT clients)', () => {
  it('refuses and counts every bad message, keeps the real drone its own, and goes on serving', async () => {
    f = await startStationFleet({
      portKey: import.meta.url,
      depotOffsetKm: { n: 60, e: -60 },
      drones: 1,
      speed: SPEED,
      extraLogins: ['rogue'],
    });
    const fl = f;
    const external = fl.t.externalMqtt;
    const victim = fl.ids[0];
    const rogue = `${fl.t.prefix}rogue`;
    const url = fl.t.station.mqttUrl;
    const view = async () => (await fl.api<DroneViewJson>(`/api/fleet/${victim}`)).body;
    const before = await eventually(
      async () => {
        const d = await view();
        return d.online && d.state?.geo && d.home && d.battery !== null ? d : undefined;
      },
      'the real drone online and reporting',
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    const drops = () => fl.t.station.drops.snapshot();
    const baseline = drops();

    /** A raw client, logged in as `username` (with its password on the embedded broker). */
    const connect = async (username: string | null, options: mqtt.IClientOptions = {}) => {
      const c = await mqtt.connectAsync(url, {
        clientId: username ? `aerie-${username}.raw${clients.length}` : `raw${clients.length}`,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...(username ? { username } : {}),
        ...(username && !external ? { password: fl.t.passwords[username] } : {}),
        ...options,
      });
      clients.push(c);
      return c;
    };
    const json = (v: unknown) => JSON.stringify(v);
    const tele = examplePayloads().telemetry;
    const own = (channel: string) => `aerie/v1/drones/${rogue}/${channel}`;

    // Broken payloads on the rogue's own topics (which the ACL allows it): each refused by the station, by reason.
    const r = await connect(rogue);
    const expected: Record<string, number> = {
      'telemetry:not-json': 1,
      'telemetry:schema-version': 1,
      'telemetry:invalid-fields': 1,
      'telemetry:id-mismatch': 1,
      'events:oversize': 1,
      'events:unknown-kind': 1,
      'experience:oversize': 1,
      'acks:not-utf8': 1,
      'status:id-mismatch': 1,
    };
    await r.publishAsync(own('telemetry'), '{"schema":"1.0", "id": "oops', { qos: 1 });
    await r.publishAsync(own('telemetry'), json({ ...tele, id: rogue, schema: '2.0' }), { qos: 1 });
    await r.publishAsync(own('telemetry'), json({ ...tele, id: rogue, batteryRemaining: 'full' }), { qos: 1 });
    // Telemetry naming the real drone, on the rogue's own topic.
    await r.publishAsync(own('telemetry'), json({ ...tele, id: victim, batteryRemaining: 0.01 }), { qos: 1 });
    const event = { ...examplePayloads().events, id: rogue };
    await r.publishAsync(own('events'), json({ ...event, padding: 'x'.repeat(20_000) }), { qos: 1 });
    await r.publishAsync(own('events'), json({ ...event, kind: 'gossip' }), { qos: 1 });
    await r.publishAsync(own('experience'), Buffer.alloc(1_200_000, 0x7b), { qos: 1 });
    await r.publishAsync(own('acks'), Buffer.from([0xc3, 0x28, 0xff]), { qos: 1 });
    // A birth naming the real drone, on the rogue's own status topic (not retained: nothing left on the broker).
    const birth = { ...examplePayloads().status, id: victim, sessionId: 'forged-1' };
    await r.publishAsync(own('status'), json(birth), { qos: 1 });

    // A drone's valid messages sent again, as after a lost PUBACK: each taken once, the repeat counted.
    const resent = { ...examplePayloads().events, id: rogue, sessionId: 'rogue-s1', seq: 1, timeMs: Date.now() };
    const window = { ...examplePayloads().metrics, id: rogue, sessionId: 'rogue-s1', seq: 1, timeMs: Date.now() };
    for (let k = 0; k < 2; k++) {
      await r.publishAsync(own('events'), json(resent), { qos: 1 });
      await r.publishAsync(own('metrics'), json(window), { qos: 1 });
    }
    expected['events:repeat'] = 1;
    expected['metrics:repeat'] = 1;

    // Telemetry on the real drone's own topic, from another session. The embedded broker refuses the publish (and
    // drops the rogue's connection); through an open broker the station refuses it for its session.
    const forged = { ...tele, id: victim, sessionId: 'forged-1', seq: 1_000_000, batteryRemaining: 0.01 };
    const r2 = await connect(rogue);
    const r2Closed = new Promise<void>((resolve) => r2.once('close', () => resolve()));
    r2.publish(topics.droneTelemetry(victim), json(forged), { qos: 0 });
    if (external) expected['telemetry:session-mismatch'] = 1;
    else {
      expected['unauthorised-publish'] = 1;
      await r2Closed;
    }

    if (!external) {
      // A drone sending commands: to the real drone, and to the whole fleet. Refused by the broker.
      for (const [topic, payload] of [
        [topics.droneCommands(victim), { schema: '1.0', commandId: 'rogue-1', timeMs: Date.now(), kind: 'land' }],
        [topics.fleetEstop, { schema: '1.0', commandId: 'rogue-2', timeMs: Date.now(), reason: 'rogue' }],
      ] as const) {
        const c = await connect(rogue);
        const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
        c.publish(topic, json(payload), { qos: 0 });
        await closed;
      }
      expected['unauthorised-publish'] += 2;
      // Reading the real drone's commands: the subscription is refused (SUBACK failure), the client stays.
      const reader = await connect(rogue);
      const refused = await reader.subscribeAsync(topics.droneCommands(victim), { qos: 1 }).then(
        () => null,
        (err: Error & { packet?: { granted?: number[] } }) => err.packet?.granted ?? [],
      );
      expect(refused).toEqual([128]);
      expect(reader.connected).toBe(true);
      expected['unauthorised-subscribe'] = 1;
      // Taking the real drone's client id (which would disconnect it), a wrong password, no login at all.
      await expect(connect(rogue, { clientId: `aerie-${victim}` })).rejects.toThrow();
      await expect(connect(rogue, { password: 'not-the-password' })).rejects.toThrow();
      await expect(connect(null)).rejects.toThrow();
      expected['client-id-refused'] = 1;
      expected['login-refused'] = 2;
    }

    // Every refusal counted under its reason: exactly these on our own broker, at least these on a shared one.
    const delta = () => {
      const now = drops();
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(now)) if (v - (baseline[k] ?? 0) > 0) out[k] = v - (baseline[k] ?? 0);
      return out;
    };
    await eventually(
      () => (Object.entries(expected).every(([k, n]) => (delta()[k] ?? 0) >= n) ? true : undefined),
      `drop counters ${JSON.stringify(expected)}`,
      15_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; got ${JSON.stringify(delta())}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    await fl.t.station.settle();
    if (external) {
      for (const [k, n] of Object.entries(expected)) expect(delta()[k], k).toBeGreaterThanOrEqual(n);
    } else {
      expect(delta()).toEqual(expected);
    }
    expect(Object.keys(delta()).filter((k) => k.endsWith(':handler-error'))).toEqual([]);
    const prom = await (await fetch(`${fl.t.station.httpUrl}/metrics`)).text();
    for (const [reason, n] of Object.entries(expected)) {
      expect(promSample(prom, 'aerie_station_dropped_total', { reason }), reason).toBeGreaterThanOrEqual(n);
    }
    const status = (await fl.api<{ dropped: Record<string, number> }>('/api/station')).body;
    expect(status.dropped['telemetry:id-mismatch']).toBeGreaterThanOrEqual(1);

    // The station still serves, and the real drone is still itself: the same session, its own battery and place.
    expect((await fetch(`${fl.t.station.httpUrl}/healthz`)).status).toBe(200);
    const fleet = (await fl.api<{ drones: DroneViewJson[] }>('/api/fleet')).body.drones;
    expect(fleet.map((d) => d.id)).toContain(victim);
    const rogueView = fleet.find((d) => d.id === rogue);
    expect(rogueView).toMatchObject({ online: false, state: null, sessionId: null });
    const rogueEvents = (await fl.api<{ events: StoredEventJson[] }>(`/api/fleet/${rogue}/events`)).body.events;
    expect(rogueEvents.map((e) => [e.sessionId, e.seq])).toEqual([['rogue-s1', 1]]);
    const rogueMetrics = (
      await fl.api<{ summary: Record<string, number> }>(`/api/metrics?window=5m&scope=drone:${rogue}`)
    ).body.summary;
    expect(rogueMetrics).toMatchObject({ episodes: 1, successes: 1 });
    const after = await view();
    expect(after).toMatchObject({ online: true, sessionId: before.sessionId });
    expect(after.battery).toBeGreaterThan(0.5);
    expect(fl.t.station.registry.get(victim)?.telemetry?.sessionId).toBe(before.sessionId);
    const geo = after.state?.geo as NonNullable<NonNullable<DroneViewJson['state']>['geo']>;
    expect(Math.abs(geo.latDeg - fl.padOf(0).latDeg)).toBeLessThan(1e-4);

    // And it is given an order, which it flies and delivers.
    const created = await fl.api<OrderJson>('/api/deliveries', { drop: DROP, weightKg: 1 });
    expect(created.status).toBe(201);
    const done = await eventually(
      async () => {
        const o = (await fl.api<OrderJson>(`/api/deliveries/${created.body.id}`)).body;
        return ['delivered', 'failed', 'cancelled'].includes(o.status) ? o : undefined;
      },
      'the order to end',
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${fl.log()}`);
    });
    expect(done, fl.log()).toMatchObject({ status: 'delivered', droneId: victim, attempts: 1 });
    expect(fl.closestApproachM(0, done.drop)).toBeLessThan(4);
    // Its stored events are its own session's only: nothing of the forged one.
    const stored = (await fl.api<{ events: StoredEventJson[] }>(`/api/fleet/${victim}/events?limit=1000`)).body.events;
    expect(stored.length).toBeGreaterThan(0);
    expect(new Set(stored.map((e) => e.sessionId))).toEqual(new Set([before.sessionId]));
  }, 180_000);
});
