/**
 * Airspace in the local frame and the distance queries both the safety barriers and the policy's observation use.
 * Horizontal geometry is in (north, east) metres; altitudes are metres above home (up positive).
 */

/** A horizontal point (m). */
export interface Ne {
  readonly n: number;
  readonly e: number;
}

/** Keep-in volume: a simple polygon (vertices in order, not closed) and a ceiling above home. */
export interface Geofence {
  readonly polygonNeM: readonly Ne[];
  readonly ceilingM: number;
}

/** Keep-out zones: vertical cylinders or prisms over a polygon, optionally bounded in altitude. */
export type NoFlyZone =
  | {
      readonly kind: 'cylinder';
      readonly id: string;
      readonly centerNeM: Ne;
      readonly radiusM: number;
      readonly floorM?: number;
      readonly topM?: number;
    }
  | {
      readonly kind: 'polygon';
      readonly id: string;
      readonly polygonNeM: readonly Ne[];
      readonly floorM?: number;
      readonly topM?: number;
    };

export interface Airspace {
  readonly geofence: Geofence | null;
  readonly noFlyZones: readonly NoFlyZone[];
  /** Minimum height above ground while cruising (m). */
  readonly altitudeFloorM: number;
}

export const EMPTY_AIRSPACE: Airspace = Object.freeze({ geofence: null, noFlyZones: [], altitudeFloorM: 0 });

/** The point on segment ab nearest to p. */
function nearestOnSegment(p: Ne, a: Ne, b: Ne): Ne {
  const dn = b.n - a.n;
  const de = b.e - a.e;
  const len2 = dn * dn + de * de;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.n - a.n) * dn + (p.e - a.e) * de) / len2));
  return { n: a.n + t * dn, e: a.e + t * de };
}

/** Even-odd rule. */
export function pointInPolygon(p: Ne, poly: readonly Ne[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i];
    const b = poly[j];
    if (a.e > p.e !== b.e > p.e && p.n < ((b.n - a.n) * (p.e - a.e)) / (b.e - a.e) + a.n) inside = !inside;
  }
  return inside;
}

/** Nearest point on a polygon's boundary to p, and its distance (m). */
export function nearestOnPolygonBoundary(p: Ne, poly: readonly Ne[]): { point: Ne; distanceM: number } {
  let best: Ne = poly[0];
  let bestD2 = Number.POSITIVE_INFINITY;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const q = nearestOnSegment(p, poly[j], poly[i]);
    const d2 = (q.n - p.n) ** 2 + (q.e - p.e) ** 2;
    if (d2 < bestD2) {
      bestD2 = d2;
      best = q;
    }
  }
  return { point: best, distanceM: Math.sqrt(bestD2) };
}

/**
 * Signed horizontal clearance from a keep-out zone: positive outside (distance to its edge), negative inside.
 * `awayNe` is the unit direction that increases clearance (away from the zone), used as the barrier gradient.
 */
export function zoneClearance(p: Ne, zone: NoFlyZone): { clearanceM: number; awayNe: Ne } {
  if (zone.kind === 'cylinder') {
    const dn = p.n - zone.centerNeM.n;
    const de = p.e - zone.centerNeM.e;
    const r = Math.hypot(dn, de);
    const away = r > 1e-9 ? { n: dn / r, e: de / r } : { n: 1, e: 0 };
    return { clearanceM: r - zone.radiusM, awayNe: away };
  }
  const { point, distanceM } = nearestOnPolygonBoundary(p, zone.polygonNeM);
  const inside = pointInPolygon(p, zone.polygonNeM);
  const vn = p.n - point.n;
  const ve = p.e - point.e;
  const len = Math.hypot(vn, ve);
  let away: Ne = len > 1e-9 ? { n: vn / len, e: ve / len } : { n: 1, e: 0 };
  if (inside) away = { n: -away.n, e: -away.e };
  return { clearanceM: inside ? -distanceM : distanceM, awayNe: away };
}

/**
 * Signed horizontal margin inside the geofence: positive inside (distance to the boundary), negative outside.
 * `inwardNe` is the unit direction that increases the margin.
 */
export function geofenceMargin(p: Ne, fence: Geofence): { marginM: number; inwardNe: Ne } {
  const { point, distanceM } = nearestOnPolygonBoundary(p, fence.polygonNeM);
  const inside = pointInPolygon(p, fence.polygonNeM);
  const vn = point.n - p.n;
  const ve = point.e - p.e;
  const len = Math.hypot(vn, ve);
  let inward: Ne = len > 1e-9 ? { n: vn / len, e: ve / len } : { n: 1, e: 0 };
  // Inside, the nearest boundary point lies outward: inward is the opposite direction.
  if (inside) inward = { n: -inward.n, e: -inward.e };
  return { marginM: inside ? distanceM : -distanceM, inwardNe: inward };
}

/** Whether an altitude (m above home) is within a zone's vertical band. */
export function zoneCoversAltitude(zone: NoFlyZone, altitudeM: number): boolean {
  return altitudeM >= (zone.floorM ?? Number.NEGATIVE_INFINITY) && altitudeM <= (zone.topM ?? Number.POSITIVE_INFINITY);
}
