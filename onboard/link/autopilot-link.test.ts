import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandParams, common, MAV_CMD, MAV_RESULT, minimal } from '../../shared/mavlink/index.js';
import { AutopilotLink } from './autopilot-link.js';
import { ManualClock } from './clock.js';
import { parseLinkConfig } from './config.js';
import { FakeAutopilot, flush, MemoryTransport } from './test-support.js';

function setup(raw: Record<string, unknown> = {}, px4Ids: { sysid?: number; compid?: number } = {}) {
  const clock = new ManualClock(0);
  const [ours, theirs] = MemoryTransport.pair();
  const config = parseLinkConfig(raw);
  const link = new AutopilotLink({ config, transport: ours, clock });
  const px4 = new FakeAutopilot(theirs, px4Ids);
  const ups: unknown[] = [];
  const downs: unknown[] = [];
  link.onLinkUp((a) => ups.push(a));
  link.onLinkDown((a) => downs.push(a));
  /** Advance simulated time in 50 ms steps, PX4 sending its 1 Hz HEARTBEAT when `px4Alive`. */
  const run = async (ms: number, px4Alive = true) => {
    const end = clock.nowMs() + ms;
    while (clock.nowMs() < end) {
      clock.advance(Math.min(50, end - clock.nowMs()));
      if (px4Alive && clock.nowMs() % 1000 === 0) px4.heartbeat();
      await flush();
    }
  };
  const intervalRequests = () =>
    px4.commands
      .filter((c) => c.command.command === MAV_CMD.SET_MESSAGE_INTERVAL)
      .map((c) => commandParams(c.command).slice(0, 2));
  return { clock, link, px4, ups, downs, run, intervalRequests, ours };
}

