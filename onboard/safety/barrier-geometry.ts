/**
 * Barrier functions of the airspace and the neighbours: for each, the distance h to the true limit (negative once
 * crossed) and its gradient, a unit vector in NED along which h grows. With the vehicle's position p, dh/dt = g . v,
 * so the CBF condition dh/dt >= -U(h - margin) is the half-space g . v >= -U(h - margin) on the velocity setpoint.
 *
 * A keep-in polygon is "at least margin from every edge" and a keep-out prism "at least margin from every wall and
 * cap": the distance to a polygon is a minimum over its edges, and a minimum of barriers must hold for each one, so
 * every edge near enough to matter gets its own half-space. One constraint for the nearest edge alone would let the
 * vehicle run at full speed at a corner's other edge until that edge became the nearest, too late to stop.
 * A zone's altitude band makes it a prism the vehicle may overfly: walls and caps are measured in 3-D.
 */
import type { Airspace, Ne, Ned, NoFlyZone } from '../../shared/geo/index.js';
import { geofenceMargin, nearestOnPolygonBoundary, pointInPolygon } from '../../shared/geo/index.js';
import type { Neighbour } from './types.js';

export type BarrierKind = 'fence' | 'ceiling' | 'zone' | 'floor' | 'separation';
export const BARRIER_KINDS: readonly BarrierKind[] = ['fence', 'ceiling', 'zone', 'floor', 'separation'];

/** One barrier: distance to its true limit and the unit gradient of that distance. */
export interface BarrierFunction {
  readonly kind: BarrierKind;
  /** 'fence', 'ceiling', 'floor', a zone id or a neighbour id. */
  readonly sourceId: string;
  /** Distance to the true limit (m); negative once crossed. */
  readonly clearanceM: number;
  /** Unit gradient of the clearance, NED. */
  readonly gradient: Ned;
  /** A speed the setpoint must add along the gradient whatever the slack (a neighbour closing on us), m/s. */
  readonly closingMS: number;
}

export interface BarrierGeometry {
  readonly barriers: BarrierFunction[];
  /** Geometry that was ignored because it is malformed (named, for the operator). */
  readonly issues: string[];
  /** Some neighbour report is older than the stale limit. */
  readonly neighbourStale: boolean;
}

export interface BarrierGeometryOptions {
  /** Cruise: the altitude floor applies. */
  readonly floorActive: boolean;
  readonly separationM: number;
  readonly stateExtrapolationMaxMs: number;
  readonly neighbourStaleMs: number;
}

const UP: Ned = Object.freeze({ n: 0, e: 0, d: -1 });
const DOWN: Ned = Object.freeze({ n: 0, e: 0, d: 1 });
const TINY_M = 1e-9;

/** A polygon the geometry can trust: >= 3 finite vertices enclosing some area. Returns its signed doubled area. */
export function polygonArea2(poly: readonly Ne[] | null | undefined): number {
  if (!Array.isArray(poly) || poly.length < 3) return 0;
  let area2 = 0;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[j];
    const b = poly[i];
    if (!a || !b || !Number.isFinite(a.n) || !Number.isFinite(a.e)) return 0;
    area2 += a.n * b.e - b.n * a.e;
  }
  return Number.isFinite(area2) && Math.abs(area2) > 1e-6 ? area2 : 0;
}

/** Nearest point on segment ab to p. */
function nearestOnSegment(p: Ne, a: Ne, b: Ne): Ne {
  const dn = b.n - a.n;
  const de = b.e - a.e;
  const len2 = dn * dn + de * de;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.n - a.n) * dn + (p.e - a.e) * de) / len2));
  return { n: a.n + t * dn, e: a.e + t * de };
}

/**
 * For each edge of `poly`: horizontal distance from p and the unit direction away from the edge. On an edge
 * (distance ~0) the direction is the edge normal toward `sideSign` (+1 the interior, -1 the exterior).
 */
function edgeDistances(
  p: Ne,
  poly: readonly Ne[],
  area2: number,
  sideSign: number,
  visit: (ds: number, away: Ne) => void,
): void {
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[j];
    const b = poly[i];
    const q = nearestOnSegment(p, a, b);
    const vn = p.n - q.n;
    const ve = p.e - q.e;
    const ds = Math.hypot(vn, ve);
    if (ds > TINY_M) {
      visit(ds, { n: vn / ds, e: ve / ds });
      continue;
    }
    // The interior of a counter-clockwise polygon (in n-e as x-y) lies left of each edge.
    const en = b.n - a.n;
    const ee = b.e - a.e;
    const len = Math.hypot(en, ee) || 1;
    const k = (area2 > 0 ? 1 : -1) * sideSign;
    visit(0, { n: (-ee / len) * k, e: (en / len) * k });
  }
}

