import { describe, expect, it } from 'vitest';
import { common, decodeFrame, FrameParser, MavlinkLink, minimal } from '../../shared/mavlink/index.js';
import { ManualClock } from './clock.js';
import { VehicleStateTracker } from './state-tracker.js';
import { loadReferenceTlog, MemoryTransport } from './test-support.js';
import { fieldAgeMs, quaternionToEuler, STATE_CHANGE, TRACKED_MESSAGE_IDS } from './vehicle-state.js';

const PX4 = { sysid: 1, compid: 1 };

/** Replays PX4's side of the recorded conversation through a real MavlinkLink into a tracker, on a stepped clock. */
function replay() {
  const { records, msOf } = loadReferenceTlog();
  const clock = new ManualClock(0);
  const link = new MavlinkLink(new MemoryTransport(), { sysid: 255, compid: 190 });
  const tracker = new VehicleStateTracker({ linkCounters: link.counters });
  const armed: { armed: boolean; tS: number }[] = [];
  const modes: { name: string; tS: number; source: string; intended: string }[] = [];
  const landed: { state: string; tS: number }[] = [];
  let dAtArmM = Number.NaN;
  let minDAfterArmM = Number.POSITIVE_INFINITY;
  let framesFed = 0;
  for (const id of Object.values(TRACKED_MESSAGE_IDS)) {
    link.on({ MSG_ID: id }, (message, frame) => {
      const changed = tracker.feed(message, frame, clock.nowMs());
      const s = tracker.state;
      const tS = clock.nowMs() / 1000;
      if (changed & STATE_CHANGE.ARMED) {
        armed.push({ armed: s.armed, tS });
        if (s.armed) dAtArmM = s.positionNedM.d;
      }
      if (changed & STATE_CHANGE.MODE && modes.at(-1)?.name !== s.mode.name) {
        modes.push({ name: s.mode.name, tS, source: s.modeSource, intended: s.intendedMode.name });
      }
      if (changed & STATE_CHANGE.LANDED_STATE) landed.push({ state: s.landedState, tS });
      if (changed & STATE_CHANGE.LOCAL_POSITION && s.armed) minDAfterArmM = Math.min(minDAfterArmM, s.positionNedM.d);
    });
  }
  for (const r of records) {
    if (r.frame[5] !== PX4.sysid) continue; // PX4 -> client only
    clock.advanceTo(msOf(r));
    link.receive(r.frame);
    framesFed++;
  }
  return { tracker, link, clock, armed, modes, landed, dAtArmM, minDAfterArmM, framesFed };
}

