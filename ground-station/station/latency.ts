/**
 * Telemetry-to-registry latency: the station's receive-and-apply time minus the drone's send time (timeMs), kept
 * for the most recent samples in a ring. Meaningful when drone and station clocks agree (same machine, or NTP);
 * the benchmark and /metrics read it.
 */
export class LatencyRecorder {
  private readonly ring: Float64Array;
  private next = 0;
  private filled = 0;
  /** Samples since start (or the last reset). */
  count = 0;

  constructor(capacity = 65_536) {
    this.ring = new Float64Array(capacity);
  }

  record(latencyMs: number): void {
    this.ring[this.next] = latencyMs;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
    this.count++;
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
    this.count = 0;
  }

  /** The kept samples (most recent `capacity`), unordered. */
  samples(): Float64Array {
    return this.ring.slice(0, this.filled);
  }

  /** Nearest-rank percentile (p in 0..100) of the kept samples; null when empty. */
  percentile(p: number): number | null {
    if (this.filled === 0) return null;
    const sorted = this.samples().sort();
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
  }
}
