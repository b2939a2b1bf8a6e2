/**
 * The barrier layer's QP: the point nearest to a target velocity inside an intersection of half-spaces,
 *
 *     minimise |v - target|^2  subject to  a_i . v >= b_i  (i = 1..m),  v in R^3.
 *
 * Solved with the dual active-set method of Goldfarb and Idnani (1983) specialised to an identity Hessian: start at
 * the unconstrained optimum (the target) and add the most violated constraint at a time, keeping the multipliers of
 * the active set non-negative by dropping constraints when a partial step makes one zero. It ends in finitely many
 * steps in exact arithmetic, reports infeasibility when a violated constraint cannot be satisfied together with the
 * active ones, and never moves the point further than needed. In three dimensions at most three constraints are
 * active at once, so every linear solve is 3x3 or smaller, in closed form.
 */

/** a . v >= b, with a = (n, e, d). Need not be normalised. */
export interface HalfSpace3 {
  readonly n: number;
  readonly e: number;
  readonly d: number;
  readonly b: number;
}

export type QpStatus = 'optimal' | 'infeasible' | 'iteration_limit';

export interface QpResult {
  readonly status: QpStatus;
  /** The solution (n, e, d); the last iterate when not optimal. */
  readonly x: readonly [number, number, number];
  /** Active-set steps taken. */
  readonly iterations: number;
  /** Indices of the constraints active at the solution. */
  readonly active: readonly number[];
}

/** Constraint violation tolerated as satisfied, in the units of b after normalising a (m/s here). */
export const QP_FEASIBILITY_TOLERANCE = 1e-9;
const ZERO_DIRECTION2 = 1e-20;
const POSITIVE_RATIO = 1e-14;

/**
 * Scratch for the solver, made once and grown when a call brings more constraints: `projectInto` allocates nothing.
 * The solver is synchronous and not re-entrant, so one set of buffers serves every call.
 */
let capacity = 0;
let an = new Float64Array(0);
let ae = new Float64Array(0);
let ad = new Float64Array(0);
let bn = new Float64Array(0);
let skip = new Uint8Array(0);
/** Gram matrix, right-hand side and inverse of activeSolve (row-major 3x3). */
const gram = new Float64Array(9);
const rhs = new Float64Array(3);
const inverse = new Float64Array(9);
/** Active rows and their multipliers: in R^3 at most three independent constraints are active at once. */
const MAX_ACTIVE = 4;
const activeRows = new Int32Array(MAX_ACTIVE);
const multipliers = new Float64Array(MAX_ACTIVE);
const rScratch = new Float64Array(3);
const zScratch = new Float64Array(3);

function ensureCapacity(m: number): void {
  if (m <= capacity) return;
  capacity = Math.max(m, 2 * capacity, 64);
  an = new Float64Array(capacity);
  ae = new Float64Array(capacity);
  ad = new Float64Array(capacity);
  bn = new Float64Array(capacity);
  skip = new Uint8Array(capacity);
}

/**
 * Solve r = (N^T N)^-1 N^T a for the active normals N (k <= 3 unit rows at `rows`), returning r and z = a - N r,
 * the part of `a` orthogonal to the active normals (the primal step direction).
 */
function activeSolve(
  rows: Int32Array,
  k: number,
  a0: number,
  a1: number,
  a2: number,
  r: Float64Array,
  z: Float64Array,
): void {
  if (k === 0) {
    z[0] = a0;
    z[1] = a1;
    z[2] = a2;
    return;
  }
  // Gram matrix G = N^T N (symmetric, unit diagonal) and right-hand side c = N^T a.
  const g = gram;
  const c = rhs;
  g.fill(0);
  c.fill(0);
  for (let i = 0; i < k; i++) {
    const p = rows[i];
    c[i] = an[p] * a0 + ae[p] * a1 + ad[p] * a2;
    for (let j = 0; j < k; j++) {
      const q = rows[j];
      g[i * 3 + j] = an[p] * an[q] + ae[p] * ae[q] + ad[p] * ad[q];
    }
  }
  if (k === 1) {
    r[0] = c[0] / g[0];
  } else if (k === 2) {
    const det = g[0] * g[4] - g[1] * g[3];
    r[0] = (g[4] * c[0] - g[1] * c[1]) / det;
    r[1] = (g[0] * c[1] - g[3] * c[0]) / det;
  } else {
    const c00 = g[4] * g[8] - g[5] * g[7];
    const c01 = g[5] * g[6] - g[3] * g[8];
    const c02 = g[3] * g[7] - g[4] * g[6];
    const det = g[0] * c00 + g[1] * c01 + g[2] * c02;
    const inv = inverse;
    inv[0] = c00;
    inv[1] = g[2] * g[7] - g[1] * g[8];
    inv[2] = g[1] * g[5] - g[2] * g[4];
    inv[3] = c01;
    inv[4] = g[0] * g[8] - g[2] * g[6];
    inv[5] = g[2] * g[3] - g[0] * g[5];
    inv[6] = c02;
    inv[7] = g[1] * g[6] - g[0] * g[7];
    inv[8] = g[0] * g[4] - g[1] * g[3];
    for (let i = 0; i < 3; i++) r[i] = (inv[i * 3] * c[0] + inv[i * 3 + 1] * c[1] + inv[i * 3 + 2] * c[2]) / det;
  }
  let z0 = a0;
  let z1 = a1;
  let z2 = a2;
  for (let i = 0; i < k; i++) {
    const p = rows[i];
    z0 -= r[i] * an[p];
    z1 -= r[i] * ae[p];
    z2 -= r[i] * ad[p];
  }
  // Three independent normals span R^3: nothing is left over (what is, is rounding).
  if (k === 3) z0 = z1 = z2 = 0;
  z[0] = z0;
  z[1] = z1;
  z[2] = z2;
}