describe('AutopilotLink', () => {
  it('sends its own HEARTBEAT at 1 Hz as an onboard controller, from the start', async () => {
    const { link, run, px4 } = setup();
    await link.start();
    await run(10_000, false);
    const hbs = px4.received.filter((r) => r.message instanceof minimal.Heartbeat);
    expect(hbs).toHaveLength(11); // t = 0, 1, ..., 10 s
    const hb = hbs[0].message as minimal.Heartbeat;
    expect(hb.type).toBe(minimal.MavType.ONBOARD_CONTROLLER);
    expect(hb.autopilot).toBe(minimal.MavAutopilot.INVALID);
    expect(hbs[0].frame.sysid).toBe(1);
    expect(hbs[0].frame.compid).toBe(191);
    expect(link.counters.heartbeatsSent).toBe(11);
    await link.stop();
  });

  it('comes up on the first PX4 HEARTBEAT, targets that system, and requests its message intervals', async () => {
    const { link, px4, ups, run, intervalRequests } = setup({}, { sysid: 7 });
    await link.start();
    expect(link.isUp).toBe(false);
    px4.heartbeat();
    expect(link.isUp).toBe(true);
    expect(ups).toEqual([{ sysid: 7, compid: 1 }]);
    await run(500);
    expect(intervalRequests()).toEqual([
      [30, 20_000], // ATTITUDE 50 Hz
      [32, 20_000], // LOCAL_POSITION_NED 50 Hz
      [33, 20_000], // GLOBAL_POSITION_INT 50 Hz
      [245, 200_000], // EXTENDED_SYS_STATE 5 Hz
      [147, 1_000_000], // BATTERY_STATUS 1 Hz
    ]);
    expect(link.intervalStatus().every((s) => s.status === 'accepted')).toBe(true);
    const arm = await link.arm();
    expect(arm).toEqual({ ok: true, result: 'ACCEPTED', attempts: 1 });
    const cmd = px4.commands.find((c) => c.command.command === MAV_CMD.COMPONENT_ARM_DISARM)!;
    expect(cmd.command.targetSystem).toBe(7);
    expect(cmd.from).toEqual({ sysid: 1, compid: 191 });
    await link.stop();
  });

  it('falls back to ATTITUDE_QUATERNION when ATTITUDE is refused, and asks again later', async () => {
    const { link, px4, run, intervalRequests } = setup({ intervalRetryMs: 5000 });
    let refuseAttitude = true;
    px4.respond = (c) =>
      c.command === MAV_CMD.SET_MESSAGE_INTERVAL && c._param1 === 30 && refuseAttitude
        ? MAV_RESULT.DENIED
        : MAV_RESULT.ACCEPTED;
    await link.start();
    px4.heartbeat();
    await run(500);
    const status = () => Object.fromEntries(link.intervalStatus().map((s) => [s.name, s.status]));
    expect(status()).toMatchObject({
      ATTITUDE: 'refused',
      ATTITUDE_QUATERNION: 'accepted',
      LOCAL_POSITION_NED: 'accepted',
    });
    expect(intervalRequests()).toContainEqual([31, 20_000]);
    const attitudeRequests = () => intervalRequests().filter(([id]) => id === 30).length;
    expect(attitudeRequests()).toBe(1);
    // The state is filled from the fallback.
    const q = new common.AttitudeQuaternion();
    [q.q1, q.q2, q.q3, q.q4] = [Math.cos(0.25), 0, 0, Math.sin(0.25)]; // yaw 0.5 rad
    px4.send(q);
    expect(link.state().yawRad).toBeCloseTo(0.5, 6);
    expect(link.state().attitudeSource).toBe('ATTITUDE_QUATERNION');
    await run(5000);
    expect(attitudeRequests()).toBe(2); // retried once after intervalRetryMs
    refuseAttitude = false;
    await run(5000);
    expect(attitudeRequests()).toBe(3);
    expect(status().ATTITUDE).toBe('accepted');
    const before = intervalRequests().length;
    await run(15_000);
    expect(intervalRequests().length).toBe(before); // nothing left to ask for
    await link.stop();
  });

  it('goes down when the autopilot HEARTBEAT stops for heartbeatLossMs; pending waits end with link-down', async () => {
    const { link, px4, ups, downs, run, clock, intervalRequests } = setup({ heartbeatLossMs: 2000 });
    px4.respond = (c) => (c.command === MAV_CMD.SET_MESSAGE_INTERVAL ? MAV_RESULT.ACCEPTED : null);
    await link.start();
    await run(3000); // PX4 heartbeats at 1, 2, 3 s
    expect(link.isUp).toBe(true);
    const lastHeartbeatMs = clock.nowMs();
    let armResult: unknown = null;
    void link.arm({ timeoutMs: 10_000, retries: 0 }).then((r) => (armResult = r));
    let modeWait: unknown = null;
    void link.waitForMode('OFFBOARD', 60_000).then((r) => (modeWait = r));
    await run(1950, false);
    expect(link.isUp).toBe(true);
    expect(armResult).toBeNull();
    await run(50, false);
    expect(clock.nowMs() - lastHeartbeatMs).toBe(2000);
    expect(link.isUp).toBe(false);
    expect(downs).toEqual([{ sysid: 1, compid: 1 }]);
    expect(armResult).toEqual({ ok: false, reason: 'link-down', result: undefined, attempts: 1 });
    expect(modeWait).toMatchObject({ ok: false, reason: 'link-down' });
    expect(await link.disarm()).toEqual({ ok: false, reason: 'link-down', attempts: 0 });
    expect(link.sendVelocitySetpoint({ velocityNedMS: { n: 0, e: 0, d: 0 } })).toBe(false);
    expect(link.state().heartbeatAgeMs).toBe(2000);
    // PX4 comes back (a reboot): the link comes up again and asks for its message rates again.
    const requestsBefore = intervalRequests().length;
    await run(3000);
    expect(link.isUp).toBe(true);
    expect(ups).toHaveLength(2);
    expect(intervalRequests().length).toBe(2 * requestsBefore);
    await link.stop();
  });

  it('waits for mode, armed and landed from the telemetry, or times out', async () => {
    const { link, px4, run } = setup();
    await link.start();
    px4.heartbeat({ customMode: 0x03040000 });
    const mode = link.waitForMode('OFFBOARD', 5000);
    const armed = link.waitForArmed(true, 5000);
    const never = link.waitForMode('AUTO.RTL', 2000);
    await run(300);
    const cm = new common.CurrentMode();
    cm.customMode = 0x00060000;
    cm.intendedCustomMode = 0x00060000;
    px4.send(cm);
    expect(await mode).toEqual({ ok: true, waitedMs: 300 });
    await run(700); // the 1 Hz heartbeat at t = 1 s still says LOITER: the newer CURRENT_MODE said OFFBOARD first
    px4.heartbeat({ armed: true, customMode: 0x00060000 });
    expect(await armed).toMatchObject({ ok: true });
    await run(1000);
    expect(await never).toEqual({ ok: false, reason: 'timeout', waitedMs: 2000 });
    const ess = new common.ExtendedSysState();
    ess.landedState = common.MavLandedState.IN_AIR;
    px4.send(ess);
    const landed = link.waitForLanded(10_000);
    await run(400);
    ess.landedState = common.MavLandedState.ON_GROUND;
    px4.send(ess);
    expect(await landed).toEqual({ ok: true, waitedMs: 400 });
    expect(await link.waitForLanded(10)).toEqual({ ok: true, waitedMs: 0 }); // already true
    await link.stop();
  });

  it('takes off to an altitude above home, and refuses to guess when home is unknown', async () => {
    const { link, px4 } = setup();
    await link.start();
    px4.heartbeat();
    expect(await link.takeoff(10)).toEqual({ ok: false, reason: 'rejected', attempts: 0 });
    const home = new common.HomePosition();
    home.latitude = 454671173;
    home.longitude = -737578414;
    home.altitude = 32219;
    px4.send(home);
    expect(await link.takeoff(10)).toMatchObject({ ok: true });
    const takeoffs = px4.commands.filter((c) => c.command.command === MAV_CMD.NAV_TAKEOFF);
    expect(takeoffs).toHaveLength(1);
    const cmd = takeoffs[0].command;
    expect(commandParams(cmd)[6]).toBeCloseTo(42.219, 3);
    await link.stop();
  });

  it('sends setpoints only with an autopilot to send them to, and counts them', async () => {
    const { link, px4 } = setup();
    await link.start();
    expect(link.sendVelocitySetpoint({ velocityNedMS: { n: 1, e: 0, d: 0 } })).toBe(false);
    px4.heartbeat();
    expect(link.sendVelocitySetpoint({ velocityNedMS: { n: 1, e: 0, d: -0.5 }, yawRad: 0 })).toBe(true);
    expect(link.sendPositionSetpoint({ positionNedM: { n: 3, e: 4, d: -10 } })).toBe(true);
    const got = px4.receivedOf(common.SetPositionTargetLocalNed);
    expect(got.map((m) => [m.vx, m.vz, m.x, m.z])).toEqual([
      [1, -0.5, 0, 0],
      [0, 0, 3, -10],
    ]);
    expect(link.setpoints.counters).toMatchObject({ velocity: 1, position: 1, noTarget: 1 });
    await link.stop();
  });

  it('stops every timer on stop, and ends pending commands and waits as cancelled', async () => {
    const { link, px4, clock } = setup();
    px4.respond = () => null;
    await link.start();
    px4.heartbeat();
    const arm = link.arm();
    const wait = link.waitForArmed(true, 60_000);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    await link.stop();
    expect(await arm).toMatchObject({ ok: false, reason: 'cancelled' });
    expect(await wait).toMatchObject({ ok: false, reason: 'cancelled' });
    expect(clock.pendingTimers).toBe(0);
    const sent = link.counters.heartbeatsSent;
    clock.advance(10_000);
    expect(link.counters.heartbeatsSent).toBe(sent);
    await expect(link.start()).rejects.toThrow(/MAVLINK_LINK_CLOSED/);
  });

  it('reads the signing key named in the configuration, and refuses a bad one at construction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aerie-link-'));
    writeFileSync(join(dir, 'good.key'), `${'ab'.repeat(32)}\n`);
    writeFileSync(join(dir, 'bad.key'), 'not a key');
    const [ours] = MemoryTransport.pair();
    const signed = new AutopilotLink({
      config: parseLinkConfig({ signingKey: join(dir, 'good.key') }),
      transport: ours,
    });
    expect(signed.mavlink.counters.signature).not.toBeNull();
    const unsigned = new AutopilotLink({ config: parseLinkConfig({}), transport: ours });
    expect(unsigned.mavlink.counters.signature).toBeNull();
    expect(
      () => new AutopilotLink({ config: parseLinkConfig({ signingKey: join(dir, 'bad.key') }), transport: ours }),
    ).toThrow(/MAVLINK_SIGNING_KEY_INVALID/);
  });

  it('refuses unknown configuration keys at the edge', () => {
    expect(() => parseLinkConfig({ heartbeatLoss: 2000 })).toThrow(/CONFIG_UNKNOWN_KEY/);
    expect(() => parseLinkConfig({ heartbeatLossMs: 100 })).toThrow(/CONFIG_INVALID_VALUE/);
    expect(parseLinkConfig({}).mavlink).toBe('udp://:14540');
  });
});
