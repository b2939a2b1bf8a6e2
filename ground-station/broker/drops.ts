/**
 * Counters of what the station refused or dropped, per reason (malformed payload, unknown topic, wrong schema major,
 * unauthorised publish, failed login...). Exposed in /metrics as aerie_station_dropped_total{reason="..."}.
 */
export class DropCounters {
  private readonly counts = new Map<string, number>();

  drop(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** Reason -> count, reasons sorted. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
