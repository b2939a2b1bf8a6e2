/**
 * A ring of fixed-width time buckets for one series at one resolution: count, sum, min and max per bucket (and a
 * quantile sketch for distributions). Memory is fixed at construction. A bucket covers [b * bucketMs, (b + 1) *
 * bucketMs); a window of k buckets at time now covers the bucket holding now and the k - 1 before it, so a sample
 * leaves a W window between W - bucket and W after it was taken.
 */
import { type Sketch, sketchAdd, sketchMerge } from './sketch.js';

/** What a run of buckets adds up to. */
export interface BucketSums {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export class BucketRing {
  readonly bucketMs: number;
  readonly slots: number;
  /** Bucket number held by each slot; -Infinity = empty. */
  private readonly bucketOf: Float64Array;
  private readonly count: Float64Array;
  private readonly sum: Float64Array;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private readonly sketches: (Sketch | null)[] | null;
  /** Newest bucket number written. */
  private head = Number.NEGATIVE_INFINITY;

  constructor(bucketMs: number, slots: number, withSketch: boolean) {
    this.bucketMs = bucketMs;
    this.slots = slots;
    this.bucketOf = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.count = new Float64Array(slots);
    this.sum = new Float64Array(slots);
    this.min = new Float64Array(slots);
    this.max = new Float64Array(slots);
    this.sketches = withSketch ? new Array<Sketch | null>(slots).fill(null) : null;
  }

  private slot(bucket: number): number {
    return ((bucket % this.slots) + this.slots) % this.slots;
  }

  /** Add a sample. False (and nothing stored) when it is older than the ring keeps. */
  add(timeMs: number, value: number): boolean {
    const bucket = Math.floor(timeMs / this.bucketMs);
    if (bucket <= this.head - this.slots) return false;
    const s = this.slot(bucket);
    if (this.bucketOf[s] !== bucket) {
      this.bucketOf[s] = bucket;
      this.count[s] = 0;
      this.sum[s] = 0;
      this.min[s] = Number.POSITIVE_INFINITY;
      this.max[s] = Number.NEGATIVE_INFINITY;
      if (this.sketches) this.sketches[s] = null;
    }
    this.count[s] += 1;
    this.sum[s] += value;
    if (value < this.min[s]) this.min[s] = value;
    if (value > this.max[s]) this.max[s] = value;
    if (this.sketches) {
      let sk = this.sketches[s];
      if (sk === null) {
        sk = new Map();
        this.sketches[s] = sk;
      }
      sketchAdd(sk, value);
    }
    if (bucket > this.head) this.head = bucket;
    return true;
  }

  /** Bucket number holding `timeMs`. */
  bucketAt(timeMs: number): number {
    return Math.floor(timeMs / this.bucketMs);
  }

  /** Sums of bucket `bucket`, or null when the ring holds nothing for it. */
  bucket(bucket: number): BucketSums | null {
    const s = this.slot(bucket);
    if (this.bucketOf[s] !== bucket || this.count[s] === 0) return null;
    return { count: this.count[s], sum: this.sum[s], min: this.min[s], max: this.max[s] };
  }

  /** Sums over the `k` buckets ending with the one holding nowMs; into `sketch` when given and kept. */
  window(nowMs: number, k: number, sketch?: Sketch): BucketSums {
    const last = this.bucketAt(nowMs);
    const out: BucketSums = {
      count: 0,
      sum: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    };
    for (let b = last - Math.min(k, this.slots) + 1; b <= last; b++) {
      const s = this.slot(b);
      if (this.bucketOf[s] !== b || this.count[s] === 0) continue;
      out.count += this.count[s];
      out.sum += this.sum[s];
      if (this.min[s] < out.min) out.min = this.min[s];
      if (this.max[s] > out.max) out.max = this.max[s];
      const sk = this.sketches?.[s];
      if (sketch && sk) sketchMerge(sketch, sk);
    }
    return out;
  }

  /** Time covered by a k-bucket window at nowMs: k - 1 whole buckets and the elapsed part of the current one. */
  spanMs(nowMs: number, k: number): number {
    return (k - 1) * this.bucketMs + (nowMs - this.bucketAt(nowMs) * this.bucketMs);
  }
}
