/**
 * Fault injection seen from a companion over UDP: link drops each way, packet loss, corruption, GPS loss, gusts,
 * battery failure, and a vehicle dying. Simulated only (faults are the simulator's), in lockstep.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, minimal, modeNameOfCustom } from '../../shared/mavlink/index.js';
import type { SitlFleet } from '../../sitl/index.js';
import { type MavlinkTestClient, startTestVehicles, type TestVehicles } from '../support/index.js';

async function hover(client: MavlinkTestClient, altitudeM: number): Promise<void> {
  const streamer = client.startSetpoints({ positionNedM: [0, 0, -altitudeM] }, 20);
  await client.clock.sleep(1.2);
  expect((await client.setMode('OFFBOARD')).resultName).toBe('ACCEPTED');
  expect((await client.arm()).resultName).toBe('ACCEPTED');
  await client.clock.sleep(altitudeM / 2 + 6);
  // Leave the stream running: the caller's faults decide what happens next.
  void streamer;
}

describe('fault injection over UDP', () => {
  let env: TestVehicles;
  let fleet: SitlFleet;
  let clients: MavlinkTestClient[];

  beforeAll(async () => {
    env = await startTestVehicles(4, { portKey: import.meta.url, estimatorReadyS: 1, simulatedOnly: true, seed: 5 });
    fleet = env.fleet as SitlFleet;
    clients = [await env.client(0), await env.client(1), await env.client(2), await env.client(3)];
    await env.clock.sleep(1.5);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('drops the link outward, then inward, and recovers when cleared', async () => {
    const c = clients[0];
    fleet.injectFault(0, { kind: 'link-drop', direction: 'out', durationS: 3 });
    await c.clock.sleep(0.05);
    expect(await c.collect(minimal.Heartbeat, 2500)).toHaveLength(0);
    await c.clock.sleep(1);
    expect((await c.collect(minimal.Heartbeat, 2000)).length).toBeGreaterThanOrEqual(1);

    fleet.injectFault(0, { kind: 'link-drop', direction: 'in', link: 'onboard' });
    await expect(c.command(31_337, [], { timeoutMs: 300, retries: 1 })).rejects.toThrow(/no COMMAND_ACK/);
    expect((await c.collect(common.LocalPositionNed, 1000)).length).toBeGreaterThan(25); // streams still flow
    expect(fleet.counters(0).droppedIn).toBeGreaterThan(0);
    fleet.injectFault(0, { kind: 'clear' });
    expect((await c.command(31_337)).resultName).toBe('UNSUPPORTED');
  });

  it('loses about the requested share of datagrams, and corrupts them detectably', async () => {
    const c = clients[1];
    fleet.injectFault(1, { kind: 'packet-loss', percent: 50, link: 'onboard', durationS: 10 });
    const got = await c.collect(common.LocalPositionNed, 10_000);
    expect(got.length).toBeGreaterThan(300 * 0.4);
    expect(got.length).toBeLessThan(300 * 0.6);
    const badBefore = c.link.counters.parse.badCrc;
    fleet.injectFault(1, { kind: 'corrupt', percent: 100, link: 'onboard', durationS: 1 });
    await c.clock.sleep(1.2);
    expect(c.link.counters.parse.badCrc - badBefore).toBeGreaterThan(20);
    expect(fleet.counters(1).corruptedOut).toBeGreaterThan(20);
    expect((await c.collect(minimal.Heartbeat, 1500)).length).toBeGreaterThanOrEqual(1);
  });

  it('GPS loss: no fix, GPS unhealthy, and a flying vehicle descends (shown as AUTO.LAND)', async () => {
    const c = clients[2];
    await hover(c, 6);
    fleet.injectFault(2, { kind: 'gps-loss', durationS: 30 });
    const gps = await c.waitFor(common.GpsRawInt, (m) => m.fixType === 1, 1000);
    expect(gps.satellitesVisible).toBe(0);
    const sys = await c.waitFor(common.SysStatus);
    expect(sys.onboardControlSensorsHealth & 0x20).toBe(0);
    await c.waitFor(minimal.Heartbeat, (m) => modeNameOfCustom(m.customMode) === 'AUTO.LAND', 1500);
    await c.waitFor(minimal.Heartbeat, (m) => (m.baseMode & 128) === 0, 30_000);
    expect(fleet.status(2).altitudeM).toBeLessThan(0.05);
  });

  it('a gust pushes a hovering vehicle, which comes back; battery failure and death make it fall', async () => {
    const c = clients[3];
    await hover(c, 10);
    fleet.injectFault(3, { kind: 'gust', northMS: 15, eastMS: 0, downMS: 0 });
    let pushed = 0;
    const stop = c.clock.every(0.05, () => {
      pushed = Math.max(pushed, fleet.status(3).positionNedM[0]);
    });
    await c.clock.sleep(4);
    stop();
    expect(pushed).toBeGreaterThan(0.2);
    await c.clock.sleep(10);
    expect(Math.abs(fleet.status(3).positionNedM[0])).toBeLessThan(pushed / 3);

    fleet.injectFault(3, { kind: 'die' });
    await c.clock.sleep(0.1);
    expect(await c.collect(minimal.Heartbeat, 2000)).toHaveLength(0);
    await c.clock.sleep(3);
    expect(fleet.status(3).altitudeM).toBeLessThan(0.05);
    expect(fleet.status(3).dead).toBe(true);
  });

  it('battery failure: the pack collapses and the vehicle falls', async () => {
    const c = clients[0];
    await hover(c, 8);
    fleet.injectFault(0, { kind: 'battery-fail' });
    await c.clock.sleep(0.5);
    const bat = await c.waitFor(common.BatteryStatus, () => true, 3000);
    expect(bat.chargeState).toBe(5); // FAILED
    await c.clock.sleep(3);
    expect(fleet.status(0).altitudeM).toBeLessThan(0.05);
  });

  it('rejects a fault for a vehicle that does not exist', () => {
    const r = fleet.injectFault(9, { kind: 'die' });
    expect(r.ok).toBe(false);
  });
});