function fenceBarriers(p: Ne, altitudeM: number, airspace: Airspace, out: BarrierFunction[], issues: string[]): void {
  const fence = airspace.geofence;
  if (!fence) return;
  if (Number.isFinite(fence.ceilingM)) {
    out.push({
      kind: 'ceiling',
      sourceId: 'ceiling',
      clearanceM: fence.ceilingM - altitudeM,
      gradient: DOWN,
      closingMS: 0,
    });
  } else if (!(fence.ceilingM === Number.POSITIVE_INFINITY)) {
    issues.push('geofence ceiling is not a number');
  }
  const area2 = polygonArea2(fence.polygonNeM);
  if (area2 === 0) {
    issues.push('geofence polygon is degenerate (needs >= 3 finite vertices enclosing an area)');
    return;
  }
  if (pointInPolygon(p, fence.polygonNeM)) {
    edgeDistances(p, fence.polygonNeM, area2, 1, (ds, away) =>
      out.push({
        kind: 'fence',
        sourceId: 'fence',
        clearanceM: ds,
        gradient: { n: away.n, e: away.e, d: 0 },
        closingMS: 0,
      }),
    );
    return;
  }
  // Outside: one barrier, back toward the nearest boundary point (other edges' "away" may point further out).
  const { marginM, inwardNe } = geofenceMargin(p, fence);
  out.push({
    kind: 'fence',
    sourceId: 'fence',
    clearanceM: marginM,
    gradient: { n: inwardNe.n, e: inwardNe.e, d: 0 },
    closingMS: 0,
  });
}

/** Vertical extent of a zone; null when malformed. A floor at or below ground cannot be flown under. */
function zoneBand(zone: NoFlyZone): { lo: number; hi: number } | null {
  const lo =
    zone.floorM === undefined || zone.floorM === null || zone.floorM <= 0 ? Number.NEGATIVE_INFINITY : zone.floorM;
  const hi = zone.topM === undefined || zone.topM === null ? Number.POSITIVE_INFINITY : zone.topM;
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) return null;
  return { lo, hi };
}

function zoneBarriers(p: Ne, altitudeM: number, zone: NoFlyZone, out: BarrierFunction[], issues: string[]): void {
  const id = typeof zone?.id === 'string' ? zone.id : '?';
  const band = zone ? zoneBand(zone) : null;
  const area2 = zone?.kind === 'polygon' ? polygonArea2(zone.polygonNeM) : 0;
  const validShape =
    zone?.kind === 'cylinder'
      ? Number.isFinite(zone.centerNeM?.n) &&
        Number.isFinite(zone.centerNeM?.e) &&
        zone.radiusM > 0 &&
        Number.isFinite(zone.radiusM)
      : zone?.kind === 'polygon' && area2 !== 0;
  if (!band || !validShape) {
    issues.push(`no-fly zone ${id} is malformed and ignored`);
    return;
  }
  // Vertical distance outside the band (negative inside it), and which way leaves it sooner.
  const dzAbove = altitudeM - band.hi;
  const dzBelow = band.lo - altitudeM;
  const dzOut = Math.max(dzAbove, dzBelow);
  const vertical = dzAbove >= dzBelow ? UP : DOWN;
  const push = (clearanceM: number, gradient: Ned): void => {
    out.push({ kind: 'zone', sourceId: id, clearanceM, gradient, closingMS: 0 });
  };
  const wall = (ds: number, away: Ne): void => {
    if (dzOut > 0) {
      const h = Math.hypot(ds, dzOut);
      push(h, { n: (away.n * ds) / h, e: (away.e * ds) / h, d: (vertical.d * dzOut) / h });
    } else push(ds, { n: away.n, e: away.e, d: 0 });
  };
  if (zone.kind === 'cylinder') {
    const dn = p.n - zone.centerNeM.n;
    const de = p.e - zone.centerNeM.e;
    const r = Math.hypot(dn, de);
    const radial: Ne = r > TINY_M ? { n: dn / r, e: de / r } : { n: 1, e: 0 };
    if (r >= zone.radiusM) wall(r - zone.radiusM, radial);
    else if (dzOut > 0) push(dzOut, vertical);
    else insideZone(zone.radiusM - r, radial, dzOut, vertical, push);
    return;
  }
  const poly = zone.polygonNeM;
  if (!pointInPolygon(p, poly)) edgeDistances(p, poly, area2, -1, wall);
  else if (dzOut > 0) push(dzOut, vertical);
  else {
    const { point, distanceM } = nearestOnPolygonBoundary(p, poly);
    const exit: Ne =
      distanceM > TINY_M ? { n: (point.n - p.n) / distanceM, e: (point.e - p.e) / distanceM } : { n: 1, e: 0 };
    insideZone(distanceM, exit, dzOut, vertical, push);
  }
}

