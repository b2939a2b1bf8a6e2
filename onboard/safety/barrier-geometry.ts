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

/**
 * For edge ab of a polygon with signed doubled area `area2`: the horizontal distance from p (n, e), written to
 * EDGE.ds, and the unit direction away from the edge, written to EDGE.n/EDGE.e. On an edge (distance ~0) the
 * direction is the edge normal toward `sideSign` (+1 the interior, -1 the exterior). One scratch record, no
 * allocation: the geometry runs every tick.
 */
const EDGE = { ds: 0, n: 0, e: 0 };
function edgeDistance(pn: number, pe: number, a: Ne, b: Ne, area2: number, sideSign: number): void {
  // Nearest point q on segment ab to p.
  const dn = b.n - a.n;
  const de = b.e - a.e;
  const len2 = dn * dn + de * de;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((pn - a.n) * dn + (pe - a.e) * de) / len2));
  const vn = pn - (a.n + t * dn);
  const ve = pe - (a.e + t * de);
  const ds = Math.hypot(vn, ve);
  if (ds > TINY_M) {
    EDGE.ds = ds;
    EDGE.n = vn / ds;
    EDGE.e = ve / ds;
    return;
  }
  // The interior of a counter-clockwise polygon (in n-e as x-y) lies left of each edge.
  const len = Math.hypot(dn, de) || 1;
  const k = (area2 > 0 ? 1 : -1) * sideSign;
  EDGE.ds = 0;
  EDGE.n = (-de / len) * k;
  EDGE.e = (dn / len) * k;
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
  const poly = fence.polygonNeM;
  const area2 = polygonArea2(poly);
  if (area2 === 0) {
    issues.push('geofence polygon is degenerate (needs >= 3 finite vertices enclosing an area)');
    return;
  }
  if (pointInPolygon(p, poly)) {
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      edgeDistance(p.n, p.e, poly[j], poly[i], area2, 1);
      out.push({
        kind: 'fence',
        sourceId: 'fence',
        clearanceM: EDGE.ds,
        gradient: { n: EDGE.n, e: EDGE.e, d: 0 },
        closingMS: 0,
      });
    }
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

/** Vertical extent of a zone, written to BAND; false when malformed. A floor at or below ground cannot be flown under. */
const BAND = { lo: 0, hi: 0 };
function zoneBand(zone: NoFlyZone): boolean {
  const lo =
    zone.floorM === undefined || zone.floorM === null || zone.floorM <= 0 ? Number.NEGATIVE_INFINITY : zone.floorM;
  const hi = zone.topM === undefined || zone.topM === null ? Number.POSITIVE_INFINITY : zone.topM;
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) return false;
  BAND.lo = lo;
  BAND.hi = hi;
  return true;
}

function pushZone(out: BarrierFunction[], id: string, clearanceM: number, gradient: Ned): void {
  out.push({ kind: 'zone', sourceId: id, clearanceM, gradient, closingMS: 0 });
}

/** A zone wall at horizontal distance ds along (awayN, awayE); measured in 3-D when the vehicle is outside the band. */
function zoneWall(
  out: BarrierFunction[],
  id: string,
  ds: number,
  awayN: number,
  awayE: number,
  dzOut: number,
  vertical: Ned,
): void {
  if (dzOut > 0) {
    const h = Math.hypot(ds, dzOut);
    pushZone(out, id, h, { n: (awayN * ds) / h, e: (awayE * ds) / h, d: (vertical.d * dzOut) / h });
  } else pushZone(out, id, ds, { n: awayN, e: awayE, d: 0 });
}

