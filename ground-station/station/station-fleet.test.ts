/**
 * The fleet registry fed over MQTT by fake drones: births, clean deaths, an abrupt disconnect (the broker's will),
 * a late will of an old session, GET /api/fleet, malformed and unauthorised messages dropped and counted in /metrics.
 * Against Mosquitto when MQTT_URL is set, else the embedded broker with real logins.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeExperienceFile } from '../../shared/experience/index.js';
import { examplePayloads } from '../../shared/protocol/index.js';
import { subscriptionFilters } from '../link/index.js';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../test-support.js';

describe('station fleet registry over MQTT', () => {
  let t: TestStation;
  const drones: FakeDrone[] = [];
  beforeEach(async () => {
    t = await startTestStation({ droneIds: ['a', 'b'] });
  });
  afterEach(async () => {
    await Promise.all(drones.splice(0).map((d) => d.close().catch(() => undefined)));
    await t.close();
  });

  const drone = async (name: string, sessionId?: string) => {
    const id = t.prefix + name;
    const d = await FakeDrone.connect(t.station.mqttUrl, id, {
      password: t.passwords[id],
      ...(sessionId ? { sessionId } : {}),
    });
    drones.push(d);
    return d;
  };
  const online = (id: string) => t.station.registry.get(id)?.online === true;

  it('marks a drone online at birth, shows its telemetry, and offline at its clean death', async () => {
    const a = await drone('a');
    await a.birth();
    await waitFor(() => online(a.id), 'birth');
    await a.telemetry({ batteryRemaining: 0.77, mode: 'AUTO.LOITER' });
    await waitFor(() => t.station.registry.get(a.id)?.telemetry !== null, 'telemetry');
    const fleet = (await (await t.api('/api/fleet')).json()) as { drones: Record<string, unknown>[] };
    const mine = fleet.drones.find((d) => d.id === a.id);
    expect(mine).toMatchObject({ id: a.id, online: true, battery: 0.77, task: null, sessionId: a.sessionId });
    expect((mine?.state as { mode: string } | undefined)?.mode).toBe('AUTO.LOITER');
    await a.close();
    await waitFor(() => t.station.registry.get(a.id)?.online === false, 'clean death');
    expect(t.station.registry.get(a.id)?.deathReason).toBe('shutdown');
  });

  it('marks a drone offline when its connection dies abruptly (the will), and stays online for a late old will', async () => {
    const first = await drone('b', 's-old');
    await first.birth();
    await waitFor(() => online(first.id), 'birth');
    first.dropConnection();
    await waitFor(() => t.station.registry.get(first.id)?.online === false, 'will after abrupt disconnect');
    expect(t.station.registry.get(first.id)?.deathReason).toBe('connection lost');

    // A new session; then a death of the old one arrives late: the new session must stay online.
    const second = await drone('b', 's-new');
    await second.birth();
    await waitFor(() => t.station.registry.get(second.id)?.sessionId === 's-new' && online(second.id), 'rebirth');
    const { schema } = examplePayloads().status;
    await second.publishRaw(
      'status',
      JSON.stringify({ schema, kind: 'death', id: second.id, online: false, sessionId: 's-old' }),
    );
    await second.telemetry();
    await waitFor(() => t.station.registry.get(second.id)?.telemetry !== null, 'telemetry after the late death');
    expect(t.station.registry.get(second.id)).toMatchObject({ online: true, sessionId: 's-new' });
  });

  it('drops malformed and mismatched payloads, counts them by reason, and shows the counts in /metrics', async () => {
    const a = await drone('a');
    await a.birth();
    await waitFor(() => online(a.id), 'birth');
    await a.publishRaw('telemetry', '{"schema":"1.0", "oops"', 0);
    await a.publishRaw('telemetry', JSON.stringify({ ...a.telemetryPayload(), schema: '7.1' }), 0);
    await a.publishRaw('events', JSON.stringify({ ...examplePayloads().events, id: a.id, kind: 'gossip' }));
    await a.publishRaw('telemetry', JSON.stringify({ ...a.telemetryPayload(), id: `${t.prefix}b` }), 0);
    await a.publishRaw('acks', Buffer.from([0xc3, 0x28]));
    // A valid message last: once it is applied, the four before it have been handled.
    await a.telemetry({ batteryRemaining: 0.5 });
    await waitFor(() => t.station.registry.get(a.id)?.telemetry?.batteryRemaining === 0.5, 'marker telemetry');
    expect(t.station.drops.snapshot()).toMatchObject({
      'telemetry:not-json': 1,
      'telemetry:schema-version': 1,
      'events:unknown-kind': 1,
      'telemetry:id-mismatch': 1,
      'acks:not-utf8': 1,
    });
    const prom = await (await t.api('/metrics', { token: null })).text();
    expect(prom).toContain('aerie_station_dropped_total{reason="telemetry:schema-version"} 1');
    expect(prom).toContain('aerie_station_dropped_total{reason="events:unknown-kind"} 1');
    // The station is still fine.
    expect((await t.api('/api/fleet')).status).toBe(200);
  });

  it('stores experience batches once and serves them as a dataset file', async () => {
    const a = await drone('a');
    await a.birth();
    await waitFor(() => online(a.id), 'birth');
    const ex = examplePayloads().experience;
    const batch = (seq: number, step: number) =>
      JSON.stringify({ ...ex, id: a.id, seq, sessionId: undefined, records: [{ ...ex.records[0], step }] });
    await a.publishRaw('experience', batch(1, 0));
    await a.publishRaw('experience', batch(1, 0)); // store-and-forward sent it again
    await a.publishRaw('experience', batch(2, 1));
    const seen = () => t.station.experience.stats.batchesStored + t.station.experience.stats.duplicates;
    await waitFor(() => seen() === 3, 'three batches handled');
    expect(t.station.experience.stats).toMatchObject({ batchesStored: 2, duplicates: 1 });
    const res = await t.api(`/api/experience/export?drone=${a.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const dataset = decodeExperienceFile(new Uint8Array(await res.arrayBuffer()));
    expect(dataset.records.map((r) => r.step)).toEqual([0, 1]);
    // Keyed by the drone's session from its birth, since the batches carried none.
    const stored = await t.station.store.listExperienceBatches({ droneId: a.id });
    expect(stored.map((b) => b.sessionId)).toEqual([a.sessionId, a.sessionId]);
  });

  it.skipIf(process.env.MQTT_URL)(
    'never lets a drone speak for another: the broker refuses it and counts it',
    async () => {
      const a = await drone('a');
      const b = await drone('b');
      await b.birth();
      await waitFor(() => online(b.id), 'b birth');
      const closed = new Promise<void>((resolve) => a.client.once('close', () => resolve()));
      // a, logged in as itself, publishes a death for b: refused by the ACL, a is disconnected.
      const { schema } = examplePayloads().status;
      a.client.publish(
        `aerie/v1/drones/${b.id}/status`,
        JSON.stringify({ schema, kind: 'death', id: b.id, online: false, sessionId: b.sessionId }),
        { qos: 1, retain: true },
      );
      await closed;
      await b.telemetry({ batteryRemaining: 0.42 });
      await waitFor(() => t.station.registry.get(b.id)?.telemetry?.batteryRemaining === 0.42, 'b telemetry');
      expect(online(b.id)).toBe(true);
      expect(t.station.drops.get('unauthorised-publish')).toBe(1);
    },
  );
});

describe('shared subscriptions', () => {
  it('shares only experience and metrics, so every station still sees every status, telemetry, event and ack', () => {
    expect(Object.keys(subscriptionFilters('g1')).sort()).toEqual([
      '$share/g1/aerie/v1/drones/+/experience',
      '$share/g1/aerie/v1/drones/+/metrics',
      'aerie/v1/drones/+/acks',
      'aerie/v1/drones/+/events',
      'aerie/v1/drones/+/status',
      'aerie/v1/drones/+/telemetry',
    ]);
    expect(subscriptionFilters(undefined)['aerie/v1/drones/+/telemetry']).toEqual({ qos: 0 });
  });

  it.runIf(process.env.MQTT_URL)(
    'stores experience taken through an MQTT 5 shared subscription on Mosquitto',
    async () => {
      const t = await startTestStation({
        droneIds: ['x'],
        raw: { mqttProtocol: '5', sharedGroup: `g${Date.now().toString(36)}${process.pid}` },
      });
      const d = await FakeDrone.connect(t.station.mqttUrl, `${t.prefix}x`, { password: t.passwords[`${t.prefix}x`] });
      try {
        await d.birth();
        await d.publishRaw(
          'experience',
          JSON.stringify({ ...examplePayloads().experience, id: d.id, sessionId: d.sessionId }),
        );
        await waitFor(() => t.station.experience.stats.batchesStored === 1, 'experience stored');
      } finally {
        await d.close();
        await t.close();
      }
    },
  );
});
