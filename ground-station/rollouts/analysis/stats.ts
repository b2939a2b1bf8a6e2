/**
 * The statistics the canary analysis needs, in closed form: normal and Student-t quantiles, running moments, the
 * always-valid half-width of a normal-mixture confidence sequence, and fixed-sample 95 % intervals (Agresti-Caffo for
 * a difference of proportions, Welch for a difference of means). Pure and allocation-free.
 */

/** Running count, sum and sum of squares of one per-episode quantity (plain JSON, persisted as is). */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

export const emptyMoments = (): Moments => ({ n: 0, sum: 0, sumSq: 0 });

export function addMoment(m: Moments, x: number): void {
  m.n++;
  m.sum += x;
  m.sumSq += x * x;
}

export const momentMean = (m: Moments): number => (m.n > 0 ? m.sum / m.n : Number.NaN);

/** Unbiased sample variance; NaN below two samples. */
export function momentVariance(m: Moments): number {
  if (m.n < 2) return Number.NaN;
  const mean = m.sum / m.n;
  return Math.max(0, (m.sumSq - m.n * mean * mean) / (m.n - 1));
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? Number.NEGATIVE_INFINITY : p === 1 ? Number.POSITIVE_INFINITY : Number.NaN;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Student-t quantile with df degrees of freedom (df >= 1, fractional allowed as Welch gives): exact for df 1 and 2,
 * a fourth-order Cornish-Fisher expansion above (within 0.3 % of tables from df 3).
 */
export function tQuantile(p: number, df: number): number {
  if (!Number.isFinite(df) || df > 1e6) return normalQuantile(p);
  const v = Math.max(1, df);
  if (v < 1.5) return Math.tan(Math.PI * (p - 0.5));
  if (v < 2.5) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * v) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v ** 4)
  );
}

/**
 * Half-width of the always-valid (1 - alpha) confidence sequence for a difference estimated with variance `v`, from
 * the normal-mixture likelihood ratio with a N(0, tau^2) mixing distribution (Robbins; the mixture SPRT of Johari et
 * al.): the running estimate stays within it at every look, however often one looks, with probability >= 1 - alpha.
 * `tau` is the effect size the test is most sensitive to, in the metric's units.
 */
export function mixtureHalfWidth(v: number, tau: number, alpha: number): number {
  if (!(v > 0)) return v === 0 ? 0 : Number.POSITIVE_INFINITY;
  const t2 = tau * tau;
  return Math.sqrt(((2 * v * (v + t2)) / t2) * (Math.log(1 / alpha) + 0.5 * Math.log((v + t2) / v)));
}

export interface Interval {
  readonly delta: number;
  readonly lo: number;
  readonly hi: number;
}

/** Agresti-Caffo 95 % (or `level`) interval for pA - pB: one success and one failure added to each group. */
export function proportionDifferenceCi(sA: number, nA: number, sB: number, nB: number, level = 0.95): Interval {
  const pA = (sA + 1) / (nA + 2);
  const pB = (sB + 1) / (nB + 2);
  const se = Math.sqrt((pA * (1 - pA)) / (nA + 2) + (pB * (1 - pB)) / (nB + 2));
  const z = normalQuantile(1 - (1 - level) / 2);
  const delta = nA > 0 && nB > 0 ? sA / nA - sB / nB : pA - pB;
  return { delta, lo: pA - pB - z * se, hi: pA - pB + z * se };
}

/** Welch 95 % (or `level`) interval for meanA - meanB with the Welch-Satterthwaite degrees of freedom; null below 2+2. */
export function welchCi(a: Moments, b: Moments, level = 0.95): (Interval & { df: number }) | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = momentVariance(a) / a.n;
  const vb = momentVariance(b) / b.n;
  const delta = momentMean(a) - momentMean(b);
  const v = va + vb;
  if (v === 0) return { delta, lo: delta, hi: delta, df: a.n + b.n - 2 };
  const df = (v * v) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const t = tQuantile(1 - (1 - level) / 2, df);
  const w = t * Math.sqrt(v);
  return { delta, lo: delta - w, hi: delta + w, df };
}
