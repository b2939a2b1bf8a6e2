import { describe, expect, it } from 'vitest';
import { common, decodeFrame, type Frame, FrameEncoder, FrameParser } from '../../shared/mavlink/index.js';
import { ManualClock } from './clock.js';
import { MAV_FRAME_LOCAL_NED, positionTypeMask, SetpointSender, velocityTypeMask } from './setpoints.js';
import { loadReferenceTlog } from './test-support.js';
import type { MavlinkSource } from './vehicle-state.js';

function setup() {
  const clock = new ManualClock(5000);
  const encoder = new FrameEncoder(1, 191);
  const frames: Frame[] = [];
  const parser = new FrameParser('datagram');
  let target: MavlinkSource | null = { sysid: 1, compid: 1 };
  const sender = new SetpointSender({
    clock,
    // Through real MAVLink bytes, as PX4 would read them.
    send: (m) => parser.push(encoder.encodeInPlace(m), (f) => frames.push(f)),
    target: () => target,
    bootMs: 1000,
  });
  const decoded = () => frames.map((f) => decodeFrame<common.SetPositionTargetLocalNed>(f));
  return { clock, sender, decoded, setTarget: (t: MavlinkSource | null) => (target = t) };
}

describe('SetpointSender', () => {
  it('uses the same type mask as the recorded client that flew PX4 (velocity only: 3527)', () => {
    const { records } = loadReferenceTlog();
    const parser = new FrameParser('datagram');
    const masks = new Set<number>();
    for (const r of records) {
      if (r.frame[5] !== 255) continue;
      parser.push(r.frame, (f) => {
        if (f.msgid === common.SetPositionTargetLocalNed.MSG_ID) {
          masks.add(decodeFrame<common.SetPositionTargetLocalNed>(f).typeMask);
        }
      });
    }
    expect([...masks]).toEqual([velocityTypeMask(false, false)]);
    expect(velocityTypeMask(false, false)).toBe(3527);
  });

  it('builds a velocity setpoint in LOCAL_NED, ignoring position, acceleration and yaw when not given', () => {
    const { clock, sender, decoded } = setup();
    clock.advance(250);
    expect(sender.sendVelocity({ velocityNedMS: { n: 1, e: -2, d: -1.5 } })).toBe(true);
    expect(sender.sendVelocity({ velocityNedMS: { n: 0, e: 0, d: 0 }, yawRad: 1.25 })).toBe(true);
    const [a, b] = decoded();
    expect(a).toMatchObject({ coordinateFrame: MAV_FRAME_LOCAL_NED, typeMask: 3527, vx: 1, vy: -2, vz: -1.5 });
    expect(a.timeBootMs).toBe(4250);
    expect(a.targetSystem).toBe(1);
    expect(b.typeMask).toBe(3527 & ~1024);
    expect(b.yaw).toBeCloseTo(1.25, 6);
    expect(sender.counters.velocity).toBe(2);
    expect(sender.counters.lastSentMs).toBe(5250);
  });

  it('builds a position setpoint ignoring velocity and acceleration', () => {
    const { sender, decoded } = setup();
    expect(sender.sendPosition({ positionNedM: { n: 10, e: 5, d: -20 }, yawRateRadS: 0.5 })).toBe(true);
    const [p] = decoded();
    expect(p).toMatchObject({ x: 10, y: 5, z: -20, typeMask: positionTypeMask(false, true) });
    expect(p.typeMask & 7).toBe(0);
    expect(p.typeMask & 56).toBe(56);
    expect(sender.counters.position).toBe(1);
  });

  it('refuses non-finite values and counts setpoints with no autopilot to send to', () => {
    const { sender, decoded, setTarget } = setup();
    expect(sender.sendVelocity({ velocityNedMS: { n: Number.NaN, e: 0, d: 0 } })).toBe(false);
    expect(sender.sendPosition({ positionNedM: { n: 0, e: 0, d: 0 }, yawRad: Number.POSITIVE_INFINITY })).toBe(false);
    setTarget(null);
    expect(sender.sendVelocity({ velocityNedMS: { n: 0, e: 0, d: 0 } })).toBe(false);
    expect(decoded()).toHaveLength(0);
    expect(sender.counters).toMatchObject({ invalid: 2, noTarget: 1, velocity: 0, position: 0 });
  });
});