/** Inside the prism: one barrier, out through the nearer of the side or the band edge. */
function insideZone(
  depthSideM: number,
  exit: Ne,
  dzOut: number,
  vertical: Ned,
  push: (h: number, g: Ned) => void,
): void {
  if (depthSideM <= -dzOut) push(-depthSideM, { n: exit.n, e: exit.e, d: 0 });
  else push(dzOut, vertical);
}

function separationBarriers(
  p: Ned,
  neighbours: readonly Neighbour[],
  opts: BarrierGeometryOptions,
  out: BarrierFunction[],
  issues: string[],
): boolean {
  let stale = false;
  for (const nb of neighbours) {
    const pos = nb?.positionNedM;
    if (!pos || !Number.isFinite(pos.n) || !Number.isFinite(pos.e) || !Number.isFinite(pos.d)) {
      issues.push(`neighbour ${String(nb?.id)} has no valid position and is ignored`);
      continue;
    }
    const vel = nb.velocityNedMS;
    const v =
      vel && Number.isFinite(vel.n) && Number.isFinite(vel.e) && Number.isFinite(vel.d) ? vel : { n: 0, e: 0, d: 0 };
    // An unknown or impossible age counts as old: stale, and extrapolated over the longest allowed time.
    const ageMs = typeof nb.ageMs === 'number' && nb.ageMs >= 0 ? nb.ageMs : Number.POSITIVE_INFINITY;
    if (ageMs > opts.neighbourStaleMs) stale = true;
    const k = Math.min(ageMs, opts.stateExtrapolationMaxMs) / 1000;
    const rn = p.n - (pos.n + v.n * k);
    const re = p.e - (pos.e + v.e * k);
    const rd = p.d - (pos.d + v.d * k);
    const dist = Math.sqrt(rn * rn + re * re + rd * rd);
    // Coincident: leave upward (the neighbour's own filter is as likely to push it sideways or down).
    const g: Ned = dist > TINY_M ? { n: rn / dist, e: re / dist, d: rd / dist } : UP;
    // Take no credit for a neighbour moving away: it may stop at any moment.
    const closingMS = Math.max(0, g.n * v.n + g.e * v.e + g.d * v.d);
    out.push({
      kind: 'separation',
      sourceId: String(nb.id),
      clearanceM: dist - opts.separationM,
      gradient: g,
      closingMS,
    });
  }
  return stale;
}

/**
 * Every barrier at position p (NED m, finite) and altitude above home (m, finite). Malformed geometry is ignored and
 * named in `issues`; nothing here throws on data.
 */
export function barrierGeometry(
  positionNedM: Ned,
  altitudeM: number,
  airspace: Airspace | null | undefined,
  neighbours: readonly Neighbour[] | null | undefined,
  opts: BarrierGeometryOptions,
): BarrierGeometry {
  const barriers: BarrierFunction[] = [];
  const issues: string[] = [];
  const p: Ne = { n: positionNedM.n, e: positionNedM.e };
  if (airspace) {
    fenceBarriers(p, altitudeM, airspace, barriers, issues);
    for (const zone of Array.isArray(airspace.noFlyZones) ? airspace.noFlyZones : []) {
      zoneBarriers(p, altitudeM, zone, barriers, issues);
    }
    if (opts.floorActive && Number.isFinite(airspace.altitudeFloorM)) {
      barriers.push({
        kind: 'floor',
        sourceId: 'floor',
        clearanceM: altitudeM - airspace.altitudeFloorM,
        gradient: UP,
        closingMS: 0,
      });
    }
  }
  const stale = separationBarriers(positionNedM, Array.isArray(neighbours) ? neighbours : [], opts, barriers, issues);
  return { barriers, issues, neighbourStale: stale };
}
