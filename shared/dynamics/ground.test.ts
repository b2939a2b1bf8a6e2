import { describe, expect, it } from 'vitest';
import { DEFAULT_MULTIROTOR, GRAVITY_MS2, MultirotorFleet, vehicleSnapshot } from './index.js';

const DT = 0.01;

function run(fleet: MultirotorFleet, seconds: number, each?: (tS: number) => void): void {
  const steps = Math.round(seconds / DT);
  for (let k = 1; k <= steps; k++) {
    fleet.step(DT);
    each?.(k * DT);
  }
}

describe('ground and gravity', () => {
  it('starts landed on the ground with motors off, and stays there', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    run(fleet, 3);
    const s = vehicleSnapshot(fleet, 0);
    expect(s).toMatchObject({ positionNedM: [0, 0, 0], velocityNedMS: [0, 0, 0], landed: true, groundContact: true });
    expect(s.motorsOn).toBe(false);
    expect(s.batteryCurrentA).toBe(0);
  });

  it('lets a vehicle with motors off fall, hit the ground hard, and stop there without sinking', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.resetVehicle(0, { positionNedM: [5, -3, -20] });
    fleet.motorsOn[0] = 0;
    fleet.step(DT);
    expect(fleet.accelerationNedMS2[2]).toBeCloseTo(GRAVITY_MS2, 1); // free fall, drag still small
    let hitS = Number.NaN;
    run(fleet, 5, (t) => {
      expect(fleet.positionNedM[2]).toBeLessThanOrEqual(0);
      if (Number.isNaN(hitS) && fleet.groundContact[0] === 1) hitS = t;
    });
    // Free fall from 20 m takes ~2.02 s and ends at ~19.8 m/s; drag makes it a little slower.
    expect(hitS).toBeGreaterThan(2);
    expect(hitS).toBeLessThan(2.2);
    expect(fleet.touchdownSpeedMS[0]).toBeGreaterThan(17);
    expect(fleet.touchdownSpeedMS[0]).toBeLessThan(Math.sqrt(2 * GRAVITY_MS2 * 20));
    expect(fleet.hardImpactCount[0]).toBe(1);
    const s = vehicleSnapshot(fleet, 0);
    expect(s.positionNedM).toEqual([5, -3, 0]);
    expect(s.velocityNedMS).toEqual([0, 0, 0]);
    expect(s.landed).toBe(true);
  });

  it('lands softly at the descent limit without counting an impact, and sits with motors on', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.resetVehicle(0, { positionNedM: [0, 0, -3] });
    fleet.velocitySetpointNedMS.set([0, 0, 5]);
    run(fleet, 10, () => expect(fleet.positionNedM[2]).toBeLessThanOrEqual(0));
    expect(fleet.groundContact[0]).toBe(1);
    expect(fleet.touchdownSpeedMS[0]).toBeCloseTo(DEFAULT_MULTIROTOR.maxDescentSpeedMS, 1);
    expect(fleet.hardImpactCount[0]).toBe(0);
    expect(fleet.motorsOn[0]).toBe(1);
    expect(fleet.thrustRatio[0]).toBeCloseTo(DEFAULT_MULTIROTOR.idleThrustToWeight, 9); // spinning at idle
  });

  it('holds a grounded vehicle against wind and horizontal setpoints until it climbs', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.setWind(0, [10, 0, 0], 0);
    fleet.motorsOn[0] = 1;
    fleet.velocitySetpointNedMS.set([5, 5, 0]);
    run(fleet, 3);
    expect([...fleet.positionNedM]).toEqual([0, 0, 0]);
    fleet.velocitySetpointNedMS.set([0, 0, -2]);
    run(fleet, 3);
    expect(fleet.positionNedM[2]).toBeLessThan(-3);
  });
});

describe('landed detector', () => {
  function descendOntoGround(): { fleet: MultirotorFleet; touchdownS: number; landedS: number } {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.resetVehicle(0, { positionNedM: [0, 0, -2] });
    fleet.velocitySetpointNedMS.set([0, 0, 1]);
    let touchdownS = Number.NaN;
    let landedS = Number.NaN;
    run(fleet, 8, (t) => {
      if (Number.isNaN(touchdownS) && fleet.groundContact[0] === 1) touchdownS = t;
      if (Number.isNaN(landedS) && fleet.landed[0] === 1) landedS = t;
    });
    return { fleet, touchdownS, landedS };
  }

  it('declares landed landDetectTimeS after touchdown with a descending setpoint, like PX4', () => {
    const { touchdownS, landedS } = descendOntoGround();
    expect(touchdownS).toBeGreaterThan(1.5);
    // Contact began during the touchdown step, which counts towards the delay.
    expect(landedS - touchdownS).toBeGreaterThanOrEqual(DEFAULT_MULTIROTOR.landDetectTimeS - DT - 1e-9);
    expect(landedS - touchdownS).toBeLessThan(DEFAULT_MULTIROTOR.landDetectTimeS + 0.1);
  });

  it('clears landed on the first step off the ground', () => {
    const { fleet } = descendOntoGround();
    expect(fleet.landed[0]).toBe(1);
    fleet.velocitySetpointNedMS.set([0, 0, -1]);
    let clearedS = Number.NaN;
    run(fleet, 2, (t) => {
      if (Number.isNaN(clearedS) && fleet.landed[0] === 0) {
        clearedS = t;
        expect(fleet.groundContact[0]).toBe(0);
        expect(fleet.positionNedM[2]).toBeLessThan(0);
      }
      if (!Number.isNaN(clearedS)) expect(fleet.landed[0]).toBe(0);
    });
    expect(clearedS).toBeLessThanOrEqual(DT);
  });

  it('does not declare landed on a touch shorter than landDetectTimeS', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.resetVehicle(0, { positionNedM: [0, 0, -1] });
    fleet.velocitySetpointNedMS.set([0, 0, 1.5]);
    let contactS = 0;
    run(fleet, 6, (t) => {
      if (fleet.groundContact[0] === 1) contactS += DT;
      if (contactS >= 0.5) fleet.velocitySetpointNedMS.set([0, 0, -1]); // bounce back up
      expect(fleet.landed[0]).toBe(0);
      if (t > 5) expect(fleet.groundContact[0]).toBe(0);
    });
    expect(contactS).toBeGreaterThanOrEqual(0.5);
  });

  it('does not declare landed while thrust stays near hover on the ground with a level setpoint', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.resetVehicle(0, { positionNedM: [0, 0, -0.5] });
    fleet.velocitySetpointNedMS.set([0, 0, 1]);
    run(fleet, 3, () => {
      if (fleet.groundContact[0] === 1) fleet.velocitySetpointNedMS[2] = 0;
    });
    expect(fleet.groundContact[0]).toBe(1);
    expect(fleet.thrustRatio[0]).toBeGreaterThan(0.5);
    expect(fleet.landed[0]).toBe(0);
  });
});
