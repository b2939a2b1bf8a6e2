import { describe, expect, it } from 'vitest';
import { DEFAULT_MULTIROTOR, MultirotorFleet } from './index.js';

const DT = 0.01;

function airborne(count = 1): MultirotorFleet {
  const fleet = new MultirotorFleet(count, DEFAULT_MULTIROTOR, 1);
  for (let i = 0; i < count; i++) fleet.resetVehicle(i, { positionNedM: [0, 0, -100] });
  return fleet;
}

function run(fleet: MultirotorFleet, seconds: number, each?: () => void): void {
  for (let k = Math.round(seconds / DT); k > 0; k--) {
    fleet.step(DT);
    each?.();
  }
}

describe('battery in flight', () => {
  it('draws hover power in a hover, from a full 4S pack near 16.8 V sagging under load', () => {
    const fleet = airborne();
    run(fleet, 5);
    expect(fleet.batteryPowerW[0]).toBeCloseTo(DEFAULT_MULTIROTOR.hoverPowerW, 0);
    const v = fleet.batteryVoltageV[0];
    expect(v).toBeLessThan(16.8);
    expect(v).toBeGreaterThan(15.5);
    expect(fleet.batteryCurrentA[0]).toBeCloseTo(fleet.batteryPowerW[0] / v, 9);
    // Hover endurance: 74 Wh at ~180 W is about 24 minutes; 5 s uses about 0.34 %.
    expect(1 - fleet.batteryRemaining[0]).toBeCloseTo((180 * 5) / 3600 / 74, 3);
    expect(fleet.energyUsedWh[0]).toBeCloseTo((1 - fleet.batteryRemaining[0]) * 74, 9);
  });

  it('never lets the charge rise, and drains faster climbing than hovering, and faster fast than slow', () => {
    const fleet = airborne(4);
    fleet.velocitySetpointNedMS.set([0, 0, 0, 0, 0, -3, 12, 0, 0, 3, 0, 0]);
    fleet.setWind(3, [3, 0, 0], 0); // hovering-equivalent airspeed: slightly more than calm hover
    const before = [...fleet.batteryRemaining];
    let prev = [...fleet.batteryRemaining];
    run(fleet, 20, () => {
      for (let i = 0; i < 4; i++) expect(fleet.batteryRemaining[i]).toBeLessThanOrEqual(prev[i]);
      prev = [...fleet.batteryRemaining];
    });
    const used = before.map((b, i) => b - fleet.batteryRemaining[i]);
    const [hover, climb, fast, slow] = used;
    expect(climb).toBeGreaterThan(hover * 1.2);
    expect(fast).toBeGreaterThan(slow);
    expect(slow).toBeGreaterThan(hover);
    expect(fleet.batteryCurrentA[1]).toBeGreaterThan(fleet.batteryCurrentA[0]);
    expect(fleet.batteryVoltageV[1]).toBeLessThan(fleet.batteryVoltageV[0]); // more sag at more current
  });

  it('draws nothing with motors off, and only idle power landed with motors on', () => {
    const fleet = new MultirotorFleet(2, DEFAULT_MULTIROTOR, 1);
    fleet.motorsOn[1] = 1;
    run(fleet, 5);
    expect(fleet.batteryCurrentA[0]).toBe(0);
    expect(fleet.batteryRemaining[0]).toBe(1);
    expect(fleet.batteryVoltageV[0]).toBeCloseTo(16.8, 9);
    expect(fleet.batteryPowerW[1]).toBeGreaterThan(0);
    expect(fleet.batteryPowerW[1]).toBeLessThan(0.1 * DEFAULT_MULTIROTOR.hoverPowerW);
  });

  it('lowers the charge on a low-battery fault but never raises it', () => {
    const fleet = airborne();
    fleet.setBatteryRemaining(0, 0.2);
    expect(fleet.batteryRemaining[0]).toBe(0.2);
    const lowV = fleet.batteryVoltageV[0];
    expect(lowV).toBeLessThan(15.2);
    fleet.setBatteryRemaining(0, 0.9);
    expect(fleet.batteryRemaining[0]).toBe(0.2);
    expect(() => fleet.setBatteryRemaining(0, 1.5)).toThrow(/SITL_SCENARIO_INVALID/);
  });

  it('drops out of the sky on a battery failure: no voltage, no thrust', () => {
    const fleet = airborne();
    run(fleet, 1);
    fleet.failBattery(0);
    expect(fleet.batteryVoltageV[0]).toBe(0);
    expect(fleet.batteryRemaining[0]).toBe(0);
    run(fleet, 10);
    expect(fleet.groundContact[0]).toBe(1);
    expect(fleet.hardImpactCount[0]).toBe(1);
    expect(fleet.batteryVoltageV[0]).toBe(0);
    expect(fleet.batteryCurrentA[0]).toBe(0);
    expect(fleet.thrustRatio[0]).toBe(0);
  });

  it('loses thrust when the charge runs out in flight', () => {
    const fleet = airborne();
    fleet.setBatteryRemaining(0, 0.001); // ~0.07 Wh: under two seconds of hover
    let emptyAtD = Number.NaN;
    run(fleet, 8, () => {
      if (Number.isNaN(emptyAtD) && fleet.batteryRemaining[0] === 0) emptyAtD = fleet.positionNedM[2];
    });
    expect(emptyAtD).toBeCloseTo(-100, 0);
    expect(fleet.positionNedM[2]).toBeGreaterThan(-100 + 30); // fell a long way after it ran dry
    expect(fleet.batteryCurrentA[0]).toBe(0);
  });

  it('is restored by resetVehicle only', () => {
    const fleet = airborne();
    fleet.failBattery(0);
    fleet.resetVehicle(0, { batteryRemaining: 0.8 });
    expect(fleet.batteryFailed[0]).toBe(0);
    expect(fleet.batteryRemaining[0]).toBe(0.8);
    expect(fleet.energyUsedWh[0]).toBe(0);
    expect(fleet.batteryVoltageV[0]).toBeGreaterThan(15.5);
  });
});
