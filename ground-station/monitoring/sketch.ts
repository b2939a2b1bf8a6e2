/**
 * A small mergeable quantile sketch (logarithmic bins, as DDSketch): each value falls in a bin whose bounds differ by
 * a factor GAMMA, so any quantile is known to within RELATIVE_ACCURACY of a real sample value. Sparse: a bucket that
 * saw one latency figure holds one entry. Negative values keep their own mirrored bins; |v| below MIN_MAGNITUDE
 * counts as zero.
 */

/** Quantiles are within this fraction of a true sample value. */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
const MIN_MAGNITUDE = 1e-9;
// Key spaces: positives near 0 (|k| < ~40000), zero alone, negatives far below; disjoint so one Map holds all.
const ZERO_KEY = -1e7;
const NEG_BASE = -2e6;

export type Sketch = Map<number, number>;

export function sketchKey(value: number): number {
  if (value > MIN_MAGNITUDE) return Math.ceil(Math.log(value) / LN_GAMMA);
  if (value < -MIN_MAGNITUDE) return NEG_BASE - Math.ceil(Math.log(-value) / LN_GAMMA);
  return ZERO_KEY;
}

/** The value a bin stands for: the point whose relative distance to both bounds is RELATIVE_ACCURACY. */
export function sketchValue(key: number): number {
  if (key === ZERO_KEY) return 0;
  if (key <= NEG_BASE / 2) return -(2 * GAMMA ** (NEG_BASE - key)) / (GAMMA + 1);
  return (2 * GAMMA ** key) / (GAMMA + 1);
}

export function sketchAdd(sketch: Sketch, value: number, count = 1): void {
  const key = sketchKey(value);
  sketch.set(key, (sketch.get(key) ?? 0) + count);
}

export function sketchMerge(into: Sketch, from: Sketch): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

/**
 * Nearest-rank quantile q in [0, 1] of the merged sketch, clamped to [min, max] (exact extremes are known beside
 * the sketch, so q = 0 and q = 1 come out exact). Null when empty.
 */
export function sketchQuantile(sketch: Sketch, q: number, min: number, max: number): number | null {
  let total = 0;
  for (const count of sketch.values()) total += count;
  if (total === 0) return null;
  if (q <= 0) return min;
  if (q >= 1) return max;
  const entries = [...sketch.entries()].map(([key, count]) => [sketchValue(key), count] as const);
  entries.sort((a, b) => a[0] - b[0]);
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [value, count] of entries) {
    seen += count;
    if (seen >= rank) return Math.min(max, Math.max(min, value));
  }
  return max;
}
