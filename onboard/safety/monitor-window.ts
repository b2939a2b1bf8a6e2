/**
 * Interventions and near misses counted over a sliding window, in fixed time buckets so each tick costs O(1) and no
 * memory grows: the window is `buckets` buckets of windowMs / buckets each, and a bucket is cleared when time
 * reaches it again.
 */
import { SAFETY_LAYERS, type SafetyLayer } from './types.js';

export interface LayerWindowStats {
  /** Ticks on which the layer intervened. */
  readonly count: number;
  /** Sum of the intervention sizes (m/s). */
  readonly sumMagnitudeMS: number;
  /** Largest intervention (m/s). */
  readonly maxMagnitudeMS: number;
}

export interface WindowStats {
  readonly windowMs: number;
  readonly layers: Readonly<Record<SafetyLayer, LayerWindowStats>>;
  /** Ticks that began a near miss (entering a barrier margin). */
  readonly nearMisses: number;
}

const NO_INTERVENTIONS: LayerWindowStats = Object.freeze({ count: 0, sumMagnitudeMS: 0, maxMagnitudeMS: 0 });
const LAYERS = SAFETY_LAYERS.length;
const SANITY = SAFETY_LAYERS.indexOf('sanity');
const BOX = SAFETY_LAYERS.indexOf('box');
const BARRIER = SAFETY_LAYERS.indexOf('barrier');
const SHIELD = SAFETY_LAYERS.indexOf('shield');
const MONITOR = SAFETY_LAYERS.indexOf('monitor');

export class SlidingWindow {
  private readonly bucketUs: number;
  private readonly ids: Float64Array;
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly maxima: Float64Array;
  private readonly nearMisses: Float64Array;
  /** Scratch of stats(): which buckets are inside the window. */
  private readonly live: Uint8Array;

  constructor(
    readonly windowMs: number,
    private readonly buckets = 10,
  ) {
    this.bucketUs = (windowMs * 1000) / buckets;
    this.ids = new Float64Array(buckets).fill(Number.NaN);
    this.counts = new Float64Array(buckets * LAYERS);
    this.sums = new Float64Array(buckets * LAYERS);
    this.maxima = new Float64Array(buckets * LAYERS);
    this.nearMisses = new Float64Array(buckets);
    this.live = new Uint8Array(buckets);
  }

  private slot(timeUs: number): number {
    const id = Math.floor(timeUs / this.bucketUs);
    const slot = ((id % this.buckets) + this.buckets) % this.buckets;
    if (this.ids[slot] !== id) {
      this.ids[slot] = id;
      this.nearMisses[slot] = 0;
      for (let l = 0; l < LAYERS; l++) {
        this.counts[slot * LAYERS + l] = 0;
        this.sums[slot * LAYERS + l] = 0;
        this.maxima[slot * LAYERS + l] = 0;
      }
    }
    return slot;
  }

  addIntervention(timeUs: number, layer: SafetyLayer, magnitudeMS: number): void {
    const i = this.slot(timeUs) * LAYERS + SAFETY_LAYERS.indexOf(layer);
    const m = Number.isFinite(magnitudeMS) && magnitudeMS > 0 ? magnitudeMS : 0;
    this.counts[i] += 1;
    this.sums[i] += m;
    if (m > this.maxima[i]) this.maxima[i] = m;
  }

  addNearMiss(timeUs: number): void {
    this.nearMisses[this.slot(timeUs)] += 1;
  }

  stats(timeUs: number): WindowStats {
    const current = Math.floor(timeUs / this.bucketUs);
    const live = this.live;
    let nearMisses = 0;
    for (let s = 0; s < this.buckets; s++) {
      const id = this.ids[s];
      live[s] = id <= current && id > current - this.buckets ? 1 : 0;
      if (live[s]) nearMisses += this.nearMisses[s];
    }
    return {
      windowMs: this.windowMs,
      layers: {
        sanity: this.layerStats(SANITY),
        box: this.layerStats(BOX),
        barrier: this.layerStats(BARRIER),
        shield: this.layerStats(SHIELD),
        monitor: this.layerStats(MONITOR),
      },
      nearMisses,
    };
  }

  /** One layer's sums over the buckets stats() found live. */
  private layerStats(l: number): LayerWindowStats {
    let count = 0;
    let sum = 0;
    let max = 0;
    for (let s = 0; s < this.buckets; s++) {
      if (this.live[s] === 0) continue;
      count += this.counts[s * LAYERS + l];
      sum += this.sums[s * LAYERS + l];
      max = Math.max(max, this.maxima[s * LAYERS + l]);
    }
    // A layer that did not intervene in the window shares one frozen record (most layers, most ticks).
    if (count === 0 && sum === 0 && max === 0 && !Object.is(sum, -0)) return NO_INTERVENTIONS;
    return { count, sumMagnitudeMS: sum, maxMagnitudeMS: max };
  }

  clear(): void {
    this.ids.fill(Number.NaN);
  }
}