describe('VehicleStateTracker on the recorded PX4 v1.15.4 conversation', () => {
  const run = replay();

  it('binds to PX4 (system 1, component 1) at its first HEARTBEAT and ignores what came before', () => {
    expect(run.tracker.autopilot).toEqual(PX4);
    // EXTENDED_SYS_STATE, GPS_RAW_INT, SYS_STATUS... arrive before PX4's first HEARTBEAT (0.41 s in).
    expect(run.tracker.counters.ignored).toBeGreaterThan(0);
    expect(run.tracker.counters.messages).toBeGreaterThan(5000);
  });

  it('sees armed false, then armed at ~35.4 s, then PX4 disarming itself after landing at ~62.1 s', () => {
    expect(run.armed.map((a) => a.armed)).toEqual([false, true, false]);
    expect(run.armed[1].tS).toBeCloseTo(35.37, 1);
    expect(run.armed[2].tS).toBeCloseTo(62.12, 1);
  });

  it('follows the modes: AUTO.LOITER at boot, OFFBOARD, POSCTL when the setpoint stream stopped, AUTO.LAND', () => {
    const names = run.modes.map((m) => m.name);
    expect(names.slice(0, 4)).toEqual(['AUTO.LOITER', 'OFFBOARD', 'POSCTL', 'AUTO.LAND']);
    const offboard = run.modes[1];
    expect(offboard.tS).toBeGreaterThan(5.4); // after the first DO_SET_MODE at 5.41 s
    expect(offboard.tS).toBeLessThan(5.6);
    const posctl = run.modes[2];
    expect(posctl.tS).toBeCloseTo(46.69, 1);
    // The failsafe shows as a mode PX4 chose while the intended mode (CURRENT_MODE) still says OFFBOARD.
    expect(posctl.intended).toBe('OFFBOARD');
    expect(run.modes[3].tS).toBeGreaterThan(46.7); // AUTO.LAND after NAV_LAND was accepted at 46.705 s
  });

  it('measures the climb (~5.8 m) from LOCAL_POSITION_NED', () => {
    const climbM = run.dAtArmM - run.minDAfterArmM;
    expect(climbM).toBeGreaterThan(5.5);
    expect(climbM).toBeLessThan(6.2);
  });

  it('follows the landed state: on ground, in air, landing, on ground', () => {
    expect(run.landed.map((l) => l.state)).toEqual(['on-ground', 'in-air', 'landing', 'on-ground']);
    expect(run.landed[1].tS).toBeCloseTo(37.0, 0);
    expect(run.landed[3].tS).toBeCloseTo(60.07, 1);
  });

  it('reads battery, GPS fix, home and global position', () => {
    const s = run.tracker.state;
    // The SIH battery drains from 16.2 V / 100 % to ~15.5 V / 60 % during the flight.
    expect(s.batteryRemaining).toBeGreaterThan(0.55);
    expect(s.batteryRemaining).toBeLessThan(0.65);
    expect(s.batteryVoltageV).toBeGreaterThan(15.3);
    expect(s.batteryVoltageV).toBeLessThan(15.7);
    expect(s.gpsFixType).toBe(3);
    expect(s.satellites).toBe(10);
    expect(s.home?.latDeg).toBeCloseTo(45.4671173, 7);
    expect(s.home?.lonDeg).toBeCloseTo(-73.7578414, 7);
    expect(s.home?.altAmslM).toBeCloseTo(32.219, 3);
    expect(s.globalPosition?.latDeg).toBeCloseTo(45.46712, 4);
    expect(Math.abs(s.relativeAltitudeM)).toBeLessThan(1); // landed again
    expect(s.attitudeSource).not.toBe('none');
    expect(s.linkCounters).toBe(run.link.counters);
    expect(s.linkCounters?.parse.frames).toBeGreaterThan(run.framesFed - 200); // unknown PX4-only ids skipped
  });

  it('ages every field from the injected clock', () => {
    const end = run.clock.nowMs();
    const later = run.tracker.read(end + 3000);
    expect(later.heartbeatAgeMs).toBeGreaterThanOrEqual(3000);
    expect(later.heartbeatAgeMs).toBeLessThan(4100);
    expect(fieldAgeMs(later, 'localPosition', end)).toBeLessThan(100);
    expect(fieldAgeMs(later, 'home', end)).toBeLessThan(2100);
  });

  it('copies a stable snapshot without touching the caller object identity', () => {
    const mine = run.tracker.snapshot(run.clock.nowMs());
    const again = run.tracker.snapshot(run.clock.nowMs(), mine);
    expect(again).toBe(mine);
    expect(mine.positionNedM).not.toBe(run.tracker.state.positionNedM);
    expect(mine.positionNedM).toEqual(run.tracker.state.positionNedM);
  });
});

describe('attitude from ATTITUDE_QUATERNION', () => {
  it('matches PX4 ATTITUDE Euler angles for the same samples of the recording', () => {
    const { records } = loadReferenceTlog();
    const parser = new FrameParser('datagram');
    const euler = new Map<number, [number, number, number]>();
    const fromQuat = new Map<number, [number, number, number]>();
    for (const r of records) {
      parser.push(r.frame, (f) => {
        if (f.msgid === TRACKED_MESSAGE_IDS.ATTITUDE) {
          const m = decodeFrame<common.Attitude>(f);
          euler.set(m.timeBootMs, [m.roll, m.pitch, m.yaw]);
        } else if (f.msgid === TRACKED_MESSAGE_IDS.ATTITUDE_QUATERNION) {
          const m = decodeFrame<common.AttitudeQuaternion>(f);
          fromQuat.set(m.timeBootMs, quaternionToEuler(m.q1, m.q2, m.q3, m.q4));
        }
      });
    }
    let compared = 0;
    let maxErr = 0;
    for (const [t, q] of fromQuat) {
      const e = euler.get(t);
      if (!e) continue;
      compared++;
      for (let i = 0; i < 3; i++)
        maxErr = Math.max(maxErr, Math.abs(Math.atan2(Math.sin(q[i] - e[i]), Math.cos(q[i] - e[i]))));
    }
    expect(compared).toBeGreaterThan(300);
    expect(maxErr).toBeLessThan(1e-4);
  });
});

