import { describe, expect, it } from 'vitest';
import { isAerieError } from '../../shared/errors.js';
import { nedToGeo } from '../../shared/geo/index.js';
import {
  type AssignableDrone,
  DEFAULT_ASSIGNMENT_CONFIG as CFG,
  type DeliveryOrder,
  dronePositionNeM,
  evaluatePair,
  parseAssignmentConfig,
} from './cost-model.js';

const drone = (over: Partial<AssignableDrone> = {}): AssignableDrone => ({
  id: 'd1',
  positionNeM: { n: 0, e: 0 },
  batteryRemaining: 1,
  available: true,
  ...over,
});
// Pickup 1200 m east of the drone, drop 2400 m north of the pickup.
const order = (over: Partial<DeliveryOrder> = {}): DeliveryOrder => ({
  id: 'o1',
  pickupNeM: { n: 0, e: 1200 },
  dropNeM: { n: 2400, e: 1200 },
  weightKg: 1,
  priority: 3,
  ...over,
});
const handlingS = CFG.takeoffLandingS + CFG.pickupHandlingS + CFG.dropHandlingS;

describe('evaluatePair', () => {
  it('costs the whole trip: to the pickup, to the drop and back to the depot', () => {
    const ev = evaluatePair(drone(), { n: 0, e: 0 }, order(), 0, CFG);
    if (!ev.feasible) throw new Error('expected feasible');
    const legsM = 1200 + 2400 + 2400;
    expect(ev.tripS).toBeCloseTo(legsM / CFG.cruiseSpeedMS + handlingS, 9);
    expect(ev.etaS).toBeCloseTo(
      (1200 + 2400) / CFG.cruiseSpeedMS + CFG.takeoffLandingS / 2 + CFG.pickupHandlingS + CFG.dropHandlingS,
      9,
    );
    // Loaded leg and drop hover pay the payload factor; the rest flies empty.
    const loaded = 1 + CFG.payloadEnergyPerKg * 1;
    const expectedWh =
      ((1200 + 2400) * CFG.cruiseWhPerKm) / 1000 +
      (2400 * CFG.cruiseWhPerKm * loaded) / 1000 +
      ((CFG.takeoffLandingS + CFG.pickupHandlingS) * CFG.hoverWhPerMin) / 60 +
      (CFG.dropHandlingS * CFG.hoverWhPerMin * loaded) / 60;
    expect(ev.energyWh).toBeCloseTo(expectedWh, 9);
    expect(ev.remainingAfter).toBeCloseTo(1 - expectedWh / CFG.batteryCapacityWh, 9);
    expect(ev.score).toBeCloseTo(ev.tripS - CFG.priorityBonusS * 3, 9);
  });

  it('is infeasible when the trip plus the reserve exceeds the charge left, feasible just above it', () => {
    const ev = evaluatePair(drone(), { n: 0, e: 0 }, order(), 0, CFG);
    if (!ev.feasible) throw new Error('expected feasible');
    const needed = ev.energyWh / CFG.batteryCapacityWh + CFG.reserveFraction;
    expect(evaluatePair(drone({ batteryRemaining: needed + 1e-6 }), { n: 0, e: 0 }, order(), 0, CFG).feasible).toBe(
      true,
    );
    expect(evaluatePair(drone({ batteryRemaining: needed - 1e-6 }), { n: 0, e: 0 }, order(), 0, CFG)).toEqual({
      feasible: false,
      reason: 'battery',
    });
    // A bigger pack (per-drone model) makes the same charge enough.
    const bigPack = drone({ batteryRemaining: needed - 1e-6, battery: { capacityWh: CFG.batteryCapacityWh * 2 } });
    expect(evaluatePair(bigPack, { n: 0, e: 0 }, order(), 0, CFG).feasible).toBe(true);
    // A larger reserve makes it infeasible again.
    const strict = parseAssignmentConfig({ reserveFraction: 0.5 });
    expect(evaluatePair(drone({ batteryRemaining: needed + 1e-6 }), { n: 0, e: 0 }, order(), 0, strict)).toEqual({
      feasible: false,
      reason: 'battery',
    });
  });

  it('refuses a parcel above the payload limit, and a deadline the drop cannot meet', () => {
    expect(evaluatePair(drone(), { n: 0, e: 0 }, order({ weightKg: CFG.maxPayloadKg + 0.1 }), 0, CFG)).toEqual({
      feasible: false,
      reason: 'payload',
    });
    expect(evaluatePair(drone({ maxPayloadKg: 5 }), { n: 0, e: 0 }, order({ weightKg: 4 }), 0, CFG).feasible).toBe(
      true,
    );
    const ev = evaluatePair(drone(), { n: 0, e: 0 }, order(), 0, CFG);
    if (!ev.feasible) throw new Error('expected feasible');
    const nowMs = 1_700_000_000_000;
    const atEta = nowMs + ev.etaS * 1000;
    expect(evaluatePair(drone(), { n: 0, e: 0 }, order({ deadlineMs: atEta + 1 }), nowMs, CFG).feasible).toBe(true);
    expect(evaluatePair(drone(), { n: 0, e: 0 }, order({ deadlineMs: atEta - 1000 }), nowMs, CFG)).toEqual({
      feasible: false,
      reason: 'deadline',
    });
  });

  it('adds risk for risk-averse and canary drones only', () => {
    const risky = order({ riskScore: 0.8 });
    const plain = evaluatePair(drone(), { n: 0, e: 0 }, risky, 0, CFG);
    const canary = evaluatePair(drone({ canary: true }), { n: 0, e: 0 }, risky, 0, CFG);
    const averse = evaluatePair(drone({ riskAversion: 0.5 }), { n: 0, e: 0 }, risky, 0, CFG);
    if (!plain.feasible || !canary.feasible || !averse.feasible) throw new Error('expected feasible');
    expect(canary.score - plain.score).toBeCloseTo(CFG.canaryRiskAversion * 0.8 * CFG.riskScaleS, 9);
    expect(averse.score - plain.score).toBeCloseTo(0.5 * 0.8 * CFG.riskScaleS, 9);
    expect(canary.tripS).toBe(plain.tripS);
  });
});

describe('positions and configuration', () => {
  it('converts a geodetic drone position into the fleet frame', () => {
    const origin = { latDeg: 47.4, lonDeg: 8.5, altAmslM: 400 };
    const geo = nedToGeo(origin, { n: 300, e: -150, d: 0 });
    const p = dronePositionNeM(drone({ positionNeM: undefined, positionGeo: geo }), origin);
    expect(p?.n).toBeCloseTo(300, 6);
    expect(p?.e).toBeCloseTo(-150, 6);
    expect(dronePositionNeM(drone({ positionNeM: undefined, positionGeo: geo }))).toBeNull();
  });

  it('refuses unknown keys and out-of-range values', () => {
    expect(() => parseAssignmentConfig({ reserve: 0.3 })).toThrow(/reserve/);
    try {
      parseAssignmentConfig({ reserveFraction: 1.5 });
      expect.unreachable();
    } catch (err) {
      expect(isAerieError(err, 'CONFIG_INVALID_VALUE')).toBe(true);
    }
  });
});
