import { describe, expect, it } from 'vitest';
import { DEFAULT_MULTIROTOR, GRAVITY_MS2, MultirotorFleet, type MultirotorParams, withParams } from './index.js';

const DT = 0.01;

/** One vehicle hovering at `altitudeM`, calm air. */
function hovering(params: MultirotorParams = DEFAULT_MULTIROTOR, altitudeM = 100): MultirotorFleet {
  const fleet = new MultirotorFleet(1, params, 1);
  fleet.resetVehicle(0, { positionNedM: [0, 0, -altitudeM] });
  return fleet;
}

function run(fleet: MultirotorFleet, seconds: number, each?: (tS: number) => void): void {
  const steps = Math.round(seconds / DT);
  for (let k = 1; k <= steps; k++) {
    fleet.step(DT);
    each?.(k * DT);
  }
}

const horizontal = (a: Float64Array): number => Math.hypot(a[0], a[1]);

describe('limits under extreme setpoints', () => {
  it('clamps speeds and accelerations to the PX4 limits', () => {
    const fleet = hovering(DEFAULT_MULTIROTOR, 300);
    const p = DEFAULT_MULTIROTOR;
    const seen = { h: 0, up: 0, down: 0, accH: 0, accUp: 0, accDown: 0 };
    const setpoints: [number, number, number][] = [
      [100, 100, -100],
      [-100, -100, 100],
      [0, 100, -100],
      [100, 0, 100],
      [-1e6, 3, 1e6],
      [8.6, 8.6, -3.3], // just over each limit, too
      [0, 0, 1.7],
    ];
    for (const sp of setpoints) {
      fleet.velocitySetpointNedMS.set(sp);
      run(fleet, 12, () => {
        const v = fleet.velocityNedMS;
        const a = fleet.accelerationNedMS2;
        seen.h = Math.max(seen.h, horizontal(v));
        seen.up = Math.max(seen.up, -v[2]);
        seen.down = Math.max(seen.down, v[2]);
        seen.accH = Math.max(seen.accH, horizontal(a));
        seen.accUp = Math.max(seen.accUp, -a[2]);
        seen.accDown = Math.max(seen.accDown, a[2]);
      });
    }
    expect(fleet.groundContact[0]).toBe(0);
    // Each limit is reached, and not passed.
    expect(seen.h).toBeGreaterThan(p.maxHorizontalSpeedMS * 0.999);
    expect(seen.h).toBeLessThanOrEqual(p.maxHorizontalSpeedMS + 1e-9);
    expect(seen.up).toBeGreaterThan(p.maxClimbSpeedMS * 0.999);
    expect(seen.up).toBeLessThanOrEqual(p.maxClimbSpeedMS + 1e-9);
    expect(seen.down).toBeGreaterThan(p.maxDescentSpeedMS * 0.999);
    expect(seen.down).toBeLessThanOrEqual(p.maxDescentSpeedMS + 1e-9);
    expect(seen.accH).toBeGreaterThan(p.maxHorizontalAccelMS2 * 0.999);
    expect(seen.accH).toBeLessThanOrEqual(p.maxHorizontalAccelMS2 + 1e-9);
    expect(seen.accUp).toBeGreaterThan(p.maxVerticalAccelMS2 * 0.999);
    expect(seen.accUp).toBeLessThanOrEqual(p.maxVerticalAccelMS2 + 1e-9);
    expect(seen.accDown).toBeGreaterThan(p.maxVerticalAccelMS2 * 0.999);
    expect(seen.accDown).toBeLessThanOrEqual(p.maxVerticalAccelMS2 + 1e-9);
  });

  it('applies limits changed in flight (PARAM_SET)', () => {
    const fleet = hovering();
    fleet.velocitySetpointNedMS.set([20, 0, 0]);
    run(fleet, 10);
    expect(fleet.velocityNedMS[0]).toBeCloseTo(12, 2);
    fleet.params = withParams({ ...fleet.params, maxHorizontalSpeedMS: 5 });
    run(fleet, 10);
    expect(fleet.velocityNedMS[0]).toBeCloseTo(5, 2);
  });

  it('holds an axis whose setpoint is NaN (ignored by the type mask)', () => {
    const fleet = hovering();
    fleet.velocitySetpointNedMS.set([Number.NaN, 2, Number.NaN]);
    run(fleet, 8);
    expect(fleet.velocityNedMS[0]).toBeCloseTo(0, 6);
    expect(fleet.velocityNedMS[1]).toBeCloseTo(2, 2);
    expect(fleet.velocityNedMS[2]).toBeCloseTo(0, 6);
    expect(Number.isFinite(fleet.positionNedM[0])).toBe(true);
  });
});

