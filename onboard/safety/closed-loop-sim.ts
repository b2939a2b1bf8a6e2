/**
 * A closed loop for testing and measuring the filter (not used in flight): a point-mass vehicle that follows its
 * velocity setpoint with a first-order lag (tau) and a bounded acceleration, as PX4's velocity controller does to
 * first order, flown through the SafetyFilter by an adversarial policy in a fixed test airspace with two neighbours.
 * Breaches are judged on the simulated true position with shared/geo's own predicates, not the filter's geometry.
 */
import type { Airspace, Ned, NoFlyZone } from '../../shared/geo/index.js';
import { pointInPolygon, zoneClearance, zoneCoversAltitude } from '../../shared/geo/index.js';
import type { Neighbour, SafetyInput } from './types.js';

export const SIM_TAU_S = 0.3;
export const SIM_ACCEL_LIMIT_MS2 = 3;
export const SIM_TICK_S = 0.02;
const SUBSTEPS = 4;

/** A fence with a notch cut into its east side (non-convex), zones with and without altitude bands, a floor. */
export const TEST_AIRSPACE: Airspace = {
  geofence: {
    polygonNeM: [
      { n: -150, e: -150 },
      { n: 150, e: -150 },
      { n: 150, e: 150 },
      { n: 20, e: 150 },
      { n: 20, e: 60 },
      { n: -20, e: 60 },
      { n: -20, e: 150 },
      { n: -150, e: 150 },
    ],
    ceilingM: 80,
  },
  noFlyZones: [
    { kind: 'cylinder', id: 'tower', centerNeM: { n: 60, e: -60 }, radiusM: 20, topM: 45 },
    {
      kind: 'polygon',
      id: 'school',
      polygonNeM: [
        { n: -80, e: 20 },
        { n: -40, e: 40 },
        { n: -90, e: 70 },
      ],
    },
    { kind: 'cylinder', id: 'bridge', centerNeM: { n: -70, e: -70 }, radiusM: 15, floorM: 40, topM: 60 },
  ],
  altitudeFloorM: 15,
};

/** The neighbours' true states at time tS: one hovering, one circling at 3 m/s. */
export function neighboursAt(tS: number): { id: string; positionNedM: Ned; velocityNedMS: Ned }[] {
  const w = 3 / 30;
  return [
    { id: 'hover', positionNedM: { n: 0, e: -40, d: -35 }, velocityNedMS: { n: 0, e: 0, d: 0 } },
    {
      id: 'circler',
      positionNedM: { n: 80 + 30 * Math.cos(w * tS), e: 90 + 30 * Math.sin(w * tS), d: -30 },
      velocityNedMS: { n: -3 * Math.sin(w * tS), e: 3 * Math.cos(w * tS), d: 0 },
    },
  ];
}

export interface TruthClearance {
  /** Inside the fence polygon and below the ceiling. */
  readonly insideFence: boolean;
  /** The zones whose prism contains the vehicle. */
  readonly insideZones: string[];
  readonly altitudeM: number;
  /** Least 3-D distance to a neighbour (m). */
  readonly separationM: number;
  /** Least horizontal clearance to a zone whose band covers this altitude (m). */
  readonly zoneClearanceM: number;
}

export function truthClearance(p: Ned, airspace: Airspace, tS: number): TruthClearance {
  const fence = airspace.geofence!;
  const ne = { n: p.n, e: p.e };
  const altitudeM = -p.d;
  const insideZones: string[] = [];
  let zoneClearanceM = Number.POSITIVE_INFINITY;
  for (const z of airspace.noFlyZones as NoFlyZone[]) {
    if (!zoneCoversAltitude(z, altitudeM)) continue;
    const c = zoneClearance(ne, z).clearanceM;
    zoneClearanceM = Math.min(zoneClearanceM, c);
    if (c < 0) insideZones.push(z.id);
  }
  let separationM = Number.POSITIVE_INFINITY;
  for (const nb of neighboursAt(tS)) {
    separationM = Math.min(
      separationM,
      Math.hypot(p.n - nb.positionNedM.n, p.e - nb.positionNedM.e, p.d - nb.positionNedM.d),
    );
  }
  return {
    insideFence: pointInPolygon(ne, fence.polygonNeM) && altitudeM <= fence.ceilingM,
    insideZones,
    altitudeM,
    separationM,
    zoneClearanceM,
  };
}

/** First-order lag with an acceleration bound, integrated in substeps. */
export function stepVehicle(p: Ned, v: Ned, setpoint: Ned, dtS: number): { p: Ned; v: Ned } {
  let pn = p.n;
  let pe = p.e;
  let pd = p.d;
  let vn = v.n;
  let ve = v.e;
  let vd = v.d;
  const h = dtS / SUBSTEPS;
  for (let i = 0; i < SUBSTEPS; i++) {
    let an = (setpoint.n - vn) / SIM_TAU_S;
    let ae = (setpoint.e - ve) / SIM_TAU_S;
    let ad = (setpoint.d - vd) / SIM_TAU_S;
    const a = Math.hypot(an, ae, ad);
    if (a > SIM_ACCEL_LIMIT_MS2) {
      const k = SIM_ACCEL_LIMIT_MS2 / a;
      an *= k;
      ae *= k;
      ad *= k;
    }
    vn += an * h;
    ve += ae * h;
    vd += ad * h;
    pn += vn * h;
    pe += ve * h;
    pd += vd * h;
  }
  return { p: { n: pn, e: pe, d: pd }, v: { n: vn, e: ve, d: vd } };
}

/** The driver's action map: horizontal by 12 m/s (norm-limited), down by 2 m/s, up by 3 m/s. */
export function actionToVelocity(a: readonly number[]): Ned {
  let n = a[0] * 12;
  let e = a[1] * 12;
  const h = Math.hypot(n, e);
  if (h > 12) {
    n *= 12 / h;
    e *= 12 / h;
  }
  return { n, e, d: a[2] >= 0 ? a[2] * 2 : a[2] * 3 };
}

/** The action that flies at full speed from p toward target. */
export function actionToward(p: Ned, target: Ned): number[] {
  const dn = target.n - p.n;
  const de = target.e - p.e;
  const dd = target.d - p.d;
  const len = Math.hypot(dn, de, dd) || 1;
  const s = 3; // overshoot the unit box so the aim is maximal on every axis that matters
  return [(s * dn) / len, (s * de) / len, (s * dd) / len].map((x) => Math.max(-1, Math.min(1, x)));
}

/** One tick's input as the driver would build it, from a state one tick old (the estimate's latency). */
export function simInput(tS: number, measured: { p: Ned; v: Ned }, action: number[], airspace: Airspace): SafetyInput {
  const nbs: Neighbour[] = neighboursAt(tS - 0.1).map((nb) => ({ ...nb, ageMs: 100 }));
  return {
    timeUs: Math.round(tS * 1e6),
    vehicle: {
      positionNedM: measured.p,
      velocityNedMS: measured.v,
      altitudeAboveHomeM: -measured.p.d,
      armed: true,
      landed: false,
      batteryRemaining01: 0.8,
      batteryVoltageV: 15.8,
      gpsFixOk: true,
      positionAgeMs: SIM_TICK_S * 1000,
      statusAgeMs: 300,
    },
    policy: { action, velocityNedMS: actionToVelocity(action) },
    airspace,
    neighbours: nbs,
    shield: null,
    link: { autopilotHeartbeatAgeMs: 300, groundLinkUp: true },
    emergencyStop: false,
    phase: 'cruise',
  };
}
