import { describe, expect, it } from 'vitest';
import { isAerieError } from '../errors.js';
import { DEFAULT_MULTIROTOR, MultirotorFleet, multirotorParamsHelp, withParams } from './index.js';

describe('multirotor params', () => {
  it('defaults to PX4 v1.15 limits and a 1.5 kg, 74 Wh quadrotor', () => {
    expect(DEFAULT_MULTIROTOR).toMatchObject({
      maxHorizontalSpeedMS: 12,
      maxClimbSpeedMS: 3,
      maxDescentSpeedMS: 1.5,
      maxHorizontalAccelMS2: 3,
      maxVerticalAccelMS2: 4,
      velocityTimeConstantS: 0.3,
      massKg: 1.5,
      batteryCapacityWh: 74,
      hoverPowerW: 180,
      batteryCellCount: 4,
    });
    expect(DEFAULT_MULTIROTOR.maxYawRateRadS).toBeCloseTo((45 * Math.PI) / 180, 12);
    expect(Object.isFrozen(DEFAULT_MULTIROTOR)).toBe(true);
  });

  it('applies overrides, keeps the rest, and freezes the result', () => {
    const p = withParams({ maxHorizontalSpeedMS: 5, massKg: 2 });
    expect(p.maxHorizontalSpeedMS).toBe(5);
    expect(p.massKg).toBe(2);
    expect(p.maxClimbSpeedMS).toBe(DEFAULT_MULTIROTOR.maxClimbSpeedMS);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('refuses unknown fields and out-of-range or non-finite values, naming the unit', () => {
    try {
      withParams({ maxSpeed: 3 } as never);
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'CONFIG_UNKNOWN_KEY')).toBe(true);
    }
    expect(() => withParams({ massKg: 0 })).toThrow(/massKg: must be >= 0.05 kg/);
    expect(() => withParams({ maxClimbSpeedMS: Number.NaN })).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => withParams({ batteryCellCount: 3.5 })).toThrow(/integer/);
  });

  it('validates parameters replaced at run time (PARAM_SET), as at construction', () => {
    const fleet = new MultirotorFleet(1, DEFAULT_MULTIROTOR, 1);
    fleet.params = { ...fleet.params, maxHorizontalSpeedMS: 4 };
    expect(fleet.params.maxHorizontalSpeedMS).toBe(4);
    expect(Object.isFrozen(fleet.params)).toBe(true);
    expect(() => {
      fleet.params = { ...fleet.params, maxHorizontalAccelMS2: -1 };
    }).toThrow(/CONFIG_INVALID_VALUE/);
    expect(fleet.params.maxHorizontalAccelMS2).toBe(3);
  });

  it('lists every parameter for --help', () => {
    const help = multirotorParamsHelp();
    for (const key of Object.keys(DEFAULT_MULTIROTOR)) {
      expect(help).toContain(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  });
});