describe('velocity step response', () => {
  it('is exactly first order with the configured time constant when nothing disturbs it', () => {
    for (const tau of [0.3, 0.6]) {
      const fleet = hovering(withParams({ velocityTimeConstantS: tau, dragCoefficientKgS: 0 }));
      fleet.velocitySetpointNedMS.set([0.5, -0.4, 0]);
      let worst = 0;
      run(fleet, 3, (t) => {
        const k = 1 - Math.exp(-t / tau);
        worst = Math.max(worst, Math.abs(fleet.velocityNedMS[0] - 0.5 * k), Math.abs(fleet.velocityNedMS[1] + 0.4 * k));
      });
      expect(worst).toBeLessThan(1e-9);
    }
  });

  it('reaches 63 % in about one time constant and settles on the setpoint with drag', () => {
    const fleet = hovering();
    fleet.velocitySetpointNedMS.set([0.5, 0, 0]);
    let t63 = Number.NaN;
    run(fleet, 6, (t) => {
      if (Number.isNaN(t63) && fleet.velocityNedMS[0] >= 0.5 * (1 - Math.exp(-1))) t63 = t;
    });
    const tau = DEFAULT_MULTIROTOR.velocityTimeConstantS;
    expect(t63).toBeGreaterThanOrEqual(0.9 * tau);
    expect(t63).toBeLessThanOrEqual(1.25 * tau);
    expect(fleet.velocityNedMS[0]).toBeCloseTo(0.5, 3);
  });

  it('ramps at the acceleration limit on a large step, then converges', () => {
    const fleet = hovering();
    fleet.velocitySetpointNedMS.set([0, 10, 0]);
    run(fleet, 1);
    // Acceleration-limited: about maxHorizontalAccelMS2 x 1 s, less what drag takes before integral action.
    expect(fleet.velocityNedMS[1]).toBeGreaterThan(2.4);
    expect(fleet.velocityNedMS[1]).toBeLessThanOrEqual(3);
    run(fleet, 14);
    expect(fleet.velocityNedMS[1]).toBeCloseTo(10, 2);
  });

  it('integrates a long interval in sub-steps, equal to stepping them one by one', () => {
    const a = hovering();
    const b = hovering();
    for (const f of [a, b]) f.velocitySetpointNedMS.set([3, 1, -1]);
    a.step(0.08);
    for (let k = 0; k < 4; k++) b.step(0.02);
    expect(a.timeS).toBe(b.timeS);
    expect([...a.positionNedM, ...a.velocityNedMS, a.batteryRemaining[0]]).toEqual([
      ...b.positionNedM,
      ...b.velocityNedMS,
      b.batteryRemaining[0],
    ]);
  });
});

