import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { DEFAULT_SAFETY_CONFIG, parseSafetyConfig, SAFETY_CONFIG_SCHEMA, safetyConfigHelp } from './config.js';

describe('safety config', () => {
  it('has frozen defaults and documents every key with a unit where it is a number', () => {
    expect(Object.isFrozen(DEFAULT_SAFETY_CONFIG)).toBe(true);
    for (const [key, decl] of Object.entries(SAFETY_CONFIG_SCHEMA)) {
      expect(decl.doc.length, key).toBeGreaterThan(10);
      if (decl.type === 'number') expect(decl.unit, key).toBeTruthy();
    }
    expect(safetyConfigHelp()).toContain('--barrier-alpha-per-s');
  });

  it('refuses unknown keys, out-of-range values and contradictions', () => {
    expect(() => parseSafetyConfig({ maxSpeed: 3 })).toThrow(/CONFIG_UNKNOWN_KEY/);
    expect(() => parseSafetyConfig({ brakeAccelMS2: 0 })).toThrow(/brakeAccelMS2: must be >= 0.2 m\/s\^2/);
    try {
      parseSafetyConfig({ batteryLowFraction: 0.1, batteryCriticalFraction: 0.2 });
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'CONFIG_CONFLICT')).toBe(true);
    }
    expect(() => parseSafetyConfig({ policyFaultHoldTicks: 60 })).toThrow(/policyFaultLandTicks/);
    expect(() => parseSafetyConfig({ landDescentSpeedMS: 3 })).toThrow(/landDescentSpeedMS/);
  });
});