describe('VehicleStateTracker rules', () => {
  const hb = (type: number, autopilot: number, baseMode = 1, customMode = 0x00060000) => {
    const m = new minimal.Heartbeat();
    m.type = type as minimal.MavType;
    m.autopilot = autopilot as minimal.MavAutopilot;
    m.baseMode = baseMode as minimal.MavModeFlag;
    m.customMode = customMode;
    m.systemStatus = minimal.MavState.ACTIVE;
    return m;
  };
  const localPosition = (d: number) => {
    const m = new common.LocalPositionNed();
    m.z = d;
    return m;
  };

  it('does not take a GCS, a companion or a non-PX4 autopilot for the vehicle', () => {
    const t = new VehicleStateTracker();
    expect(t.feed(hb(6, 8), { sysid: 255, compid: 190 }, 0)).toBe(0); // GCS
    expect(t.feed(hb(18, 8), { sysid: 1, compid: 191 }, 0)).toBe(0); // a companion
    expect(t.feed(hb(2, 3), { sysid: 1, compid: 1 }, 0)).toBe(0); // ArduPilot
    expect(t.autopilot).toBeNull();
    const changed = t.feed(hb(2, 12, 1 | 128), { sysid: 3, compid: 1 }, 10);
    expect(changed & STATE_CHANGE.AUTOPILOT_FOUND).not.toBe(0);
    expect(t.autopilot).toEqual({ sysid: 3, compid: 1 });
    expect(t.state.armed).toBe(true);
    expect(t.state.mode.name).toBe('OFFBOARD');
  });

  it('only follows the configured autopilot system id, and ignores telemetry from other systems', () => {
    const t = new VehicleStateTracker({ autopilotSysid: 2 });
    t.feed(hb(2, 12), { sysid: 1, compid: 1 }, 0);
    expect(t.autopilot).toBeNull();
    t.feed(hb(2, 12), { sysid: 2, compid: 1 }, 0);
    expect(t.autopilot).toEqual({ sysid: 2, compid: 1 });
    t.feed(localPosition(-3), { sysid: 1, compid: 1 }, 5);
    expect(Number.isNaN(t.state.positionNedM.d)).toBe(true);
    expect(t.state.timestampsMs.localPosition).toBe(-Infinity);
    t.feed(localPosition(-4), { sysid: 2, compid: 1 }, 6);
    expect(t.state.positionNedM.d).toBe(-4);
    expect(t.state.timestampsMs.localPosition).toBe(6);
  });

  it('takes the mode from HEARTBEAT or CURRENT_MODE, whichever arrived last', () => {
    const t = new VehicleStateTracker();
    t.feed(hb(2, 12, 1, 0x00060000), PX4, 0);
    expect(t.state.mode).toMatchObject({ name: 'OFFBOARD', main: 6, sub: 0 });
    const cm = new common.CurrentMode();
    cm.customMode = 0x06040000;
    cm.intendedCustomMode = 0x00060000;
    t.feed(cm, PX4, 100);
    expect(t.state.mode).toMatchObject({ name: 'AUTO.LAND', main: 4, sub: 6 });
    expect(t.state.modeSource).toBe('CURRENT_MODE');
    expect(t.state.intendedMode.name).toBe('OFFBOARD');
    t.feed(hb(2, 12, 1, 0x03040000), PX4, 200);
    expect(t.state.mode.name).toBe('AUTO.LOITER');
    expect(t.state.modeSource).toBe('HEARTBEAT');
    expect(t.state.timestampsMs.mode).toBe(200);
  });

  it('reports unknown battery as NaN, and only the primary battery', () => {
    const t = new VehicleStateTracker();
    t.feed(hb(2, 12), PX4, 0);
    const sys = new common.SysStatus();
    sys.batteryRemaining = -1;
    sys.voltageBattery = 0xffff;
    t.feed(sys, PX4, 1);
    expect(Number.isNaN(t.state.batteryRemaining)).toBe(true);
    expect(Number.isNaN(t.state.batteryVoltageV)).toBe(true);
    const bat = new common.BatteryStatus();
    bat.id = 1;
    bat.batteryRemaining = 50;
    bat.voltages = [4000, 4000, 4000, 4000, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff];
    bat.voltagesExt = [0, 0, 0, 0];
    t.feed(bat, PX4, 2);
    expect(Number.isNaN(t.state.batteryRemaining)).toBe(true);
    bat.id = 0;
    t.feed(bat, PX4, 3);
    expect(t.state.batteryRemaining).toBe(0.5);
    expect(t.state.batteryVoltageV).toBeCloseTo(16.0, 6);
  });

  it('fails closed on ages of fields never received', () => {
    const t = new VehicleStateTracker();
    const s = t.read(1000);
    expect(s.heartbeatAgeMs).toBe(Number.POSITIVE_INFINITY);
    expect(fieldAgeMs(s, 'attitude', 1000)).toBe(Number.POSITIVE_INFINITY);
    expect(s.home).toBeNull();
    expect(s.landedState).toBe('unknown');
  });
});
