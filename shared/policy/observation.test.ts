import { describe, expect, it } from 'vitest';
import type { Airspace } from '../geo/index.js';
import { EMPTY_AIRSPACE } from '../geo/index.js';
import { observationIndex as at, buildObservation, OBSERVATION_SIZE, type ObservationInput } from './index.js';

const base: ObservationInput = {
  positionNedM: { n: 0, e: 0, d: -30 },
  velocityNedMS: { n: 5, e: 0, d: 0 },
  rollRad: 0,
  pitchRad: 0,
  yawRad: 0,
  goalNedM: { n: 100, e: 0, d: -30 },
  altitudeAboveGroundM: 30,
  windEstimateNedMS: null,
  airspace: EMPTY_AIRSPACE,
  neighbours: [],
  batteryRemainingFraction: 0.8,
};

function observe(input: Partial<ObservationInput>): Float32Array {
  const out = new Float32Array(OBSERVATION_SIZE);
  expect(buildObservation({ ...base, ...input }, out)).toBe(true);
  return out;
}

const slot = (obs: Float32Array, name: string) => obs[at(name)];

describe('buildObservation', () => {
  it('encodes a goal straight ahead (north), our speed, attitude, height and battery', () => {
    const obs = observe({ rollRad: 0.1, pitchRad: -0.05 });
    expect(slot(obs, 'goal_n')).toBeCloseTo(0.999329, 5); // tanh(100 / 25)
    expect(slot(obs, 'goal_e')).toBe(0);
    expect(slot(obs, 'goal_d')).toBe(0);
    expect(slot(obs, 'goal_distance_h')).toBeCloseTo(Math.LN2, 5); // ln(1 + 100 / 100)
    expect(slot(obs, 'velocity_n')).toBeCloseTo(0.5, 6);
    expect(slot(obs, 'roll')).toBeCloseTo(0.2, 6);
    expect(slot(obs, 'pitch')).toBeCloseTo(-0.1, 6);
    expect(slot(obs, 'yaw_sin')).toBe(0);
    expect(slot(obs, 'yaw_cos')).toBe(1);
    expect(slot(obs, 'altitude_above_ground')).toBeCloseTo(0.905148, 5); // tanh(30 / 20)
    expect(slot(obs, 'battery_remaining')).toBeCloseTo(0.8, 6);
    expect(slot(obs, 'zone_clearance')).toBe(1);
    expect(slot(obs, 'fence_push_n')).toBe(0);
  });

  it('keeps the horizontal goal direction and squashes only its length; goal below reads positive', () => {
    const obs = observe({ goalNedM: { n: 30, e: 40, d: -20 } });
    // distance 50 m: length tanh(2) = 0.964028 along (0.6, 0.8)
    expect(slot(obs, 'goal_n')).toBeCloseTo(0.578417, 5);
    expect(slot(obs, 'goal_e')).toBeCloseTo(0.771222, 5);
    expect(slot(obs, 'goal_d')).toBeCloseTo(0.761594, 5); // tanh(10 / 10)
    expect(slot(obs, 'goal_distance_h')).toBeCloseTo(0.405465, 5); // ln(1.5)
  });

  it('reads goal and velocity in NED whatever the heading; yaw only shows in its own slots', () => {
    const a = observe({ yawRad: 0, goalNedM: { n: 30, e: 40, d: -20 } });
    const b = observe({ yawRad: 2, goalNedM: { n: 30, e: 40, d: -20 } });
    for (let i = 0; i < OBSERVATION_SIZE; i++) {
      if (i === at('yaw_sin') || i === at('yaw_cos')) continue;
      expect(b[i]).toBe(a[i]);
    }
    expect(slot(b, 'yaw_sin')).toBeCloseTo(0.909297, 5);
    expect(slot(b, 'yaw_cos')).toBeCloseTo(-0.416147, 5);
  });

  it('points away from a no-fly zone on our left (west) and gives its clearance', () => {
    const airspace: Airspace = {
      geofence: null,
      altitudeFloorM: 0,
      noFlyZones: [{ kind: 'cylinder', id: 'west', centerNeM: { n: 0, e: -50 }, radiusM: 20 }],
    };
    const obs = observe({ airspace });
    expect(slot(obs, 'zone_away_n')).toBeCloseTo(0, 6);
    expect(slot(obs, 'zone_away_e')).toBeCloseTo(1, 6); // away from the zone is east
    expect(slot(obs, 'zone_clearance')).toBeCloseTo(0.291313, 5); // tanh(30 / 100)
  });

  it('takes the nearest zone, negative inside, and ignores zones far above or below us', () => {
    const airspace: Airspace = {
      geofence: null,
      altitudeFloorM: 0,
      noFlyZones: [
        { kind: 'cylinder', id: 'far', centerNeM: { n: 0, e: -50 }, radiusM: 20 },
        { kind: 'polygon', id: 'ahead', polygonNeM: square(15, 0, 5) }, // n 10..20, e -5..5
        { kind: 'cylinder', id: 'high', centerNeM: { n: 0, e: 0 }, radiusM: 5, floorM: 50, topM: 100 },
      ],
    };
    const ahead = observe({ airspace });
    expect(slot(ahead, 'zone_away_n')).toBeCloseTo(-1, 6);
    expect(slot(ahead, 'zone_away_e')).toBeCloseTo(0, 6);
    expect(slot(ahead, 'zone_clearance')).toBeCloseTo(0.099668, 5); // tanh(10 / 100)

    const inside = observe({ airspace, positionNedM: { n: 12, e: 0, d: -30 } });
    expect(slot(inside, 'zone_clearance')).toBeCloseTo(-0.019997, 5); // 2 m inside
    expect(slot(inside, 'zone_away_n')).toBeCloseTo(-1, 6); // the nearest way out is back south

    // 45 m up is within 10 m of the high zone's floor at 50 m: it now counts (we are inside its circle).
    const climbing = observe({ airspace, positionNedM: { n: 0, e: 0, d: -45 } });
    expect(slot(climbing, 'zone_clearance')).toBeCloseTo(-0.049958, 5); // tanh(-5 / 100)
  });

  it('pushes inward near the geofence, harder outside, and not at all deep inside', () => {
    const airspace: Airspace = {
      geofence: { polygonNeM: square(0, 0, 100), ceilingM: 120 },
      noFlyZones: [],
      altitudeFloorM: 0,
    };
    const near = observe({ airspace, positionNedM: { n: 90, e: 0, d: -30 } });
    expect(slot(near, 'fence_push_n')).toBeCloseTo(-0.802625, 5); // -(1 - tanh(10 / 50))
    expect(slot(near, 'fence_push_e')).toBeCloseTo(0, 6);
    const outside = observe({ airspace, positionNedM: { n: 110, e: 0, d: -30 } });
    expect(slot(outside, 'fence_push_n')).toBeCloseTo(-1.197375, 5); // -(1 + tanh(10 / 50))
    const west = observe({ airspace, positionNedM: { n: 0, e: -80, d: -30 } });
    expect(slot(west, 'fence_push_e')).toBeCloseTo(0.620051, 5); // 1 - tanh(20 / 50), pushing east
  });

  it('encodes the two nearest neighbours (one behind us first) and drops the rest', () => {
    const obs = observe({
      neighbours: [
        { positionNedM: { n: 0, e: 90, d: -30 }, velocityNedMS: { n: 0, e: 0, d: 0 } }, // third nearest
        { positionNedM: { n: -10, e: 0, d: -30 }, velocityNedMS: { n: 3, e: 0, d: 0 } }, // 10 m behind
        { positionNedM: { n: 0, e: 40, d: -35 }, velocityNedMS: { n: 0, e: 0, d: 1 } }, // ~40.3 m right, below
      ],
    });
    expect(slot(obs, 'neighbour1_proximity_n')).toBeCloseTo(-0.606531, 5); // -exp(-10 / 20)
    expect(slot(obs, 'neighbour1_proximity_e')).toBe(0);
    expect(slot(obs, 'neighbour1_relative_velocity_n')).toBeCloseTo(-0.2, 6); // (3 - 5) / 10
    const d = Math.sqrt(40 * 40 + 5 * 5);
    expect(slot(obs, 'neighbour2_proximity_e')).toBeCloseTo((40 / d) * Math.exp(-d / 20), 5);
    expect(slot(obs, 'neighbour2_proximity_d')).toBeCloseTo((-5 / d) * Math.exp(-d / 20), 5);
    expect(slot(obs, 'neighbour2_relative_velocity_n')).toBeCloseTo(-0.5, 6);
    expect(slot(obs, 'neighbour2_relative_velocity_d')).toBeCloseTo(0.1, 6);
  });

  it('writes zeros for absent and out-of-range neighbours, and fades velocity near the range edge', () => {
    const none = observe({ neighbours: [] });
    const one = observe({
      neighbours: [
        { positionNedM: { n: 80, e: 0, d: -30 }, velocityNedMS: { n: -5, e: 0, d: 0 } }, // 80 m: velocity fade 0.5
        { positionNedM: { n: 300, e: 0, d: -30 }, velocityNedMS: { n: 0, e: 0, d: 0 } }, // out of range
      ],
    });
    for (let i = at('neighbour1_proximity_n'); i <= at('neighbour2_relative_velocity_d'); i++) expect(none[i]).toBe(0);
    for (let i = at('neighbour2_proximity_n'); i <= at('neighbour2_relative_velocity_d'); i++) expect(one[i]).toBe(0);
    expect(slot(one, 'neighbour1_proximity_n')).toBeCloseTo(Math.exp(-4), 6);
    expect(slot(one, 'neighbour1_relative_velocity_n')).toBeCloseTo(-0.5, 6); // (-5 - 5) / 10 * 0.5
  });

  it('reads wind, clamps battery, and reports a non-finite input instead of hiding it', () => {
    const obs = observe({ windEstimateNedMS: { n: 3, e: -4, d: 0.5 }, batteryRemainingFraction: 1.4 });
    expect(slot(obs, 'wind_n')).toBeCloseTo(0.3, 6);
    expect(slot(obs, 'wind_e')).toBeCloseTo(-0.4, 6);
    expect(slot(obs, 'battery_remaining')).toBe(1);
    const out = new Float32Array(OBSERVATION_SIZE);
    expect(buildObservation({ ...base, velocityNedMS: { n: Number.NaN, e: 0, d: 0 } }, out)).toBe(false);
    expect(buildObservation({ ...base, altitudeAboveGroundM: Number.POSITIVE_INFINITY }, out)).toBe(true); // tanh saturates
    expect(buildObservation({ ...base, rollRad: Number.POSITIVE_INFINITY }, out)).toBe(false);
  });

  it('writes only its own 32 slots at an offset, into the caller buffer, and returns no array', () => {
    const batch = new Float32Array(3 * OBSERVATION_SIZE).fill(7);
    const result = buildObservation(base, batch, OBSERVATION_SIZE);
    expect(typeof result).toBe('boolean');
    expect(batch.subarray(0, OBSERVATION_SIZE).every((x) => x === 7)).toBe(true);
    expect(batch.subarray(2 * OBSERVATION_SIZE).every((x) => x === 7)).toBe(true);
    expect(Array.from(batch.subarray(OBSERVATION_SIZE, 2 * OBSERVATION_SIZE))).toEqual(Array.from(observe({})));
  });
});

function square(cn: number, ce: number, half: number) {
  return [
    { n: cn - half, e: ce - half },
    { n: cn - half, e: ce + half },
    { n: cn + half, e: ce + half },
    { n: cn + half, e: ce - half },
  ];
}
