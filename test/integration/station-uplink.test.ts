/**
 * The station with the real onboard uplink (onboard/uplink, over its FakeRuntime: no autopilot, no mission loop):
 * login with a password from the credentials file, birth, telemetry, an order handed out, the accepted ack, the
 * released event, and the death at a clean stop. A compatibility check until the full end-to-end flies real
 * `aerie onboard` processes (it crosses folders, hence test/integration/).
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestStation, type TestStation, waitFor } from '../../ground-station/test-support.js';
import { FakeRuntime, quietTick, tempDataDir, testConfig } from '../../onboard/uplink/test-support.js';
import { Uplink } from '../../onboard/uplink/uplink.js';
import { topics } from '../../shared/protocol/index.js';

describe('the station with the real onboard uplink', () => {
  let t: TestStation;
  afterEach(async () => {
    await t?.close();
  });
  it('hands an order to the uplink and follows it to delivered', async () => {
    t = await startTestStation({ droneIds: ['u1'], raw: { roundInterval: 0.2, staleAfter: 120 } });
    const id = `${t.prefix}u1`;
    const data = tempDataDir();
    const runtime = new FakeRuntime();
    const uplink = Uplink.open(testConfig(t.station.mqttUrl, data.dir, { id, mqttPassword: t.passwords[id] }), runtime);
    uplink.start();
    try {
      await waitFor(() => t.station.registry.get(id)?.online === true, 'online');
      await waitFor(() => t.station.registry.get(id)?.telemetry !== null, 'telemetry');
      const res = await t.api('/api/deliveries', { body: { drop: { northM: 100, eastM: 0 }, weightKg: 1 } });
      const order = (await res.json()) as { id: string };
      await waitFor(() => runtime.flown.length > 0, 'mission handed to runtime');
      // The drop 100 m north of the depot, which is this drone's home.
      const [north, east] = runtime.flown[0].dropNeM;
      expect(north).toBeCloseTo(100, 1);
      expect(east).toBeCloseTo(0, 1);
      const get = async () => (await (await t.api(`/api/deliveries/${order.id}`)).json()) as { status: string };
      await waitFor(async () => (await get()).status === 'in-flight', 'in-flight');
      runtime.emit(quietTick({ events: [{ kind: 'released', phase: 'release', timeMs: Date.now() }] }));
      await waitFor(async () => (await get()).status === 'delivered', 'delivered');
      expect(t.station.drops.snapshot()).toEqual({});
      // The drone's events are kept, in order, 1..N in its session.
      await t.station.settle();
      const stored = (await (await t.api(`/api/fleet/${id}/events`)).json()) as {
        events: { sessionId: string; seq: number; event: { missionEvent?: string } }[];
      };
      expect(stored.events.map((e) => e.seq)).toEqual(stored.events.map((_, i) => i + 1));
      expect(new Set(stored.events.map((e) => e.sessionId))).toEqual(new Set([uplink.sessionId]));
      expect(stored.events.map((e) => e.event.missionEvent)).toEqual(expect.arrayContaining(['assigned', 'released']));
    } finally {
      await uplink.stop(0);
      await waitFor(() => t.station.registry.get(id)?.online === false, 'offline after stop');
      data.cleanup();
      // Leave no retained death on a shared broker.
      const c = await mqtt.connectAsync(t.station.mqttUrl, {
        clientId: `aerie-${id}.cleanup`,
        username: id,
        password: t.passwords[id],
        reconnectPeriod: 0,
      });
      await c.publishAsync(topics.droneStatus(id), '', { qos: 1, retain: true });
      await c.endAsync();
    }
  });
});