function zoneBarriers(p: Ne, altitudeM: number, zone: NoFlyZone, out: BarrierFunction[], issues: string[]): void {
  const id = typeof zone?.id === 'string' ? zone.id : '?';
  const bandOk = zone ? zoneBand(zone) : false;
  const area2 = zone?.kind === 'polygon' ? polygonArea2(zone.polygonNeM) : 0;
  const validShape =
    zone?.kind === 'cylinder'
      ? Number.isFinite(zone.centerNeM?.n) &&
        Number.isFinite(zone.centerNeM?.e) &&
        zone.radiusM > 0 &&
        Number.isFinite(zone.radiusM)
      : zone?.kind === 'polygon' && area2 !== 0;
  if (!bandOk || !validShape) {
    issues.push(`no-fly zone ${id} is malformed and ignored`);
    return;
  }
  // Vertical distance outside the band (negative inside it), and which way leaves it sooner.
  const dzAbove = altitudeM - BAND.hi;
  const dzBelow = BAND.lo - altitudeM;
  const dzOut = Math.max(dzAbove, dzBelow);
  const vertical = dzAbove >= dzBelow ? UP : DOWN;
  if (zone.kind === 'cylinder') {
    const dn = p.n - zone.centerNeM.n;
    const de = p.e - zone.centerNeM.e;
    const r = Math.hypot(dn, de);
    const radialN = r > TINY_M ? dn / r : 1;
    const radialE = r > TINY_M ? de / r : 0;
    if (r >= zone.radiusM) zoneWall(out, id, r - zone.radiusM, radialN, radialE, dzOut, vertical);
    else if (dzOut > 0) pushZone(out, id, dzOut, vertical);
    else insideZone(out, id, zone.radiusM - r, radialN, radialE, dzOut, vertical);
    return;
  }
  const poly = zone.polygonNeM;
  if (!pointInPolygon(p, poly)) {
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      edgeDistance(p.n, p.e, poly[j], poly[i], area2, -1);
      zoneWall(out, id, EDGE.ds, EDGE.n, EDGE.e, dzOut, vertical);
    }
  } else if (dzOut > 0) pushZone(out, id, dzOut, vertical);
  else {
    const { point, distanceM } = nearestOnPolygonBoundary(p, poly);
    const exitN = distanceM > TINY_M ? (point.n - p.n) / distanceM : 1;
    const exitE = distanceM > TINY_M ? (point.e - p.e) / distanceM : 0;
    insideZone(out, id, distanceM, exitN, exitE, dzOut, vertical);
  }
}

/** Inside the prism: one barrier, out through the nearer of the side or the band edge. */
function insideZone(
  out: BarrierFunction[],
  id: string,
  depthSideM: number,
  exitN: number,
  exitE: number,
  dzOut: number,
  vertical: Ned,
): void {
  if (depthSideM <= -dzOut) pushZone(out, id, -depthSideM, { n: exitN, e: exitE, d: 0 });
  else pushZone(out, id, dzOut, vertical);
}

const STILL: Ned = Object.freeze({ n: 0, e: 0, d: 0 });

function separationBarriers(
  p: Ned,
  neighbours: readonly Neighbour[],
  opts: BarrierGeometryOptions,
  out: BarrierFunction[],
  issues: string[],
): boolean {
  let stale = false;
  for (let i = 0; i < neighbours.length; i++) {
    const nb = neighbours[i];
    const pos = nb?.positionNedM;
    if (!pos || !Number.isFinite(pos.n) || !Number.isFinite(pos.e) || !Number.isFinite(pos.d)) {
      issues.push(`neighbour ${String(nb?.id)} has no valid position and is ignored`);
      continue;
    }
    const vel = nb.velocityNedMS;
    const v = vel && Number.isFinite(vel.n) && Number.isFinite(vel.e) && Number.isFinite(vel.d) ? vel : STILL;
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
  const stale = barrierGeometryInto(positionNedM, altitudeM, airspace, neighbours, opts, barriers, issues);
  return { barriers, issues, neighbourStale: stale };
}

const NO_NEIGHBOURS: readonly Neighbour[] = Object.freeze([]);

/**
 * barrierGeometry into the caller's lists (appended to; the filter clears and reuses them every tick). Returns
 * whether some neighbour report is stale.
 */
export function barrierGeometryInto(
  positionNedM: Ned,
  altitudeM: number,
  airspace: Airspace | null | undefined,
  neighbours: readonly Neighbour[] | null | undefined,
  opts: BarrierGeometryOptions,
  barriers: BarrierFunction[],
  issues: string[],
): boolean {
  if (airspace) {
    // positionNedM is a Ne too: the horizontal predicates read only n and e.
    const p: Ne = positionNedM;
    fenceBarriers(p, altitudeM, airspace, barriers, issues);
    const zones = airspace.noFlyZones;
    if (Array.isArray(zones))
      for (let i = 0; i < zones.length; i++) zoneBarriers(p, altitudeM, zones[i], barriers, issues);
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
  return separationBarriers(
    positionNedM,
    Array.isArray(neighbours) ? neighbours : NO_NEIGHBOURS,
    opts,
    barriers,
    issues,
  );
}
