/**
 * One metric in one scope: a fine ring (short windows) and a coarse ring (long windows), the newest value, and
 * totals since the station started (for Prometheus counters). Memory per series is fixed: about 4 KB with the
 * default layout, plus the sparse sketches of distribution metrics.
 */
import { BucketRing, type BucketSums } from './ring.js';
import { type Sketch, sketchQuantile } from './sketch.js';

export const AGGREGATIONS = ['count', 'sum', 'mean', 'min', 'max', 'rate', 'last', 'p50', 'p90', 'p95', 'p99'] as const;
/** How a window of samples is reduced to one number. `rate` is sum per second; pNN are quantiles (distributions). */
export type Aggregation = (typeof AGGREGATIONS)[number];

/** Two resolutions: windows up to fineWindowMs use the fine ring, longer ones the coarse ring. */
export interface SeriesLayout {
  readonly fineBucketMs: number;
  readonly fineWindowMs: number;
  readonly coarseBucketMs: number;
  readonly coarseWindowMs: number;
}

/** A window reduced: sums always, the rest null when the window holds no sample. */
export interface WindowAggregate {
  /** The window actually used, s (a request is rounded up to whole buckets and capped at the longest window). */
  readonly windowS: number;
  /** Time the buckets cover at this instant, s (rate divides by it). */
  readonly spanS: number;
  readonly count: number;
  readonly sum: number;
  readonly mean: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** sum / spanS, per second. */
  readonly ratePerS: number | null;
  /** Newest sample, if it falls in the window. */
  readonly last: number | null;
  readonly lastTimeMs: number | null;
}

export class Series {
  private readonly fine: BucketRing;
  private readonly coarse: BucketRing;
  private readonly layout: SeriesLayout;
  readonly distribution: boolean;
  lastTimeMs = Number.NEGATIVE_INFINITY;
  lastValue = Number.NaN;
  totalCount = 0;
  totalSum = 0;

  constructor(layout: SeriesLayout, distribution: boolean) {
    this.layout = layout;
    this.distribution = distribution;
    // Two spare slots: samples slightly ahead of the query clock must not evict buckets still in the window.
    this.fine = new BucketRing(layout.fineBucketMs, layout.fineWindowMs / layout.fineBucketMs + 2, distribution);
    this.coarse = new BucketRing(
      layout.coarseBucketMs,
      layout.coarseWindowMs / layout.coarseBucketMs + 2,
      distribution,
    );
  }

  /** Store a sample; false when it is older than the longest window keeps (counted as dropped by the caller). */
  add(timeMs: number, value: number): boolean {
    const inFine = this.fine.add(timeMs, value);
    const inCoarse = this.coarse.add(timeMs, value);
    if (!inFine && !inCoarse) return false;
    if (timeMs >= this.lastTimeMs) {
      this.lastTimeMs = timeMs;
      this.lastValue = value;
    }
    this.totalCount += 1;
    this.totalSum += value;
    return true;
  }

  /** The ring and bucket count a window uses. */
  private pick(windowMs: number): { ring: BucketRing; k: number } {
    const { fineBucketMs, fineWindowMs, coarseBucketMs, coarseWindowMs } = this.layout;
    if (windowMs <= fineWindowMs) return { ring: this.fine, k: Math.max(1, Math.ceil(windowMs / fineBucketMs)) };
    const capped = Math.min(windowMs, coarseWindowMs);
    return { ring: this.coarse, k: Math.max(1, Math.ceil(capped / coarseBucketMs)) };
  }

  aggregate(nowMs: number, windowMs: number): WindowAggregate {
    const { ring, k } = this.pick(windowMs);
    const w = ring.window(nowMs, k);
    const spanMs = ring.spanMs(nowMs, k);
    const windowStartMs = (ring.bucketAt(nowMs) - k + 1) * ring.bucketMs;
    const lastIn = this.lastTimeMs >= windowStartMs && this.lastTimeMs <= nowMs + ring.bucketMs;
    const any = w.count > 0;
    return {
      windowS: (k * ring.bucketMs) / 1000,
      spanS: spanMs / 1000,
      count: w.count,
      sum: w.sum,
      mean: any ? w.sum / w.count : null,
      min: any ? w.min : null,
      max: any ? w.max : null,
      ratePerS: spanMs > 0 ? w.sum / (spanMs / 1000) : null,
      last: any && lastIn ? this.lastValue : null,
      lastTimeMs: any && lastIn ? this.lastTimeMs : null,
    };
  }

  /** Quantile q in [0, 1] over the window (distribution series only; null otherwise or when empty). */
  quantile(nowMs: number, windowMs: number, q: number): number | null {
    if (!this.distribution) return null;
    const { ring, k } = this.pick(windowMs);
    const sketch: Sketch = new Map();
    const w = ring.window(nowMs, k, sketch);
    return w.count > 0 ? sketchQuantile(sketch, q, w.min, w.max) : null;
  }

  /** One point per bucket of the window, oldest first; value null for an empty bucket. */
  points(nowMs: number, windowMs: number, agg: Aggregation): { timeMs: number; value: number | null }[] {
    const { ring, k } = this.pick(windowMs);
    const last = ring.bucketAt(nowMs);
    const out: { timeMs: number; value: number | null }[] = [];
    for (let b = last - k + 1; b <= last; b++) {
      const sums = ring.bucket(b);
      let value: number | null = null;
      if (sums) value = pointValue(sums, agg, ring.bucketMs);
      else if (agg === 'count' || agg === 'sum' || agg === 'rate') value = 0;
      out.push({ timeMs: b * ring.bucketMs, value });
    }
    return out;
  }

  /** Which resolution a window of this length uses, ms per bucket. */
  bucketMsFor(windowMs: number): number {
    return this.pick(windowMs).ring.bucketMs;
  }
}

function pointValue(s: BucketSums, agg: Aggregation, bucketMs: number): number {
  switch (agg) {
    case 'count':
      return s.count;
    case 'sum':
      return s.sum;
    case 'rate':
      return s.sum / (bucketMs / 1000);
    case 'min':
      return s.min;
    case 'max':
      return s.max;
    default:
      // mean, last and quantiles chart as the bucket mean (per-bucket sketches are not kept apart).
      return s.sum / s.count;
  }
}
