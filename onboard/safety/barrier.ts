/**
 * Layer 3, control barrier functions. Each barrier (barrier-geometry.ts) becomes the half-space
 *
 *     g . v >= closing - U(h - margin)                  (U: barrier-shape.ts)
 *
 * and the setpoint is the velocity nearest the proposal that meets all of them inside the speed box (qp.ts). A
 * half-space that |v| <= max speed already implies cannot bind and is left out exactly. When no velocity meets them
 * all, the rule fallback flies: brake to hover, plus, for each barrier hover would violate, its required speed along
 * its gradient (climb below the floor, out of a zone, away from a closing drone). Never the unfiltered action.
 */
import type { Ned } from '../../shared/geo/index.js';
import { BARRIER_KINDS, type BarrierFunction, type BarrierKind } from './barrier-geometry.js';
import { allowedClosingSpeedMS, type BarrierShape } from './barrier-shape.js';
import { limitSpeed, type SpeedLimits, withinSpeedLimits } from './box.js';
import type { SafetyConfig } from './config.js';
import {
  type HalfSpace3,
  maxViolation3,
  newQpSolution,
  projectInto,
  QP_FEASIBILITY_TOLERANCE,
  type QpSolution,
} from './qp.js';
import type { Mutable } from './types.js';
import { clearList } from './vec.js';

/** A barrier as a half-space on the velocity setpoint: (n, e, d) . v >= b. */
export interface BarrierConstraint extends HalfSpace3 {
  readonly kind: BarrierKind;
  readonly sourceId: string;
  readonly clearanceM: number;
  /** Clearance beyond the margin (m); negative inside the margin. */
  readonly slackM: number;
}

export type BarrierStatus = 'clear' | 'projected' | 'fallback' | 'no_state';

export type BarrierConfig = BarrierShape &
  SpeedLimits &
  Pick<
    SafetyConfig,
    | 'fenceMarginM'
    | 'verticalMarginM'
    | 'zoneMarginM'
    | 'separationMarginM'
    | 'maxBarrierConstraints'
    | 'barrierVelocityGain'
  >;

/** Margin kept beyond each kind's true limit (m). */
export function marginOf(kind: BarrierKind, cfg: BarrierConfig): number {
  switch (kind) {
    case 'fence':
      return cfg.fenceMarginM;
    case 'ceiling':
    case 'floor':
      return cfg.verticalMarginM;
    case 'zone':
      return cfg.zoneMarginM;
    case 'separation':
      return cfg.separationMarginM;
  }
}

/** The fastest any setpoint in the speed box can be (m/s). */
export function maxBoxSpeedMS(limits: SpeedLimits): number {
  const h = Math.min(limits.maxHorizontalSpeedMS, Math.SQRT2 * limits.maxAxisSpeedMS);
  return Math.hypot(h, Math.max(limits.maxClimbSpeedMS, limits.maxDescentSpeedMS));
}

/**
 * The half-spaces the QP sees: those that can bind, nearest (least slack) first, at most maxBarrierConstraints.
 * Barriers with a non-finite clearance (infinitely far) or gradient are dropped. `out` is emptied and filled (the
 * filter reuses one list tick to tick). The records are `pool`'s, rewritten, and the pool grows as needed: the filter
 * passes one it keeps (its constraints never leave the tick); without one, every record is new.
 */
export function barrierConstraints(
  barriers: readonly BarrierFunction[],
  velocityNedMS: Ned,
  cfg: BarrierConfig,
  out: BarrierConstraint[] = [],
  pool: BarrierConstraint[] = [],
): BarrierConstraint[] {
  const vMax = maxBoxSpeedMS(cfg);
  clearList(out);
  let used = 0;
  for (let i = 0; i < barriers.length; i++) {
    const bf = barriers[i];
    const g = bf.gradient;
    if (!Number.isFinite(bf.clearanceM) || !Number.isFinite(g.n) || !Number.isFinite(g.e) || !Number.isFinite(g.d))
      continue;
    const slackM = bf.clearanceM - marginOf(bf.kind, cfg);
    const allowedMS = allowedClosingSpeedMS(slackM, cfg);
    // The vehicle's own closing speed: when it runs ahead of the allowed speed (lag, or acceleration spent
    // elsewhere), command that much more braking so the lagging vehicle still converges onto the envelope.
    const closingNowMS = bf.closingMS - (g.n * velocityNedMS.n + g.e * velocityNedMS.e + g.d * velocityNedMS.d);
    const excessMS = Math.max(0, closingNowMS - allowedMS);
    const b = bf.closingMS - allowedMS + cfg.barrierVelocityGain * excessMS;
    if (!(b > -vMax)) continue;
    if (used === pool.length)
      pool.push({ n: 0, e: 0, d: 0, b: 0, kind: bf.kind, sourceId: bf.sourceId, clearanceM: 0, slackM: 0 });
    const c = pool[used++] as Mutable<BarrierConstraint>;
    c.n = g.n;
    c.e = g.e;
    c.d = g.d;
    c.b = b;
    c.kind = bf.kind;
    c.sourceId = bf.sourceId;
    c.clearanceM = bf.clearanceM;
    c.slackM = slackM;
    out.push(c);
  }
  sortBySlack(out);
  if (out.length > cfg.maxBarrierConstraints) out.length = cfg.maxBarrierConstraints;
  return out;
}

