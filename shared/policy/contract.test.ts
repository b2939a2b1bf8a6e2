import { describe, expect, it } from 'vitest';
import {
  ABSENT_OBSERVATION,
  ACTION_SIZE,
  CONTRACT_VERSION,
  isCompatibleContractVersion,
  METADATA_KEYS,
  OBSERVATION_INDEX,
  OBSERVATION_LAYOUT,
  OBSERVATION_SIZE,
  observationIndex,
  POLICY_INTERFACE,
  parseSemver,
  SHIELD_INTERFACE,
} from './index.js';

describe('observation layout', () => {
  it('has exactly OBSERVATION_SIZE = 32 slots, in index order, with unique names', () => {
    expect(OBSERVATION_SIZE).toBe(32);
    expect(OBSERVATION_LAYOUT).toHaveLength(32);
    expect(OBSERVATION_LAYOUT.map((f) => f.index)).toEqual([...Array(32).keys()]);
    expect(new Set(OBSERVATION_LAYOUT.map((f) => f.name)).size).toBe(32);
    expect(Object.keys(OBSERVATION_INDEX)).toHaveLength(32);
  });

  it('gives every slot a unit, a positive scale, a transform and a description', () => {
    for (const f of OBSERVATION_LAYOUT) {
      expect(['m', 'm/s', 'rad', '1']).toContain(f.unit);
      expect(f.scale).toBeGreaterThan(0);
      expect(f.description.length).toBeGreaterThan(5);
      expect(f.name).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });

  it('holds the groups the issue asks for, with their sizes', () => {
    const count = (re: RegExp) => OBSERVATION_LAYOUT.filter((f) => re.test(f.name)).length;
    expect(count(/^goal_[ned]$/)).toBe(3);
    expect(count(/^goal_distance_h$/)).toBe(1);
    expect(count(/^velocity_/)).toBe(3);
    expect(count(/^(roll|pitch|yaw_sin|yaw_cos)$/)).toBe(4);
    expect(count(/^altitude_above_ground$/)).toBe(1);
    expect(count(/^wind_/)).toBe(2);
    expect(count(/^zone_/)).toBe(3);
    expect(count(/^fence_/)).toBe(2);
    expect(count(/^neighbour[12]_/)).toBe(12);
    expect(count(/^battery_remaining$/)).toBe(1);
  });

  it('resolves names to indices and refuses unknown names', () => {
    expect(observationIndex('goal_n')).toBe(0);
    expect(observationIndex('battery_remaining')).toBe(31);
    expect(() => observationIndex('goal_x')).toThrow(/goal_x/);
  });

  it('reads an absent-everything observation from the layout', () => {
    expect(ABSENT_OBSERVATION).toHaveLength(32);
    expect(ABSENT_OBSERVATION[observationIndex('zone_clearance')]).toBe(1);
    expect(ABSENT_OBSERVATION[observationIndex('yaw_cos')]).toBe(1);
    expect(ABSENT_OBSERVATION[observationIndex('neighbour1_proximity_n')]).toBe(0);
  });
});

describe('model interfaces and versions', () => {
  it('names the policy and shield tensors', () => {
    expect(POLICY_INTERFACE).toMatchObject({
      inputName: 'observation',
      inputSize: 32,
      outputName: 'action',
      outputSize: 3,
    });
    expect(SHIELD_INTERFACE).toMatchObject({
      inputName: 'observation_action',
      inputSize: 32 + ACTION_SIZE,
      outputName: 'cost',
      outputSize: 1,
    });
    expect(METADATA_KEYS.contractVersion).toBe('aerie.contract_version');
    expect(METADATA_KEYS.kind).toBe('aerie.kind');
  });

  it('parses semver and accepts only the same major', () => {
    expect(parseSemver(CONTRACT_VERSION)).not.toBeNull();
    expect(parseSemver('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3 });
    expect(parseSemver('1.2')).toBeNull();
    expect(parseSemver('01.2.3')).toBeNull();
    expect(parseSemver('1.2.3-beta')).toBeNull();
    expect(isCompatibleContractVersion('1.9.0', '1.0.0')).toBe(true);
    expect(isCompatibleContractVersion('1.0.0', '1.4.2')).toBe(true);
    expect(isCompatibleContractVersion('2.0.0', '1.0.0')).toBe(false);
    expect(isCompatibleContractVersion('0.9.0', '1.0.0')).toBe(false);
    expect(isCompatibleContractVersion('garbage', '1.0.0')).toBe(false);
  });
});
