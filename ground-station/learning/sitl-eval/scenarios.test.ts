import { describe, expect, it } from 'vitest';
import { geofenceMargin, zoneClearance } from '../../../shared/geo/index.js';
import { parseEnvConfig } from '../env/env-config.js';
import { sitlScenarios } from './scenarios.js';
import { breachesAt, clearancesAt } from './truth.js';

describe('SITL scenarios', () => {
  it('draws seeded deliveries from the training distribution, each with a geofence and (room allowing) a zone', () => {
    const env = parseEnvConfig({ deliveryMinM: 40, deliveryMaxM: 150 });
    const a = sitlScenarios(env, 12, 5);
    expect(sitlScenarios(env, 12, 5)).toEqual(a);
    expect(sitlScenarios(env, 12, 6)).not.toEqual(a);
    for (const s of a) {
      expect(s.distanceM).toBeGreaterThanOrEqual(40);
      expect(s.distanceM).toBeLessThanOrEqual(150);
      expect(Math.hypot(...s.dropNeM)).toBeCloseTo(s.distanceM, 6);
      expect(s.cruiseAltM).toBeGreaterThanOrEqual(env.cruiseAltMinM);
      expect(Math.hypot(s.wind.northMS, s.wind.eastMS)).toBeLessThanOrEqual(env.windMaxMS);
      const fence = s.airspace.geofence;
      expect(fence).not.toBeNull();
      // Depot and drop point are inside the fence and clear of every zone, so every delivery can be flown.
      for (const p of [
        { n: 0, e: 0 },
        { n: s.dropNeM[0], e: s.dropNeM[1] },
      ]) {
        expect(geofenceMargin(p, fence!).marginM).toBeGreaterThan(0);
        for (const z of s.airspace.noFlyZones) expect(zoneClearance(p, z).clearanceM).toBeGreaterThan(0);
      }
      expect(s.airspace.noFlyZones.length).toBeLessThanOrEqual(1);
    }
    expect(a.filter((s) => s.airspace.noFlyZones.length === 1).length).toBeGreaterThan(6);
  });

  it('judges breaches on a position against zones, fence, ceiling and (cruising only) the floor', () => {
    const airspace = {
      geofence: {
        polygonNeM: [
          { n: -10, e: -10 },
          { n: 100, e: -10 },
          { n: 100, e: 10 },
          { n: -10, e: 10 },
        ],
        ceilingM: 60,
      },
      noFlyZones: [{ kind: 'cylinder' as const, id: 'z', centerNeM: { n: 50, e: 0 }, radiusM: 5 }],
      altitudeFloorM: 15,
    };
    expect(breachesAt({ n: 20, e: 0, d: -30 }, airspace, true)).toEqual([]);
    expect(breachesAt({ n: 52, e: 1, d: -30 }, airspace, true)).toEqual(['zone']);
    expect(breachesAt({ n: 20, e: 12, d: -30 }, airspace, true)).toEqual(['fence']);
    expect(breachesAt({ n: 20, e: 0, d: -61 }, airspace, true)).toEqual(['fence']);
    expect(breachesAt({ n: 20, e: 0, d: -5 }, airspace, true)).toEqual(['floor']);
    expect(breachesAt({ n: 20, e: 0, d: -5 }, airspace, false)).toEqual([]);
    const c = clearancesAt({ n: 40, e: 0, d: -30 }, airspace);
    expect(c.zoneM).toBeCloseTo(5, 9);
    expect(c.fenceM).toBeCloseTo(10, 9);
  });
});
