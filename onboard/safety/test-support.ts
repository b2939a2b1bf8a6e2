/**
 * Helpers for the safety layer's tests only (a seeded random stream and input builders); not exported from the
 * folder's face.
 */
import type { Airspace, Ned } from '../../shared/geo/index.js';
import { EMPTY_AIRSPACE } from '../../shared/geo/index.js';
import type { SafetyInput, SafetyVehicleState } from './types.js';

/** mulberry32: small and reproducible, enough for test scenarios. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const TICK_US = 20_000;

/** A healthy airborne vehicle at `positionNedM`, hovering. */
export function vehicleAt(positionNedM: Ned, overrides: Partial<SafetyVehicleState> = {}): SafetyVehicleState {
  return {
    positionNedM,
    velocityNedMS: { n: 0, e: 0, d: 0 },
    altitudeAboveHomeM: -positionNedM.d,
    armed: true,
    landed: false,
    batteryRemaining01: 0.9,
    batteryVoltageV: 16,
    gpsFixOk: true,
    positionAgeMs: 10,
    statusAgeMs: 200,
    ...overrides,
  };
}

/** A healthy tick: cruising at 30 m with a policy asking for `velocityNedMS`. */
export function healthyInput(
  timeUs: number,
  velocityNedMS: Ned = { n: 0, e: 0, d: 0 },
  airspace: Airspace = EMPTY_AIRSPACE,
): SafetyInput {
  return {
    timeUs,
    vehicle: vehicleAt({ n: 0, e: 0, d: -30 }),
    policy: { action: [velocityNedMS.n / 12, velocityNedMS.e / 12, velocityNedMS.d / 3], velocityNedMS },
    airspace,
    neighbours: [],
    shield: null,
    link: { autopilotHeartbeatAgeMs: 200, groundLinkUp: true },
    emergencyStop: false,
    phase: 'cruise',
  };
}