const NO_HALF_SPACES: readonly HalfSpace3[] = Object.freeze([]);

/** Project `target` onto { v : a_i . v >= b_i for all i }. Never throws; non-finite rows make it infeasible. */
export function projectOntoHalfSpaces(
  target: readonly [number, number, number],
  constraints: readonly HalfSpace3[],
  maxIterations = 100,
): QpResult {
  return projectOntoHalfSpaceSets(target, constraints, NO_HALF_SPACES, maxIterations);
}

/** Load row i (normalised) into the scratch; false when the row makes the problem infeasible. */
function loadRow(i: number, h: HalfSpace3): boolean {
  const len = Math.sqrt(h.n * h.n + h.e * h.e + h.d * h.d);
  if (!Number.isFinite(len) || !Number.isFinite(h.b)) return false;
  if (len < 1e-12) {
    // 0 . v >= b holds everywhere or nowhere.
    if (h.b > QP_FEASIBILITY_TOLERANCE) return false;
    skip[i] = 1;
    return true;
  }
  skip[i] = 0;
  an[i] = h.n / len;
  ae[i] = h.e / len;
  ad[i] = h.d / len;
  bn[i] = h.b / len;
  return true;
}

/**
 * A solution written into a caller-owned record (no allocation): what QpResult says, with the point as three
 * numbers and the active set's size (its indices are in `activeRowsOfLastSolve` until the next solve).
 */
export interface QpSolution {
  status: QpStatus;
  x0: number;
  x1: number;
  x2: number;
  iterations: number;
  activeCount: number;
}

export function newQpSolution(): QpSolution {
  return { status: 'optimal', x0: 0, x1: 0, x2: 0, iterations: 0, activeCount: 0 };
}

function finish(
  out: QpSolution,
  status: QpStatus,
  x0: number,
  x1: number,
  x2: number,
  iterations: number,
  activeCount: number,
): QpSolution {
  out.status = status;
  out.x0 = x0;
  out.x1 = x1;
  out.x2 = x2;
  out.iterations = iterations;
  out.activeCount = activeCount;
  return out;
}

/**
 * The same projection onto the constraints of `first` followed by those of `second` (row indices run on from the
 * first set into the second), without building the joined list.
 */
export function projectOntoHalfSpaceSets(
  target: readonly [number, number, number],
  first: readonly HalfSpace3[],
  second: readonly HalfSpace3[],
  maxIterations = 100,
): QpResult {
  const s = projectInto(target[0], target[1], target[2], first, second, maxIterations, newQpSolution());
  const active: number[] = [];
  for (let j = 0; j < s.activeCount; j++) active.push(activeRows[j]);
  return { status: s.status, x: [s.x0, s.x1, s.x2], iterations: s.iterations, active };
}

/** The normalised rows of the last `second` set passed as constant (the speed box), kept to be copied in. */
let constantRows: readonly HalfSpace3[] | null = null;
let constantLoadable = false;
let cn = new Float64Array(0);
let ce = new Float64Array(0);
let cd = new Float64Array(0);
let cb = new Float64Array(0);
let cskip = new Uint8Array(0);

/** Normalise `rows` once into the constant-row cache (by loadRow itself, so the values are the same bits). */
function cacheConstantRows(rows: readonly HalfSpace3[]): void {
  const k = rows.length;
  ensureCapacity(k);
  cn = new Float64Array(k);
  ce = new Float64Array(k);
  cd = new Float64Array(k);
  cb = new Float64Array(k);
  cskip = new Uint8Array(k);
  constantLoadable = true;
  for (let i = 0; i < k; i++) {
    if (!loadRow(i, rows[i])) {
      constantLoadable = false;
      break;
    }
    cn[i] = an[i];
    ce[i] = ae[i];
    cd[i] = ad[i];
    cb[i] = bn[i];
    cskip[i] = skip[i];
  }
  constantRows = rows;
}

