import { describe, expect, it } from 'vitest';
import {
  decodePositionTarget,
  OffboardMonitor,
  POSITION_ONLY_MASK,
  type RawPositionTarget,
  VELOCITY_ONLY_MASK,
} from './offboard.js';

const raw = (over: Partial<RawPositionTarget>): RawPositionTarget => ({
  coordinateFrame: 1,
  typeMask: VELOCITY_ONLY_MASK,
  x: 1,
  y: 2,
  z: 3,
  vx: 4,
  vy: 5,
  vz: 6,
  afx: 7,
  afy: 8,
  afz: 9,
  yaw: 0.5,
  yawRate: 0.1,
  ...over,
});

describe('decodePositionTarget', () => {
  it('keeps only what the type mask does not ignore (velocity-only, as onboard/ sends: 3527)', () => {
    expect(VELOCITY_ONLY_MASK).toBe(3527);
    const r = decodePositionTarget(raw({}), 0);
    if (!r.ok) throw new Error(r.reason);
    expect(r.setpoint.velocityNedMS).toEqual([4, 5, 6]);
    expect(r.setpoint.positionNedM.every(Number.isNaN)).toBe(true);
    expect(r.setpoint.accelerationNedMS2.every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(r.setpoint.yawRad)).toBe(true);
  });

  it('decodes position-only setpoints and yaw', () => {
    const r = decodePositionTarget(raw({ typeMask: POSITION_ONLY_MASK & ~1024 }), 0);
    if (!r.ok) throw new Error(r.reason);
    expect(r.setpoint.positionNedM).toEqual([1, 2, 3]);
    expect(r.setpoint.velocityNedMS.every(Number.isNaN)).toBe(true);
    expect(r.setpoint.yawRad).toBe(0.5);
  });

  it('rotates BODY_NED velocity by the current yaw', () => {
    const r = decodePositionTarget(raw({ coordinateFrame: 8, vx: 2, vy: 0, vz: 0 }), Math.PI / 2);
    if (!r.ok) throw new Error(r.reason);
    expect(r.setpoint.velocityNedMS[0]).toBeCloseTo(0, 9);
    expect(r.setpoint.velocityNedMS[1]).toBeCloseTo(2, 9);
  });

  it('refuses other frames, FORCE, empty masks; treats non-finite fields as not given', () => {
    expect(decodePositionTarget(raw({ coordinateFrame: 7 }), 0)).toEqual({ ok: false, reason: 'frame' });
    expect(decodePositionTarget(raw({ typeMask: 7 | 8 | 16 | 32 | 512 }), 0)).toEqual({ ok: false, reason: 'force' });
    expect(decodePositionTarget(raw({ typeMask: 0xfff }), 0)).toEqual({ ok: false, reason: 'empty' });
    const r = decodePositionTarget(raw({ vx: Number.POSITIVE_INFINITY, vy: Number.NaN, vz: 1e9 }), 0);
    expect(r).toEqual({ ok: false, reason: 'empty' });
  });
});

describe('OffboardMonitor', () => {
  it('is established after >1 s of >2 Hz and lost after the timeout', () => {
    const m = new OffboardMonitor();
    const sp = {
      positionNedM: [0, 0, 0],
      velocityNedMS: [0, 0, 0],
      accelerationNedMS2: [0, 0, 0],
      yawRad: 0,
      yawRateRadS: 0,
    } as const;
    expect(m.lost(0, 1)).toBe(true);
    for (let t = 0; t <= 1.0001; t += 0.1) m.receive(sp, t);
    expect(m.established(1.0)).toBe(false);
    m.receive(sp, 1.1);
    expect(m.established(1.1)).toBe(true);
    expect(m.lost(2.09, 1)).toBe(false);
    expect(m.lost(2.11, 1)).toBe(true);
    // A gap over 0.5 s restarts the stream.
    m.receive(sp, 2.2);
    expect(m.established(2.2)).toBe(false);
  });
});
