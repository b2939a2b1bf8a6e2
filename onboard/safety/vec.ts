/**
 * Small NED vector helpers for the safety layers. The filter's per-tick path uses the ones that make no object
 * (distNed, changeMS, clearList); the others are for tools, tests and set-up.
 */
import type { Ned } from '../../shared/geo/index.js';

/**
 * An {n, e, d} made with fractional values before any made with whole ones (this one, and the scratch vectors of the
 * safety layers, start at 0): V8 then gives every {n, e, d} object's fields the double representation from the start.
 * Otherwise a field that has only held whole numbers (n and e are exactly 0 for as long as the vehicle holds) gets
 * the integer one, and the first fractional value changes the hidden class of every vector under the running loop:
 * the filter and the setpoint encoder are deoptimized, and re-optimized only hundreds of ticks later (seconds at
 * 50 Hz). Kept so the module keeps it.
 */
export const NED_SHAPE_SEED: Ned = { n: 0.5, e: 0.5, d: 0.5 };

/**
 * Not frozen: a frozen object has a hidden class of its own, and the hover and brake paths hand this one to the same
 * functions as every computed vector, which V8 then deoptimizes (polymorphic from the first hold on) and re-optimizes
 * only after hundreds of ticks. `Ned` is read-only to TypeScript; nothing writes to it.
 */
export const ZERO_NED: Ned = { n: 0, e: 0, d: 0 };

export const ned = (n: number, e: number, d: number): Ned => ({ n, e, d });
export const isFiniteNed = (v: Ned | null | undefined): v is Ned =>
  v != null && Number.isFinite(v.n) && Number.isFinite(v.e) && Number.isFinite(v.d);
export const subNed = (a: Ned, b: Ned): Ned => ({ n: a.n - b.n, e: a.e - b.e, d: a.d - b.d });
export const addNed = (a: Ned, b: Ned): Ned => ({ n: a.n + b.n, e: a.e + b.e, d: a.d + b.d });
export const scaleNed = (a: Ned, k: number): Ned => ({ n: a.n * k, e: a.e * k, d: a.d * k });
export const dotNed = (a: Ned, b: Ned): number => a.n * b.n + a.e * b.e + a.d * b.d;
export const normNed = (a: Ned): number => Math.sqrt(a.n * a.n + a.e * a.e + a.d * a.d);
/** |a - b|, with no intermediate vector (the same bits as normNed(subNed(a, b))). */
export const distNed = (a: Ned, b: Ned): number => {
  const dn = a.n - b.n;
  const de = a.e - b.e;
  const dd = a.d - b.d;
  return Math.sqrt(dn * dn + de * de + dd * dd);
};
/** Largest intervention size reported (m/s): garbage proposals of 1e300 m/s must not overflow the metrics. */
export const MAX_CHANGE_MS = 1e6;
/** |a - b| capped at MAX_CHANGE_MS, or 0 when either is not finite (intervention sizes must stay finite). */
export const changeMS = (a: Ned | null, b: Ned | null): number =>
  isFiniteNed(a) && isFiniteNed(b) ? Math.min(Math.hypot(a.n - b.n, a.e - b.e, a.d - b.d), MAX_CHANGE_MS) : 0;
export const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/**
 * Empty a list the filter reuses tick to tick, keeping its storage: popping, because setting its length to 0 would
 * drop the storage and the next push would allocate it again.
 */
export function clearList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