/**
 * projectOntoHalfSpaceSets with the target as three numbers and the answer written into `out`: the filter's call,
 * which allocates nothing. With `secondConstant` the caller promises that `second` is a list it never changes (the
 * speed box's rows): its rows are normalised once and copied in on later calls with the same list.
 */
export function projectInto(
  t0: number,
  t1: number,
  t2: number,
  first: readonly HalfSpace3[],
  second: readonly HalfSpace3[],
  maxIterations: number,
  out: QpSolution,
  secondConstant = false,
): QpSolution {
  const m1 = first.length;
  const m = m1 + second.length;
  if (secondConstant && second !== constantRows) cacheConstantRows(second);
  ensureCapacity(m);
  let x0 = t0;
  let x1 = t1;
  let x2 = t2;
  for (let i = 0; i < m1; i++) if (!loadRow(i, first[i])) return finish(out, 'infeasible', x0, x1, x2, 0, 0);
  if (secondConstant) {
    if (!constantLoadable) return finish(out, 'infeasible', x0, x1, x2, 0, 0);
    for (let i = m1; i < m; i++) {
      const j = i - m1;
      an[i] = cn[j];
      ae[i] = ce[j];
      ad[i] = cd[j];
      bn[i] = cb[j];
      skip[i] = cskip[j];
    }
  } else {
    for (let i = m1; i < m; i++) if (!loadRow(i, second[i - m1])) return finish(out, 'infeasible', x0, x1, x2, 0, 0);
  }
  if (!Number.isFinite(x0) || !Number.isFinite(x1) || !Number.isFinite(x2))
    return finish(out, 'infeasible', x0, x1, x2, 0, 0);

  const active = activeRows;
  const u = multipliers;
  let k = 0;
  const r = rScratch;
  const z = zScratch;
  let iterations = 0;
  for (;;) {
    // Pick the most violated constraint; none violated means the current point is optimal.
    let p = -1;
    let worst = -QP_FEASIBILITY_TOLERANCE;
    for (let i = 0; i < m; i++) {
      if (skip[i]) continue;
      const s = an[i] * x0 + ae[i] * x1 + ad[i] * x2 - bn[i];
      if (s < worst) {
        worst = s;
        p = i;
      }
    }
    if (p < 0) return finish(out, 'optimal', x0, x1, x2, iterations, k);
    let up = 0;
    for (;;) {
      if (++iterations > maxIterations) return finish(out, 'iteration_limit', x0, x1, x2, iterations, k);
      activeSolve(active, k, an[p], ae[p], ad[p], r, z);
      // Dual (partial) step: the largest step keeping every active multiplier non-negative.
      let t1 = Number.POSITIVE_INFINITY;
      let drop = -1;
      for (let j = 0; j < k; j++) {
        if (r[j] > POSITIVE_RATIO) {
          const ratio = u[j] / r[j];
          if (ratio < t1) {
            t1 = ratio;
            drop = j;
          }
        }
      }
      // Primal (full) step: the step that makes constraint p hold with equality.
      const zz = z[0] * z[0] + z[1] * z[1] + z[2] * z[2];
      const slackP = an[p] * x0 + ae[p] * x1 + ad[p] * x2 - bn[p];
      const t2 = zz > ZERO_DIRECTION2 ? -slackP / zz : Number.POSITIVE_INFINITY;
      const t = Math.min(t1, t2);
      if (t === Number.POSITIVE_INFINITY) return finish(out, 'infeasible', x0, x1, x2, iterations, k);
      for (let j = 0; j < k; j++) u[j] -= t * r[j];
      up += t;
      if (t2 !== Number.POSITIVE_INFINITY) {
        x0 += t * z[0];
        x1 += t * z[1];
        x2 += t * z[2];
      }
      if (t2 <= t1) {
        // Independent active normals never number more than three in R^3 (the fourth's direction z is zero).
        if (k === MAX_ACTIVE) return finish(out, 'infeasible', x0, x1, x2, iterations, k);
        active[k] = p;
        u[k] = up;
        k++;
        break;
      }
      for (let j = drop; j < k - 1; j++) {
        active[j] = active[j + 1];
        u[j] = u[j + 1];
      }
      k--;
    }
  }
}

/** Largest violation of the constraints at v (<= 0 when feasible), in normalised units. */
export function maxViolation(v: readonly [number, number, number], constraints: readonly HalfSpace3[]): number {
  return maxViolation3(v[0], v[1], v[2], constraints);
}

/** maxViolation at (v0, v1, v2). */
export function maxViolation3(v0: number, v1: number, v2: number, constraints: readonly HalfSpace3[]): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < constraints.length; i++) {
    const h = constraints[i];
    const len = Math.sqrt(h.n * h.n + h.e * h.e + h.d * h.d);
    const s = len < 1e-12 ? -h.b : (h.n * v0 + h.e * v1 + h.d * v2 - h.b) / len;
    if (-s > worst) worst = -s;
  }
  return worst;
}
