import { describe, expect, it } from 'vitest';
import type { Airspace } from '../../../shared/geo/index.js';
import { buildObservation, type NeighbourState, OBSERVATION_SIZE } from '../../../shared/policy/index.js';
import { teacherSampleWeights } from './teacher.js';

const ZERO = { n: 0, e: 0, d: 0 };
const fence = (halfM: number) => ({
  polygonNeM: [
    { n: -halfM, e: -halfM },
    { n: -halfM, e: halfM },
    { n: halfM, e: halfM },
    { n: halfM, e: -halfM },
  ],
  ceilingM: 120,
});

/** An observation of a drone at 30 m over home, the goal 80 m north, with the given surroundings. */
function observe(airspace: Airspace, neighbours: NeighbourState[] = []): Float32Array {
  const out = new Float32Array(OBSERVATION_SIZE);
  const ok = buildObservation(
    {
      positionNedM: { n: 0, e: 0, d: -30 },
      velocityNedMS: { n: 5, e: 0, d: 0 },
      rollRad: 0,
      pitchRad: 0,
      yawRad: 0,
      goalNedM: { n: 80, e: 0, d: -30 },
      altitudeAboveGroundM: 30,
      windEstimateNedMS: null,
      airspace,
      neighbours,
      batteryRemainingFraction: 0.9,
    },
    out,
  );
  expect(ok).toBe(true);
  return out;
}

const zone = (edgeM: number): Airspace => ({
  geofence: fence(500),
  noFlyZones: [{ kind: 'cylinder', id: 'z', centerNeM: { n: 0, e: edgeM + 20 }, radiusM: 20 }],
  altitudeFloorM: 10,
});
const open: Airspace = { geofence: fence(500), noFlyZones: [], altitudeFloorM: 10 };

describe("the teacher's sample weights", () => {
  it('weigh states near a zone, the geofence or another drone, read from the observation alone', () => {
    const rows = [
      observe(open),
      observe(zone(10)),
      observe(zone(25)),
      observe({ ...open, geofence: fence(12) }),
      observe(open, [{ positionNedM: { n: 0, e: 8, d: -30 }, velocityNedMS: ZERO }]),
      observe(open, [{ positionNedM: { n: 0, e: 40, d: -30 }, velocityNedMS: ZERO }]),
    ];
    const obs = new Float32Array(rows.length * OBSERVATION_SIZE);
    for (const [k, r] of rows.entries()) obs.set(r, k * OBSERVATION_SIZE);
    expect(Array.from(teacherSampleWeights(obs, rows.length, 20, 15))).toEqual([1, 20, 1, 20, 20, 1]);
    // Weight 1 is the plain mean; a wider reach takes the zone 25 m away in too.
    expect(Array.from(teacherSampleWeights(obs, rows.length, 1, 15))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(teacherSampleWeights(obs, rows.length, 20, 30)[2]).toBe(20);
  });
});