/**
 * Least slack first, equal slacks in their order: the order a stable sort by slack gives (Array.prototype.sort is
 * stable), by insertion, which needs no work array (the lists are short).
 */
function sortBySlack(list: BarrierConstraint[]): void {
  for (let i = 1; i < list.length; i++) {
    const c = list[i];
    let j = i - 1;
    while (j >= 0 && list[j].slackM > c.slackM) {
      list[j + 1] = list[j];
      j--;
    }
    list[j + 1] = c;
  }
}

/** Facets of the polygon inscribed in the horizontal speed circle: a linear stand-in for |v_h| <= max. */
const DISC_FACETS = 32;
const boxCache = new WeakMap<object, HalfSpace3[]>();

/** The speed box as half-spaces (axis limits, climb/descent, inscribed 32-gon for the norm). */
export function speedBoxHalfSpaces(limits: SpeedLimits): HalfSpace3[] {
  const cached = boxCache.get(limits);
  if (cached) return cached;
  const a = limits.maxAxisSpeedMS;
  const rows: HalfSpace3[] = [
    { n: -1, e: 0, d: 0, b: -a },
    { n: 1, e: 0, d: 0, b: -a },
    { n: 0, e: -1, d: 0, b: -a },
    { n: 0, e: 1, d: 0, b: -a },
    { n: 0, e: 0, d: -1, b: -limits.maxDescentSpeedMS },
    { n: 0, e: 0, d: 1, b: -limits.maxClimbSpeedMS },
  ];
  const apothem = limits.maxHorizontalSpeedMS * Math.cos(Math.PI / DISC_FACETS);
  for (let k = 0; k < DISC_FACETS; k++) {
    const th = (2 * Math.PI * (k + 0.5)) / DISC_FACETS;
    rows.push({ n: -Math.cos(th), e: -Math.sin(th), d: 0, b: -apothem });
  }
  boxCache.set(limits, rows);
  return rows;
}

/** Brake to hover, plus each barrier's required speed where hover would violate it; then clamped into the box. */
export function ruleFallback(constraints: readonly BarrierConstraint[], limits: SpeedLimits): Ned {
  let n = 0;
  let e = 0;
  let d = 0;
  for (const c of constraints) {
    if (c.b > 0) {
      n += c.n * c.b;
      e += c.e * c.b;
      d += c.d * c.b;
    }
  }
  return limitSpeed({ n, e, d }, limits);
}

export interface BarrierResult {
  readonly velocityNedMS: Ned;
  readonly status: Exclude<BarrierStatus, 'no_state'>;
  readonly qpIterations: number;
}

/** A BarrierResult the caller owns and filterVelocityInto rewrites. */
export type BarrierResultRecord = Mutable<BarrierResult>;

export function newBarrierResult(): BarrierResultRecord {
  return { velocityNedMS: { n: 0, e: 0, d: 0 }, status: 'clear', qpIterations: 0 };
}

/** The velocity nearest `desired` that meets every constraint and the speed box; the rule fallback when none does. */
export function filterVelocity(
  desired: Ned,
  constraints: readonly BarrierConstraint[],
  limits: SpeedLimits,
): BarrierResult {
  return filterVelocityInto(desired, constraints, limits, newBarrierResult());
}

/** The QP's answer of the last filterVelocityInto (the solver is synchronous: one record serves every call). */
const solution: QpSolution = newQpSolution();

