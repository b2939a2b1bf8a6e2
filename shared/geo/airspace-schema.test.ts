import { describe, expect, it } from 'vitest';
import { parseAirspace } from './airspace-schema.js';

describe('parseAirspace', () => {
  it('fills defaults and accepts both zone kinds', () => {
    const a = parseAirspace({
      geofence: {
        polygonNeM: [
          { n: -100, e: -100 },
          { n: 100, e: -100 },
          { n: 0, e: 100 },
        ],
        ceilingM: 80,
      },
      noFlyZones: [
        { kind: 'cylinder', id: 'school', centerNeM: { n: 10, e: 0 }, radiusM: 5, topM: 50 },
        {
          kind: 'polygon',
          id: 'yard',
          polygonNeM: [
            { n: 0, e: 0 },
            { n: 1, e: 0 },
            { n: 0, e: 1 },
          ],
        },
      ],
    });
    expect(a.altitudeFloorM).toBe(0);
    expect(a.noFlyZones).toHaveLength(2);
    expect(parseAirspace({})).toEqual({ geofence: null, noFlyZones: [], altitudeFloorM: 0 });
  });

  it('names the bad path and refuses unknown keys', () => {
    expect(() =>
      parseAirspace({ noFlyZones: [{ kind: 'cylinder', id: 'x', centerNeM: { n: 0, e: 0 }, radiusM: -1 }] }),
    ).toThrow(/noFlyZones\.0\.radiusM/);
    expect(() => parseAirspace({ geofence: { polygonNeM: [{ n: 0, e: 0 }], ceilingM: 10 } })).toThrow(
      /at least 3 vertices/,
    );
    expect(() => parseAirspace({ ceiling: 3 })).toThrow(/CONFIG_INVALID_VALUE/);
    expect(() => parseAirspace('nope', 'zones.json')).toThrow(/zones.json/);
  });
});