describe('wind', () => {
  it('is rejected at steady state: the vehicle holds station, tilted into the wind', () => {
    const fleet = hovering();
    fleet.setWind(0, [8, 0, 0], 0);
    run(fleet, 30);
    const v = fleet.velocityNedMS;
    expect(Math.hypot(v[0], v[1], v[2])).toBeLessThan(1e-3);
    // Thrust must hold c*w against the drag: pitch nose-up (heading north, wind blowing north).
    const p = DEFAULT_MULTIROTOR;
    const expectedTilt = Math.atan((p.dragCoefficientKgS * 8) / p.massKg / GRAVITY_MS2);
    expect(fleet.pitchRad[0]).toBeCloseTo(expectedTilt, 3);
    expect(fleet.rollRad[0]).toBeCloseTo(0, 6);
    expect(fleet.disturbanceEstimateNedMS2[0]).toBeCloseTo((p.dragCoefficientKgS * 8) / p.massKg, 3);
  });

  it('tilts by roll when the wind is abeam', () => {
    const fleet = hovering();
    fleet.resetVehicle(0, { positionNedM: [0, 0, -50], yawRad: Math.PI / 2 }); // heading east
    fleet.setWind(0, [8, 0, 0], 0); // pushing north = to the vehicle's left
    run(fleet, 30);
    expect(fleet.rollRad[0]).toBeGreaterThan(0.1); // right side down, thrust towards south
    expect(Math.abs(fleet.pitchRad[0])).toBeLessThan(1e-6);
  });

  it('leaves a transient error in a sudden gust, then recovers', () => {
    const fleet = hovering();
    fleet.setWind(0, [0, 0, 0], 0);
    run(fleet, 1);
    fleet.addGust(0, [0, 6, 0]);
    expect(fleet.windNedMS[1]).toBe(6);
    let peak = 0;
    run(fleet, 20, () => {
      peak = Math.max(peak, Math.abs(fleet.velocityNedMS[1]));
    });
    expect(peak).toBeGreaterThan(0.1);
    expect(peak).toBeLessThan(1.5);
    expect(Math.abs(fleet.velocityNedMS[1])).toBeLessThan(0.01);
    expect(Math.abs(fleet.windNedMS[1])).toBeLessThan(0.01); // the gust has decayed
  });

  it('has turbulence of the requested intensity', () => {
    const fleet = new MultirotorFleet(200, DEFAULT_MULTIROTOR, 3);
    fleet.setWindAll([5, 0, 0], 2);
    let sumSqN = 0;
    let sumSqD = 0;
    let samples = 0;
    for (let k = 0; k < 3000; k++) {
      fleet.step(0.02);
      if (k < 500) continue; // the OU process starts at 0: let it spread first
      for (let i = 0; i < fleet.count; i++) {
        sumSqN += (fleet.windNedMS[3 * i] - 5) ** 2;
        sumSqD += fleet.windNedMS[3 * i + 2] ** 2;
        samples++;
      }
    }
    expect(Math.sqrt(sumSqN / samples)).toBeCloseTo(2, 1);
    expect(Math.sqrt(sumSqD / samples)).toBeCloseTo(2 * DEFAULT_MULTIROTOR.verticalGustRatio, 1);
  });
});

describe('yaw', () => {
  it('turns at no more than the yaw rate limit, the short way round, then holds', () => {
    const maxRate = DEFAULT_MULTIROTOR.maxYawRateRadS;
    // From 3.0 rad: to 0.25 (short way is negative, 2.75 rad) and to -3.0 (short way is positive, across +-pi).
    for (const [target, turnRad, sign] of [
      [0.25, 2.75, -1],
      [-3, 2 * Math.PI - 6, 1],
    ] as const) {
      const fleet = hovering();
      fleet.resetVehicle(0, { positionNedM: [0, 0, -50], yawRad: 3 });
      fleet.yawSetpointRad[0] = target - 2 * Math.PI; // unwrapped setpoints are fine
      let worstRate = 0;
      let arrivedS = Number.NaN;
      run(fleet, 8, (t) => {
        const rate = fleet.yawRateRadS[0];
        worstRate = Math.max(worstRate, Math.abs(rate));
        expect(rate * sign).toBeGreaterThanOrEqual(0);
        expect(fleet.yawRad[0]).toBeGreaterThan(-Math.PI);
        expect(fleet.yawRad[0]).toBeLessThanOrEqual(Math.PI);
        if (Number.isNaN(arrivedS) && Math.abs(fleet.yawRad[0] - target) < 0.02) arrivedS = t;
      });
      expect(worstRate).toBeLessThanOrEqual(maxRate + 1e-12);
      expect(arrivedS).toBeGreaterThanOrEqual(turnRad / maxRate - 0.35); // the last 0.27 rad slow down
      expect(arrivedS).toBeLessThanOrEqual(turnRad / maxRate + 1.5);
      expect(fleet.yawRad[0]).toBeCloseTo(target, 4);
      if (turnRad > 1) expect(worstRate).toBeGreaterThan(maxRate * 0.999);
    }
  });

  it('holds the heading when the setpoint is NaN and does not turn on the ground', () => {
    const fleet = hovering();
    fleet.resetVehicle(0, { positionNedM: [0, 0, -50], yawRad: 1 });
    fleet.yawSetpointRad[0] = Number.NaN;
    run(fleet, 2);
    expect(fleet.yawRad[0]).toBe(1);
    const ground = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    ground.motorsOn[0] = 1;
    ground.yawSetpointRad[0] = 2;
    run(ground, 2);
    expect(ground.yawRad[0]).toBe(0);
  });
});
