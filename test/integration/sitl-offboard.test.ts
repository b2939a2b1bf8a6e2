/**
 * An offboard flight over real UDP sockets with node-mavlink (shared/mavlink) as the client, as the onboard runtime
 * will fly: refusals first, then a stream, arm, velocity setpoints, the stream stops and the vehicle fails safe,
 * land, disarm. Runs against the simulated fleet in lockstep (simulated time), or real PX4 SITL when
 * AERIE_PX4_ENDPOINTS is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, MAV_CMD, minimal, modeNameOfCustom } from '../../shared/mavlink/index.js';
import { type MavlinkTestClient, startTestVehicles, type TestVehicles } from '../support/index.js';

const PREARM_CHECK = 0x10000000;

describe('offboard flight over UDP', () => {
  let env: TestVehicles;
  let client: MavlinkTestClient;

  beforeAll(async () => {
    env = await startTestVehicles(1, { portKey: import.meta.url, estimatorReadyS: 3, seed: 11 });
    client = await env.client(0);
  });

  afterAll(async () => {
    await env?.close();
  });

  it('streams PX4-shaped heartbeats', async () => {
    const hb = await client.waitFor(minimal.Heartbeat);
    expect(hb.type).toBe(2);
    expect(hb.autopilot).toBe(12);
    expect(hb.mavlinkVersion).toBe(3);
    if (env.kind === 'sim') {
      expect(modeNameOfCustom(hb.customMode)).toBe('AUTO.LOITER');
      expect(hb.baseMode).toBe(29);
    }
  });

  it('refuses to arm while the estimator settles, and answers the refusal', async () => {
    if (env.kind === 'sim') {
      expect((await client.arm()).resultName).toBe('TEMPORARILY_REJECTED');
    }
    // Ready: SYS_STATUS reports the pre-arm checks passing.
    await client.waitFor(common.SysStatus, (m) => (m.onboardControlSensorsHealth & PREARM_CHECK) !== 0, 60_000);
  });

  it('accepts OFFBOARD while disarmed without a stream, but refuses to arm in it', async () => {
    expect((await client.setMode('OFFBOARD')).resultName).toBe('ACCEPTED');
    expect((await client.arm()).resultName).toBe('TEMPORARILY_REJECTED');
    const hb = await client.waitFor(minimal.Heartbeat, (m) => modeNameOfCustom(m.customMode) === 'OFFBOARD', 3000);
    expect(hb.baseMode & 128).toBe(0);
  });

  it('arms after setpoints have streamed for more than a second', async () => {
    const streamer = client.startSetpoints({ velocityNedMS: [0, 0, 0] }, 20);
    await client.clock.sleep(1.3);
    expect((await client.setMode('OFFBOARD')).resultName).toBe('ACCEPTED');
    expect((await client.arm()).resultName).toBe('ACCEPTED');
    await client.waitFor(minimal.Heartbeat, (m) => (m.baseMode & 128) !== 0, 3000);

    // Climb at 2 m/s: the dynamics climb at the commanded rate once the velocity loop settles.
    streamer.update({ velocityNedMS: [0, 0, -2] });
    await client.clock.sleep(5);
    const climbing = await client.waitFor(common.LocalPositionNed);
    expect(climbing.vz).toBeGreaterThan(-2.15);
    expect(climbing.vz).toBeLessThan(-1.85);
    expect(climbing.z).toBeLessThan(-6);
    const state = await client.waitFor(common.ExtendedSysState);
    expect(state.landedState).toBe(2); // IN_AIR

    // North at 3 m/s while holding altitude: speed converges, and the position advances by about speed x time.
    streamer.update({ velocityNedMS: [3, 0, 0] });
    await client.clock.sleep(3);
    const a = await client.waitFor(common.LocalPositionNed);
    const t0 = client.clock.nowS();
    await client.clock.sleep(4);
    const b = await client.waitFor(common.LocalPositionNed);
    const dt = client.clock.nowS() - t0;
    expect(b.vx).toBeGreaterThan(2.8);
    expect(b.vx).toBeLessThan(3.2);
    expect(Math.abs(b.vz)).toBeLessThan(0.3);
    expect((b.x - a.x) / dt).toBeGreaterThan(2.7);
    expect((b.x - a.x) / dt).toBeLessThan(3.3);
    if (env.fleet) {
      expect(env.fleet.counters(0).offboardSetpoints).toBeGreaterThan(200);
    }

    // Stop and hover, then stop the stream: PX4 leaves OFFBOARD after COM_OF_LOSS_T.
    streamer.update({ velocityNedMS: [0, 0, 0] });
    await client.clock.sleep(3);
    streamer.stop();
    const stoppedAt = client.clock.nowS();
    const mode = await client.waitFor(common.CurrentMode, (m) => modeNameOfCustom(m.customMode) !== 'OFFBOARD', 3000);
    const elapsed = client.clock.nowS() - stoppedAt;
    expect(modeNameOfCustom(mode.customMode)).toBe('POSCTL');
    expect(modeNameOfCustom(mode.intendedCustomMode)).toBe('OFFBOARD');
    expect(elapsed).toBeGreaterThan(0.9);
    expect(elapsed).toBeLessThan(env.kind === 'sim' ? 1.2 : 2);
    const hb = await client.waitFor(minimal.Heartbeat, (m) => modeNameOfCustom(m.customMode) === 'POSCTL', 1500);
    expect(hb.systemStatus).toBe(5); // CRITICAL while the failsafe acts
    await client.clock.sleep(2);
    const descending = await client.waitFor(common.LocalPositionNed);
    expect(descending.vz).toBeGreaterThan(0.5);
  });

  it('lands on NAV_LAND and disarms itself', async () => {
    expect((await client.command(MAV_CMD.NAV_LAND)).resultName).toBe('ACCEPTED');
    await client.waitFor(minimal.Heartbeat, (m) => modeNameOfCustom(m.customMode) === 'AUTO.LAND', 3000);
    await client.waitFor(minimal.Heartbeat, (m) => (m.baseMode & 128) === 0, 60_000);
    const state = await client.waitFor(common.ExtendedSysState);
    expect(state.landedState).toBe(1); // ON_GROUND
    const pos = await client.waitFor(common.LocalPositionNed);
    expect(Math.abs(pos.z)).toBeLessThan(0.1);
    if (env.fleet) {
      const c = env.fleet.counters(0);
      expect(c.commands).toBe(6); // arm, OFFBOARD, arm, OFFBOARD, arm, land
      expect(c.badFrames).toBe(0);
      expect(env.fleet.status(0).armed).toBe(false);
    }
  });
});