/**
 * filterVelocity into a caller-owned record: nothing is allocated but the setpoint itself when the QP or the
 * fallback makes one (`desired` is passed through when already clear). The setpoint is a new object each time it is
 * not `desired`, so it may be kept.
 */
export function filterVelocityInto(
  desired: Ned,
  constraints: readonly BarrierConstraint[],
  limits: SpeedLimits,
  out: BarrierResultRecord,
): BarrierResultRecord {
  if (
    constraints.length === 0 ||
    maxViolation3(desired.n, desired.e, desired.d, constraints) <= QP_FEASIBILITY_TOLERANCE
  ) {
    out.velocityNedMS = desired;
    out.status = 'clear';
    out.qpIterations = 0;
    return out;
  }
  const r = projectInto(desired.n, desired.e, desired.d, constraints, speedBoxHalfSpaces(limits), 100, solution, true);
  out.qpIterations = r.iterations;
  if (r.status === 'optimal') {
    const v = { n: r.x0, e: r.x1, d: r.x2 };
    // Check the answer rather than trust it: a rounding slip must not become a setpoint.
    if (withinSpeedLimits(v, limits) && maxViolation3(r.x0, r.x1, r.x2, constraints) <= 1e-6) {
      out.velocityNedMS = v;
      out.status = 'projected';
      return out;
    }
  }
  out.velocityNedMS = ruleFallback(constraints, limits);
  out.status = 'fallback';
  return out;
}

export interface BarrierSummary {
  /** Least clearance to each kind's true limit (m); +Infinity when there is none; negative once crossed. */
  readonly clearanceM: Readonly<Record<BarrierKind, number>>;
  /** Kinds whose true limit is crossed. */
  readonly breached: readonly BarrierKind[];
  /** Kinds inside their margin but not crossed. */
  readonly nearMiss: readonly BarrierKind[];
}

/** The kinds in each subset of BARRIER_KINDS (bit i for BARRIER_KINDS[i]), made once: the report lists share them. */
const KIND_SUBSETS: readonly (readonly BarrierKind[])[] = Array.from({ length: 1 << BARRIER_KINDS.length }, (_, mask) =>
  Object.freeze(BARRIER_KINDS.filter((_k, i) => (mask & (1 << i)) !== 0)),
);

export function summariseBarriers(barriers: readonly BarrierFunction[], cfg: BarrierConfig): BarrierSummary {
  const clearanceM = leastClearances(barriers);
  return {
    clearanceM,
    breached: breachedKinds(clearanceM),
    nearMiss: nearMissKinds(clearanceM, cfg),
  };
}

/** Least clearance to each kind's true limit (m), +Infinity for kinds without a barrier: a new record. */
export function leastClearances(barriers: readonly BarrierFunction[]): Record<BarrierKind, number> {
  const clearanceM: Record<BarrierKind, number> = {
    fence: Number.POSITIVE_INFINITY,
    ceiling: Number.POSITIVE_INFINITY,
    zone: Number.POSITIVE_INFINITY,
    floor: Number.POSITIVE_INFINITY,
    separation: Number.POSITIVE_INFINITY,
  };
  for (let i = 0; i < barriers.length; i++) {
    const b = barriers[i];
    if (b.clearanceM < clearanceM[b.kind]) clearanceM[b.kind] = b.clearanceM;
  }
  return clearanceM;
}

/** The kinds whose true limit is crossed: a shared frozen list. */
export function breachedKinds(clearanceM: Readonly<Record<BarrierKind, number>>): readonly BarrierKind[] {
  let mask = 0;
  for (let i = 0; i < BARRIER_KINDS.length; i++) if (clearanceM[BARRIER_KINDS[i]] < 0) mask |= 1 << i;
  return KIND_SUBSETS[mask];
}

/** The kinds inside their margin but not crossed: a shared frozen list. */
export function nearMissKinds(
  clearanceM: Readonly<Record<BarrierKind, number>>,
  cfg: BarrierConfig,
): readonly BarrierKind[] {
  let mask = 0;
  for (let i = 0; i < BARRIER_KINDS.length; i++) {
    const k = BARRIER_KINDS[i];
    if (clearanceM[k] >= 0 && clearanceM[k] < marginOf(k, cfg)) mask |= 1 << i;
  }
  return KIND_SUBSETS[mask];
}
