/**
 * How risky an order is to fly, 0..1, for the assignment's risk term (canary drones, which fly a candidate policy
 * during a rollout, prefer low-risk orders): the trip's length (more time airborne, more to go wrong), the order's
 * priority (what is lost if it fails), and how close the straight route passes to a no-fly zone of the fleet
 * airspace (where a policy error turns into a breach). Pure.
 */
import { type Airspace, type GeoPoint, geoToNed, zoneClearance } from '../../shared/geo/index.js';

export interface RiskModel {
  /** A route this long (pickup to drop, m) scores the whole distance term. */
  readonly distanceScaleM: number;
  /** A route passing within this distance of a no-fly zone (m) starts to score the zone term; 0 m scores it whole. */
  readonly zoneBufferM: number;
  /** Weights of the distance, priority and zone terms (summing to 1). */
  readonly weights: { readonly distance: number; readonly priority: number; readonly zones: number };
  /** Priorities run 1..maxPriority. */
  readonly maxPriority: number;
}

export const DEFAULT_RISK_MODEL: RiskModel = Object.freeze({
  distanceScaleM: 3000,
  zoneBufferM: 200,
  weights: Object.freeze({ distance: 0.4, priority: 0.2, zones: 0.4 }),
  maxPriority: 5,
});

/** What an order needs to be scored. */
export interface RiskOrder {
  readonly pickupGeo: GeoPoint;
  readonly dropGeo: { readonly latDeg: number; readonly lonDeg: number };
  readonly priority: number;
}

/** Sampling step along the route for the zone term (m). */
const STEP_M = 20;

/** The smallest clearance (m) of the straight route to any zone; +Infinity without zones. */
export function routeZoneClearanceM(
  order: RiskOrder,
  airspace: { readonly origin: GeoPoint; readonly airspace: Airspace },
): number {
  const zones = airspace.airspace.noFlyZones;
  if (zones.length === 0) return Number.POSITIVE_INFINITY;
  const a = geoToNed(airspace.origin, order.pickupGeo);
  const b = geoToNed(airspace.origin, { ...order.dropGeo, altAmslM: order.pickupGeo.altAmslM });
  const length = Math.hypot(b.n - a.n, b.e - a.e);
  const samples = Math.max(1, Math.ceil(length / STEP_M));
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k <= samples; k++) {
    const t = k / samples;
    const p = { n: a.n + t * (b.n - a.n), e: a.e + t * (b.e - a.e) };
    for (const z of zones) best = Math.min(best, zoneClearance(p, z).clearanceM);
  }
  return best;
}

export function orderRiskScore(
  order: RiskOrder,
  airspace: { readonly origin: GeoPoint; readonly airspace: Airspace } | null,
  model: RiskModel = DEFAULT_RISK_MODEL,
): number {
  const a = geoToNed(order.pickupGeo, { ...order.dropGeo, altAmslM: order.pickupGeo.altAmslM });
  const distance = Math.min(1, Math.hypot(a.n, a.e) / model.distanceScaleM);
  const priority =
    model.maxPriority > 1
      ? (Math.min(model.maxPriority, Math.max(1, order.priority)) - 1) / (model.maxPriority - 1)
      : 0;
  let zones = 0;
  if (airspace) {
    const clearance = routeZoneClearanceM(order, airspace);
    zones = clearance <= 0 ? 1 : Math.max(0, 1 - clearance / model.zoneBufferM);
  }
  const w = model.weights;
  const score = w.distance * distance + w.priority * priority + w.zones * zones;
  return Math.min(1, Math.max(0, score));
}
