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
 * Solve r = (N^T N)^-1 N^T a for the active normals N (k <= 3 unit rows at `rows`), returning r and z = a - N r,
 * the part of `a` orthogonal to the active normals (the primal step direction).
 */
function activeSolve(
  an: Float64Array,
  ae: Float64Array,
  ad: Float64Array,
  rows: readonly number[],
  a0: number,
  a1: number,
  a2: number,
  r: Float64Array,
  z: Float64Array,
): void {
  const k = rows.length;
  if (k === 0) {
    z[0] = a0;
    z[1] = a1;
    z[2] = a2;
    return;
  }
  // Gram matrix G = N^T N (symmetric, unit diagonal) and right-hand side c = N^T a.
  const g = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const c = [0, 0, 0];
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
    const inv = [
      c00,
      g[2] * g[7] - g[1] * g[8],
      g[1] * g[5] - g[2] * g[4],
      c01,
      g[0] * g[8] - g[2] * g[6],
      g[2] * g[3] - g[0] * g[5],
      c02,
      g[1] * g[6] - g[0] * g[7],
      g[0] * g[4] - g[1] * g[3],
    ];
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

/** Project `target` onto { v : a_i . v >= b_i for all i }. Never throws; non-finite rows make it infeasible. */
export function projectOntoHalfSpaces(
  target: readonly [number, number, number],
  constraints: readonly HalfSpace3[],
  maxIterations = 100,
): QpResult {
  const m = constraints.length;
  const an = new Float64Array(m);
  const ae = new Float64Array(m);
  const ad = new Float64Array(m);
  const b = new Float64Array(m);
  const skip = new Uint8Array(m);
  const x: [number, number, number] = [target[0], target[1], target[2]];
  const fail = (status: QpStatus, iterations: number, active: number[]): QpResult => ({
    status,
    x,
    iterations,
    active,
  });
  for (let i = 0; i < m; i++) {
    const h = constraints[i];
    const len = Math.sqrt(h.n * h.n + h.e * h.e + h.d * h.d);
    if (!Number.isFinite(len) || !Number.isFinite(h.b)) return fail('infeasible', 0, []);
    if (len < 1e-12) {
      // 0 . v >= b holds everywhere or nowhere.
      if (h.b > QP_FEASIBILITY_TOLERANCE) return fail('infeasible', 0, []);
      skip[i] = 1;
      continue;
    }
    an[i] = h.n / len;
    ae[i] = h.e / len;
    ad[i] = h.d / len;
    b[i] = h.b / len;
  }
  if (!Number.isFinite(x[0]) || !Number.isFinite(x[1]) || !Number.isFinite(x[2])) return fail('infeasible', 0, []);

  const active: number[] = [];
  const u: number[] = [];
  const r = new Float64Array(3);
  const z = new Float64Array(3);
  const slack = (i: number): number => an[i] * x[0] + ae[i] * x[1] + ad[i] * x[2] - b[i];
  let iterations = 0;
  for (;;) {
    // Pick the most violated constraint; none violated means the current point is optimal.
    let p = -1;
    let worst = -QP_FEASIBILITY_TOLERANCE;
    for (let i = 0; i < m; i++) {
      if (skip[i]) continue;
      const s = slack(i);
      if (s < worst) {
        worst = s;
        p = i;
      }
    }
    if (p < 0) return { status: 'optimal', x, iterations, active: active.slice() };
    let up = 0;
    for (;;) {
      if (++iterations > maxIterations) return fail('iteration_limit', iterations, active.slice());
      activeSolve(an, ae, ad, active, an[p], ae[p], ad[p], r, z);
      // Dual (partial) step: the largest step keeping every active multiplier non-negative.
      let t1 = Number.POSITIVE_INFINITY;
      let drop = -1;
      for (let j = 0; j < active.length; j++) {
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
      const t2 = zz > ZERO_DIRECTION2 ? -slack(p) / zz : Number.POSITIVE_INFINITY;
      const t = Math.min(t1, t2);
      if (t === Number.POSITIVE_INFINITY) return fail('infeasible', iterations, active.slice());
      for (let j = 0; j < active.length; j++) u[j] -= t * r[j];
      up += t;
      if (t2 !== Number.POSITIVE_INFINITY) {
        x[0] += t * z[0];
        x[1] += t * z[1];
        x[2] += t * z[2];
      }
      if (t2 <= t1) {
        active.push(p);
        u.push(up);
        break;
      }
      active.splice(drop, 1);
      u.splice(drop, 1);
    }
  }
}

/** Largest violation of the constraints at v (<= 0 when feasible), in normalised units. */
export function maxViolation(v: readonly [number, number, number], constraints: readonly HalfSpace3[]): number {
  let worst = Number.NEGATIVE_INFINITY;
  for (const h of constraints) {
    const len = Math.sqrt(h.n * h.n + h.e * h.e + h.d * h.d);
    const s = len < 1e-12 ? -h.b : (h.n * v[0] + h.e * v[1] + h.d * v[2] - h.b) / len;
    if (-s > worst) worst = -s;
  }
  return worst;
}
