/**
 * A drone replays its store-and-forward queue to a station that restarted: events the station stored before the
 * restart are repeats (counted as such, not stored, monitored or acted on again); the next one is news.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';
import { type StationHandle as Station, startStation } from '../station.js';
import { FakeDrone, startTestStation, type TestStation, waitFor } from '../test-support.js';

describe('station restart and replayed events', () => {
  let t: TestStation | null = null;
  let second: Station | null = null;
  const drones: FakeDrone[] = [];

  afterEach(async () => {
    await Promise.all(drones.splice(0).map((d) => d.close().catch(() => undefined)));
    if (second) {
      await second.close();
      if (t) rmSync(t.dir, { recursive: true, force: true });
    } else {
      await t?.close();
    }
    t = null;
    second = null;
  });

  it('takes events stored before the restart as repeats when the drone replays them', async () => {
    t = await startTestStation({ droneIds: ['a'], embeddedBroker: true });
    const id = `${t.prefix}a`;
    const sessionId = 's-replay';
    const event = (seq: number) =>
      JSON.stringify({
        schema: PROTOCOL_VERSION,
        id,
        sessionId,
        seq,
        timeMs: Date.now(),
        kind: 'alert',
        level: 'warning',
        code: 'battery_low',
        message: `alert ${seq}`,
      });

    const before = await FakeDrone.connect(t.station.mqttUrl, id, { password: t.passwords[id], sessionId });
    drones.push(before);
    await before.birth();
    await before.publishRaw('events', event(1));
    await before.publishRaw('events', event(2));
    const stored = async (station: Station) => (await station.store.listDroneEvents({ droneId: id })).length;
    await waitFor(async () => (await stored(t!.station)) === 2, 'two events stored');
    await before.close(false);
    drones.splice(0);

    await t.station.close();
    second = await startStation(t.config);
    const after = await FakeDrone.connect(second.mqttUrl, id, { password: t.passwords[id], sessionId });
    drones.push(after);
    await after.birth();
    // The queue replayed: both already stored; then one new event.
    await after.publishRaw('events', event(1));
    await after.publishRaw('events', event(2));
    await after.publishRaw('events', event(3));
    const s = second;
    await waitFor(async () => (await stored(s)) === 3, 'the new event stored');
    expect(s.drops.get('events:repeat')).toBe(2);
    expect((await s.store.listDroneEvents({ droneId: id })).map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
