import { describe, expect, it } from 'vitest';
import { nedToGeo } from '../../shared/geo/index.js';
import { type AssignableDrone, planRound } from '../assignment/index.js';
import type { OrderRecord } from '../storage/index.js';
import { deliveryOrder } from './planning.js';
import { orderRiskScore, routeZoneClearanceM } from './risk.js';

const DEPOT = { latDeg: 47.397742, lonDeg: 8.545594, altAmslM: 488 };
const at = (n: number, e: number) => {
  const g = nedToGeo(DEPOT, { n, e, d: 0 });
  return { latDeg: g.latDeg, lonDeg: g.lonDeg };
};
const ZONE_AIRSPACE = {
  origin: DEPOT,
  airspace: {
    geofence: null,
    noFlyZones: [{ kind: 'cylinder' as const, id: 'school', centerNeM: { n: 0, e: 600 }, radiusM: 80 }],
    altitudeFloorM: 0,
  },
};

function order(id: string, n: number, e: number, priority = 3): OrderRecord {
  return {
    id,
    status: 'queued',
    pickupDepotId: 'main',
    pickupGeo: DEPOT,
    dropGeo: at(n, e),
    dropNeM: { northM: n, eastM: e },
    weightKg: 1,
    priority,
    deadlineMs: null,
    droneId: null,
    commandId: null,
    attempts: 0,
    reason: null,
    reference: null,
    createdAtMs: 0,
    updatedAtMs: 0,
  };
}

describe('order risk', () => {
  it('grows with the trip length, the priority and the closeness of the route to a no-fly zone', () => {
    expect(orderRiskScore(order('a', 300, 0), null)).toBeLessThan(orderRiskScore(order('b', 2000, 0), null));
    expect(orderRiskScore(order('a', 300, 0, 1), null)).toBeLessThan(orderRiskScore(order('a', 300, 0, 5), null));
    // East passes the school (route within 80 m of its edge at 520..680 m east); north stays far from it.
    const east = order('east', 0, 1000);
    const north = order('north', 1000, 0);
    expect(routeZoneClearanceM(east, ZONE_AIRSPACE)).toBeLessThan(0);
    expect(routeZoneClearanceM(north, ZONE_AIRSPACE)).toBeGreaterThan(500);
    expect(orderRiskScore(east, ZONE_AIRSPACE)).toBeGreaterThan(orderRiskScore(north, ZONE_AIRSPACE) + 0.3);
    // Without the airspace the two are the same trip.
    expect(orderRiskScore(east, null)).toBeCloseTo(orderRiskScore(north, null), 6);
    for (const o of [east, north, order('far', 9000, 9000, 5)]) {
      const s = orderRiskScore(o, ZONE_AIRSPACE);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it('steers a canary drone to the low-risk order even when the risky one is nearer', () => {
    const risky = order('risky', 0, 1000);
    const safe = order('safe', 1000, 0);
    const orders = [risky, safe].map((o) => deliveryOrder(o, DEPOT, orderRiskScore(o, ZONE_AIRSPACE)));
    // Drone c sits a little east of the depot (nearer the risky drop), drone n a little north.
    const drones = (canary: boolean): AssignableDrone[] => [
      { id: 'c', positionNeM: { n: 0, e: 150 }, batteryRemaining: 1, available: true, ...(canary ? { canary } : {}) },
      { id: 'n', positionNeM: { n: 150, e: 0 }, batteryRemaining: 1, available: true },
    ];
    const plain = planRound(drones(false), orders, { nowMs: 0 });
    const byDrone = (p: typeof plain) => Object.fromEntries(p.assignments.map((a) => [a.droneId, a.orderId]));
    expect(byDrone(plain)).toEqual({ c: 'risky', n: 'safe' });
    const withCanary = planRound(drones(true), orders, { nowMs: 0 });
    expect(byDrone(withCanary)).toEqual({ c: 'safe', n: 'risky' });
    // Alone, the canary still takes the risky order rather than leave it (risk weighs, it does not forbid).
    const alone = planRound([drones(true)[0]], [orders[0]], { nowMs: 0 });
    expect(byDrone(alone)).toEqual({ c: 'risky' });
  });
});
